"""Chapter 03's task data: labels and logits of an imbalanced batch (task 03.4).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """Labels and logits, shape ``(60, 1)``, for task 03.4: 54 negatives, mostly
    easy, and 6 positives."""
    rng = np.random.default_rng(5)
    labels = np.concatenate([np.zeros(54), np.ones(6)])[:, None]
    logits = np.round(
        np.concatenate([rng.normal(-2.5, 1.2, 54), rng.normal(0.0, 1.5, 6)]), 2
    )[:, None]
    order = rng.permutation(len(labels))
    return labels[order], logits[order]
