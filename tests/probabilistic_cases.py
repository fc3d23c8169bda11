"""Inputs shared by ``tests/losses/test_probabilistic.py`` and
``tests/gradients/test_probabilistic.py``: seeded data of every kind, the function
cases (every option, a non-default axis) and the float32/float64 tolerance check.

``close`` uses the tolerances of :mod:`keras_reference`, so importing this module
imports Keras; the test files that use it import ``keras_reference`` themselves.
"""

from __future__ import annotations

import numpy as np
from keras_reference import ATOL32, ATOL64, RTOL32, RTOL64

FUNCTIONS = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "categorical_generalized_cross_entropy",
    "poisson",
    "kl_divergence",
]
SHAPES = {1: (4,), 2: (5, 3), 3: (2, 3, 4), 4: (2, 2, 3, 3)}


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def make_data(kind: str, shape: tuple[int, ...], logits: bool, seed: int = 0, dtype="float64"):
    """Seeded ``(y_true, y_pred)`` of one kind, away from every clip and kink.

    ``categorical_axis1`` puts the classes on axis 1; ``sparse*`` returns int64 ids
    shaped ``shape[:-1]`` (``sparse_void`` marks the first sample with ``-1``).
    """
    rng = np.random.default_rng(seed)
    if kind.startswith("sparse"):
        y = rng.integers(0, shape[-1], shape[:-1])
        if kind == "sparse_void" and y.ndim:
            y.flat[0] = -1
    elif kind == "binary":
        y = rng.integers(0, 2, shape).astype(dtype)
    elif kind == "binary_soft":
        y = rng.uniform(0.0, 1.0, shape).astype(dtype)
    elif kind in ("categorical", "categorical_soft", "categorical_axis1"):
        y = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
        if kind == "categorical_soft":
            y = 0.5 * y + 0.5 * rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        y = y.astype(dtype)
    elif kind == "counts":
        y = rng.poisson(2.0, shape).astype(dtype)
    elif kind == "dist":
        y = rng.dirichlet(np.ones(shape[-1]), shape[:-1]).astype(dtype)
    else:
        raise AssertionError(kind)
    if logits:
        pred = rng.normal(0.0, 3.0, shape)
    elif kind == "counts":
        pred = rng.uniform(0.1, 4.0, shape)
    elif kind == "dist":
        pred = rng.dirichlet(np.ones(shape[-1]), shape[:-1]) * 0.9 + 0.1 / shape[-1]
    else:
        pred = rng.uniform(0.05, 0.95, shape)
    pred = pred.astype(dtype)
    if kind == "categorical_axis1":
        y, pred = np.moveaxis(y, -1, 1), np.moveaxis(pred, -1, 1)
    return y, pred


def close(ours, theirs, dtype) -> None:
    rtol, atol = (RTOL32, ATOL32) if np.dtype(dtype) == np.float32 else (RTOL64, ATOL64)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# Each case: (function, keyword arguments, kind of data).
FUNCTION_CASES = [
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "binary"),
    ("binary_crossentropy", {"label_smoothing": 0.2}, "binary_soft"),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.3}, "binary"),
    ("binary_focal_crossentropy", {}, "binary"),
    (
        "binary_focal_crossentropy",
        {"apply_class_balancing": True, "alpha": 0.7, "gamma": 1.5},
        "binary",
    ),
    ("binary_focal_crossentropy", {"from_logits": True, "gamma": 0.0}, "binary"),
    (
        "binary_focal_crossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "apply_class_balancing": True},
        "binary_soft",
    ),
    ("categorical_crossentropy", {}, "categorical"),
    ("categorical_crossentropy", {"from_logits": True}, "categorical"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "categorical"),
    (
        "categorical_crossentropy",
        {"from_logits": True, "label_smoothing": 0.2},
        "categorical_soft",
    ),
    ("categorical_focal_crossentropy", {}, "categorical"),
    (
        "categorical_focal_crossentropy",
        {"alpha": 0.6, "gamma": 0.5, "label_smoothing": 0.1},
        "categorical",
    ),
    ("categorical_focal_crossentropy", {"from_logits": True, "gamma": 3.0}, "categorical"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse"),
    ("sparse_categorical_crossentropy", {"ignore_class": 1}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True, "ignore_class": -1}, "sparse_void"),
    ("categorical_generalized_cross_entropy", {"q": 0.5}, "sparse"),
    ("categorical_generalized_cross_entropy", {"q": 0.1}, "sparse"),
    ("categorical_generalized_cross_entropy", {"q": 1.0}, "sparse"),
    ("poisson", {}, "counts"),
    ("kl_divergence", {}, "dist"),
]
# A non-default axis (rank-3 data).
AXIS_CASES = [
    ("binary_crossentropy", {"axis": 1}, "binary"),
    ("binary_crossentropy", {"axis": 0, "from_logits": True, "label_smoothing": 0.1}, "binary"),
    ("binary_focal_crossentropy", {"axis": 1, "apply_class_balancing": True}, "binary"),
    ("binary_focal_crossentropy", {"axis": -2, "from_logits": True}, "binary"),
    ("categorical_crossentropy", {"axis": 1}, "categorical_axis1"),
    ("categorical_crossentropy", {"axis": 1, "from_logits": True}, "categorical_axis1"),
    ("categorical_focal_crossentropy", {"axis": 1}, "categorical_axis1"),
    ("categorical_focal_crossentropy", {"axis": -2, "from_logits": True}, "categorical_axis1"),
]


def case_id(case) -> str:
    name, kwargs, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())
