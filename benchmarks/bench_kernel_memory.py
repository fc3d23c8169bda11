"""How much memory one learner's kernel needs: import Keras (TensorFlow), train a small model.

    python benchmarks/bench_kernel_memory.py [--repeats 3]
    python benchmarks/bench_kernel_memory.py --notebooks

Each repeat is a fresh Python process, a stand-in for a learner's kernel: it imports
Keras on TensorFlow, loads the 8x8 digits, and trains the course's small MLP
(64 -> 32 ReLU -> 10 softmax) for 20 epochs.  It prints the process's peak resident
set size (``ru_maxrss``) after the import and after training.

A ``%%on_each_backend`` cell adds, while it runs, one fresh process per installed
backend, all at once (:func:`course_lib.backends.on_each_backend`).  Then every such
cell of the course runs that way, once, from the notebooks' folder; it prints each
process's peak, their sum plus the stand-in's peak (what the learner's memory limit
must hold during the cell, roughly: the peaks need not coincide and the processes
share their libraries' pages), and the cell's wall time.

With ``--notebooks`` it runs each notebook top to bottom in a real Jupyter kernel
instead and prints the kernel's peak after the last cell: what the stand-in leaves
out (the earlier cells' data and models, ipykernel, matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

CHILD = """
import json, resource
from course_lib.training import dense_model, fit_quietly, keras_session
keras = keras_session(0)
after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from course_lib.datasets import noisy_digits
data = noisy_digits(noise_rate=0.0, seed=0)
model = dense_model(64, 10, hidden=(32,), activation="softmax", seed=0)
fit_quietly(model, data.x_train, data.y_train, loss=keras.losses.SparseCategoricalCrossentropy(),
            epochs=20, batch_size=32, learning_rate=0.01, seed=0)
after_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"import_mib": after_import / 1024, "fit_mib": after_fit / 1024}))
"""


#: Appended to each ``%%on_each_backend`` cell: the child's peak RSS, on its last line.
REPORT_PEAK = """
import json as _json, resource as _resource
print(_json.dumps(_resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024))
"""
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "scripts"))
MAGIC = "%%on_each_backend"


def backend_cells() -> list[tuple[str, int, str]]:
    """Every ``%%on_each_backend`` cell of the course: (notebook, cell index, code)."""
    cells = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code" and cell.source.startswith(MAGIC):
                cells.append((path.stem, index, cell.source[len(MAGIC) :]))
    return cells


def measure_cell(code: str) -> tuple[dict[str, float], float]:
    """Peak RSS (MiB) of each installed backend's process running ``code`` as
    ``%%on_each_backend`` does (all at once, in the current folder), and the wall time."""
    from course_lib.backends import on_each_backend

    start = time.perf_counter()
    printed = on_each_backend(code + REPORT_PEAK)
    elapsed = time.perf_counter() - start
    peaks = {
        backend: json.loads(text.strip().splitlines()[-1])
        for backend, text in printed.items()
        if text is not None
    }
    return peaks, elapsed


def measure() -> dict[str, float]:
    """Peak RSS (MiB, Linux ``ru_maxrss`` is in KiB) of one fresh kernel-like process."""
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def notebook_kernel_peak(path: Path) -> float:
    """Peak RSS (MiB) of a real Jupyter kernel that ran the notebook ``path`` top to
    bottom on TensorFlow (its ``%%on_each_backend`` children are separate processes,
    not counted)."""
    from notebooks import run  # scripts/notebooks.py: the test suite's kernel settings

    executed, _ = run(path, "tensorflow", timeout=900, then=(REPORT_PEAK,))
    return json.loads(executed.cells[-1].outputs[-1]["text"].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--notebooks",
        action="store_true",
        help="instead: run every notebook in a real kernel and print the kernel's peak",
    )
    args = parser.parse_args()
    if args.notebooks:
        print("| notebook | kernel's peak RSS after the whole notebook (MiB) |")
        print("|---|---|")
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
            print(f"| {path.stem} | {notebook_kernel_peak(path):.0f} |", flush=True)
        return
    runs = [measure() for _ in range(args.repeats)]
    print("| run | peak RSS after importing Keras (MiB) | peak RSS after training (MiB) |")
    print("|---|---|---|")
    for index, run in enumerate(runs, start=1):
        print(f"| {index} | {run['import_mib']:.0f} | {run['fit_mib']:.0f} |")
    kernel = max(run["fit_mib"] for run in runs)
    os.chdir(NOTEBOOKS)  # where a notebook's cells run
    rows = [(name, index, *measure_cell(code)) for name, index, code in backend_cells()]
    backends = list(rows[0][2])
    print()
    print(
        "| `%%on_each_backend` cell | "
        + "".join(f"{backend} child (MiB) | " for backend in backends)
        + f"children + kernel's {kernel:.0f} (MiB) | wall time (s) |"
    )
    print("|---" * (3 + len(backends)) + "|")
    for name, index, peaks, elapsed in rows:
        children = "".join(f"{peaks[backend]:.0f} | " for backend in backends)
        total = kernel + sum(peaks.values())
        print(f"| {name} cell {index} | {children}{total:.0f} | {elapsed:.1f} |")


if __name__ == "__main__":
    main()
