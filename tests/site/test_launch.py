"""The course opens anywhere: Colab badges and setup cells, Binder files, README badge.

Docker cannot run here, so the Binder image is not built in the tests; instead
the files that repo2docker reads are checked against the rules it applies:
``binder/`` takes precedence over the top-level ``environment.yml``; its
``environment.yml`` is installed *before* the repository is copied (so it may
not install the repository itself), wants an exact Python version, and
``postBuild`` must be an executable script that installs the course.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

import notebooks as notebook_tools  # scripts/notebooks.py

ROOT = Path(__file__).resolve().parents[2]
ALL_NOTEBOOKS = [
    path
    for folder in ("notebooks", "solutions", "exercises")
    for path in sorted(ROOT.glob(f"{folder}/*.ipynb"))
]


def repository() -> str:
    return notebook_tools.repository()


# --- Colab ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_notebook_has_badges_colab_cell_and_slide_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook_tools.launch_problems(notebook, path) == []
    target = "exercises" if path.parent.name == "solutions" else path.parent.name
    assert f"colab.research.google.com/github/{repository()}/blob/main/{target}/{path.name}" in (
        notebook.cells[0].source
    )


def run_colab_cell(monkeypatch, *, on_colab: bool) -> list[list[str]]:
    """Execute the Colab cell with ``subprocess.run`` recorded instead of run."""
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(notebook_tools.colab_cell_source(), "<colab cell>", "exec"), {})
    return calls


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    assert run_colab_cell(monkeypatch, on_colab=False) == []


def test_colab_cell_installs_keras_and_course_lib_on_colab(monkeypatch):
    keras, course = run_colab_cell(monkeypatch, on_colab=True)
    assert keras[:4] == [sys.executable, "-m", "pip", "install"] and "keras==3.15.*" in keras
    # --no-deps: Colab's own TensorFlow must not be replaced by the tensorflow-cpu pin.
    assert "--no-deps" in course
    assert course[-1] == f"course-lib @ git+https://github.com/{repository()}@main"
    pinned = re.search(r'"keras==([\d.*]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert f"keras=={pinned}" in keras


def test_repository_url_is_the_pyproject_one():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'Repository = "https://github.com/{repository()}"' in pyproject


def test_launch_reports_a_notebook_without_its_cells():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1"))
    path = ROOT / "notebooks" / "99_example.ipynb"
    assert len(notebook_tools.launch_problems(notebook, path)) == 3
    fixed = notebook_tools.with_launch_cells(notebook, path)
    assert notebook_tools.launch_problems(fixed, path) == []
    assert [cell.metadata["slideshow"]["slide_type"] for cell in fixed.cells] == ["slide", "skip", "-"]


# --- Binder and conda ---------------------------------------------------------------------


def test_binder_environment_is_what_repo2docker_can_install():
    environment = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    dependencies = environment["dependencies"]
    pythons = [dep for dep in dependencies if isinstance(dep, str) and dep.startswith("python")]
    assert pythons == ["python=3.11"], "repo2docker needs one exact python=X.Y"
    assert "pip" in dependencies
    for dep in dependencies:
        if isinstance(dep, dict):  # a pip: section may not refer to the (not yet copied) repository
            assert not any(re.match(r"(-e\s+)?\.($|\[)", req) for req in dep.get("pip", [])), dep


def test_binder_postbuild_installs_the_course():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "postBuild must be executable"
    text = post_build.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert re.search(r"pip install .*-e \.$", text, re.MULTILINE)
    subprocess.run(["bash", "-n", str(post_build)], check=True)  # syntax


def test_binder_python_is_allowed_by_pyproject_and_matches_conda_file():
    requires = re.search(r'requires-python = ">=3\.(\d+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert 11 >= int(requires)
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in conda["dependencies"]


def test_readme_has_binder_badge_and_jupyterhub_note():
    readme = (ROOT / "README.md").read_text()
    badge = f"https://mybinder.org/v2/gh/{repository()}/main?urlpath=lab/tree/notebooks/"
    assert badge in readme
    assert "JupyterHub" in readme and "nbgitpuller" in readme


# --- Installs: learners, instructors, maintainers -------------------------------------------


def test_learners_install_has_no_instructor_tools():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    learner = extras["lab"] + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [requirement for requirement in learner if requirement.startswith("nbgrader")]
    assert any(requirement.startswith("nbgrader") for requirement in extras["instructor"])
    assert "course-lib[lab,instructor]" in extras["dev"]  # the tests need both
    makefile = (ROOT / "Makefile").read_text()
    assert 'pip install --quiet -e ".[lab]"' in makefile and "lab: setup-lab" in makefile


# --- Other Keras backends ---------------------------------------------------------------


def _extras() -> dict[str, list[str]]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_the_backend_extras_name_jax_on_cpu_and_torch():
    extras = _extras()
    assert [requirement.split(">=")[0] for requirement in extras["jax"]] == ["jax[cpu]"]
    assert [requirement.split(">=")[0] for requirement in extras["torch"]] == ["torch"]
    # TensorFlow stays a dependency of the course itself: the default backend and the reference.
    assert not any("tensorflow" in requirement for extra in ("jax", "torch") for requirement in extras[extra])


@pytest.mark.skipif(
    not all(importlib.util.find_spec(module) for module in ("jax", "torch")),
    reason="make setup-backends installs jax and a CPU-only torch",
)
def test_the_backend_extras_resolve_to_what_is_installed(tmp_path):
    """``pip install ".[jax,torch]"`` is satisfied by the installed JAX and CPU-only PyTorch:
    pip would install the course itself and nothing else (no CUDA build of torch)."""
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--report",
            str(report),
            f"{ROOT}[jax,torch]",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    installed = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert installed == ["course-lib"]
