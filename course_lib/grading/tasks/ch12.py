"""Chapter 12's task data: clean speckle phantoms, a speckled restoration (task 12.3).

Only NumPy and the standard library: this module also runs where the grader runs a
submission.
"""

from __future__ import annotations

import numpy as np


def _phantom_training_targets(n: int, size: int, looks: float, seed: int) -> np.ndarray:
    """The clean training images of
    ``course_lib.datasets.speckle_images(n, size, looks, seed)``.

    The same draws in the same order (so the same images), without the
    dataset module: striped tissue with up to three ellipses, speckle,
    then a 75/25 split.
    """
    rng = np.random.default_rng(seed)
    grid = (np.arange(size) + 0.5) / size
    rows, cols = grid[None, :, None], grid[None, None, :]
    angle = rng.uniform(0.0, np.pi, (n, 1, 1))
    frequency = rng.uniform(2.0, 5.0, (n, 1, 1))
    clean = 0.35 + 0.08 * np.sin(
        2 * np.pi * frequency * (rows * np.cos(angle) + cols * np.sin(angle))
    )
    for low, high in ((0.6, 0.9), (0.02, 0.1), (0.6, 0.9)):
        centre_r, centre_c = rng.uniform(0.2, 0.8, (2, n, 1, 1))
        radius_r, radius_c = rng.uniform(0.08, 0.25, (2, n, 1, 1))
        inside = ((rows - centre_r) / radius_r) ** 2 + (
            (cols - centre_c) / radius_c
        ) ** 2 <= 1.0
        present = rng.random((n, 1, 1)) < 0.8
        clean = np.where(inside & present, rng.uniform(low, high, (n, 1, 1)), clean)
    rng.gamma(
        looks, 1.0 / looks, size=clean.shape
    )  # the dataset's noisy inputs, not needed here
    order = rng.permutation(n)
    return clean[..., None].astype(np.float32)[order[int(round(0.25 * n)) :]]


def task_data() -> tuple[np.ndarray, np.ndarray]:
    """A clean batch of 4 speckle phantoms, shape ``(4, 16, 16, 1)``, and a mildly
    speckled "restoration"."""
    clean = _phantom_training_targets(n=16, size=16, looks=4.0, seed=12)[:4].astype(
        np.float64
    )
    rng = np.random.default_rng(12)
    return clean, clean * rng.gamma(16.0, 1.0 / 16.0, size=clean.shape)
