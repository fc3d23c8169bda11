"""Write the learner's stored public checks (``course_lib/grading/public/chNN.json``) from the tasks.

    python -m course_grader.public_checks            # rewrite the files
    python -m course_grader.public_checks --check    # exit 1 if any is out of date

``course-exercises`` runs this too.  The format is described in
:mod:`course_lib.grading.public`; a value task's right value is never written,
and its mistakes only as fingerprints (:mod:`course_lib.grading.fingerprint`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from course_grader.judging import expected_output, mistake_outputs
from course_grader.model import Case, Task
from course_grader.tasks import TASKS
from course_lib.grading.fingerprint import fingerprints
from course_lib.grading.public import (
    DATA_DIR,
    FORMAT_VERSION,
    encode_argument,
    encode_array,
    fingerprint_salt,
)


def _kwarg(value: Any) -> Any:
    """A keyword option as JSON: Python numbers, strings, booleans and lists of them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_kwarg(item) for item in value]
    raise TypeError(f"cannot store the keyword option {value!r} of a public case")


def _case(task: Task, case: Case) -> dict[str, Any]:
    expected = expected_output(task, case)
    stored: dict[str, Any] = {
        "label": case.label,
        "args": [encode_argument(arg) for arg in case.args],
        "kwargs": {name: _kwarg(value) for name, value in case.kwargs.items()},
        "expected_shape": list(expected.shape),
    }
    if task.kind == "function":
        stored["expected"] = encode_array(expected)
        stored["mistakes"] = [
            {"message": message, "output": encode_array(output)}
            for message, output in mistake_outputs(task, case)
        ]
    else:  # a value task's right value, and any wrong value one step from it, must not be readable
        salt = fingerprint_salt(task.task_id, case.label)
        stored["mistakes"] = [
            {"message": message, "fingerprints": fingerprints(output, salt=salt, rtol=task.rtol)}
            for message, output in mistake_outputs(task, case, public_only=True)
            if output.shape == expected.shape and np.all(np.isfinite(output))
        ]
    return stored


def task_record(task: Task) -> dict[str, Any]:
    """Everything a learner's self-check needs about ``task``, as JSON-ready data."""
    return {
        "task_id": task.task_id,
        "title": task.title,
        "answer": task.answer,
        "kind": task.kind,
        "backend": task.backend,
        "rtol": task.rtol,
        "atol": task.atol,
        "cases": [_case(task, case) for case in task.public],
    }


def render(tasks: dict[str, Task]) -> dict[str, str]:
    """The text of each chapter's file, keyed by file name (``"ch02.json"``)."""
    chapters: dict[str, list[Task]] = defaultdict(list)
    for task_id in sorted(tasks):
        chapters[task_id.split(".")[0]].append(tasks[task_id])
    return {
        f"ch{chapter}.json": json.dumps(
            {"format": FORMAT_VERSION, "tasks": [task_record(task) for task in chapter_tasks]},
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
        for chapter, chapter_tasks in chapters.items()
    }


def write(directory: Path = DATA_DIR, *, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every chapter's file; return the stale ones.

    A ``chNN.json`` in ``directory`` for a chapter without tasks counts as stale
    and is removed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    texts = render(TASKS)
    stale = []
    for name, text in sorted(texts.items()):
        target = directory / name
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not check:
                target.write_text(text)
    for extra in sorted(set(directory.glob("ch[0-9][0-9].json")) - {directory / name for name in texts}):
        stale.append(extra)
        if not check:
            extra.unlink()
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_grader.public_checks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    stale = write(args.out, check=args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
