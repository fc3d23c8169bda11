"""Every pair of options of every loss with a Keras twin, compared with Keras 3.15.

Single options are tested elsewhere; bugs hide where two options meet (label
smoothing *and* a class axis other than the last, ``ignore_class`` *and* a
reduction, ...).  For each loss class we list a few representative values per
keyword, including ``reduction`` and ``sample_weight``, and compare
``course_lib.losses.<Class>`` with ``keras.losses.<Class>`` on seeded inputs for
every pair of keywords and every combination of their values, the other
keywords left at their defaults.  The comparison is :func:`course_lib.compare.compare_class`
in float64 (CTC: float32, TensorFlow's only kernel).

One test per pair of keywords keeps the test ids readable and the work even
across pytest-xdist workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from keras_reference import mask_merge_fails_on_torch, raises_mask_merge_error

import course_lib.losses as losses
from course_lib.compare import compare_class
from course_lib.sample_inputs import sample_inputs

#: Shape of the rank-3 inputs: batch 4, then axes of sizes 3 and 5, so that a
#: class axis of 1 (3 classes) and of -1 (5 classes) give different answers.
SHAPE = (4, 3, 5)


def _class_axis(config: dict[str, Any]) -> int:
    axis = config.get("axis", -1)
    return -1 if axis is None else axis


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _regression(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    y_true = rng.uniform(0.1, 3.0, size=SHAPE)
    return y_true, y_true + rng.normal(size=SHAPE)


def _binary(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    y_true = rng.integers(0, 2, size=SHAPE).astype(float)
    if config.get("from_logits"):
        return y_true, 2.0 * rng.normal(size=SHAPE)
    return y_true, rng.uniform(0.02, 0.98, size=SHAPE)


def _one_hot(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """One-hot targets along the class axis; probabilities (or logits) there too."""
    axis = _class_axis(config)
    logits = 2.0 * rng.normal(size=SHAPE)
    winner = np.expand_dims(np.argmax(rng.normal(size=SHAPE), axis=axis), axis)
    y_true = (np.indices(SHAPE)[axis] == winner).astype(float)
    return y_true, logits if config.get("from_logits") else _softmax(logits, axis)


def _class_ids(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    logits = 2.0 * rng.normal(size=SHAPE)
    y_true = rng.integers(0, SHAPE[-1], size=SHAPE[:-1])
    return y_true, logits if config.get("from_logits") else _softmax(logits, -1)


def _distributions(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return _softmax(rng.normal(size=SHAPE), -1), _softmax(rng.normal(size=SHAPE), -1)


def _counts(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rates = rng.uniform(0.5, 5.0, size=SHAPE)
    return rng.poisson(rates).astype(float), rates * rng.uniform(0.5, 1.5, size=SHAPE)


def _signed(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return rng.choice([-1.0, 1.0], size=SHAPE), rng.normal(size=SHAPE)


def _one_hot_scores(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    y_true, _ = _one_hot(rng, {})
    return y_true, rng.normal(size=SHAPE)


def _vectors(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=SHAPE), rng.normal(size=SHAPE)


def _from_sample_inputs(name: str, n_elements: int) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Inputs of a loss whose shapes are fixed (labels + embeddings, CTC sequences)."""

    def make(rng: np.random.Generator, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        y_true, y_pred, _ = sample_inputs(name, n_elements=n_elements, seed=3)
        return y_true, y_pred

    return make


COMMON = {
    "reduction": ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"],
    "sample_weight": [None, "per_sample", 2.0],
}
CROSSENTROPY = {"from_logits": [False, True], "label_smoothing": [0.0, 0.2]}
FOCAL = {"alpha": [0.25, 0.7], "gamma": [2.0, 0.0, 1.5]}

#: Class -> (input maker, {keyword: representative values}); ``COMMON`` is added to each.
LOSSES: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], dict[str, list[Any]]]] = {
    "MeanSquaredError": (_regression, {}),
    "MeanAbsoluteError": (_regression, {}),
    "MeanAbsolutePercentageError": (_regression, {}),
    "MeanSquaredLogarithmicError": (_regression, {}),
    "LogCosh": (_regression, {}),
    "Huber": (_regression, {"delta": [1.0, 0.5, 2.0]}),
    "BinaryCrossentropy": (_binary, {**CROSSENTROPY, "axis": [-1, 1]}),
    "BinaryFocalCrossentropy": (
        _binary,
        {"apply_class_balancing": [False, True], **FOCAL, **CROSSENTROPY, "axis": [-1, 1]},
    ),
    "CategoricalCrossentropy": (_one_hot, {**CROSSENTROPY, "axis": [-1, 1]}),
    "CategoricalFocalCrossentropy": (_one_hot, {**FOCAL, **CROSSENTROPY, "axis": [-1, 1]}),
    "SparseCategoricalCrossentropy": (
        _class_ids,
        {"from_logits": [False, True], "ignore_class": [None, 0, 2], "axis": [-1, 2]},
    ),
    "CategoricalGeneralizedCrossEntropy": (
        _from_sample_inputs("categorical_generalized_cross_entropy", 40),
        {"q": [0.5, 0.2, 0.9]},
    ),
    "Poisson": (_counts, {}),
    "KLDivergence": (_distributions, {}),
    "Hinge": (_signed, {}),
    "SquaredHinge": (_signed, {}),
    "CategoricalHinge": (_one_hot_scores, {}),
    "CosineSimilarity": (_vectors, {"axis": [-1, 1]}),
    "Dice": (_binary, {"axis": [None, (1, 2), 1]}),
    "Tversky": (_binary, {"alpha": [0.5, 0.9], "beta": [0.5, 0.2], "axis": [None, (1, 2)]}),
    "Circle": (
        _from_sample_inputs("circle", 8 * 16),
        {"gamma": [80.0, 10.0], "margin": [0.4, 0.25], "remove_diagonal": [True, False]},
    ),
    "CTC": (_from_sample_inputs("ctc", 4 * 25 * 20), {}),
}


