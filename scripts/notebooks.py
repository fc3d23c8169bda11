"""Execute, clean and check the course notebooks.

    python scripts/notebooks.py execute notebooks/02_regression.ipynb ...
    python scripts/notebooks.py clean   notebooks/*.ipynb
    python scripts/notebooks.py check   notebooks/*.ipynb

``execute`` runs each notebook top to bottom in a fresh kernel (with the same
quiet, deterministic TensorFlow settings that the test suite uses), stores the
outputs that nbval will compare, cleans the file and prints the wall time.
``clean`` strips volatile metadata (timestamps, kernel versions, UI state) so
that diffs show only real changes.  ``check`` fails on a notebook that is not
clean or was not run top to bottom in one fresh kernel.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

from course_lib.notebook import TF_ENVIRONMENT

KEPT_CELL_METADATA = {"tags", "nbgrader", "slideshow"}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop everything that changes from run to run but is not an output."""
    notebook.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
        | {key: notebook.metadata[key] for key in ("colab",) if key in notebook.metadata}
    )
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict(
            {key: value for key, value in cell.metadata.items() if key in KEPT_CELL_METADATA}
        )
    return notebook


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Reasons why ``notebook`` is not clean, freshly executed and quiet."""
    found = []
    if notebook != clean(nbformat.from_dict(notebook)):
        found.append("volatile metadata present (run: python scripts/notebooks.py clean)")
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    counts = [cell.execution_count for cell in code_cells]
    if counts != list(range(1, len(code_cells) + 1)):
        found.append(f"execution counts {counts} are not 1..{len(code_cells)}: re-run top to bottom")
    for index, cell in enumerate(code_cells, start=1):
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stderr":
                found.append(f"code cell {index} writes to stderr (warnings or logs are not stable)")
            if output.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                found.append(f"code cell {index} raises {output.ename}")
    return found


def execute(path: Path, timeout: int = 600) -> float:
    """Run ``path`` in a fresh kernel, save it cleaned, and return the wall time in seconds."""
    from nbclient import NotebookClient

    os.environ.update(TF_ENVIRONMENT | {"PYTHONHASHSEED": "0"})
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(clean(notebook), path)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["execute", "clean", "check"])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    status = 0
    for path in args.paths:
        if args.command == "execute":
            print(f"{path}: executed in {execute(path):.1f} s", flush=True)
        elif args.command == "clean":
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        else:
            for problem in problems(nbformat.read(path, as_version=4)):
                print(f"{path}: {problem}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
