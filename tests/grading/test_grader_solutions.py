"""Every chapter's solution notebook scores full marks under ``course-grade``, and its untouched exercise 0.

This is the grader end to end on all 13 assignments, in the strongest sandbox
this machine offers: the setup cells, the learner's answers, Keras tasks,
value tasks, the monitor of library calls (a legitimate solution must never
match what any task of its notebook forbids) and the judging.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from course_grader.grader import grade_class
from course_grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_the_solution_scores_full_marks_and_the_exercise_zero(solution, tmp_path):
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
