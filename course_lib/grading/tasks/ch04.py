"""Chapter 04's task data: labels with void samples, logits, sample weights (task 04.4).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np

VOID = -1  # the "void" label of task 04.4


def task_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (with void samples, label -1), logits (10 samples, 5 classes) and
    sample weights for 04.4."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 5, size=10)
    labels[[2, 5, 6]] = VOID
    logits = rng.normal(scale=2.0, size=(10, 5))
    weights = np.round(rng.uniform(0.5, 2.0, size=10), 2)
    return labels, logits, weights
