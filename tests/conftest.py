"""Shared test setup: silence TensorFlow's C++ logs before anything imports it, and mark the tests.

The kernels that nbval starts for the notebooks inherit this environment.

Markers (declared in pyproject.toml) are given here by file, so a new test in an
existing file is marked without thinking about it:

* ``browser``: drives Chromium (site, slides, JupyterLab);
* ``notebooks``: executes notebooks (nbval's cells of ``notebooks/`` and
  ``solutions/``, the grader's end-to-end runs, JupyterLab's Run All) or reads
  every stored output (``test_notebooks_clean.py``);
* ``keras``: imports Keras/TensorFlow at import time (``KERAS_FILES``: checked by
  ``tests/test_markers.py``), or calls it inside the test (``KERAS_TESTS``);
* ``slow``: minutes of work, or sweeps (see ``SLOW_FILES``).

``make test-fast`` deselects ``notebooks``, ``browser`` and ``slow``; ``make test``
runs everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.notebook import quiet_tensorflow

quiet_tensorflow()

ROOT = Path(__file__).resolve().parents[1]

BROWSER_FILES = {"tests/test_site.py", "tests/test_slides.py", "tests/test_jupyterlab.py"}
#: Test files that run notebooks (in nbval, the grader's sandbox or JupyterLab) or read all their outputs.
NOTEBOOK_FILES = {
    "tests/test_notebooks_clean.py",
    "tests/test_grading.py",
    "tests/test_grader_solutions.py",
    "tests/test_grader_attacks.py",
    "tests/test_jupyterlab.py",
}
#: Test files that import Keras or TensorFlow when they are imported (directly, or through
#: keras_reference, course_lib.compare or course_lib.keras_losses), and the modules of course_lib
#: whose doctests do.  tests/test_markers.py checks the list against the imports.
KERAS_FILES = {
    "tests/test_api_surface.py",
    "tests/test_compare.py",
    "tests/test_compare_tolerance.py",
    "tests/test_circle_ctc.py",
    "tests/test_hinge_similarity_segmentation.py",
    "tests/test_hybrid_segmentation.py",
    "tests/test_image_losses.py",
    "tests/test_metric_learning_extra.py",
    "tests/test_option_pairs.py",
    "tests/test_probabilistic.py",
    "tests/test_properties.py",
    "tests/test_reduction.py",
    "tests/test_regression.py",
    "tests/test_soft_fbeta.py",
    "course_lib/compare.py",
    "course_lib/keras_losses/classification_metrics.py",
    "course_lib/keras_losses/image.py",
    "course_lib/keras_losses/segmentation.py",
}
#: Single tests that import Keras in their body, in files that otherwise do not.
KERAS_TESTS = {
    "tests/test_answers.py::test_keras_behaves_as_the_answers_say",
    "tests/test_self_check.py::test_a_keras_task_gets_tensors",
}
#: Whole files that take minutes, or sweep options and properties against Keras.
SLOW_FILES = {
    *BROWSER_FILES,
    "tests/test_grading.py",
    "tests/test_grader_solutions.py",
    "tests/test_grader_attacks.py",
    "tests/test_release.py",
    "tests/test_wheelhouse.py",
    "tests/test_option_pairs.py",
    "tests/test_properties.py",
}
#: Single tests that run notebook code, in files that otherwise do not.
NOTEBOOK_TESTS = {
    # runs the code cells of every solution notebook in-process
    "tests/test_self_check.py::test_no_solution_calls_anything_its_notebook_forbids",
}
#: Single slow tests (each several seconds) in otherwise fast files.
SLOW_TESTS: set[str] = set()


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
        if file in KERAS_FILES or test in KERAS_TESTS:
            item.add_marker(pytest.mark.keras)
        if file in SLOW_FILES or test in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
