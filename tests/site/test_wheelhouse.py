"""The offline wheelhouse (scripts/wheelhouse.py): built with pip, installed with the index off.

The default tests run the real recipe on the real course package with a reduced
but real dependency set: a copy of ``course_lib`` whose ``pyproject.toml`` keeps
only the course's own ``numpy`` requirement and puts its ``nbformat`` requirement
in the ``lab`` extra.  ``build`` downloads them (and the build backend) with pip
from the configured index; ``install`` creates a fresh virtual environment and
installs the course from the folder alone, with ``--no-index``.

The full learner set (TensorFlow, Keras, JupyterLab: 130 files, 434 MiB) is
marked ``slow`` and runs only when asked for, because ``-m "not slow"`` is not
the default here::

    COURSE_WHEELHOUSE_FULL=1 python -m pytest -m slow tests/site/test_wheelhouse.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import wheelhouse  # scripts/wheelhouse.py

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_named(name: str) -> str:
    """The course's own requirement on ``name``, as pyproject.toml states it."""
    (found,) = [r for r in PYPROJECT["project"]["dependencies"] if r.split(">")[0].split("=")[0] == name]
    return found


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def course_copy(where: Path, dependencies: list[str], lab: list[str]) -> Path:
    """``course_lib`` in a folder of its own, with a pyproject.toml that requires only these."""
    project = PYPROJECT["project"]
    build_system = PYPROJECT["build-system"]
    shutil.copytree(
        ROOT / "course_lib", where / "course_lib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (where / "pyproject.toml").write_text(
        f"""\
[build-system]
requires = {toml_list(build_system["requires"])}
build-backend = {json.dumps(build_system["build-backend"])}

[project]
name = {json.dumps(project["name"])}
version = {json.dumps(project["version"])}
requires-python = {json.dumps(project["requires-python"])}
dependencies = {toml_list(dependencies)}

[project.optional-dependencies]
lab = {toml_list(lab)}

[tool.setuptools.packages.find]
include = ["course_lib*"]

[tool.setuptools.package-data]
course_lib = {toml_list(PYPROJECT["tool"]["setuptools"]["package-data"]["course_lib"])}
"""
    )
    return where


def script(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "wheelhouse.py"), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
    )


def names(folder: Path) -> set[str]:
    """Distribution names of the wheels in ``folder``, normalised (``scikit_learn``)."""
    return {path.name.split("-")[0].lower() for path in folder.glob("*.whl")}


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    """A reduced course project and a wheelhouse built for it by the script."""
    base = tmp_path_factory.mktemp("wheelhouse")
    project = course_copy(base / "course", [requirement_named("numpy")], [requirement_named("nbformat")])
    built = script("build", base / "wheels", "--project", project)
    assert built.returncode == 0, built.stdout + built.stderr
    return project, base / "wheels"


def test_build_downloads_the_dependencies_and_the_build_backend(reduced):
    project, wheels = reduced
    manifest = json.loads((wheels / "wheelhouse.json").read_text())
    assert manifest["target"] == wheelhouse.target()
    assert manifest["build_requires"] == PYPROJECT["build-system"]["requires"]
    assert {"numpy", "nbformat", "setuptools", "wheel"} <= names(wheels)
    assert not names(wheels) & {"course_lib", "course-lib"}  # learners install it from the course folder
    readme = (wheels / "README.txt").read_text()
    assert '--no-index --find-links "../wheels" -e ".[lab]"' in readme


def test_install_from_the_wheelhouse_alone_into_a_fresh_venv(reduced, tmp_path):
    project, wheels = reduced
    venv = tmp_path / "venv"
    installed = script("install", wheels, "--project", project, "--venv", venv)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "--no-index" in installed.stdout
    python = wheelhouse.venv_python(venv)
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import course_lib, nbformat, numpy as np\n"
            "from course_lib import losses\n"
            "print(course_lib.__file__)\n"
            "print(losses.mean_squared_error(np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]]))[0])",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    where, value = check.stdout.split()
    assert Path(where).is_relative_to(project.resolve())  # the editable install of the course folder
    assert float(value) == 0.5


def test_install_uses_nothing_but_the_wheelhouse(reduced, tmp_path):
    """A wheel missing from the folder is not fetched from pip's configured places."""
    project, wheels = reduced
    partial, elsewhere = tmp_path / "partial", tmp_path / "elsewhere"
    shutil.copytree(wheels, partial)
    elsewhere.mkdir()
    for path in partial.glob("nbformat-*.whl"):
        path.rename(elsewhere / path.name)
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nfind-links = {elsewhere}\n")
    env = {**os.environ, "PIP_FIND_LINKS": str(elsewhere), "PIP_CONFIG_FILE": str(config)}
    installed = script("install", partial, "--project", project, "--venv", tmp_path / "venv", env=env)
    assert installed.returncode != 0
    assert "No matching distribution found for nbformat" in installed.stderr


def test_install_refuses_a_wheelhouse_for_another_machine(reduced, tmp_path):
    project, wheels = reduced
    other = tmp_path / "other"
    shutil.copytree(wheels, other)
    manifest = json.loads((other / "wheelhouse.json").read_text())
    manifest["target"] = {**manifest["target"], "python": "3.99", "sys_platform": "elsewhere"}
    (other / "wheelhouse.json").write_text(json.dumps(manifest))
    installed = script("install", other, "--project", project, "--venv", tmp_path / "venv")
    assert installed.returncode != 0
    assert "3.99 on elsewhere" in installed.stderr
    assert not (tmp_path / "venv").exists()


def test_build_requirements_without_a_toml_parser(monkeypatch):
    """On Python 3.10 without tomli the script still finds [build-system] requires."""
    monkeypatch.setattr(wheelhouse, "tomllib", None)
    assert wheelhouse.build_requirements(ROOT) == PYPROJECT["build-system"]["requires"]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("COURSE_WHEELHOUSE_FULL"), reason="set COURSE_WHEELHOUSE_FULL=1 (434 MiB, 2 GiB)"
)
def test_full_learner_wheelhouse(tmp_path):
    """Everything `make lab` installs, from the real pyproject.toml; then the pinned versions import."""
    project = tmp_path / "course"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    for package in ("course_lib", "course_grader"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = script("build", tmp_path / "wheels", "--project", project)
    assert built.returncode == 0, built.stderr
    assert {"tensorflow_cpu", "keras", "jupyterlab", "ipykernel"} <= names(tmp_path / "wheels")
    venv = tmp_path / "venv"
    installed = script("install", tmp_path / "wheels", "--project", project, "--venv", venv)
    assert installed.returncode == 0, installed.stderr
    versions = subprocess.run(
        [
            str(wheelhouse.venv_python(venv)),
            "-c",
            "import keras, tensorflow as tf, course_lib; print(keras.__version__, tf.__version__)",
        ],
        capture_output=True,
        text=True,
    )
    assert versions.returncode == 0, versions.stderr
    keras_version, tf_version = versions.stdout.split()
    assert keras_version.startswith("3.15.") and tf_version.startswith("2.21.")
