"""The stored public checks: what the learner's self-check compares with, from JSON.

``course_lib/grading/public/chNN.json`` holds, for every task of chapter ``NN``:
its id, title, answer name, kind, backend and tolerance, and for each public
case its label, its positional arrays (dtype kept; a string stays a string) and
keyword options, the expected output (function tasks only) and each known
mistake's message with its output on that case.  A value task stores only the
shape of its answer and, for each known mistake, its message and fingerprints
(:mod:`course_lib.grading.fingerprint`): neither the right value nor a wrong
one, since a wrong value is often one step from the right one.  The grader judges
the value.  ``course-exercises`` writes these files from the instructor's tasks
(:mod:`course_grader.public_checks`).

Arrays are ``{"dtype", "shape", "data"}`` with ``data`` flat; floats are
written with Python's exact ``repr`` and NaN or infinities as the strings
``"nan"``, ``"inf"``, ``"-inf"`` (so the files are strict JSON).  Nothing is
pickled.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

#: Where the stored public checks live: one ``chNN.json`` per chapter.
DATA_DIR = Path(__file__).with_name("public")
#: Bumped whenever the layout of the files changes.
FORMAT_VERSION = 2

__all__ = [
    "DATA_DIR",
    "PublicCase",
    "PublicTask",
    "decode_argument",
    "decode_array",
    "encode_argument",
    "encode_array",
    "fingerprint_salt",
    "load_task",
    "task_ids",
]


def _encode_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def encode_array(array: Any) -> dict[str, Any]:
    """``array`` as JSON-ready ``{"dtype", "shape", "data"}`` (exact floats,
    non-finite ones as strings)."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            "only bool, integer and float arrays can be stored; "
            f"got dtype {array.dtype}"
        )
    data = [_encode_number(value) for value in array.ravel().tolist()]
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def decode_array(stored: dict[str, Any]) -> np.ndarray:
    """The array that :func:`encode_array` stored, with its dtype."""
    dtype = np.dtype(stored["dtype"])
    data = (
        [float(value) for value in stored["data"]]
        if dtype.kind == "f"
        else stored["data"]
    )
    return np.array(data, dtype=dtype).reshape(stored["shape"])


def encode_argument(argument: Any) -> str | dict[str, Any]:
    """A positional input of a case: a string (such as a reduction's name) as it is,
    else an array."""
    return argument if isinstance(argument, str) else encode_array(argument)


def decode_argument(stored: str | dict[str, Any]) -> str | np.ndarray:
    """The positional input that :func:`encode_argument` stored."""
    return stored if isinstance(stored, str) else decode_array(stored)


@dataclass(frozen=True)
class PublicCase:
    """One stored public case: inputs, expected output (``None`` for a value task)
    and mistakes.

    A function task's ``mistakes`` pair each message with the wrong output; a
    value task's pair it with the wrong value's fingerprints.
    """

    label: str
    args: tuple[np.ndarray | str, ...]
    kwargs: dict[str, Any]
    expected: np.ndarray | None
    expected_shape: tuple[int, ...]
    mistakes: tuple[tuple[str, np.ndarray], ...] | tuple[tuple[str, list[str]], ...]


@dataclass(frozen=True)
class PublicTask:
    """What a learner may know about a task: no reference, no hidden case."""

    task_id: str
    title: str
    answer: str
    kind: Literal["function", "value"]
    backend: Literal["numpy", "keras"]
    rtol: float
    atol: float
    cases: tuple[PublicCase, ...]


def _case(stored: dict[str, Any]) -> PublicCase:
    expected = stored.get("expected")
    return PublicCase(
        label=stored["label"],
        args=tuple(decode_argument(arg) for arg in stored["args"]),
        kwargs=dict(stored["kwargs"]),
        expected=None if expected is None else decode_array(expected),
        expected_shape=tuple(stored["expected_shape"]),
        mistakes=tuple(
            (
                m["message"],
                list(m["fingerprints"])
                if "fingerprints" in m
                else decode_array(m["output"]),
            )
            for m in stored["mistakes"]
        ),
    )


def _task(stored: dict[str, Any]) -> PublicTask:
    fields = {
        key: stored[key]
        for key in ("task_id", "title", "answer", "kind", "backend", "rtol", "atol")
    }
    return PublicTask(**fields, cases=tuple(_case(case) for case in stored["cases"]))


@cache
def _chapter(chapter: str) -> dict[str, dict[str, Any]]:
    stored = json.loads((DATA_DIR / f"ch{chapter}.json").read_text())
    if stored.get("format") != FORMAT_VERSION:
        raise RuntimeError(
            f"{DATA_DIR / f'ch{chapter}.json'} has an unknown format; "
            "reinstall course_lib"
        )
    return {task["task_id"]: task for task in stored["tasks"]}


def fingerprint_salt(task_id: str, label: str) -> str:
    """What a value task's mistake fingerprints on the case ``label`` are salted
    with."""
    return f"{task_id}|{label}"


def task_ids() -> list[str]:
    """Every task with stored public checks, sorted."""
    return sorted(
        task_id
        for path in DATA_DIR.glob("ch[0-9][0-9].json")
        for task_id in _chapter(path.stem[2:])
    )


def load_task(task_id: str) -> PublicTask:
    """The stored public checks of ``task_id`` (``"NN.k"``); ``ValueError`` if there
    are none."""
    chapter = task_id.split(".")[0]
    path = DATA_DIR / f"ch{chapter}.json"
    if not (
        len(chapter) == 2
        and chapter.isdigit()
        and path.exists()
        and task_id in _chapter(chapter)
    ):
        raise ValueError(f"task_id must be one of {task_ids()}; got {task_id!r}.")
    return _task(_chapter(chapter)[task_id])
