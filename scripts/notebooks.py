"""Execute, clean and check the course notebooks.

    python scripts/notebooks.py execute notebooks/02_regression.ipynb ...
    python scripts/notebooks.py execute --backend jax notebooks/02_regression.ipynb ...
    python scripts/notebooks.py clean   notebooks/*.ipynb
    python scripts/notebooks.py check   notebooks/*.ipynb
    python scripts/notebooks.py launch  notebooks/*.ipynb solutions/*.ipynb

``execute`` runs each notebook top to bottom in a fresh kernel (with the same
quiet, deterministic TensorFlow settings that the test suite uses), stores the
outputs that nbval will compare, cleans the file and prints the wall time.
With ``--backend jax`` or ``--backend torch`` the notebook runs on that Keras
backend instead and is left untouched: its text outputs are written to the
backend's record, ``notebooks/outputs/<backend>/<name>.json``: what the notebook
prints on that backend.  (The notebook itself keeps TensorFlow's outputs, which
nbval compares.)
``clean`` strips volatile metadata (timestamps, kernel versions, UI state) so
that diffs show only real changes.  ``check`` fails on a notebook that is not
clean, was not run top to bottom in one fresh kernel, or lacks its launch
cells or slide metadata.

``launch`` writes what lets a notebook run anywhere and be shown as slides:
the "Open in Colab" and "Binder" badges under the title, a first code cell
that installs course_lib only on Colab, and a reveal.js ``slide_type`` for
every cell that has none yet (``slide`` at ``#``/``##`` headings, ``subslide``
at ``###``, ``skip`` for the Colab cell, ``-`` otherwise).  It keeps slide
types that an instructor already chose.  Re-execute a notebook after it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from course_lib.notebook import TF_ENVIRONMENT, shared_cpu_environment

KEPT_CELL_METADATA = {"tags", "nbgrader", "slideshow"}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ROOT = Path(__file__).resolve().parents[1]
RUN_TIMES = ROOT / "instructor" / "run-times.json"
COLAB_TAG = "colab-setup"
#: The Colab cell is only for Colab: the site (myst-nb) drops cells with this tag.
SITE_HIDDEN_TAG = "remove-cell"
#: Longest code line: wider cells need horizontal scrolling on the site and the slides.
CODE_LINE_LIMIT = 88
BADGE_MARK = "[![Open in Colab]"


def repository() -> str:
    """``owner/name`` of the course on GitHub, from ``[project.urls]`` in pyproject.toml."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    return re.search(r'^Repository = "https://github.com/([^"/]+/[^"/]+)"', pyproject, re.MULTILINE)[1]


def launch_target(path: Path) -> str:
    """The repo-relative notebook a learner should launch: a solution launches its exercise."""
    relative = path.resolve().relative_to(ROOT)
    if relative.parts[0] == "solutions":
        relative = Path("exercises", *relative.parts[1:])
    return relative.as_posix()


def badge_line(path: Path) -> str:
    """Markdown for the Colab and Binder badges of ``path`` (badge images are local SVGs)."""
    target, repo = launch_target(path), repository()
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/{target}"
    binder = f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{target}"
    return (
        f"{BADGE_MARK}(../badges/open-in-colab.svg)]({colab}) "
        f"[![Launch on Binder](../badges/launch-binder.svg)]({binder})"
    )


def colab_cell_source() -> str:
    """The first code cell of every notebook: installs course_lib on Colab, does nothing elsewhere."""
    return f"""\
# On Google Colab only: install course_lib and the Keras version that the course
# checks against. Colab already has NumPy, TensorFlow, scikit-learn, matplotlib
# and ipywidgets. Anywhere else (JupyterLab, Binder, the tests) nothing happens.
import sys

if "google.colab" in sys.modules:
    import subprocess

    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "keras==3.15.*"], check=True)
    repository = "{repository()}"
    package = f"course-lib @ git+https://github.com/{{repository}}@main"
    subprocess.run([*pip, "--no-deps", package], check=True)"""


def default_slide_type(cell: nbformat.NotebookNode) -> str:
    if COLAB_TAG in cell.metadata.get("tags", []):
        return "skip"
    if cell.cell_type == "markdown":
        if re.match(r"#{1,2} ", cell.source):
            return "slide"
        if cell.source.startswith("### "):
            return "subslide"
    return "-"


