"""How long ``course-grade`` takes per submission, in its sandbox, for a class of 30.

    python benchmarks/bench_grading.py [--chapters 01 02] [--students 30] [--jobs N] [--both]

For each chapter a class is written to a temporary folder: two thirds of it
hand in the solution notebook, one third the untouched exercise.  The class
is graded with the strongest sandbox this machine offers (as root: children
forked by the fork server; ``--both`` also times children started from
scratch), and the script prints the wall time per submission, the sandbox
used, and checks that every
solution got full marks and every untouched notebook 0 (a fast grader that
grades wrongly is no use).  Timing is measured here, never asserted in a
test: it depends on the machine and its load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from course_grader.grader import grade_class
from course_grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]


def notebook_named(folder: str, chapter: str) -> Path:
    return next((ROOT / folder).glob(f"{chapter}_*.ipynb"))


def grade_a_class(chapter: str, students: int, jobs: int, fork_server: bool) -> dict[str, object]:
    """Write and grade a class of ``students`` for ``chapter``; return the figures."""
    solution, exercise = notebook_named("solutions", chapter), notebook_named("exercises", chapter)
    honest = students * 2 // 3
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        submissions = Path(tmp) / "submissions"
        submissions.mkdir()
        for index in range(students):
            source = solution if index < honest else exercise
            shutil.copy(source, submissions / f"student{index:02d}.ipynb")
        start = time.perf_counter()
        results = grade_class(
            solution, submissions, Path(tmp) / "out", limits=Limits(), jobs=jobs, fork_server=fork_server
        )
        elapsed = time.perf_counter() - start
        with open(Path(tmp) / "out" / "grades.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        sandbox = json.loads(next((Path(tmp) / "out" / "feedback").iterdir()).read_text())["sandbox"]
    totals = {row["student"]: float(row["total"]) for row in rows}
    maximum = float(rows[0]["max"])
    correct = all(totals[f"student{i:02d}"] == (maximum if i < honest else 0.0) for i in range(students))
    return {
        "chapter": chapter,
        "students": students,
        "seconds": elapsed,
        "per_submission": elapsed / students,
        "child_seconds": sum(result.seconds for result in results) / students,
        "sandbox": sandbox,
        "graded_correctly": correct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chapters", nargs="+", default=["01", "02"])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--both", action="store_true", help="also start every child from scratch")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, --jobs {args.jobs}, {args.students} submissions per chapter")
    print("| chapter | wall s | s per submission | s per child (one slot) | graded correctly | sandbox |")
    print("|---|---|---|---|---|---|")
    for chapter, fork_server in [
        (c, f) for c in args.chapters for f in ([True, False] if args.both else [True])
    ]:
        row = grade_a_class(chapter, args.students, args.jobs, fork_server)
        print(
            f"| {row['chapter']} | {row['seconds']:.1f} | {row['per_submission']:.2f} | "
            f"{row['child_seconds']:.2f} | {row['graded_correctly']} | {row['sandbox']} |"
        )


if __name__ == "__main__":
    main()
