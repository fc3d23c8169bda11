"""Chapter 05's task data: target and predicted distributions (task 05.4).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """Target distributions ``P`` and predicted distributions ``Q`` (6 rows,
    4 classes) for task 05.4."""
    rng = np.random.default_rng(5)
    targets = rng.dirichlet(np.full(4, 1.5), size=6)
    predictions = rng.dirichlet(np.full(4, 2.0), size=6)
    return targets, predictions
