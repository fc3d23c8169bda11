"""Keras' three backends in one notebook: run code on each, or only on one.

Keras chooses its backend once per process, from ``KERAS_BACKEND``, so a
notebook's kernel runs on one backend.  Two cell magics, registered by
:func:`course_lib.notebook.setup`, handle what a lesson needs beyond that:

``%%on_each_backend``
    runs the cell in a fresh Python process per backend (TensorFlow, JAX,
    PyTorch) and prints what each printed, line by line, side by side.  The
    cell sees none of the notebook's variables: it imports what it uses.
``%%only_on tensorflow: why``
    runs the cell only when the kernel's backend is TensorFlow (for cells
    about TensorFlow itself: ``tf.GradientTape``, ``tf.keras``), and on any
    other backend prints that it was skipped and why.  Errors are never hidden.

This module never imports Keras or TensorFlow at import time.
"""

from __future__ import annotations

import ast
import importlib.util
import linecache
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: The Keras 3 backends the course runs on, TensorFlow (the reference) first.
BACKENDS = ("tensorflow", "jax", "torch")
#: How a learner adds a missing backend (the package extras in pyproject.toml).
INSTALL_HINT = {
    "tensorflow": 'pip install -e "."',
    "jax": 'pip install -e ".[jax]"',
    "torch": 'pip install -e ".[torch]"',
}


def kernel_backend() -> str:
    """The Keras backend of this process (imports Keras)."""
    import keras

    return keras.backend.backend()


def is_installed(backend: str) -> bool:
    """Whether ``backend``'s package can be imported here (without importing it)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    return importlib.util.find_spec(backend) is not None


def run_on_backend(code: str, backend: str, timeout: float = 300.0) -> str:
    """What ``code`` prints when run in a fresh Python process on ``backend``.

    The process gets the notebook's quiet, deterministic settings
    (:data:`course_lib.notebook.TF_ENVIRONMENT`), ``KERAS_BACKEND``, and
    waits that do not spin (:func:`course_lib.notebook.shared_cpu_environment`:
    the backends run at the same time).
    Raises ``RuntimeError`` with the process' error output if ``code`` fails.
    """
    from course_lib.notebook import TF_ENVIRONMENT, shared_cpu_environment

    if not is_installed(backend):
        raise RuntimeError(f"{backend} is not installed ({INSTALL_HINT[backend]}).")
    environment = (
        os.environ
        | shared_cpu_environment()
        | TF_ENVIRONMENT
        | {
            "KERAS_BACKEND": backend,
            "PYTHONHASHSEED": "0",
        }
    )
    finished = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"on {backend} the code failed:\n{finished.stderr}")
    return finished.stdout


def on_each_backend(code: str, backends: tuple[str, ...] = BACKENDS) -> dict[str, str]:
    """What ``code`` prints on each installed backend, run in parallel processes.

    A backend that is not installed maps to ``None``."""
    present = [backend for backend in backends if is_installed(backend)]
    with ThreadPoolExecutor(max_workers=len(present) or 1) as pool:
        outputs = pool.map(lambda backend: run_on_backend(code, backend), present)
        printed = dict(zip(present, outputs, strict=True))
    return {backend: printed.get(backend) for backend in backends}


def side_by_side(printed: dict[str, str | None]) -> str:
    """Each backend's printed lines interleaved: line 1 of every backend, then line 2.

    >>> print(side_by_side({"tensorflow": "a 1\\nb 2\\n", "jax": "a 1\\nb 3\\n"}))
    tensorflow  a 1
    jax         a 1
    <BLANKLINE>
    tensorflow  b 2
    jax         b 3
    """
    width = max(len(backend) for backend in printed) + 2
    lines = {
        backend: (text.splitlines() if text is not None else None)
        for backend, text in printed.items()
    }
    rows = max((len(found) for found in lines.values() if found is not None), default=0)
    blocks = []
    for row in range(rows):
        block = []
        for backend, found in lines.items():
            if found is None:
                text = f"(not installed: {INSTALL_HINT[backend]})"
            else:
                text = found[row] if row < len(found) else ""
            block.append(f"{backend:<{width}}{text}".rstrip())
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def on_each_backend_magic(line: str, cell: str) -> None:
    """``%%on_each_backend``: run the cell once per backend and print side by side."""
    print(side_by_side(on_each_backend(cell)))


def only_on_magic(line: str, cell: str) -> Any:
    """``%%only_on <backend>: <why>``: run the cell only on that Keras backend.

    On another backend it prints that the cell was skipped and why; on its own
    backend it runs the cell in the notebook's namespace, errors included, and
    returns the value of a final expression (which the notebook displays)."""
    backend, _, reason = line.partition(":")
    backend = backend.strip()
    if backend not in BACKENDS:
        raise ValueError(f"%%only_on needs a backend from {BACKENDS}, got {backend!r}.")
    running = kernel_backend()
    if running != backend:
        why = f" ({reason.strip()})" if reason.strip() else ""
        print(f"Skipped on {running}: this cell runs only on {backend}{why}.")
        return None
    return run_in_namespace(cell, user_namespace())


def user_namespace() -> dict[str, Any]:
    """The notebook's variables (IPython's user namespace)."""
    from IPython import get_ipython

    return get_ipython().user_ns


def run_in_namespace(source: str, namespace: dict[str, Any]) -> Any:
    """Execute ``source`` in ``namespace``; return its last expression's value."""
    filename = "<cell>"
    # Tracebacks show the failing line, as for any other cell.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    ends_in_expression = tree.body and isinstance(tree.body[-1], ast.Expr)
    last = tree.body.pop() if ends_in_expression else None
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - the notebook's own cell
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)  # noqa: S307


def register_magics(shell: Any) -> None:
    """Register ``%%on_each_backend`` and ``%%only_on`` in an IPython ``shell``."""
    shell.register_magic_function(on_each_backend_magic, "cell", "on_each_backend")
    shell.register_magic_function(only_on_magic, "cell", "only_on")
