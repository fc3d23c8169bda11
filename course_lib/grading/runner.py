"""The child process that runs ONE learner's submission inside the grader's sandbox.

``python -I runner.py LIBRARY JOB WORK [MESSAGE_FD]`` reads ``JOB/job.json``:
the code cells to run in order (the instructor's setup cells and the learner's
answer cells) and, after each answer cell, which task to evaluate.  For every
case it loads the inputs from ``JOB/inputs/*.npz`` (no pickle), calls the
learner's function and sends the raw output to the grader at once, as one
message on file descriptor ``MESSAGE_FD`` (3 unless given).  It judges nothing
and holds no right answer: the grader compares the outputs in its own process,
and it keeps only the first output of each case, so nothing a later cell does
can change an earlier task.

While the learner's code runs (answer cells and evaluations), a monitor
records the imports and the calls of functions whose qualified names match
the job's ``watch`` patterns (``keras.src.losses.losses.huber``,
``import sklearn``, ...); the grader decides which task they concern.  The
same audit hook refuses what no answer needs and what would blind the
monitor: starting programs, ``ctypes``, profilers and tracers, walking the
garbage collector's object graph, and process memory through ``/proc``.

This file imports only the standard library and NumPy.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

MESSAGE_FD = 3
MAX_CAPTURED_OUTPUT = 20_000
MAX_MESSAGE = 300
#: Audit events refused while the learner's code runs, and what the refusal says.
REFUSED_EVENTS = {
    "subprocess.Popen": "start a program",
    "os.system": "start a program",
    "os.exec": "start a program",
    "os.posix_spawn": "start a program",
    "os.spawn": "start a program",
    "os.startfile": "start a program",
    "pty.spawn": "start a program",
    "ctypes.dlopen": "use ctypes",
    "ctypes.dlsym": "use ctypes",
    "ctypes.dlsym/handle": "use ctypes",
    "ctypes.cdata": "use ctypes",
    "ctypes.cdata/buffer": "use ctypes",
    "ctypes.addressof": "use ctypes",
    "ctypes.call_function": "use ctypes",
    "ctypes.string_at": "use ctypes",
    "ctypes.wstring_at": "use ctypes",
    "ctypes.create_string_buffer": "use ctypes",
    "ctypes.create_unicode_buffer": "use ctypes",
    "sys.setprofile": "replace the grader's monitor",
    "sys.settrace": "replace the grader's monitor",
    "sys.addaudithook": "add an audit hook",
    "gc.get_objects": "walk the garbage collector's objects",
    "gc.get_referrers": "walk the garbage collector's objects",
    "gc.get_referents": "walk the garbage collector's objects",
    "sys._current_frames": "inspect other threads",
}
#: What a refused ``open`` of another process's memory or descriptors says.
PROC_REFUSAL = "read process memory or descriptors through /proc"
PROC_MEMORY = re.compile(r"^/proc/[^/]+/(task/[^/]+/)?(mem|fd|map_files)\b")


class _CappedText(io.TextIOBase):
    """A stdout/stderr stand-in that keeps only the first characters written."""

    def __init__(self) -> None:
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        room = MAX_CAPTURED_OUTPUT - self.kept.tell()
        if room > 0:
            self.kept.write(str(text)[:room])
        return len(text)


#: What the child reports for a value task whose answer is still the exercise's
#: placeholder ``None``.
NOT_ANSWERED_VALUE = "NotAnswered: the answer is still None"


def send(**message: Any) -> None:
    """One JSON line to the grader (an ``os.write`` loop: no buffer a learner's code
    could hold back)."""
    data = (json.dumps(message) + "\n").encode()
    while data:
        written = os.write(MESSAGE_FD, data)
        data = data[written:]


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_MESSAGE]


class Monitor:
    """Records watched calls and imports, and refuses dangerous operations, while
    learner code runs."""

    def __init__(self, watch: list[str]) -> None:
        self.pattern = (
            re.compile("|".join(f"(?:{p})" for p in watch)) if watch else None
        )
        self.learner_code_running = False
        self.step = -1
        self.reported: set[tuple[str, int]] = set()
        self.seen_code: dict[Any, str] = {}  # code object -> its watched name, or ""
        self.pending_imports: set[str] = set()

    # -- the audit hook: cannot be removed once added ----------------------------------
    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.learner_code_running:
            return
        if event == "import":  # reported once it has succeeded (see report_imports)
            if self.pattern is not None and self.pattern.search(f"import {args[0]}"):
                self.pending_imports.add(str(args[0]))
            return
        if event == "sys.setprofile" and self._thread_start(sys._getframe(1)):
            return
        if event in REFUSED_EVENTS:
            what = REFUSED_EVENTS[event]
            send(event="refused", what=what)
            raise RuntimeError(
                f"grading does not allow submissions to {what} ({event})"
            )
        if (
            event == "open"
            and args
            and isinstance(args[0], str)
            and PROC_MEMORY.match(args[0])
        ):
            send(event="refused", what=PROC_REFUSAL)
            raise RuntimeError(
                "grading does not allow submissions to open /proc/<pid>/mem or fd"
            )

    def _thread_start(self, caller: Any) -> bool:
        """Whether ``sys.setprofile`` was called by ``threading`` to install this
        monitor in a new thread."""
        bootstrap = (
            threading.Thread._bootstrap_inner.__code__  # type: ignore[attr-defined]
        )
        return (
            caller.f_code is bootstrap
            and threading._profile_hook == self.profile  # type: ignore[attr-defined]
        )  # fmt: skip

    # -- the profiler: sees every Python and C call ------------------------------------
    def profile(self, frame: Any, event: str, arg: Any) -> None:
        if not self.learner_code_running or self.pattern is None:
            return
        if event == "call":
            code = frame.f_code
            if code not in self.seen_code:
                name = f"{frame.f_globals.get('__name__', '?')}.{code.co_qualname}"
                self.seen_code[code] = name if self.pattern.search(name) else ""
            if self.seen_code[code]:
                self._record(self.seen_code[code])
        elif event == "c_call":
            module = getattr(arg, "__module__", None)
            if module:
                self._record(f"{module}.{getattr(arg, '__qualname__', '?')}")

    def _record(self, name: str) -> None:
        if (
            (name, self.step) in self.reported
            or self.pattern is None
            or not self.pattern.search(name)
        ):
            return
        self.reported.add((name, self.step))
        send(event="used", name=name[:200], step=self.step)

    def report_imports(self) -> None:
        """Report the watched imports of the learner's code that succeeded (a failed
        one used nothing)."""
        for module in sorted(self.pending_imports):
            if module in sys.modules:
                self._record(f"import {module}")
        self.pending_imports.clear()

    def install(self) -> None:
        """Add the audit hook (for the rest of the process's life)."""
        sys.addaudithook(self.audit)

    def start_learner_code(self, step: int) -> None:
        """Profile calls of step ``step`` from now on (in this thread and in threads
        started from now on)."""
        self.step = step
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        self.learner_code_running = True

    def stop_learner_code(self) -> None:
        """Stop watching: the instructor's cells run at full speed, unprofiled."""
        self.learner_code_running = False
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        self.report_imports()


def _load_case(
    job: Path, task_id: str, index: int
) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    stem = job / "inputs" / f"{task_id}__{index}"
    with np.load(f"{stem}.npz", allow_pickle=False) as data:
        args = tuple(data[f"arg{i}"] for i in range(len(data.files)))
    kwargs = json.loads(Path(f"{stem}.json").read_text())
    return args, kwargs


def _as_output_message(task_id: str, index: int, output: Any) -> dict[str, Any]:
    array = np.asarray(
        output, dtype="<f8"
    )  # tobytes() writes C order whatever the layout
    return {
        "event": "output",
        "task": task_id,
        "case": index,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode(),
    }


def _call(
    candidate: Any, args: tuple[np.ndarray, ...], kwargs: dict[str, Any], backend: str
) -> Any:
    """Call the learner's function (Keras tensors in and out for a Keras task)."""
    if backend != "keras":
        return candidate(*args, **kwargs)
    import keras

    tensors = tuple(keras.ops.convert_to_tensor(arg) for arg in args)
    return keras.ops.convert_to_numpy(candidate(*tensors, **kwargs))


def evaluate(
    job: Path, namespace: dict[str, Any], task: dict[str, Any], before_sending: Any
) -> None:
    """Run the learner's answer on every case of one task and send each output as it
    comes.

    ``before_sending`` runs before each message, so that what the learner's
    code used is always reported before the output it produced.
    """
    task_id, name = task["task_id"], task["answer"]
    if name not in namespace:
        send(event="missing", task=task_id, message=f"`{name}` is not defined")
    else:
        candidate = namespace[name]
        for index in range(task["n_cases"]):
            try:
                if task["kind"] == "value":
                    if (
                        candidate is None
                    ):  # the exercise's placeholder: the cell sets it to None
                        send(
                            event="error",
                            task=task_id,
                            case=index,
                            message=NOT_ANSWERED_VALUE,
                        )
                        continue
                    output = candidate
                else:
                    args, kwargs = _load_case(job, task_id, index)
                    output = _call(candidate, args, kwargs, task["backend"])
                before_sending()
                send(**_as_output_message(task_id, index, output))
            except BaseException as error:  # noqa: BLE001
                # the learner's code may raise anything
                send(event="error", task=task_id, case=index, message=_describe(error))
    send(event="evaluated", task=task_id)


class _NoIPython:
    """Stands in for ``get_ipython()``: magics such as ``%matplotlib inline`` do
    nothing here."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = getoutput = run_line_magic


def python_source(source: str) -> str:
    """Notebook cell source (``%magics`` and ``!commands`` included) as plain Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return "\n".join(
            line
            for line in source.splitlines()
            if not line.lstrip().startswith(("%", "!"))
        )
    return TransformerManager().transform_cell(source)


def run(job: Path) -> None:
    """Run every step of ``job/job.json`` in one namespace, sending messages as it
    goes."""
    spec = json.loads((job / "job.json").read_text())
    monitor = Monitor(spec.get("watch", []))
    monitor.install()
    sys.stdout = sys.stderr = _CappedText()
    namespace: dict[str, Any] = {"__name__": "__main__", "get_ipython": _NoIPython}
    send(event="started")
    for position, step in enumerate(spec["steps"]):
        index = step.get(
            "index", position
        )  # the step's place in the instructor's notebook
        send(event="step", step=index)
        if step["kind"] in ("answer", "evaluate"):
            monitor.start_learner_code(index)
        try:
            if step["kind"] == "evaluate":
                evaluate(
                    job, namespace, step["task"], before_sending=monitor.report_imports
                )
            else:
                code = compile(
                    python_source(step["source"]), f"<{step['name']}>", "exec"
                )
                exec(code, namespace)
        except BaseException as error:  # noqa: BLE001
            # SystemExit, KeyboardInterrupt included
            monitor.stop_learner_code()
            send(event="cell_error", step=index, message=_describe(error))
        monitor.stop_learner_code()
    send(event="finished")


def main(argv: list[str]) -> None:
    """``runner.py LIBRARY JOB WORK [MESSAGE_FD]``: the grader passes the number of its
    message pipe (3 when it is left out, as the fork server arranges)."""
    global MESSAGE_FD
    library, job, work = argv[1:4]
    if len(argv) > 4:
        MESSAGE_FD = int(argv[4])
    sys.path.insert(0, library)
    os.chdir(work)
    run(Path(job))


if __name__ == "__main__":
    main(sys.argv)
