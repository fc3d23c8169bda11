"""The instructor grader on chapter 02: realistic mistakes, Keras answers, and the classic hostile runs.

One class of chapter 02 submissions is graded once (session fixture); each
test then checks one student's score and feedback.  The attacks on the
sandbox and on the grader itself are in ``test_grader_attacks.py``; the
learner's self-check is in ``test_self_check.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from course_grader.grader import grade_class
from course_grader.sandbox import Limits, bubblewrap

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "02_regression.ipynb"
EXERCISE = ROOT / "exercises" / "02_regression.ipynb"

HUBER_SUM = """
def my_asymmetric_huber(y_true, y_pred, delta_under=1.0, delta_over=1.0):
    e = np.asarray(y_pred) - np.asarray(y_true)
    over, under = delta_over * e - delta_over**2 / 2, -delta_under * e - delta_under**2 / 2
    return np.where(e > delta_over, over, np.where(e < -delta_under, under, 0.5 * e**2)).sum(axis=-1)
"""
CORRECT_HUBER = HUBER_SUM.replace(".sum(axis=-1)", ".mean(axis=-1)")
CORRECT_DELTA = "y_true, y_pred = task_data()\nsmallest_delta = float(np.max(np.abs(y_pred - y_true)))\n"
CORRECT_KERAS = """
def keras_scaled_log_cosh(y_true, y_pred, delta=1.0):
    x = keras.ops.abs(y_pred - y_true) / delta
    return keras.ops.mean(delta**2 * (x + keras.ops.log1p(keras.ops.exp(-2.0 * x)) - math.log(2.0)), axis=-1)
