"""``course-release``: the learners' copy has the course and its self-checks, nothing an instructor keeps."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course_grader.release import main, release
from course_grader.tasks import TASKS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    return release(tmp_path_factory.mktemp("release") / "course", ROOT)


def _text_files(folder: Path):
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".ipynb", ".json", ".md", ".toml", ".yml", ".txt", ""}:
            yield path, path.read_text(errors="replace")


def test_the_release_has_the_course_and_nothing_of_the_instructor(released):
    top = {path.name for path in released.iterdir()}
    assert {"notebooks", "exercises", "badges", "course_lib", "pyproject.toml", "README.md"} <= top
    assert not {"solutions", "course_grader", "instructor", "tests", ".git", "scripts"} & top
    assert not list(released.rglob("course_grader"))
    assert sorted(p.name for p in (released / "exercises").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "exercises").glob("*.ipynb")
    )


def test_no_solution_hidden_test_or_value_answer_is_in_any_file(released):
    answers = [
        repr(float(value))
        for task in TASKS.values()
        if task.kind == "value"
        for value in np.ravel(np.asarray(task.reference, dtype=float))
        if len(repr(float(value))) > 8  # long enough that a match is no coincidence
    ]
    assert answers, "expected value tasks with non-trivial answers"
    for path, text in _text_files(released):
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{marker} in {path}"
        if path.suffix == ".ipynb":  # no notebook calls a hidden check
            assert "hidden=True" not in text, path
        for answer in answers:
            assert answer not in text, f"a value task's answer {answer} in {path}"


def test_the_self_check_works_from_the_release_without_the_instructor_package(released):
    script = f"""
import sys
sys.modules["course_grader"] = None  # as on a learner's machine: not installed
sys.path.insert(0, {str(released)!r})
import numpy as np
import course_lib
assert course_lib.__file__.startswith({str(released)!r})
from course_lib.grading import assert_task, check
def empirical_risk(theta, features, y):
    return float(np.mean((np.asarray(features) @ np.asarray(theta) - np.asarray(y)) ** 2))
check("01.1", empirical_risk)
try:
    assert_task("01.1", empirical_risk, hidden=True)
except ImportError as error:
    print("hidden:", error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "public checks passed: 3 of 3" in result.stdout
    assert "hidden:" in result.stdout and "course_grader" in result.stdout


def test_the_learner_package_builds_a_wheel_of_course_lib_alone(released, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(released)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "course_lib/grading/public/ch01.json" in names
    assert "course_lib/grading/runner.py" in names and "course_lib/losses/regression.py" in names
    assert not [name for name in names if name.startswith("course_grader")]
    public = json.loads(zipfile.ZipFile(wheel).read("course_lib/grading/public/ch02.json"))
    assert public  # the stored public checks travel with the package


def test_the_command_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert main([str(tmp_path / "out"), "--course", str(ROOT)]) == 2
    assert "must not exist" in capsys.readouterr().err


def test_the_command_reads_the_course_in_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # not where the package is installed from
    assert main([str(tmp_path / "out")]) == 2
    assert "pass --course" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
