"""JupyterLab, used the way a learner uses it, in a real (headless) browser.

The test starts the real JupyterLab server of this environment on the loopback
interface, opens notebook 00 in Debian's Chromium, runs all cells through
JupyterLab's own "Run All Cells" command and then reads the rendered notebook:
every code cell must have run, in order, without an error or any stderr output.

The server works on a copy of the notebook in a temporary folder, with its own
settings, workspace and runtime folders, so the test never edits the course
and never depends on a learner's JupyterLab settings.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import ROOT, OfflineWatch, artifacts_dir, chromium, free_port, is_blank_png

from course_lib.notebook import TF_ENVIRONMENT

NOTEBOOK = ROOT / "notebooks" / "00_welcome_and_conventions.ipynb"
TOKEN = "course-browser-test"
STARTUP_SECONDS = 120
RUN_ALL_SECONDS = 240

# The test user's JupyterLab settings: no news or update checks (we are offline).
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def wait_for_server(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A running JupyterLab server on 127.0.0.1 serving a copy of notebook 00."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root_dir = home / "course"  # the repository's layout, so that ../badges/*.svg resolve
    (root_dir / "notebooks").mkdir(parents=True)
    shutil.copy(NOTEBOOK, root_dir / "notebooks" / NOTEBOOK.name)
    shutil.copytree(ROOT / "badges", root_dir / "badges")
    settings_dir = home / "settings"
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps(NOTIFICATION_SETTINGS))
    env = (
        os.environ
        | TF_ENVIRONMENT
        | {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "PYTHONHASHSEED": "0",
        }
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={TOKEN}",
        "--LabApp.expose_app_in_browser=True", "--allow-root",
    ]  # fmt: skip
    log = home / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base_url}/api/status?token={TOKEN}", server, log)
        yield base_url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def code_cell_count() -> int:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return sum(1 for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip())


# Reads each rendered code cell: its prompt ("[3]:", "[*]:", "[ ]:") and the
# MIME types of its outputs.  Error tracebacks and stderr both render as
# application/vnd.jupyter.stderr in JupyterLab.
READ_CELLS = """() => Array.from(
    document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')
).map(cell => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    source: (cell.querySelector('.jp-InputArea-editor') || {}).textContent || '',
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
        .map(output => output.getAttribute('data-mime-type') || ''),
    text: Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
        .map(output => output.textContent).join('\\n'),
}))"""


def test_notebook_00_runs_all_cells_in_jupyterlab(jupyterlab):
    expected_cells = code_cell_count()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watch = OfflineWatch(page)
        page.goto(
            f"{jupyterlab}/lab/tree/notebooks/{NOTEBOOK.name}?token={TOKEN}", timeout=STARTUP_SECONDS * 1000
        )
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
            timeout=STARTUP_SECONDS * 1000,
            polling=500,
        )
        # The command's promise settles when every cell has run, or when one fails
        # (JupyterLab then stops and leaves the rest unexecuted).
        page.set_default_timeout(RUN_ALL_SECONDS * 1000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(
            f"""() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'
                && ({READ_CELLS})().every(cell => !cell.prompt.includes('*'))""",
            polling=500,
        )
        cells = page.evaluate(READ_CELLS)
        screenshot = artifacts_dir() / "jupyterlab-notebook-00.png"
        page.screenshot(path=str(screenshot))
        outside_requests, errors = watch.take()

    failed = [cell for cell in cells if "application/vnd.jupyter.stderr" in cell["outputs"]]
    assert not failed, "cells wrote errors or stderr:\n" + "\n---\n".join(
        cell["source"][:200] + "\n=> " + cell["text"][:1000] for cell in failed
    )
    prompts = [cell["prompt"].strip() for cell in cells]
    assert prompts == [f"[{n}]:" for n in range(1, expected_cells + 1)], "cells did not all run, in order"
    assert sum(bool(cell["outputs"]) for cell in cells) >= expected_cells // 2, "outputs did not render"
    assert not errors, f"errors in JupyterLab's page: {errors}"
    assert not outside_requests, f"JupyterLab tried to reach the internet: {outside_requests}"
    assert not is_blank_png(screenshot)
