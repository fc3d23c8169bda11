"""Inputs shared by ``tests/losses/test_regression.py`` and ``tests/gradients/test_regression.py``:
the regression functions with the options worth testing, and seeded data."""

from __future__ import annotations

import numpy as np

FUNCTIONS = {
    "mean_squared_error": {},
    "mean_absolute_error": {},
    "mean_absolute_percentage_error": {},
    "mean_squared_logarithmic_error": {},
    "huber": {"delta": 1.0},
    "huber_small_delta": {"delta": 0.3},
    "huber_zero_delta": {"delta": 0.0},
    "log_cosh": {},
}


def _function(key: str) -> str:
    return key.removesuffix("_small_delta").removesuffix("_zero_delta")


def _data(shape: tuple[int, ...], seed: int = 0, dtype: str = "float64"):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.1, 3.0, size=shape)  # positive: MSLE/MAPE are meaningful
    y_pred = y_true + rng.normal(scale=1.5, size=shape)
    return y_true.astype(dtype), y_pred.astype(dtype)
