"""Chapter 13's task data: 1-D labels and logits (task 13.4).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """The 1-D labels and logits of task 13.4 (also shown in the exercise)."""
    rng = np.random.default_rng(13)
    labels = (rng.random(8) < 0.5).astype(np.float64)
    logits = rng.normal(scale=3.0, size=8)
    return labels, logits
