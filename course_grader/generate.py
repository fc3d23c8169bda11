"""``course-exercises``: generate ``exercises/`` and the stored public checks from the instructor's sources.

    course-exercises                # regenerate every exercise notebook and public-check file
    course-exercises --check        # exit 1 if any of them is out of date

Run it from the course's checkout: ``solutions/`` and ``exercises/`` are
those of the current directory (or pass ``--solutions`` and ``--exercises``).
The stored public checks (``course_lib/grading/public/chNN.json``, what the
learner's ``check(...)`` compares with) are written from the tasks by
:mod:`course_grader.public_checks`, next to the ``course_lib`` that Python
imports (the checkout's own with ``pip install -e``).

The pipeline is the student-version part of nbgrader's ``generate_assignment``
(without its database): lock the instructions and tests, replace each
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region by
``raise NotImplementedError()``, drop ``### BEGIN HIDDEN TESTS`` blocks, clear
the outputs and record nbgrader's checksums.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat


def student_version(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise notebook that nbgrader would hand out for ``solution``."""
    from nbconvert.preprocessors import ClearOutputPreprocessor
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    notebook = nbformat.from_dict(solution)
    resources = {"language": "python"}
    for preprocessor in (
        LockCells(),
        ClearSolutions(),
        ClearOutputPreprocessor(),
        CheckCellMetadata(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
    ):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
    return notebook


def _serialise(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def generate(solutions: Path, exercises: Path, *, check: bool) -> list[Path]:
    """Write (or, with ``check``, compare) one exercise per solution; return the stale ones."""
    stale = []
    exercises.mkdir(exist_ok=True)
    for source in sorted(solutions.glob("*.ipynb")):
        text = _serialise(student_version(nbformat.read(source, as_version=4)))
        target = exercises / source.name
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not check:
                target.write_text(text)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-exercises", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--solutions", type=Path, default=None, help="the solution notebooks (default: ./solutions)"
    )
    parser.add_argument(
        "--exercises", type=Path, default=None, help="where the exercises go (default: ./exercises)"
    )
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    folders = {}
    for option in ("solutions", "exercises"):
        given = getattr(args, option)
        folders[option] = Path.cwd() / option if given is None else given
        if given is None and not folders[option].is_dir():
            print(
                f"course-exercises: {Path.cwd()} has no {option}/ folder; "
                f"run it from the course's checkout or pass --{option}",
                file=sys.stderr,
            )
            return 2
    if not folders["solutions"].is_dir():
        print(f"course-exercises: --solutions {folders['solutions']} is not a folder", file=sys.stderr)
        return 2
    from course_grader import public_checks

    stale = generate(folders["solutions"], folders["exercises"], check=args.check)
    stale += public_checks.write(check=args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