def _pairs() -> list[tuple[str, str, str]]:
    return [
        (class_name, first, second)
        for class_name, (_, options) in LOSSES.items()
        for first, second in itertools.combinations([*options, *COMMON], 2)
    ]


def _sample_weight(kind: Any, per_sample_shape: tuple[int, ...]) -> Any:
    """``per_sample``: one weight per sample, shaped ``(B, 1)`` so that it also
    broadcasts over a second loss axis (a ``(B,)`` weight would not, see
    keras-facts section 3).  A loss that returns one value for the whole batch
    (Dice, Tversky with ``axis=None``) gets a scalar instead: course_lib refuses
    per-sample weights there on purpose (tests/losses/test_reduction.py)."""
    if kind != "per_sample":
        return kind
    if not per_sample_shape:
        return 0.5
    weights = np.linspace(0.0, 2.0, per_sample_shape[0])
    return weights.reshape(-1, 1) if len(per_sample_shape) > 1 else weights


def _smoothing_off_the_last_axis(class_name: str, config: dict[str, Any]) -> bool:
    """The documented deviation: categorical smoothing with a class axis that is not last."""
    return (
        class_name in ("CategoricalCrossentropy", "CategoricalFocalCrossentropy")
        and config.get("label_smoothing", 0.0) > 0
        and config.get("axis", -1) % len(SHAPE) != len(SHAPE) - 1
    )


def _compare(
    class_name: str, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any, config: dict
) -> str:
    """An empty string when course_lib matches Keras, else a description of the mismatch."""
    if _smoothing_off_the_last_axis(class_name, config):
        # course_lib smooths with K = size of the class axis (Keras 3.15 uses the last
        # axis, keras-team/keras#23451): compare on targets smoothed by hand instead,
        # and check that Keras still differs, so that a fixed Keras shows up here.
        s, axis = config["label_smoothing"], config["axis"]
        smoothed = y_true * (1.0 - s) + s / y_true.shape[axis]
        by_hand = {**config, "label_smoothing": 0.0}
        ours = getattr(losses, class_name)(**config)(y_true, y_pred, sample_weight=sample_weight)
        ours_by_hand = getattr(losses, class_name)(**by_hand)(smoothed, y_pred, sample_weight=sample_weight)
        np.testing.assert_allclose(ours, ours_by_hand, rtol=1e-12, atol=1e-15)
        assert not compare_class(class_name, y_true, y_pred, sample_weight=sample_weight, **config).value_ok
        y_true, config = smoothed, by_hand
    verdict = compare_class(class_name, y_true, y_pred, sample_weight=sample_weight, **config)
    return "" if verdict.ok else f"max |difference| {verdict.value_error:.3g}"


@pytest.mark.parametrize(("class_name", "first", "second"), _pairs(), ids=lambda p: str(p))
def test_every_pair_of_options_matches_keras(class_name: str, first: str, second: str) -> None:
    make_inputs, options = LOSSES[class_name]
    values = {**options, **COMMON}
    failures = []
    for a, b in itertools.product(values[first], values[second]):
        config = {first: a, second: b}
        weight_kind = config.pop("sample_weight", None)
        y_true, y_pred = make_inputs(np.random.default_rng(0), config)
        loss_config = {key: value for key, value in config.items() if key != "reduction"}
        per_sample = getattr(losses, class_name)(reduction="none", **loss_config)(y_true, y_pred)
        sample_weight = _sample_weight(weight_kind, np.shape(per_sample))
        # Circle masks its zero losses, an ignored class its samples (the values' shape).
        masked = class_name == "Circle" or config.get("ignore_class") is not None
        if mask_merge_fails_on_torch(sample_weight, np.shape(per_sample) if masked else None):
            with raises_mask_merge_error():  # Keras on PyTorch: see keras_reference
                compare_class(class_name, y_true, y_pred, sample_weight=sample_weight, **config)
            continue
        mismatch = _compare(class_name, y_true, y_pred, sample_weight, config)
        if mismatch:
            failures.append(f"{config}, sample_weight={weight_kind!r}: {mismatch}")
    assert not failures, f"{class_name}: " + "; ".join(failures)
