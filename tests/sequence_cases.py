"""The CTC inputs shared by ``tests/losses/test_sequence.py`` and
``tests/gradients/test_sequence.py``."""

from __future__ import annotations

import numpy as np


def ctc_case(seed: int, batch: int = 4, frames: int = 6, classes: int = 5, length: int = 4):
    """Left-aligned, 0-padded labels (with repeats and an empty row) and logits."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(1, classes, (batch, length))
    lengths = rng.integers(0, length + 1, batch)
    lengths[0], lengths[-1] = length, 0
    labels[0, 1] = labels[0, 0]  # an adjacent repeat: needs a blank in between
    labels = np.where(np.arange(length) < lengths[:, None], labels, 0)
    return labels, rng.normal(size=(batch, frames, classes))
