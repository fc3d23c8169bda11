"""The data model of a graded task: what the learner defines and how it is checked.

A :class:`Task` names the object a learner must define (a function or a
value), the *public* cases a learner can check against at any time, the
*hidden* cases only the grader uses, the reference that says what is right,
and the typical :class:`Mistake` s worth recognising.  Points live in the
solution notebook's nbgrader metadata, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class Case:
    """One input to a learner's function: positional arrays plus keyword options."""

    label: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """The positional arguments as named arrays (``arg0``, ``arg1``, ...)."""
        return {f"arg{i}": np.asarray(a) for i, a in enumerate(self.args)}


@dataclass(frozen=True)
class Mistake:
    """A recognisable wrong answer: if the learner's output matches ``wrong``, say ``message``."""

    message: str
    wrong: Callable[..., Any]


@dataclass(frozen=True)
class Task:
    """A graded task.

    Parameters
    ----------
    task_id : str
        ``"NN.k"``: chapter ``NN``, task ``k``.
    title : str
        Shown in feedback.
    answer : str
        Name of the function or variable the learner defines.
    reference : callable or value
        For ``kind="function"`` a function with the learner's signature; for
        ``kind="value"`` the right value.
    public, hidden : tuple of Case
        Inputs for the self-check (public) and, additionally, for grading (hidden).
    kind : {"function", "value"}
    backend : {"numpy", "keras"}
        ``"keras"`` passes the inputs to the learner's function as TensorFlow
        tensors (a Keras custom loss) and converts the result back.
    rtol, atol : float
        Tolerance of the comparison.
    mistakes : tuple of Mistake
        Checked in order when an output is wrong.
    forbidden : tuple of str
        Regular expressions that must not match the answer's source code (e.g.
        calling the library's own implementation instead of writing it).
    """

    task_id: str
    title: str
    answer: str
    reference: Any
    public: tuple[Case, ...] = ()
    hidden: tuple[Case, ...] = ()
    kind: Literal["function", "value"] = "function"
    backend: Literal["numpy", "keras"] = "numpy"
    rtol: float = 1e-5
    atol: float = 1e-7
    mistakes: tuple[Mistake, ...] = ()
    forbidden: tuple[str, ...] = ()

    def cases(self, hidden: bool) -> tuple[Case, ...]:
        return self.public + self.hidden if hidden else self.public
