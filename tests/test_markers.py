"""The tests mirror the package, and tests/conftest.py marks them (keras, notebooks, browser,
slow) correctly."""

from __future__ import annotations

import ast
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def test_every_listed_file_and_test_exists():
    files = conftest.BROWSER_FILES | conftest.NOTEBOOK_FILES | conftest.SLOW_FILES
    assert not [name for name in files if not (ROOT / name).is_file()]
    for test in conftest.NOTEBOOK_TESTS | conftest.SLOW_TESTS:
        file, name = test.split("::")
        tree = ast.parse((ROOT / file).read_text())
        assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, test


def test_the_test_folders_mirror_the_package():
    families = {path.stem for path in (ROOT / "course_lib" / "losses").glob("*.py")} - {
        "__init__", "numerics", "_validation", "reduction", "_base"
    }  # fmt: skip
    assert {f"test_{family}" for family in families} <= {
        path.stem for path in (TESTS / "losses").glob("test_*.py")
    }
    gradient_families = {path.stem for path in (ROOT / "course_lib" / "gradients").glob("*.py")} - {
        "__init__",
        "_common",
    }
    assert {f"test_{family}" for family in gradient_families} <= {
        path.stem for path in (TESTS / "gradients").glob("test_*.py")
    }
    loose = sorted(path.name for path in TESTS.glob("test_*.py"))
    assert loose == ["test_architecture.py", "test_markers.py"], "a test file belongs in a folder"


def test_keras_is_read_from_the_imports():
    assert conftest.keras_use(TESTS / "losses" / "test_regression.py")[0]
    assert not conftest.keras_use(TESTS / "grading" / "test_grading.py")[0]
    assert conftest.keras_use(ROOT / "course_lib" / "compare.py")[0]
    assert not conftest.keras_use(ROOT / "course_lib" / "losses" / "regression.py")[0]
    assert not conftest.keras_use(ROOT / "course_lib" / "training.py")[0]  # imports Keras lazily, no doctest
    answers_at_import, answers_in_body = conftest.keras_use(TESTS / "notebooks" / "test_answers.py")
    assert not answers_at_import and "test_keras_behaves_as_the_answers_say" in answers_in_body
    assert "test_a_keras_task_gets_tensors" in conftest.keras_use(TESTS / "grading" / "test_self_check.py")[1]


def test_keras_detection_sees_imports_inside_if_and_try_but_not_in_helpers(tmp_path):
    at_import = tmp_path / "test_a.py"
    at_import.write_text("try:\n    from keras_reference import ATOL32\nexcept ImportError:\n    pass\n")
    in_body = tmp_path / "test_b.py"
    in_body.write_text("def helper():\n    import keras\n\n\ndef test_x():\n    import tensorflow as tf\n")
    assert conftest.keras_use(at_import) == (True, frozenset())
    assert conftest.keras_use(in_body) == (False, frozenset({"helper", "test_x"}))