"""


def _code(*parts: str) -> str:
    """Join code snippets, each dedented on its own."""
    return "\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"


def _submission(answers: dict[str, str], *, drop_tests: bool = False, edit_tests: bool = False):
    notebook = nbformat.read(SOLUTION, as_version=4)
    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") in answers:
            cell.source = _code(answers[meta["grade_id"]])
        if drop_tests and (meta.get("grade") or "self-check" in cell.metadata.get("tags", [])):
            continue
        if edit_tests and meta.get("grade"):
            cell.source = "pass  # the tests are gone"
        cells.append(cell)
    notebook.cells = cells
    return notebook


def _students(tmp: Path) -> dict[str, nbformat.NotebookNode]:
    sentinel, out = tmp / "sentinel.txt", tmp / "out"
    gradient_without_1_over_n = """
        def my_huber_target_gradient(y_true, y_pred, sample_weight, delta=1.0):
            e = np.asarray(y_pred) - np.asarray(y_true)
            return -np.asarray(sample_weight)[:, None] * np.clip(e, -delta, delta) / e.shape[-1]
        """
    naive_log_cosh = """
        def keras_scaled_log_cosh(y_true, y_pred, delta=1.0):
            naive = keras.ops.log(keras.ops.cosh((y_pred - y_true) / delta))
            return keras.ops.mean(delta**2 * naive, axis=-1)
        """
    swallow_interrupts = """
        import time
        while True:
            try:
                time.sleep(0.1)
            except BaseException:
                pass
        """
    flood = """
        import os
        print("x" * 30_000_000)
        os.write(1, b"y" * 30_000_000)
        """
    patch_the_checkers = """
        import importlib
        np.allclose = lambda *args, **kwargs: True
        np.testing.assert_allclose = lambda *args, **kwargs: None
        compare = importlib.import_module("course_" + "lib.grading.judgement")
        compare.judge = lambda *args, **kwargs: compare.CaseVerdict("x", True)
        """
    read_the_solutions = f"""
        import json
        solution = json.load(open({str(SOLUTION)!r}))
        sources = ["".join(c["source"]) for c in solution["cells"]]
        exec(next(source for source in sources if "def my_asymmetric_huber(" in source))
        """
    vandalise = f"""
        import os
        attacks = [
            lambda: os.remove({str(sentinel)!r}),
            lambda: open({str(tmp / "planted.txt")!r}, "w").write("pwned"),
            lambda: os.makedirs({str(out)!r}, exist_ok=True),
            lambda: open({str(out / "grades.csv")!r}, "w").write("vandal,999"),
        ]
        for attack in attacks:
            try:
                attack()
            except Exception:
                pass
        """
    return {
        "solution": nbformat.read(SOLUTION, as_version=4),
        "untouched": nbformat.read(EXERCISE, as_version=4),
        # realistic mistakes
        "mean_forgotten": _submission({"task1_answer": HUBER_SUM}),
        "wrong_sign": _submission(
            {"task1_answer": CORRECT_HUBER.replace(".mean(axis=-1)", ".mean(axis=-1) * -1")}
        ),
        "wrong_axis": _submission({"task1_answer": CORRECT_HUBER.replace("axis=-1", "axis=0")}),
        "gradient_without_1_over_n": _submission({"task2_answer": gradient_without_1_over_n}),
        # an answer cell in the style of older exercises: it raises before defining the value
        "value_not_defined": _submission(
            {"task3_answer": "y_true, y_pred = task_data()\nraise NotImplementedError()\n"}
        ),
        "unstable_log_cosh": _submission({"task4_answer": naive_log_cosh}),
        # hostile
        "infinite_loop": _submission({"task3_answer": "while True:\n    pass\n"}),
        "swallows_interrupt": _submission({"task3_answer": swallow_interrupts}),
        "sys_exit": _submission({"task3_answer": _code(CORRECT_DELTA, "import sys\nsys.exit(3)")}),
        "os_exit": _submission({"task4_answer": _code(CORRECT_KERAS, "import os\nos._exit(0)")}),
        "memory_bomb": _submission({"task3_answer": _code("hog = bytearray(64 * 2**30)", CORRECT_DELTA)}),
        "print_flood": _submission({"task1_answer": _code(CORRECT_HUBER, flood)}),
        "monkeypatch": _submission({"task1_answer": _code(HUBER_SUM, patch_the_checkers)}),
        "reads_solutions": _submission({"task1_answer": read_the_solutions}),
        "vandal": _submission({"task1_answer": _code(CORRECT_HUBER, vandalise)}),
        "tests_deleted": _submission({}, drop_tests=True),
        "tests_edited": _submission({"task1_answer": HUBER_SUM}, edit_tests=True),
    }


EXPECTED_TOTALS = {
    "solution": 10.0, "untouched": 0.0, "mean_forgotten": 7.43, "wrong_sign": 7.0, "wrong_axis": 7.0,
    "gradient_without_1_over_n": 7.0, "unstable_log_cosh": 9.33, "infinite_loop": 6.0,
    "swallows_interrupt": 6.0, "sys_exit": 10.0, "os_exit": 8.0, "memory_bomb": 8.0, "print_flood": 10.0,
    "monkeypatch": 7.43, "reads_solutions": 7.0, "vandal": 10.0, "tests_deleted": 10.0, "tests_edited": 7.43,
    "value_not_defined": 8.0,
}  # fmt: skip


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    (tmp / "sentinel.txt").write_text("keep me")
    submissions = tmp / "submissions"
    for index, (student, notebook) in enumerate(_students(tmp).items()):
        # half in the flat layout, half in nbgrader's <student>/<assignment>/<notebook> layout
        path = (
            submissions / f"{student}.ipynb"
            if index % 2
            else submissions / student / SOLUTION.stem / SOLUTION.name
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in submissions.rglob("*.ipynb")}
    results = grade_class(SOLUTION, submissions, tmp / "out", limits=Limits(seconds=45), jobs=2)
    feedback = {path.stem: json.loads(path.read_text()) for path in (tmp / "out" / "feedback").glob("*.json")}
    with open(tmp / "out" / "grades.csv") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    return {"tmp": tmp, "results": results, "feedback": feedback, "grades": grades, "before": before}


needs_sandbox = pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap is not installed")


def _messages(feedback: dict, task_id: str) -> str:
    return " ".join(next(t for t in feedback["tasks"] if t["task_id"] == task_id)["messages"])


@pytest.mark.parametrize("student", sorted(set(EXPECTED_TOTALS) - {"reads_solutions", "vandal"}))
def test_every_submission_gets_its_expected_score(graded_class, student):
    assert float(graded_class["grades"][student]["total"]) == EXPECTED_TOTALS[student], graded_class[
        "feedback"
    ][student]


@needs_sandbox
@pytest.mark.parametrize("student", ["reads_solutions", "vandal"])
def test_sandboxed_submissions_get_their_expected_score(graded_class, student):
    assert float(graded_class["grades"][student]["total"]) == EXPECTED_TOTALS[student]


def test_grades_csv_has_one_column_per_task_then_total_and_max(graded_class):
    row = graded_class["grades"]["solution"]
    assert list(row) == ["student", "02.1", "02.2", "02.3", "02.4", "total", "max", "feedback"]
    assert float(row["max"]) == 10.0


@pytest.mark.parametrize(
    ("student", "task_id", "phrase"),
    [
        ("untouched", "02.1", "not answered yet"),
        ("untouched", "02.3", "not answered yet (the answer is still None)"),
        ("value_not_defined", "02.3", "not answered yet (the answer cell still raises NotImplementedError"),
        ("mean_forgotten", "02.1", "averages h over the d outputs"),
        ("wrong_sign", "02.1", "sign error"),
        ("wrong_axis", "02.1", "wrong axis"),
        ("gradient_without_1_over_n", "02.2", "the 1/N of the reduction is missing"),
        ("unstable_log_cosh", "02.4", "numerically stable form"),
        ("infinite_loop", "02.3", "not evaluated"),
        ("os_exit", "02.4", "not evaluated"),
        ("monkeypatch", "02.1", "averages h over the d outputs"),
    ],
)
def test_feedback_names_the_mistake(graded_class, student, task_id, phrase):
    assert phrase in _messages(graded_class["feedback"][student], task_id)


def test_hostile_runs_are_explained(graded_class):
    notes = {student: " ".join(f["notes"]) for student, f in graded_class["feedback"].items()}
    assert "time limit" in notes["infinite_loop"] and "time limit" in notes["swallows_interrupt"]
    assert "ended early" in notes["os_exit"]
    assert "MemoryError" in notes["memory_bomb"]
    assert "SystemExit" in notes["sys_exit"]


def test_hidden_values_never_appear_in_feedback(graded_class):
    for feedback in graded_class["feedback"].values():
        for task in feedback["tasks"]:
            for message in task["messages"]:
                if message.startswith("a hidden check"):
                    assert "expected" not in message


@needs_sandbox
def test_nothing_outside_the_output_folder_changes(graded_class):
    tmp = graded_class["tmp"]
    assert (tmp / "sentinel.txt").read_text() == "keep me"
    assert not (tmp / "planted.txt").exists()
    assert "vandal" in graded_class["grades"] and graded_class["grades"]["vandal"]["total"] != "999"
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp / "submissions").rglob("*.ipynb")}
    assert after == graded_class["before"]  # submissions are never modified


def test_every_graded_cell_names_a_registered_task():
    from course_grader.grader import load_assignment
    from course_grader.tasks import TASKS

    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        assignment = load_assignment(path)
        assert len(assignment.slots) >= 3, f"{path.name} needs at least 3 graded tasks"
        assert all(slot.task_id in TASKS and slot.points > 0 for slot in assignment.slots)
        # The Colab install cell is never run by the grader.
        sources = [step.get("source", "") for step in assignment.steps]
        assert not any("google.colab" in source for source in sources), path.name


def test_without_a_sandbox_the_limits_still_hold(tmp_path, monkeypatch):
    import course_grader.sandbox as sandbox

    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    if sandbox.is_root() and not sandbox._runs_unprivileged():
        pytest.skip("as root without bubblewrap this Python cannot run as an unprivileged user (see attacks)")
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(nbformat.read(SOLUTION, as_version=4), submissions / "solution.ipynb")
    nbformat.write(_submission({"task3_answer": "while True:\n    pass\n"}), submissions / "loop.ipynb")
    grade_class(SOLUTION, submissions, tmp_path / "out", limits=Limits(seconds=45), jobs=2,
                allow_unsandboxed_root=True)  # fmt: skip
    with open(tmp_path / "out" / "grades.csv") as handle:
        totals = {row["student"]: float(row["total"]) for row in csv.DictReader(handle)}
    assert totals == {"solution": 10.0, "loop": 6.0}
    feedback = json.loads((tmp_path / "out" / "feedback" / "loop.json").read_text())
    assert feedback["sandbox"].startswith("none") and "time limit" in " ".join(feedback["notes"])
