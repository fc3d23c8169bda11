"""One input of a graded task, as learners and the grader both see it.

A :class:`Case` is positional arrays plus keyword options.  The rest of a
task (the reference answer, the hidden cases, the known mistakes) is the
instructor's and lives in :mod:`course_grader.model`, which learners do not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
