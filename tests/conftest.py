"""Shared test setup: silence TensorFlow's C++ logs before anything imports it, let
OpenMP's idle threads sleep (:func:`course_lib.notebook.shared_cpu_environment`), and
mark the tests.

The kernels that nbval starts for the notebooks inherit this environment.

Markers (declared in pyproject.toml) are given here by file, so a new test in an
existing file is marked without thinking about it.  The folders mirror the package:
``tests/losses``, ``tests/gradients``, ``tests/compare`` (the library, fast),
``tests/grading``, ``tests/notebooks`` and ``tests/site``.

* ``browser``: drives Chromium (site, slides, JupyterLab);
* ``notebooks``: executes notebooks (nbval's cells of ``notebooks/`` and
  ``solutions/``, the grader's end-to-end runs, JupyterLab's Run All) or reads
  every stored output (``test_notebooks_clean.py``);
* ``keras``: the file imports Keras/TensorFlow when it is imported, or the test
  function imports it in its body (read from the source by :func:`keras_use`);
* ``slow``: minutes of work, or sweeps (see ``SLOW_FILES``).

``make test-fast`` deselects ``notebooks``, ``browser`` and ``slow``; ``make test``
runs everything.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from course_lib.notebook import quiet_tensorflow, shared_cpu_environment

quiet_tensorflow()
# pytest -n 2 runs two notebooks (kernels, graders, backends) at once on CI's two cores.
os.environ.update(shared_cpu_environment())

ROOT = Path(__file__).resolve().parents[1]

BROWSER_FILES = {"tests/site/test_site.py", "tests/site/test_slides.py", "tests/site/test_jupyterlab.py"}
#: Test files that run notebooks (in nbval, the grader's sandbox or JupyterLab) or read all their outputs.
NOTEBOOK_FILES = {
    "tests/notebooks/test_notebooks_clean.py",
    "tests/notebooks/test_backend_records.py",
    "tests/grading/test_grading.py",
    "tests/grading/test_grader_solutions.py",
    "tests/grading/test_grader_attacks.py",
    "tests/site/test_jupyterlab.py",
}
#: Whole files that take minutes, or sweep options and properties against Keras.
SLOW_FILES = {
    *BROWSER_FILES,
    "tests/notebooks/test_backend_records.py",
    "tests/compare/test_backends.py",  # starts a Python per backend, several times
    "tests/grading/test_grading.py",
    "tests/grading/test_grader_solutions.py",
    "tests/grading/test_grader_attacks.py",
    "tests/grading/test_release.py",
    "tests/site/test_wheelhouse.py",
    "tests/losses/test_option_pairs.py",
    "tests/losses/test_properties.py",
}
#: Single tests that run notebook code, in files that otherwise do not.
NOTEBOOK_TESTS = {
    # runs the code cells of every solution notebook in-process
    "tests/grading/test_self_check.py::test_no_solution_calls_anything_its_notebook_forbids",
}
#: Single slow tests (each several seconds) in otherwise fast files.
SLOW_TESTS: set[str] = set()

#: Importing one of these imports Keras or TensorFlow, or runs them when called.
KERAS_MODULES = ("keras", "tensorflow", "keras_reference", "course_lib.compare", "course_lib.keras_losses")


def imported_modules(nodes: Iterable[ast.AST]) -> set[str]:
    """The modules (and ``module.name`` for ``from module import name``) that ``nodes`` import."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}  # from course_lib import compare
    return names


def module_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported (not those inside functions or classes)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))


def uses_keras(names: set[str]) -> bool:
    return any(name == module or name.startswith(f"{module}.") for name in names for module in KERAS_MODULES)


@functools.cache
def keras_use(path: Path) -> tuple[bool, frozenset[str]]:
    """Whether the file imports Keras when it is imported, and which of its top-level test
    functions import it in their body.  Read from the source, so no list needs keeping."""
    if path.suffix != ".py":
        return False, frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    at_import = uses_keras(imported_modules(module_level(tree)))
    if path.name.startswith("test_"):
        in_body = frozenset(
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and uses_keras(imported_modules(ast.walk(node)))
        )
    else:  # a course_lib module: its doctests use Keras if the module imports it anywhere
        at_import = at_import or (">>>" in path.read_text() and uses_keras(imported_modules(ast.walk(tree))))
        in_body = frozenset()
    return at_import, in_body


def _where(item: pytest.Item) -> tuple[str, str]:
    """The item's file relative to the repository and ``file::function`` (parameters dropped)."""
    path = Path(str(item.path)).resolve()
    file = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    return file, f"{file}::{name}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        file, test = _where(item)
        if file.endswith(".ipynb") or file in NOTEBOOK_FILES or test in NOTEBOOK_TESTS:
            item.add_marker(pytest.mark.notebooks)
        if file in BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        at_import, in_body = keras_use(Path(str(item.path)).resolve())
        if at_import or test.split("::")[1] in in_body:
            item.add_marker(pytest.mark.keras)
        if file in SLOW_FILES or test in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
