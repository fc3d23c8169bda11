"""Valid, seeded example inputs for every loss: for experiments, tests and benchmarks.

>>> y_true, y_pred, options = sample_inputs("huber", n_elements=6, seed=0)
>>> y_true.shape, y_pred.shape, options
((3, 2), (3, 2), {})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Inputs = tuple[np.ndarray, np.ndarray, dict[str, Any]]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _regression(rng: np.random.Generator, n: int, width: int) -> Inputs:
    y_true = rng.uniform(0.1, 3.0, size=(max(n // width, 1), width))
    return y_true, y_true + rng.normal(scale=1.0, size=y_true.shape), {}


def _binary(rng: np.random.Generator, n: int, width: int) -> Inputs:
    y_true = rng.integers(0, 2, size=(max(n // width, 1), width)).astype(float)
    return y_true, rng.uniform(0.01, 0.99, size=y_true.shape), {}


def _one_hot(rng: np.random.Generator, n: int, width: int) -> Inputs:
    rows = max(n // width, 1)
    y_true = np.eye(width)[rng.integers(0, width, size=rows)]
    return y_true, _softmax(rng.normal(size=(rows, width))), {}


def _class_ids(rng: np.random.Generator, n: int, width: int) -> Inputs:
    rows = max(n // width, 1)
    return (
        rng.integers(0, width, size=rows),
        _softmax(rng.normal(size=(rows, width))),
        {},
    )


def _distributions(rng: np.random.Generator, n: int, width: int) -> Inputs:
    rows = max(n // width, 1)
    return (
        _softmax(rng.normal(size=(rows, width))),
        _softmax(rng.normal(size=(rows, width))),
        {},
    )


def _counts(rng: np.random.Generator, n: int, width: int) -> Inputs:
    rates = rng.uniform(0.5, 5.0, size=(max(n // width, 1), width))
    return (
        rng.poisson(rates).astype(float),
        rates * rng.uniform(0.5, 1.5, size=rates.shape),
        {},
    )


def _signed(rng: np.random.Generator, n: int, width: int) -> Inputs:
    y_true = rng.choice([-1.0, 1.0], size=(max(n // width, 1), width))
    return y_true, rng.normal(size=y_true.shape), {}


def _one_hot_scores(rng: np.random.Generator, n: int, width: int) -> Inputs:
    y_true, _, _ = _one_hot(rng, n, width)
    return y_true, rng.normal(size=y_true.shape), {}


def _vectors(rng: np.random.Generator, n: int, width: int) -> Inputs:
    shape = (max(n // width, 1), width)
    return rng.normal(size=shape), rng.normal(size=shape), {}


def _embeddings(rng: np.random.Generator, n: int, width: int) -> Inputs:
    rows = max(
        n // width, 4
    )  # at least 4 samples in 2+ classes: positive and negative pairs
    embeddings = rng.normal(size=(rows, width))
    embeddings /= np.linalg.norm(embeddings, axis=-1, keepdims=True)
    return rng.integers(0, max(rows // 4, 2), size=rows), embeddings, {}


def _sequences(rng: np.random.Generator, n: int, width: int) -> Inputs:
    steps, label_length = 25, 8
    batch = max(n // (steps * width), 1)
    labels = rng.integers(1, width, size=(batch, label_length))
    lengths = rng.integers(1, label_length + 1, size=batch)
    labels[np.arange(label_length)[None, :] >= lengths[:, None]] = 0  # trailing padding
    return labels, rng.normal(size=(batch, steps, width)), {}


#: loss function name -> (input generator, width of the last axis)
_GENERATORS: dict[str, tuple[Callable[..., Inputs], int]] = {
    "mean_squared_error": (_regression, 2),
    "mean_absolute_error": (_regression, 2),
    "mean_absolute_percentage_error": (_regression, 2),
    "mean_squared_logarithmic_error": (_regression, 2),
    "huber": (_regression, 2),
    "log_cosh": (_regression, 2),
    "binary_crossentropy": (_binary, 1),
    "binary_focal_crossentropy": (_binary, 1),
    "categorical_crossentropy": (_one_hot, 10),
    "categorical_focal_crossentropy": (_one_hot, 10),
    "categorical_generalized_cross_entropy": (_class_ids, 10),
    "sparse_categorical_crossentropy": (_class_ids, 10),
    "poisson": (_counts, 1),
    "kl_divergence": (_distributions, 10),
    "hinge": (_signed, 1),
    "squared_hinge": (_signed, 1),
    "categorical_hinge": (_one_hot_scores, 10),
    "cosine_similarity": (_vectors, 16),
    "dice": (_binary, 16),
    "tversky": (_binary, 16),
    "circle": (_embeddings, 256),
    "ctc": (_sequences, 20),
}

#: Keyword arguments that a loss needs (Keras gives them no default).
_REQUIRED_OPTIONS: dict[str, dict[str, Any]] = {
    "categorical_generalized_cross_entropy": {"q": 0.5}
}

LOSS_NAMES = tuple(_GENERATORS)


def sample_inputs(
    name: str, n_elements: int = 64, seed: int = 0, dtype: str = "float64"
) -> Inputs:
    """Return ``(y_true, y_pred, options)`` valid for ``course_lib.losses.<name>``.

    ``y_pred`` has about ``n_elements`` entries (at least one sample) and the
    given float ``dtype``; integer labels stay integers.  ``options`` holds any
    keyword the loss requires.
    """
    if name not in _GENERATORS:
        raise ValueError(
            f"name must be one of the 22 loss functions {sorted(_GENERATORS)}; "
            f"got {name!r}."
        )
    generator, width = _GENERATORS[name]
    y_true, y_pred, options = generator(
        np.random.default_rng(seed), int(n_elements), width
    )
    y_true = y_true.astype(dtype) if y_true.dtype.kind == "f" else y_true
    return y_true, y_pred.astype(dtype), {**_REQUIRED_OPTIONS.get(name, {}), **options}
