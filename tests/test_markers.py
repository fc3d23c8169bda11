"""The file lists that tests/conftest.py marks by (keras, notebooks, browser, slow) are right and current."""

from __future__ import annotations

import ast
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parents[1]
#: Importing one of these imports Keras or TensorFlow, or runs them when called.
KERAS_MODULES = ("keras", "tensorflow", "keras_reference", "course_lib.compare", "course_lib.keras_losses")


def _imported(nodes) -> set[str]:
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}  # from course_lib import compare
    return names


def _module_level(tree: ast.Module):
    """The statements that run when the module is imported (not those inside functions or classes)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))


def _uses_keras(names: set[str]) -> bool:
    return any(name == module or name.startswith(f"{module}.") for name in names for module in KERAS_MODULES)


def test_the_keras_list_names_exactly_the_test_files_that_import_keras():
    importing = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").glob("test_*.py")
        if _uses_keras(_imported(_module_level(ast.parse(path.read_text()))))
    }
    assert importing == {name for name in conftest.KERAS_FILES if name.startswith("tests/")}


def test_the_keras_list_names_exactly_the_course_lib_doctests_that_use_keras():
    using = set()
    for path in (ROOT / "course_lib").rglob("*.py"):
        text = path.read_text()
        if ">>>" in text and _uses_keras(_imported(ast.walk(ast.parse(text)))):
            using.add(path.relative_to(ROOT).as_posix())
    assert using == {name for name in conftest.KERAS_FILES if name.startswith("course_lib/")}


def test_single_tests_that_import_keras_in_their_body_are_listed():
    listed = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        file = path.relative_to(ROOT).as_posix()
        if file in conftest.KERAS_FILES:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and _uses_keras(_imported(ast.walk(node))):
                listed.add(f"{file}::{node.name}")
    assert listed == conftest.KERAS_TESTS


def test_every_listed_file_and_test_exists():
    files = conftest.BROWSER_FILES | conftest.NOTEBOOK_FILES | conftest.KERAS_FILES | conftest.SLOW_FILES
    assert not [name for name in files if not (ROOT / name).is_file()]
    for test in conftest.KERAS_TESTS | conftest.NOTEBOOK_TESTS | conftest.SLOW_TESTS:
        file, name = test.split("::")
        tree = ast.parse((ROOT / file).read_text())
        assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, test
