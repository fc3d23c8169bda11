"""Inputs shared by ``tests/losses/test_image.py`` and ``tests/gradients/test_image.py``:
seeded image pairs and the windows worth testing."""

from __future__ import annotations

import numpy as np

from course_lib.losses.image import gaussian_window

WINDOWS = [3, 5, gaussian_window(5, 1.0), np.arange(1.0, 10.0).reshape(3, 3)]


def _images(shape=(3, 12, 10, 2), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    clean = rng.random(shape)
    noisy = np.clip(clean * rng.gamma(4.0, 0.25, size=shape), 0.0, 1.0)
    return clean.astype(dtype), noisy.astype(dtype)