def with_launch_cells(notebook: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """Add or refresh the badges, the Colab cell and the slide metadata (see the module docstring)."""
    title = notebook.cells[0]
    lines = [line for line in title.source.splitlines() if not line.startswith(BADGE_MARK)]
    title.source = "\n".join([lines[0], "", badge_line(path), *lines[1:]]).replace("\n\n\n", "\n\n")
    colab = [cell for cell in notebook.cells if COLAB_TAG in cell.metadata.get("tags", [])]
    if colab:
        colab[0].source = colab_cell_source()
        tags = colab[0].metadata.setdefault("tags", [])
        tags += [] if SITE_HIDDEN_TAG in tags else [SITE_HIDDEN_TAG]
    else:
        first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        metadata = {"tags": [COLAB_TAG, SITE_HIDDEN_TAG]}
        notebook.cells.insert(first_code, nbformat.v4.new_code_cell(colab_cell_source(), metadata=metadata))
    for cell in notebook.cells:
        slideshow = cell.metadata.setdefault("slideshow", {})
        slideshow.setdefault("slide_type", default_slide_type(cell))
    return notebook


def launch_problems(notebook: nbformat.NotebookNode, path: Path) -> list[str]:
    """Reasons why the launch cells or slide metadata of ``notebook`` are missing or stale."""
    found = []
    if badge_line(path) not in notebook.cells[0].source:
        found.append("the Colab/Binder badges under the title are missing or stale")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code or COLAB_TAG not in code[0].metadata.get("tags", []) or code[0].source != colab_cell_source():
        found.append("the first code cell is not the current Colab setup cell")
    elif SITE_HIDDEN_TAG not in code[0].metadata.get("tags", []):
        found.append(f"the Colab setup cell lacks the {SITE_HIDDEN_TAG!r} tag that hides it on the site")
    if any("slide_type" not in cell.metadata.get("slideshow", {}) for cell in notebook.cells):
        found.append("cells without a slideshow slide_type")
    if found:
        found[-1] += " (run: python scripts/notebooks.py launch, then execute)"
    return found


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


def problems(notebook: nbformat.NotebookNode, path: Path | None = None) -> list[str]:
    """Reasons why ``notebook`` is not clean, freshly executed and quiet (and launchable, given ``path``)."""
    found = [] if path is None else launch_problems(notebook, path)
    if notebook != clean(nbformat.from_dict(notebook)):
        found.append("volatile metadata present (run: python scripts/notebooks.py clean)")
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    for index, cell in enumerate(code_cells, start=1):
        wide = [n for n, line in enumerate(cell.source.splitlines(), 1) if len(line) > CODE_LINE_LIMIT]
        if wide:
            found.append(f"code cell {index} has lines longer than {CODE_LINE_LIMIT} characters: {wide}")
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


def run(
    path: Path, backend: str = "tensorflow", timeout: int = 600, *, then: tuple[str, ...] = ()
) -> tuple[nbformat.NotebookNode, float]:
    """``path`` executed top to bottom in a fresh kernel on a Keras ``backend``, and the wall time.

    The code cells in ``then`` run after the notebook's own (a benchmark's probes).
    Errors stop the run, except in cells tagged ``raises-exception``."""
    from nbclient import NotebookClient

    environment = (
        shared_cpu_environment() | TF_ENVIRONMENT | {"PYTHONHASHSEED": "0", "KERAS_BACKEND": backend}
    )
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits this process' environment
    try:
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.extend(nbformat.v4.new_code_cell(code) for code in then)
        resources = {"metadata": {"path": str(path.parent)}}
        client = NotebookClient(notebook, kernel_name="python3", timeout=timeout, resources=resources)
        start = time.perf_counter()
        client.execute()
        return notebook, time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: Path, timeout: int = 600) -> float:
    """Run ``path`` on TensorFlow in a fresh kernel, save it cleaned, and return the wall time in seconds."""
    notebook, elapsed = run(path, "tensorflow", timeout)
    nbformat.write(clean(notebook), path)
    return elapsed


#: Where each backend's expected text outputs live (``<backend>/<notebook>.json``).
OUTPUTS = ROOT / "notebooks" / "outputs"


def text_outputs(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each code cell's printed text (streams and the text/plain of results), by cell index.

    This is what nbval compares for TensorFlow; figures are left out (their text/plain
    is the alt text, which is kept)."""
    texts = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue}")
        texts[str(index)] = "".join(parts)
    return texts


def record_path(path: Path, backend: str) -> Path:
    return OUTPUTS / backend / f"{path.stem}.json"


def source_digest(source: str) -> str:
    """A short fingerprint of a cell's source: a record is stale once its cell changes."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def backend_record(notebook: nbformat.NotebookNode) -> dict[str, dict[str, str]]:
    """Each code cell's printed text and source fingerprint, by cell index."""
    return {
        index: {"source": source_digest(notebook.cells[int(index)].source), "text": text}
        for index, text in text_outputs(notebook).items()
    }


def record_backend(path: Path, backend: str, timeout: int = 600) -> float:
    """Run ``path`` on ``backend`` and store its text outputs as that backend's record."""
    notebook, elapsed = run(path, backend, timeout)
    target = record_path(path, backend)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(backend_record(notebook), indent=1, ensure_ascii=False) + "\n")
    return elapsed


def record_time(path: Path, seconds: float) -> None:
    """Store one notebook's measured run time in the workshop kit's table."""
    times = json.loads(RUN_TIMES.read_text()) if RUN_TIMES.exists() else {}
    times[path.name] = round(seconds, 1)
    RUN_TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["execute", "clean", "check", "launch"])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax", "torch"],
        default="tensorflow",
        help="execute: run on this Keras backend; jax and torch write notebooks/outputs/<backend>/ "
        "and leave the notebook as it is",
    )
    parser.add_argument(
        "--record-times",
        action="store_true",
        help=f"execute: store each wall time in {RUN_TIMES.relative_to(ROOT)} (for the workshop kit)",
    )
    args = parser.parse_args()
    status = 0
    for path in args.paths:
        if args.command == "execute" and args.backend != "tensorflow":
            seconds = record_backend(path, args.backend)
            print(f"{path}: executed on {args.backend} in {seconds:.1f} s", flush=True)
        elif args.command == "execute":
            seconds = execute(path)
            print(f"{path}: executed in {seconds:.1f} s", flush=True)
            if args.record_times:
                record_time(path, seconds)
        elif args.command == "clean":
            nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        elif args.command == "launch":
            nbformat.write(with_launch_cells(nbformat.read(path, as_version=4), path), path)
        else:
            for problem in problems(nbformat.read(path, as_version=4), path):
                print(f"{path}: {problem}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
