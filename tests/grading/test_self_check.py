"""The learner's self-check, the stored public data, the exercises, and what course_lib must not hold."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from course_grader import public_checks
from course_grader.generate import generate
from course_grader.generate import main as course_exercises
from course_grader.judging import expected_output, mistake_outputs
from course_grader.judging import judge as grader_judge
from course_grader.tasks import TASKS
from course_lib.grading import assert_task, check
from course_lib.grading.judgement import Tolerance, judge_form
from course_lib.grading.public import DATA_DIR, fingerprint_salt, load_task

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
TASK_CALL = re.compile(r"""assert_task\(\s*["'](\d+\.\d+)["']""")


def right_huber(y_true, y_pred, delta_under=1.0, delta_over=1.0):
    """Task 02.1's asymmetric Huber loss."""
    e = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    over, under = delta_over * e - 0.5 * delta_over**2, -delta_under * e - 0.5 * delta_under**2
    return np.mean(np.where(e > delta_over, over, np.where(e < -delta_under, under, 0.5 * e**2)), axis=-1)


def summed_huber(y_true, y_pred, delta_under=1.0, delta_over=1.0):
    return right_huber(y_true, y_pred, delta_under, delta_over) * np.shape(y_pred)[-1]


# --------------------------------------------------------------------------------------
# The self-check's output
# --------------------------------------------------------------------------------------


def test_self_check_passes_a_right_function(capsys):
    check("02.1", right_huber)
    assert capsys.readouterr().out == (
        "02.1 asymmetric Huber loss: public checks passed: 3 of 3; your grade may include hidden checks.\n"
    )


def test_self_check_names_a_known_mistake(capsys):
    check("02.1", summed_huber)
    out = capsys.readouterr().out
    assert "public checks passed: 1 of 3" in out  # the (5, 1) case: sum and mean agree
    assert "the per-sample loss averages h over the d outputs" in out


def test_self_check_explains_a_wrong_shape_and_nan(capsys):
    check("02.1", lambda y_true, y_pred, **deltas: right_huber(y_true, y_pred, **deltas)[:, None])
    check("02.1", lambda y_true, y_pred, **deltas: right_huber(y_true, y_pred, **deltas) * np.nan)
    out = capsys.readouterr().out
    assert "wrong shape: expected (4,), got (4, 1)" in out
    assert "returned NaN or inf where the loss is finite" in out


def test_self_check_reports_an_exception_and_an_unanswered_task(capsys):
    def unanswered(y_true, y_pred, delta_under=1.0, delta_over=1.0):
        raise NotImplementedError()

    check("02.1", unanswered)
    check("02.1", lambda y_true, y_pred, **deltas: 1 / 0)
    out = capsys.readouterr().out
    assert "not answered yet" in out
    assert "raised ZeroDivisionError: division by zero" in out


def test_an_unanswered_value_task_is_not_answered_yet(capsys):
    """The exercise's value cell sets the answer to None before ``raise NotImplementedError()``."""
    for task_id in sorted(t for t, task in TASKS.items() if task.kind == "value"):
        check(task_id, None)
        with pytest.raises(AssertionError, match=r"not answered yet \(`\w+` is still None\)"):
            assert_task(task_id, None)
        with pytest.raises(AssertionError, match=r"not answered yet \(`\w+` is still None\)"):
            assert_task(task_id, None, hidden=True)
    out = capsys.readouterr().out
    assert out.count("not answered yet") == sum(task.kind == "value" for task in TASKS.values())


def test_every_value_answer_cell_of_chapters_02_and_04_defines_its_answer_as_none():
    for name in ("02_regression.ipynb", "04_multiclass.ipynb"):
        for cell in nbformat.read(EXERCISES / name, as_version=4).cells:
            if "raise NotImplementedError()" in cell.source and not cell.source.lstrip().startswith("def "):
                assert re.search(r"^\w+ = None  # replace None by your answer", cell.source, re.M), (
                    cell.source
                )


def _tempered_cce(y_true, logits, temperature=1.0, axis=-1, *, normalise_axis=None):
    """Task 04.1's loss, with the softmax optionally normalised along another axis (a mistake)."""
    z = np.asarray(logits, dtype=float) / temperature
    along = axis if normalise_axis is None else normalise_axis
    shifted = z - np.max(z, axis=along, keepdims=True)
    return -np.sum(y_true * (shifted - np.log(np.sum(np.exp(shifted), axis=along, keepdims=True))), axis=axis)


def test_04_1_names_the_cause_of_a_softmax_over_the_batch_and_of_logits_read_as_probabilities(capsys):
    check("04.1", _tempered_cce)
    assert "public checks passed: 4 of 4" in capsys.readouterr().out

    check(
        "04.1",
        lambda y, z, temperature=1.0, axis=-1: _tempered_cce(y, z, temperature, axis, normalise_axis=0),
    )
    out = capsys.readouterr().out
    assert "your softmax normalises over the batch axis" in out
    assert "stable form" not in out  # the extreme case fails for the same reason, not for overflow

    def from_probabilities(y, z, temperature=1.0, axis=-1):  # Keras' from_logits=False on logits
        q = np.asarray(z) / temperature
        q = np.clip(q / np.sum(q, axis=axis, keepdims=True), 1e-7, 1 - 1e-7)
        return -np.sum(y * np.log(q), axis=axis)

    def log_of_logits(y, z, temperature=1.0, axis=-1):
        with np.errstate(all="ignore"):
            return -np.sum(y * np.log(np.asarray(z) / temperature), axis=axis)

    check("04.1", from_probabilities)
    check("04.1", log_of_logits)
    lines = capsys.readouterr().out.splitlines()
    failures = [line for line in lines if line.startswith("  - ")]
    assert len(failures) == 8
    assert all(
        "as if they were probabilities" in line or "treated the logits as probabilities" in line
        for line in failures
    ), failures


def test_self_check_of_a_value_task_checks_form_and_known_mistakes_only(capsys):
    from course_lib.grading.tasks.ch02 import task_data

    y_true, y_pred = task_data()
    largest = float(np.max(np.abs(y_pred - y_true)))
    for value in (largest, largest + 1.0, largest**2, [1.0, 2.0], float("nan")):
        check("02.3", value)
    lines = capsys.readouterr().out.splitlines()
    note = (
        "(a finite number of the right shape and none of the known mistakes; "
        "whether it is right is decided only when graded)."
    )
    assert lines[0].endswith(f"form checks passed: 1 of 1 {note}")
    assert lines[1].endswith(f"form checks passed: 1 of 1 {note}")  # wrong, but unknown: judged when graded
    assert "that is the largest SQUARED residual" in lines[3]
    assert "wrong shape: the answer is a single number, got shape (2,)" in lines[5]
    assert "NaN or inf" in lines[7]


@pytest.mark.parametrize("task_id", sorted(t for t, task in TASKS.items() if task.kind == "value"))
def test_the_self_check_recognises_every_known_mistake_of_a_value_task(task_id):
    task = TASKS[task_id]
    for case in task.public:
        right = expected_output(task, case)
        shown = load_task(task_id).cases[task.public.index(case)]

        def self_check(value, case=case, shown=shown):
            tolerance = Tolerance(task.rtol, task.atol)
            salt = fingerprint_salt(task_id, case.label)
            return judge_form(
                value, shown.expected_shape, shown.mistakes, label=case.label, salt=salt, tolerance=tolerance
            )

        for message, wrong in mistake_outputs(task, case, public_only=True):
            if wrong.shape != right.shape or np.allclose(wrong, right, rtol=task.rtol, atol=task.atol):
                continue
            nudged = wrong * (1 + task.rtol / 4)  # within the tolerance: still that mistake
            verdict = self_check(nudged)
            assert (verdict.passed, verdict.message) == (False, message), (task_id, message)
        verdict = self_check(right)
        assert verdict.passed, (task_id, verdict.message)


def test_assert_task_raises_with_the_mistake():
    assert_task("02.1", right_huber)
    with pytest.raises(AssertionError, match="public checks failed:\n.*averages h over the d outputs"):
        assert_task("02.1", summed_huber)


def test_hidden_checks_judge_the_value_itself():
    from course_lib.grading.tasks.ch02 import task_data

    y_true, y_pred = task_data()
    largest = float(np.max(np.abs(y_pred - y_true)))
    assert_task("02.3", largest, hidden=True)
    with pytest.raises(AssertionError, match="hidden checks failed:\n.*that is not the right value"):
        assert_task("02.3", largest + 1.0, hidden=True)


def test_a_keras_task_gets_tensors(capsys):
    import keras

    def stable_log_cosh(y_true, y_pred, delta=1.0):
        x = keras.ops.abs(y_pred - y_true) / delta
        return keras.ops.mean(
            delta**2 * (x + keras.ops.log1p(keras.ops.exp(-2.0 * x)) - np.log(2.0)), axis=-1
        )

    seen = []

    def spy(y_true, y_pred, delta=1.0):
        seen.append(type(y_true).__module__)
        return stable_log_cosh(y_true, y_pred, delta)

    check("02.4", spy)
    assert "public checks passed: 2 of 2" in capsys.readouterr().out
    assert all(not module.startswith("numpy") for module in seen)


def test_hidden_case_messages_quote_no_number():
    task = TASKS["02.1"]
    public, hidden = task.public[0], task.hidden[0]
    for case, reveal in ((public, True), (hidden, False)):
        output = 0.37 * task.reference(*case.args, **case.kwargs)
        message = grader_judge(task, case, output, reveal=reveal).message
        assert message.startswith("off by a constant factor")
        assert ("0.37" in message) is reveal
    off = task.reference(*hidden.args, **hidden.kwargs) + np.linspace(0.1, 0.9, len(hidden.args[0]))
    message = grader_judge(task, hidden, off, reveal=False).message
    assert not re.search(r"\d\.\d", message), message


def test_without_course_grader_hidden_checks_say_what_they_need():
    code = (
        "import sys; sys.modules['course_grader'] = None\n"
        "from course_lib.grading import assert_task\n"
        "try:\n    assert_task('02.3', 1.0, hidden=True)\n"
        "except ImportError as error:\n    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "hidden checks need the instructor's package, course_grader" in out


# --------------------------------------------------------------------------------------
# course_lib holds no answer, no hidden case and nothing that computes one
# --------------------------------------------------------------------------------------

GRADING_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "course_lib" / "grading").rglob("*.py")
    if path.name != "runner.py"
)


def test_importing_the_self_check_loads_no_answer_and_no_library():
    modules = [m.removesuffix(".__init__") for m in GRADING_MODULES]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n    importlib.import_module(name)\n"
        "banned = ('course_grader', 'course_lib.losses', 'course_lib.gradients', 'course_lib.datasets',"
        " 'keras', 'tensorflow')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned or m.startswith(banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_learner_task_modules_import_only_numpy_and_the_standard_library():
    allowed = {"numpy", "__future__", *sys.stdlib_module_names}
    paths = sorted((ROOT / "course_lib" / "grading" / "tasks").glob("*.py"))
    assert len(paths) >= 13
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert all(name.split(".")[0] in allowed for name in names), (path.name, names)


def test_the_public_data_holds_no_value_task_answer_and_no_hidden_case():
    stored = "".join(path.read_text() for path in sorted(DATA_DIR.glob("*.json")))
    # every text between two delimiters ("[" or "," before, "," or "]" after): a stored number as written
    stored_between_delimiters = set(re.findall(r"(?<=[\[,])[^,\[\]]+(?=[,\]])", stored))
    for task in TASKS.values():
        public = load_task(task.task_id)
        assert (public.kind, public.backend, len(public.cases)) == (task.kind, task.backend, len(task.public))
        if task.kind == "value":
            right = np.asarray(task.reference, dtype=np.float64)
            assert all(case.expected is None for case in public.cases)
            for (
                case
            ) in public.cases:  # mistakes as fingerprints only: a wrong value is one step from the right one
                assert all(
                    isinstance(fingerprint, str)
                    for _, stored_prints in case.mistakes
                    for fingerprint in stored_prints
                )
            numbers = [*np.atleast_1d(right)]
            numbers += [
                n
                for case in task.public
                for _, wrong in mistake_outputs(task, case)
                for n in np.atleast_1d(wrong)
            ]
            for number in numbers:
                assert repr(float(number)) not in stored or float(number).is_integer(), task.task_id
        for case in task.hidden:
            for arg in case.args:
                if isinstance(arg, str) or np.asarray(arg).dtype != np.float64:
                    continue  # rounded float32 data can repeat across cases
                # a number with many digits does not turn up by chance (labels and rounded data can)
                values = np.asarray(arg, dtype=np.float64).ravel().tolist()
                digits = [repr(v) for v in values if len(repr(v)) > 12][:5]
                assert not any(d in stored_between_delimiters for d in digits), task.task_id


def test_the_package_has_no_instructor_source():
    for path in (ROOT / "course_lib").rglob("*.py"):
        text = path.read_text()
        assert (
            "hidden="
            not in text.replace("hidden=False", "").replace("hidden=True", "").replace("hidden: bool", "")
            or path.name == "__init__.py"
        ), path
        assert "Mistake(" not in text and "reference=" not in text, path


def test_the_stored_public_checks_are_up_to_date():
    stale = public_checks.write(check=True)
    assert not stale, f"run course-exercises: {stale}"


def test_stored_data_round_trips_exactly():
    for task in TASKS.values():
        stored = load_task(task.task_id)
        for case, kept in zip(task.public, stored.cases, strict=True):
            for arg, kept_arg in zip(case.args, kept.args, strict=True):
                if isinstance(arg, str):
                    assert kept_arg == arg
                else:
                    assert np.asarray(arg).dtype == kept_arg.dtype
                    assert np.array_equal(np.asarray(arg), kept_arg)
            assert json.loads(json.dumps(case.kwargs)) == kept.kwargs


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------


def test_every_chapter_from_01_has_solution_and_exercise_notebooks():
    chapters = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    expected = [name for name in chapters if not name.startswith("00")]
    assert sorted(path.name for path in SOLUTIONS.glob("*.ipynb")) == expected
    assert sorted(path.name for path in EXERCISES.glob("*.ipynb")) == expected


def test_exercises_are_up_to_date_with_the_solutions():
    assert not generate(SOLUTIONS, EXERCISES, check=True), "run course-exercises"


def test_course_exercises_outside_the_checkout_names_the_option(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # folders come from the current directory, not from where the package is
    assert course_exercises(["--check"]) == 2
    assert "pass --solutions" in capsys.readouterr().err
    (tmp_path / "solutions").mkdir()
    assert course_exercises(["--check"]) == 2
    assert "pass --exercises" in capsys.readouterr().err


def test_exercises_have_no_solutions_or_hidden_tests():
    for path in sorted(EXERCISES.glob("*.ipynb")):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
            assert marker not in text, (path.name, marker)
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_every_graded_task_is_called_by_a_solution():
    called = {
        task_id
        for path in SOLUTIONS.glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        for task_id in TASK_CALL.findall(cell.source)
    }
    assert called == set(TASKS)


# --------------------------------------------------------------------------------------
# forbidden: no legitimate solution matches any pattern of its notebook
# --------------------------------------------------------------------------------------


def _recorder(names: set[str]):
    """Record calls and imports as the grader's child process does."""

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            names.add(f"{frame.f_globals.get('__name__')}.{frame.f_code.co_qualname}")
        elif event == "c_call" and getattr(arg, "__module__", None):
            names.add(f"{arg.__module__}.{arg.__qualname__}")

    return profile


_IMPORTS: list[set[str]] = []


def _audit(event: str, args: tuple) -> None:
    if event == "import" and _IMPORTS:
        _IMPORTS[-1].add(f"import {args[0]}")


def _recorded(run) -> set[str]:
    """The names that ``run()`` calls and imports."""
    names: set[str] = set()
    _IMPORTS.append(names)
    sys.setprofile(_recorder(names))
    try:
        run()
    finally:
        sys.setprofile(None)
        _IMPORTS.pop()
    return names


def _evaluate(task, answer) -> None:
    from course_lib.grading import call_answer

    for case in task.cases(hidden=True):
        call_answer(answer, case.args, case.kwargs, kind=task.kind, backend=task.backend)


def _solution_steps(path: Path) -> list[tuple[str, str, str]]:
    """``(kind, source, task_id)`` for each code cell the grader runs: setup, answer or test."""
    steps, notebook = [], nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code" or {"self-check", "colab-setup"} & set(cell.metadata.get("tags", [])):
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            steps.append(("test", "", TASK_CALL.findall(cell.source)[0]))
        else:
            steps.append(("answer" if meta.get("solution") else "setup", cell.source, ""))
    return steps


@pytest.fixture
def notebook_state():
    """Undo what running a notebook's setup() in this process changes (NumPy's print options and
    random state, matplotlib's settings), so that later tests in this worker see the defaults."""
    import random

    import matplotlib

    saved = np.get_printoptions(), np.random.get_state(), random.getstate(), dict(matplotlib.rcParams)
    yield
    np.set_printoptions(**saved[0])
    np.random.set_state(saved[1])
    random.setstate(saved[2])
    matplotlib.rcParams.update(saved[3])


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_no_solution_calls_anything_its_notebook_forbids(path, notebook_state):
    if not _IMPORTS:
        sys.addaudithook(_audit)
        _IMPORTS.append(set())  # a sink for imports outside any recording
    namespace: dict[str, Any] = {"__name__": "__main__"}
    run_names: set[str] = set()
    own: dict[str, set[str]] = {}
    last_answer: set[str] = set()
    for kind, source, task_id in _solution_steps(path):
        if kind == "setup":
            exec(compile(source, "<setup>", "exec"), namespace)
        elif kind == "answer":
            code = compile(source, "<answer>", "exec")
            last_answer = _recorded(lambda code=code: exec(code, namespace))
        else:
            task = TASKS[task_id]
            calls = _recorded(lambda task=task: _evaluate(task, namespace[task.answer]))
            own[task_id] = last_answer | calls
            run_names |= own[task_id]
    assert own, path
    for task_id, names in own.items():
        task = TASKS[task_id]
        hits = [(p, n) for p in task.forbidden for n in run_names if re.search(p, n)]
        hits += [(p, n) for p in task.forbidden_in_answer for n in names if re.search(p, n)]
        assert not hits, (task_id, hits[:5])
