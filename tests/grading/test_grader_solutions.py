"""Every chapter's solution notebook scores full marks under ``course-grade``, and its untouched exercise 0.

This is the grader end to end on all 13 assignments, in the strongest sandbox
this machine offers: the setup cells, the learner's answers, Keras tasks,
value tasks, the monitor of library calls (a legitimate solution must never
match what any task of its notebook forbids) and the judging.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from course_grader.grader import BACKEND_MODULES, grade_class
from course_grader.model import AUTODIFF
from course_grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
#: The Keras backends installed here: TensorFlow always; JAX and PyTorch with their extras.
BACKENDS = [name for name, module in BACKEND_MODULES.items() if importlib.util.find_spec(module)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_the_solution_scores_full_marks_and_the_exercise_zero(solution, backend, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", backend)  # what course-grade --backend sets
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(solution, submissions / "solution.ipynb")
    shutil.copy(ROOT / "exercises" / solution.name, submissions / "untouched.ipynb")
    results = {
        result.student: result
        for result in grade_class(solution, submissions, tmp_path / "out", limits=Limits(seconds=120), jobs=2)
    }
    honest = results["solution"]
    assert honest.total == honest.maximum > 0, json.dumps([t.__dict__ for t in honest.tasks])[:2000]
    assert honest.notes == []
    assert results["untouched"].total == 0.0


def _forbidden(name: str) -> bool:
    return any(re.search(pattern, name) for pattern in AUTODIFF)


def test_autodiff_is_caught_on_every_backend_but_not_keras_own_calls():
    """The names the grader records (``module.qualname``) for each backend's autodiff."""
    for name in (
        "tensorflow.python.eager.backprop.GradientTape.__init__",
        "jax._src.api.grad",
        "jax._src.api.value_and_grad",
        "jax._src.api.vjp",
        "torch.autograd.grad",
        "torch.autograd.backward",
        "torch._tensor.Tensor.backward",
        "torch.func.grad",
        "import autograd",
    ):
        assert _forbidden(name), name
    for name in (  # what Keras calls on its own while a loss or a layer runs
        "jax._src.numpy.reductions.mean",
        "jax._src.lax.lax.stage",
        "import jax",
        "import torch",
        "torch.autograd.grad_mode.no_grad.__init__",
        "torch._C._VariableFunctions.sum",
        "keras.src.backend.jax.numpy.mean",
    ):
        assert not _forbidden(name), name


@pytest.mark.skipif(len(BACKENDS) < 3, reason="needs the jax and torch extras")
def test_the_recorded_names_of_jax_and_torch_autodiff_are_the_ones_forbidden():
    import jax
    import torch
    import torch.func

    for function in (jax.grad, jax.value_and_grad, jax.vjp, jax.jacrev, torch.autograd.grad, torch.func.grad):
        assert _forbidden(f"{function.__module__}.{function.__qualname__}"), function
    assert _forbidden(f"{torch.Tensor.backward.__module__}.{torch.Tensor.backward.__qualname__}")
