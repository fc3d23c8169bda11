"""Inputs shared by ``tests/losses/test_metric_learning.py`` and
``tests/gradients/test_metric_learning.py``: labelled unit embeddings for Circle
(with a reference set), labelled batches for triplet/quadruplet/adaptive triplet
and labelled pairs for contrastive, with the options worth testing."""

from __future__ import annotations

import numpy as np

EMB = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]  # three unit vectors


# --------------------------------------------------------------------------------------
# Circle
# --------------------------------------------------------------------------------------


def unit_rows(rng: np.random.Generator, n: int, dim: int, scale: float = 1.0) -> np.ndarray:
    x = rng.normal(size=(n, dim))
    return scale * x / np.linalg.norm(x, axis=1, keepdims=True)


def circle_case(seed: int, n: int = 8, dim: int = 4, classes: int = 3):
    """Labels with some singletons (their loss is 0) and unit-norm embeddings."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    labels[-1] = classes + 5  # a label nobody else has: no positive pair
    return labels, unit_rows(rng, n, dim)


def reference_set(seed: int, n: int = 6, dim: int = 4):
    rng = np.random.default_rng(100 + seed)
    return rng.integers(0, 3, n), unit_rows(rng, n, dim)


CIRCLE_OPTIONS = [
    {},
    {"gamma": 5.0, "margin": 0.25},
    {"gamma": 2.0, "margin": 0.0, "remove_diagonal": False},
]


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet, adaptive triplet
# --------------------------------------------------------------------------------------

BATCH_CASES = [
    ("triplet", {}),
    ("triplet", {"mining": "hard"}),
    ("triplet", {"mining": "semi-hard", "margin": 0.5}),
    ("quadruplet", {}),
    ("quadruplet", {"margin": 1.0, "margin2": 2.0}),
    ("adaptive_triplet", {}),
    ("adaptive_triplet", {"mining": "hard", "margin": 1.0}),
]


def batch_case(seed: int, n: int = 10, dim: int = 3, classes: int = 3):
    """Labels with one singleton (no positive: masked out) and random embeddings."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    labels[-1] = classes + 4
    return labels, rng.normal(size=(n, dim))


def pair_case(seed: int, n: int = 8, dim: int = 3):
    """0/1 labels and pairs at distances on both sides of the margin 1."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.float64)
    labels[:2] = [0.0, 1.0]
    return labels, rng.normal(scale=0.5, size=(n, 2, dim))
