"""The child process that runs ONE learner's submission (never run this in the grader).

``python -m course_lib.grading.runner JOB_DIR`` reads ``JOB_DIR/job.json``:
the code cells to run in order (the instructor's setup cells and the
learner's answer cells) and, after each answer cell, which task to evaluate.
For every case it loads the inputs from ``JOB_DIR/inputs/*.npz`` (no pickle),
calls the learner's function and saves the raw output as
``JOB_DIR/outputs/<task>__<case>.npy`` -- plain float64 arrays, no pickle.
It appends one JSON line per event to ``JOB_DIR/events.jsonl``.

It judges nothing: the grader compares the outputs in its own process.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

MAX_CAPTURED_OUTPUT = 20_000
MAX_MESSAGE = 300


class _CappedText(io.TextIOBase):
    """A stdout/stderr stand-in that keeps only the first characters written."""

    def __init__(self) -> None:
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        room = MAX_CAPTURED_OUTPUT - self.kept.tell()
        if room > 0:
            self.kept.write(text[:room])
        return len(text)


def _log(job_dir: Path, **event: Any) -> None:
    with open(job_dir / "events.jsonl", "a") as handle:
        handle.write(json.dumps(event) + "\n")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_MESSAGE]


def _load_case(job_dir: Path, task_id: str, index: int) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    stem = job_dir / "inputs" / f"{task_id}__{index}"
    with np.load(f"{stem}.npz", allow_pickle=False) as data:
        args = tuple(data[f"arg{i}"] for i in range(len(data.files)))
    kwargs = json.loads(Path(f"{stem}.json").read_text())
    return args, kwargs


def _evaluate(job_dir: Path, namespace: dict[str, Any], task: dict[str, Any]) -> None:
    task_id, name = task["task_id"], task["answer"]
    if name not in namespace:
        _log(job_dir, event="missing", task=task_id, message=f"`{name}` is not defined")
        return
    candidate = namespace[name]
    for index in range(task["n_cases"]):
        try:
            if task["kind"] == "value":
                output = candidate
            else:
                args, kwargs = _load_case(job_dir, task_id, index)
                if task["backend"] == "keras":
                    import tensorflow as tf

                    args = tuple(tf.constant(arg) for arg in args)
                output = candidate(*args, **kwargs)
                output = output.numpy() if hasattr(output, "numpy") else output
            np.save(job_dir / "outputs" / f"{task_id}__{index}.npy", np.asarray(output, dtype=np.float64))
            _log(job_dir, event="output", task=task_id, case=index)
        except BaseException as error:  # noqa: BLE001 -- the learner's code may raise anything
            _log(job_dir, event="error", task=task_id, case=index, message=_describe(error))


class _NoIPython:
    """Stands in for ``get_ipython()``: magics such as ``%matplotlib inline`` do nothing here."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = getoutput = run_line_magic


def _python_source(source: str) -> str:
    """Turn notebook cell source (with ``%magics`` or ``!commands``) into plain Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    return TransformerManager().transform_cell(source)


def main(job_dir: Path) -> None:
    job = json.loads((job_dir / "job.json").read_text())
    (job_dir / "outputs").mkdir(exist_ok=True)
    sys.stdout = sys.stderr = _CappedText()
    namespace: dict[str, Any] = {"__name__": "__main__", "get_ipython": _NoIPython}
    for step in job["steps"]:
        if step["kind"] == "evaluate":
            _evaluate(job_dir, namespace, step["task"])
            continue
        try:
            code = compile(_python_source(step["source"]), f"<{step['name']}>", "exec")
            exec(code, namespace)
        except BaseException as error:  # noqa: BLE001 -- SystemExit, KeyboardInterrupt included
            _log(job_dir, event="cell_error", cell=step["name"], message=_describe(error))
    _log(job_dir, event="finished")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
