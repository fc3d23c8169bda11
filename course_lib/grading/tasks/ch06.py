"""Chapter 06's task data: masks and soft predictions (task 06.3).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """The masks and soft predictions task 06.3 asks about: ``(y_true, y_pred)``,
    shape (4, 6, 6, 1)."""
    rng = np.random.default_rng(6)
    y_true = np.zeros((4, 6, 6, 1))
    for image, (row, col, size) in enumerate(
        [(1, 1, 3), (2, 2, 2), (0, 3, 3), (3, 1, 2)]
    ):
        y_true[image, row : row + size, col : col + size] = 1.0
    # a model that misses part of the foreground more often than it raises false alarms
    y_pred = np.clip(
        0.75 * y_true + rng.uniform(0.0, 0.3, size=y_true.shape) - 0.1, 0.0, 1.0
    )
    y_pred[y_true == 1] *= rng.uniform(0.3, 1.0, size=int(y_true.sum()))
    return y_true, y_pred
