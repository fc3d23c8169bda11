"""JupyterLab, started the way ``make lab`` starts it, used as a learner uses it.

The server is started with ``make lab``'s own command line (``make lab-command``
prints it), in a copy of the repository's layout in a temporary folder, plus only
what a test needs (a loopback port, a known token, no browser, the app exposed to
the page).  The page opened is the one ``make lab`` would open in the learner's
browser (the server's ``jpserver-*-open.html``).  Then, in Debian's Chromium:

- notebook 00 runs all its cells through JupyterLab's "Run All Cells": every code
  cell must run, in order, without an error or any stderr output;
- notebook 00's link to the first exercise and notebook 03's link to its exercise
  open the exercise notebooks, and the Colab/Binder badges load;
- JupyterLab shows no instructor tools (no Nbgrader menu) and logs no warning
  at start;
- no request fails and nothing is requested from another host.

The server gets its own settings, workspace and runtime folders, so the test never
edits the course and never depends on a learner's JupyterLab settings.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import ROOT, OfflineWatch, artifacts_dir, chromium, free_port, is_blank_png

from course_lib.notebook import TF_ENVIRONMENT

NOTEBOOK = ROOT / "notebooks" / "00_welcome_and_conventions.ipynb"
CHAPTER = ROOT / "notebooks" / "03_binary_classification.ipynb"
TOKEN = "course-browser-test"
STARTUP_SECONDS = 120
RUN_ALL_SECONDS = 240
# What the server needs from the repository, at the same relative paths.
COPIED = ("notebooks", "exercises", "badges", "jupyter-learner")

# The test user's JupyterLab settings: no news or update checks (we are offline).
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def lab_command() -> tuple[dict[str, str], list[str]]:
    """``make lab``'s command line, split into its environment assignments and its argv."""
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed; the README's entry point is make lab")
    printed = subprocess.run(
        [make, "-s", "--no-print-directory", "lab-command"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = shlex.split(printed)
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    executable = Path(words[0])
    words[0] = str(executable if executable.is_absolute() else ROOT / executable)
    return env, words


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


def opened_url(runtime: Path) -> str:
    """The notebook URL that ``make lab`` opens in the browser (from the server's open file)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for page in runtime.glob("jpserver-*-open.html"):
            found = re.search(r'href="([^"]*/lab/tree/[^"]*)"', page.read_text())
            if found:
                return found[1]
        time.sleep(0.5)
    pytest.fail("JupyterLab did not write the page it opens (jpserver-*-open.html) with a notebook")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server started by make lab's command line in a copy of the course."""
    home = tmp_path_factory.mktemp("jupyterlab")
    course = home / "course"
    for folder in COPIED:
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings_dir = home / "settings"
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps(NOTIFICATION_SETTINGS))
    make_env, command = lab_command()
    runtime = home / "runtime"
    env = (
        os.environ
        | TF_ENVIRONMENT
        | make_env
        | {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "PYTHONHASHSEED": "0",
        }
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    port = free_port()
    command += [
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0 and "--allow-root" not in command:
        pytest.fail("make lab-command lacks --allow-root although we run as root")
    log = home / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            command, cwd=course, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base_url}/api/status?token={TOKEN}", server, log)
        url = opened_url(runtime).replace(f"localhost:{port}", f"127.0.0.1:{port}")
        yield {"url": url, "base": base_url, "log": log}
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


KERNEL_IDLE = (
    "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
    " && window.jupyterapp.shell.currentWidget.sessionContext"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
)
CURRENT_PATH = "() => (window.jupyterapp.shell.currentWidget.context || {}).path"


def test_make_lab_opens_notebook_00_at_the_repository_root(jupyterlab):
    assert jupyterlab["url"].split("?")[0].endswith(f"/lab/tree/notebooks/{NOTEBOOK.name}")


def test_make_lab_starts_without_warnings(jupyterlab):
    warnings = [line for line in jupyterlab["log"].read_text().splitlines() if re.match(r"\[[WE] ", line)]
    assert not warnings, "JupyterLab warned at start:\n" + "\n".join(warnings)


def test_notebook_00_runs_all_cells_in_jupyterlab(jupyterlab):
    expected_cells = code_cell_count()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watch = OfflineWatch(page)
        page.goto(jupyterlab["url"], timeout=STARTUP_SECONDS * 1000)
        page.wait_for_function(KERNEL_IDLE, timeout=STARTUP_SECONDS * 1000, polling=500)
        assert page.evaluate(CURRENT_PATH) == f"notebooks/{NOTEBOOK.name}"
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


# JupyterLab renders a long notebook's cells only near the viewport: go to the last cell
# (where every chapter's summary links its exercise) and wait until it is rendered.
SCROLL_TO_END = """async () => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await notebook.scrollToItem(notebook.widgets.length - 1);
}"""


def click_exercise_link(page, exercise: str) -> None:
    """Click the rendered Markdown link to ``exercise`` in the current notebook; wait until it opens."""
    page.evaluate(SCROLL_TO_END)
    selector = f'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown a[href*="/exercises/{exercise}"]'
    link = page.locator(selector)
    link.first.scroll_into_view_if_needed()
    link.first.click()
    page.wait_for_function(f"() => ({CURRENT_PATH})() === 'exercises/{exercise}'", polling=250)


LOADED_BADGES = """() => Array.from(
    document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown img')
).map(img => [img.getAttribute('src'), img.complete && img.naturalWidth > 0])"""
MENU_TITLES = "() => Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel')).map(e => e.textContent)"


def test_exercise_links_badges_and_a_learners_menus(jupyterlab):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watch = OfflineWatch(page)
        page.set_default_timeout(STARTUP_SECONDS * 1000)
        page.goto(jupyterlab["url"])
        page.wait_for_function(KERNEL_IDLE, polling=500)
        menus = page.evaluate(MENU_TITLES)
        commands = page.evaluate("() => window.jupyterapp.commands.listCommands()")

        click_exercise_link(page, "01_fundamentals.ipynb")
        open_chapter = f"{{path: 'notebooks/{CHAPTER.name}'}}"
        page.evaluate(f"() => window.jupyterapp.commands.execute('docmanager:open', {open_chapter})")
        page.wait_for_function(f"() => ({CURRENT_PATH})() === 'notebooks/{CHAPTER.name}'", polling=250)
        page.wait_for_function(
            f"() => ({LOADED_BADGES})().length >= 2 && ({LOADED_BADGES})().every(b => b[1])"
        )
        badges = page.evaluate(LOADED_BADGES)
        page.evaluate(SCROLL_TO_END)
        exercise_link = f".jp-RenderedMarkdown a[href*='/exercises/{CHAPTER.name}']"
        page.locator(
            f".jp-NotebookPanel:not(.lm-mod-hidden) {exercise_link}"
        ).last.scroll_into_view_if_needed()
        chapter_shot = artifacts_dir() / "jupyterlab-notebook-03-exercise-link.png"
        page.screenshot(path=str(chapter_shot))
        click_exercise_link(page, CHAPTER.name)
        page.wait_for_timeout(500)  # let the exercise's cells render
        exercise_shot = artifacts_dir() / "jupyterlab-exercise-03.png"
        page.screenshot(path=str(exercise_shot))
        outside_requests, errors = watch.take()

    assert "Nbgrader" not in menus, f"the learner's JupyterLab shows nbgrader's menu: {menus}"
    assert not [c for c in commands if c.startswith("nbgrader:")], "nbgrader's commands are loaded"
    assert all(loaded for _, loaded in badges), f"badges that did not load: {badges}"
    assert not errors, f"errors in JupyterLab's page (failed requests included): {errors}"
    assert not outside_requests, f"JupyterLab tried to reach the internet: {outside_requests}"
    assert not is_blank_png(chapter_shot) and not is_blank_png(exercise_shot)
