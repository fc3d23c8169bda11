"""Chapter 08's task data: padded CTC labels (task 08.3).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> np.ndarray:
    """The labels that task 08.3 asks about, ``(6, 7)`` padded with 0 (also shown in
    the exercise)."""
    return np.array(
        [
            [3, 1, 4, 1, 5, 0, 0],
            [2, 2, 0, 0, 0, 0, 0],
            [1, 2, 1, 2, 1, 0, 0],
            [7, 7, 7, 3, 3, 0, 0],
            [4, 0, 0, 0, 0, 0, 0],
            [5, 6, 6, 5, 5, 5, 1],
        ]
    )
