"""Chapter 09's task data: labels and predicted probabilities (task 09.4).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """Labels and predicted probabilities, shape ``(48, 1)``, for task 09.4 (about
    1 in 5 positive)."""
    rng = np.random.default_rng(9)
    labels = (rng.random((48, 1)) < 0.2).astype(np.float64)
    labels[[3, 20, 40]] = 1.0  # every batch of 16 holds a positive
    probabilities = np.round(
        np.clip(0.25 + 0.45 * labels + rng.normal(0.0, 0.2, (48, 1)), 0.01, 0.99), 2
    )
    return labels, probabilities
