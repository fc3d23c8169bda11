"""Inputs shared by the tests of the element-wise losses of three families, each with a
file in ``tests/losses`` and in ``tests/gradients``: hinge (``test_hinge.py``),
similarity (``test_similarity.py``) and segmentation (``test_segmentation.py``, Dice
and Tversky).

``_cases(names, ranks)`` gives the (name, shape, options) cases of the losses
``names``; each family file passes its own list (``HINGE``, ``SIMILARITY``,
``SEGMENTATION``).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.losses.hinge import signed_labels

#: The element-wise losses of each family, by function name.
HINGE = ["hinge", "squared_hinge", "categorical_hinge"]
SIMILARITY = ["cosine_similarity"]
SEGMENTATION = ["dice", "tversky"]

SHAPES = [(5,), (4, 5), (3, 4, 5), (2, 3, 4, 5)]
CLASS_OF = {
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
    "cosine_similarity": "CosineSimilarity",
    "dice": "Dice",
    "tversky": "Tversky",
}


def _data(
    name: str,
    shape: tuple[int, ...],
    seed: int = 0,
    dtype: str = "float64",
    labels: str = "binary",
):
    """Inputs that suit each loss: scores for hinge, vectors for cosine, masks for dice."""
    rng = np.random.default_rng(seed)
    if name in ("hinge", "squared_hinge"):
        y_pred = rng.normal(scale=1.5, size=shape)
        y_true = {
            "binary": rng.integers(0, 2, size=shape).astype(float),  # converted to -1/+1
            "signed": rng.choice([-1.0, 1.0], size=shape),
            "soft": rng.uniform(0, 1, size=shape),  # not 0/1: NOT converted (Keras' rule)
        }[labels]
    elif name == "categorical_hinge":
        y_pred = rng.normal(scale=1.5, size=shape)
        y_true = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        if labels == "soft":
            y_true = 0.8 * y_true + 0.2 / shape[-1]
    elif name == "cosine_similarity":
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    else:  # dice, tversky: a binary mask and a soft prediction
        y_true = rng.integers(0, 2, size=shape).astype(float)
        y_pred = rng.uniform(0.05, 0.95, size=shape)
    return y_true.astype(dtype), y_pred.astype(dtype)


def _options(name: str, ndim: int) -> list[dict]:
    """The keyword options worth testing for ``name`` on an input of rank ``ndim``."""
    if name in ("hinge", "squared_hinge", "categorical_hinge"):
        return [{}]
    inner = tuple(range(1, ndim))
    axes: list = [-1, None] + ([0, inner, list(inner)] if ndim > 1 else [0])
    if name == "cosine_similarity":
        return [{"axis": axis} for axis in axes]
    options = [{"axis": axis} for axis in axes] + [{}]
    if name == "tversky":
        options += [
            {"alpha": 0.9, "beta": 0.1},
            {"alpha": 0.0, "beta": 2.0, "axis": inner or None},
            {"alpha": 0.3, "beta": 0.7, "axis": -1},
        ]
    return options


def _cases(names, ranks=(1, 2, 3, 4)):
    return [
        pytest.param(name, shape, options, id=f"{name}-{len(shape)}d-{options}")
        for name in names
        for shape in SHAPES
        if len(shape) in ranks
        for options in _options(name, len(shape))
    ]


def _weights(values_shape: tuple[int, ...]) -> dict:
    """Sample weights that Keras and we both accept for per-sample values of this shape."""
    weights = {"none": None, "scalar": 2.5}
    if not values_shape:
        return weights
    batch = values_shape[0]
    per_sample = np.linspace(0.0, 2.0, batch)
    weights["(B,1...)"] = per_sample.reshape((batch,) + (1,) * max(len(values_shape) - 1, 1))
    if len(values_shape) == 1:
        weights["(B,)"] = per_sample
    else:
        weights["elementwise"] = np.linspace(0.5, 1.5, np.prod(values_shape)).reshape(values_shape)
    return weights


def _smooth_point(name: str, shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """float64 inputs whose kinks (hinge margins, categorical ties) are far from y_pred."""
    y_true, y_pred = _data(name, shape, seed=seed)
    if name in ("hinge", "squared_hinge"):
        t = signed_labels(y_true)
        y_pred = np.where(np.abs(1 - t * y_pred) < 0.05, y_pred + 0.2, y_pred)
    if name == "categorical_hinge":
        y_pred = 0.4 * y_pred  # small scores: most samples have an active hinge
        wrong = np.sort((1 - y_true) * y_pred, axis=-1)
        z = wrong[..., -1] - np.sum(y_true * y_pred, axis=-1) + 1
        assert np.all(np.abs(z) > 1e-3) and np.all(wrong[..., -1] - wrong[..., -2] > 1e-3)
    return y_true, y_pred
