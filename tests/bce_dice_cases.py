"""The masks shared by the BCEDice tests in ``tests/losses/test_segmentation.py`` and
``tests/gradients/test_segmentation.py``."""

from __future__ import annotations

import numpy as np


def _masks(shape=(3, 4, 4, 1), seed=0, dtype="float64", logits=False):
    """A binary mask and a soft prediction strictly inside (0, 1) (or logits)."""
    rng = np.random.default_rng(seed)
    y_true = (rng.uniform(size=shape) < 0.4).astype(dtype)
    if logits:
        return y_true, rng.normal(scale=2.0, size=shape).astype(dtype)
    return y_true, rng.uniform(0.05, 0.95, size=shape).astype(dtype)
