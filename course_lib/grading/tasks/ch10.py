"""Chapter 10's task data: cross-entropies, activations, factor, batch size (task 10.3).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray, float, int]:
    """Task 10.3's data: per-sample cross-entropies, hidden ReLU activations, factor,
    batch size."""
    rng = np.random.default_rng(10)
    cross_entropy = rng.gamma(2.0, 0.3, size=50)
    activations = np.maximum(rng.normal(0.2, 1.0, size=(50, 6)), 0.0)
    return cross_entropy, activations, 0.01, 16
