"""The probabilistic losses (cross-entropies, focal, generalised cross-entropy, Poisson,
KL divergence), checked against real Keras 3.15: function values, classes with every
option, reduction and weight layout, extreme inputs, signatures and configs, bad input.

Every reference number comes from ``keras.losses``.  Cases where we deliberately
differ from Keras have ``deviation`` in their name and say why.  The gradients are in
``tests/gradients/test_probabilistic.py``.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from keras_reference import (
    BACKEND,
    focal_probabilities_off_tensorflow,
    in_keras_precision,
    keras_class_value,
    keras_function_value,
    keras_loss_call,
    mask_merge_fails_on_torch,
    raises_mask_merge_error,
    tape_gradient,
    tolerance64,
)
from loss_cases import REDUCTIONS, parameters
from probabilistic_cases import (
    AXIS_CASES,
    FUNCTION_CASES,
    FUNCTIONS,
    SHAPES,
    case_id,
    close,
    make_data,
)

import course_lib.losses as losses
from course_lib.gradients import probabilistic as G
from course_lib.losses import probabilistic as P

CLASSES = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "Poisson",
    "KLDivergence",
]


# --------------------------------------------------------------------------------------
# The source article's numbers
# --------------------------------------------------------------------------------------

ARTICLE_BCE = ([[1.0], [0.0], [1.0], [1.0]], [[-5.4], [8.7], [-1.2], [-4.6]])


@pytest.mark.parametrize(
    ("config", "sample_weight", "expected"),
    [
        ({}, None, 5.0444894),
        ({"reduction": "sum"}, None, 20.177958),
        ({"reduction": "none"}, None, [5.4045067, 8.700167, 1.4632825, 4.6100016]),
        ({}, [0.8, 0.2, 0.5, 1.0], 2.8513203),
        ({"reduction": "mean_with_sample_weight"}, [0.8, 0.2, 0.5, 1.0], 4.5621123),
    ],
)
def test_article_binary_crossentropy(config, sample_weight, expected):
    """The article's BCE example, on (4, 1) columns so that it has 4 samples."""
    y_true, y_pred = ARTICLE_BCE
    ours = P.BinaryCrossentropy(from_logits=True, **config)(y_true, y_pred, sample_weight)
    theirs = keras_class_value(
        "BinaryCrossentropy", np.asarray(y_true), y_pred, sample_weight, from_logits=True, **config
    )
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    close(ours, theirs, "float32")


@pytest.mark.parametrize(
    ("class_name", "y_true", "y_pred", "sample_weight", "config", "expected"),
    [
        ("CategoricalCrossentropy", [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
         None, {}, 1.1769392),
        ("Poisson", [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], None, {}, 0.49999997),
        ("Poisson", [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], [0.8, 0.2], {},
         0.39999998),
        ("Poisson", [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], None, {"reduction": "sum"},
         0.99999994),
        ("KLDivergence", [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], None, {}, 0.45814306),
    ],
)  # fmt: skip
def test_article_examples(class_name, y_true, y_pred, sample_weight, config, expected):
    ours = getattr(P, class_name)(**config)(y_true, y_pred, sample_weight)
    theirs = keras_class_value(class_name, np.asarray(y_true), y_pred, sample_weight, **config)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    close(ours, theirs, "float32")


# --------------------------------------------------------------------------------------
# Function values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rank", [1, 2, 3, 4])
@pytest.mark.parametrize("case", FUNCTION_CASES, ids=case_id)
def test_function_matches_keras(case, rank, dtype):
    name, kwargs, kind = case
    y_true, y_pred = make_data(kind, SHAPES[rank], kwargs.get("from_logits", False), rank, dtype)
    ours = getattr(P, name)(y_true, y_pred, **kwargs)
    theirs = keras_function_value(name, y_true, y_pred, **kwargs)
    assert np.shape(ours) == theirs.shape == SHAPES[rank][:-1]
    assert ours.dtype == np.dtype(dtype)
    close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", AXIS_CASES, ids=case_id)
def test_function_with_axis_matches_keras(case, dtype):
    name, kwargs, kind = case
    y_true, y_pred = make_data(kind, (2, 3, 4), kwargs.get("from_logits", False), 7, dtype)
    ours = getattr(P, name)(y_true, y_pred, **kwargs)
    theirs = keras_function_value(name, y_true, y_pred, **kwargs)
    assert ours.shape == theirs.shape
    close(ours, theirs, dtype)


def test_focal_special_cases_reduce_to_crossentropy():
    """gamma=0 gives BCE; alpha=1, gamma=0 gives CCE; alpha is ignored without balancing."""
    y, p = make_data("binary", (4, 3), False)
    np.testing.assert_allclose(
        P.binary_focal_crossentropy(y, p, gamma=0.0), P.binary_crossentropy(y, p), rtol=1e-12
    )
    np.testing.assert_array_equal(
        P.binary_focal_crossentropy(y, p, alpha=0.9), P.binary_focal_crossentropy(y, p, alpha=0.1)
    )
    y, p = make_data("categorical", (4, 3), False)
    np.testing.assert_allclose(
        P.categorical_focal_crossentropy(y, p, alpha=1.0, gamma=0.0),
        P.categorical_crossentropy(y, p),
        rtol=1e-12,
    )


def test_kl_divergence_is_crossentropy_minus_entropy():
    y, p = make_data("dist", (4, 3), False)
    entropy = -np.sum(y * np.log(y), axis=-1)
    np.testing.assert_allclose(P.kl_divergence(y, p), P.categorical_crossentropy(y, p) - entropy, rtol=1e-10)


def test_generalized_cross_entropy_limits():
    """q -> 0 tends to cross-entropy; q = 1 is 1 - p_c (MAE-like)."""
    ids, p = make_data("sparse", (5, 3), False)
    p = p / p.sum(axis=-1, keepdims=True)
    p_c = np.take_along_axis(p, ids[:, None], axis=-1)[:, 0]
    np.testing.assert_allclose(
        P.categorical_generalized_cross_entropy(ids, p, q=1e-6), -np.log(p_c), rtol=1e-5
    )
    np.testing.assert_allclose(P.categorical_generalized_cross_entropy(ids, p, q=1.0), 1 - p_c)


def test_sparse_equals_categorical_on_normalised_rows():
    ids, p = make_data("sparse", (5, 3), False)
    p = p / p.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        P.sparse_categorical_crossentropy(ids, p),
        P.categorical_crossentropy(np.eye(3)[ids], p),
        rtol=1e-12,
    )


@pytest.mark.parametrize("labels", ["(B,)", "(B,1)", "float"])
def test_sparse_label_layouts_match_keras(labels):
    ids, p = make_data("sparse", (5, 3), True, dtype="float32")
    y = {"(B,)": ids, "(B,1)": ids[:, None], "float": ids.astype("float32")}[labels]
    ours = P.sparse_categorical_crossentropy(y, p, from_logits=True)
    close(
        ours,
        keras_function_value("sparse_categorical_crossentropy", y, p, from_logits=True),
        "float32",
    )
    ours = P.SparseCategoricalCrossentropy(from_logits=True)(y, p)
    close(ours, keras_class_value("SparseCategoricalCrossentropy", y, p, from_logits=True), "float32")


# --------------------------------------------------------------------------------------
# Class values: every option, every reduction, every weight layout
# --------------------------------------------------------------------------------------

CLASS_CASES = [
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    (
        "BinaryFocalCrossentropy",
        {
            "apply_class_balancing": True,
            "alpha": 0.4,
            "gamma": 1.0,
            "from_logits": True,
            "label_smoothing": 0.1,
        },
        "binary",
    ),  # fmt: skip
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "categorical"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.5, "gamma": 1.0, "from_logits": True, "label_smoothing": 0.2},
        "categorical",
    ),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": -1}, "sparse_void"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, "sparse"),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, "sparse"),
    ("Poisson", {}, "counts"),
    ("KLDivergence", {}, "dist"),
]
CLASS_AXIS_CASES = [
    ("BinaryCrossentropy", {"axis": 1}, "binary"),
    ("BinaryFocalCrossentropy", {"axis": 0, "from_logits": True}, "binary"),
    ("CategoricalCrossentropy", {"axis": 1, "from_logits": True}, "categorical_axis1"),
    ("CategoricalFocalCrossentropy", {"axis": 1}, "categorical_axis1"),
]


def weight_layouts(values_shape: tuple[int, ...], rng) -> list:
    """None, a scalar, one weight per sample and one per value (with a zero weight)."""
    layouts = [None, 0.7]
    if values_shape:
        batch = values_shape[0]
        per_sample = rng.uniform(0.1, 2.0, (batch,) + (1,) * (len(values_shape) - 1))
        per_sample.flat[-1] = 0.0
        layouts += [per_sample, rng.uniform(0.0, 2.0, values_shape)]
        if len(values_shape) == 1:
            layouts.append(per_sample[:, None])  # (B, 1) against (B,) values
    return layouts


def compare_class_against_keras(class_name, config, y_true, y_pred, dtype, seed=0) -> None:
    rng = np.random.default_rng(seed)
    values_shape = np.shape(getattr(P, class_name)(reduction="none", **config)(y_true, y_pred))
    weights = weight_layouts(values_shape, rng)
    keras_config = config if dtype == "float32" else {"dtype": dtype} | config
    # Keras masks the ignored class' samples (the mask has the values' shape).
    keras_mask_shape = values_shape if config.get("ignore_class") is not None else None
    for reduction in REDUCTIONS:
        ours_loss = getattr(P, class_name)(reduction=reduction, **config)
        keras_loss = getattr(keras.losses, class_name)(reduction=reduction, **keras_config)
        for weight in weights:
            ours = ours_loss(y_true, y_pred, sample_weight=weight)
            if mask_merge_fails_on_torch(weight, keras_mask_shape):
                with raises_mask_merge_error():  # Keras on PyTorch: see keras_reference
                    keras_loss_call(keras_loss, y_true, y_pred, weight)
                continue
            theirs = keras_loss_call(keras_loss, y_true, y_pred, weight)
            assert ours.dtype == np.dtype(dtype)
            assert np.shape(ours) == theirs.shape, (reduction, np.shape(weight))
            close(ours, theirs, dtype)


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
@pytest.mark.parametrize("case", CLASS_CASES, ids=case_id)
def test_class_matches_keras_for_every_reduction_and_weight(case, rank):
    class_name, config, kind = case
    if rank > 2 and config and "ignore_class" not in config:
        pytest.skip("options are covered at rank 2; higher ranks use the defaults")
    y_true, y_pred = make_data(kind, SHAPES[rank], config.get("from_logits", False), rank, "float32")
    compare_class_against_keras(class_name, config, y_true, y_pred, "float32", rank)


@pytest.mark.parametrize("case", CLASS_AXIS_CASES, ids=case_id)
def test_class_with_axis_matches_keras(case):
    class_name, config, kind = case
    y_true, y_pred = make_data(kind, (2, 3, 4), config.get("from_logits", False), 3, "float32")
    compare_class_against_keras(class_name, config, y_true, y_pred, "float32")


@pytest.mark.parametrize("class_name", CLASSES)
def test_class_in_float64_matches_keras(class_name):
    """With ``dtype="float64"`` both libraries compute in float64."""
    case = next(c for c in CLASS_CASES if c[0] == class_name)
    y_true, y_pred = make_data(case[2], (5, 3), False, 11, "float64")
    compare_class_against_keras(class_name, {"dtype": "float64"} | case[1], y_true, y_pred, "float64")


def test_ignore_class_is_left_out_of_the_mean():
    """Keras' own example: per-sample [3.417, 0, 5.351, 0, 0.836] averages over 3 samples."""
    ids, p = make_data("sparse", (5, 4), False, dtype="float32")
    ids[[1, 3]] = 255
    loss = P.SparseCategoricalCrossentropy(ignore_class=255)
    per_sample = P.sparse_categorical_crossentropy(ids, p, ignore_class=255)
    assert per_sample[1] == per_sample[3] == 0.0
    np.testing.assert_allclose(loss(ids, p), per_sample.sum() / 3, rtol=1e-6)
    close(
        loss(ids, p),
        keras_class_value("SparseCategoricalCrossentropy", ids, p, ignore_class=255),
        "float32",
    )
    everything_ignored = np.full(5, 255)
    assert loss(everything_ignored, p) == 0.0
    assert P.SparseCategoricalCrossentropy()(ids % 4, p) > 0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_class_combines_with_mask_and_weights(reduction):
    ids, p = make_data("sparse_void", (3, 4, 5), True, 5, "float32")
    mask = np.random.default_rng(1).uniform(size=(3, 4)) > 0.3
    weight = np.random.default_rng(2).uniform(size=(3, 1))
    config = {"from_logits": True, "ignore_class": -1, "reduction": reduction}
    ours = P.SparseCategoricalCrossentropy(**config)(ids, p, sample_weight=weight, mask=mask)
    if mask_merge_fails_on_torch(weight, mask.shape):  # a (3, 1) weight against the (3, 4) mask
        with raises_mask_merge_error():  # Keras on PyTorch: see keras_reference
            keras_class_value("SparseCategoricalCrossentropy", ids, p, weight, mask, **config)
        return
    theirs = keras_class_value("SparseCategoricalCrossentropy", ids, p, weight, mask, **config)
    close(ours, theirs, "float32")


def test_mask_on_binary_crossentropy_matches_keras():
    y, p = make_data("binary", (2, 3, 4), False, 2, "float32")
    mask = np.array([[True, False, True], [False, True, True]])
    close(
        P.BinaryCrossentropy()(y, p, mask=mask),
        keras_class_value("BinaryCrossentropy", y, p, mask=mask),
        "float32",
    )


# --------------------------------------------------------------------------------------
# Edges: extreme logits, probabilities exactly 0 and 1
# --------------------------------------------------------------------------------------

LOGIT_CASES = [
    ("binary_crossentropy", {"from_logits": True}),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("binary_focal_crossentropy", {"from_logits": True}),
    ("binary_focal_crossentropy", {"from_logits": True, "apply_class_balancing": True}),
    ("categorical_crossentropy", {"from_logits": True}),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("categorical_focal_crossentropy", {"from_logits": True}),
    ("sparse_categorical_crossentropy", {"from_logits": True}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "kwargs"), LOGIT_CASES)
def test_extreme_logits_are_finite_and_match_keras(name, kwargs, dtype):
    z = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 100.0], [100.0, -100.0, -100.0]], dtype)
    if name.startswith("sparse"):
        y = np.array([0, 0, 2])
    elif name.startswith("binary"):
        y = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 0]], dtype)
    else:
        y = np.eye(3, dtype=dtype)[[0, 0, 2]]
    ours = getattr(P, name)(y, z, **kwargs)
    assert np.all(np.isfinite(ours))
    theirs = keras_function_value(name, y, z, **kwargs)
    grad = getattr(G, name)(y, z, **kwargs)
    assert np.all(np.isfinite(grad))
    if name == "binary_focal_crossentropy" and BACKEND != "tensorflow":
        # JAX and PyTorch clip sigmoid(z) where TensorFlow (and ours) use the logits: the
        # BCE part of y = 1, z = -100 is 16.12 there, 100 here (keras_reference explains).
        y_k, p_k, options = focal_probabilities_off_tensorflow(y, z, kwargs)
        close(P.binary_focal_crossentropy(y_k, p_k, **options), theirs, dtype)
        chain = G.binary_focal_crossentropy(y_k, p_k, **options) * p_k * (1 - p_k)  # d/dz = d/dp * p(1 - p)
        close(chain, tape_gradient(name, y, z, **kwargs), dtype)
        assert np.all(theirs < ours / 5)  # e.g. 5.43 against 33.39 for the first row
        return
    close(ours, theirs, dtype)
    close(grad, tape_gradient(name, y, z, **kwargs), dtype)


ZERO_ONE_CASES = [
    ("binary_crossentropy", {}),
    ("binary_crossentropy", {"label_smoothing": 0.2}),
    ("binary_focal_crossentropy", {}),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "gamma": 0.5}),
    ("categorical_crossentropy", {}),
    ("categorical_focal_crossentropy", {}),
    ("sparse_categorical_crossentropy", {}),
    ("categorical_generalized_cross_entropy", {"q": 0.5}),
    ("poisson", {}),
    ("kl_divergence", {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "kwargs"), ZERO_ONE_CASES)
def test_probabilities_exactly_zero_and_one_match_keras(name, kwargs, dtype):
    p = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], dtype)
    if name.startswith(("sparse", "categorical_generalized")):
        y = np.array([1, 1, 0, 2])
    elif name.startswith("binary"):
        y = np.array([[0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 1]], dtype)
    else:
        y = np.eye(3, dtype=dtype)[[1, 1, 0, 2]]
    ours = getattr(P, name)(y, p, **kwargs)
    assert np.all(np.isfinite(ours))
    # On JAX float64 is computed in float32, where the clip 1 - 1e-7 is 1 - 1.19e-7: BCE
    # of p = 1 for y = 0 is 15.94 there, 16.12 in float64.  Elsewhere this is ``ours``.
    as_keras = getattr(P, name)(*in_keras_precision(y, p), **kwargs)
    close(as_keras, keras_function_value(name, y, p, **kwargs), dtype)


# --------------------------------------------------------------------------------------
# API: signatures, names, configs, dtypes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS + CLASSES)
def test_signature_matches_keras(name):
    assert parameters(getattr(P, name)) == parameters(getattr(keras.losses, name))


def test_module_exports():
    assert sorted(P.__all__) == sorted(FUNCTIONS + CLASSES)
    assert sorted(G.__all__) == sorted(FUNCTIONS)
    assert losses.get("bce") is P.binary_crossentropy
    assert losses.get("kld") is P.kl_divergence
    assert isinstance(losses.get("SparseCategoricalCrossentropy"), P.SparseCategoricalCrossentropy)


@pytest.mark.parametrize("name", CLASSES)
def test_class_name_and_config_round_trip(name):
    loss = getattr(P, name)()
    assert loss.name == getattr(keras.losses, name)().name
    clone = type(loss).from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


def test_options_are_exposed_as_attributes():
    loss = P.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.5, axis=1)
    assert (loss.apply_class_balancing, loss.alpha, loss.gamma, loss.axis) == (True, 0.5, 2.0, 1)
    assert P.SparseCategoricalCrossentropy(ignore_class=255).ignore_class == 255
    assert P.CategoricalGeneralizedCrossEntropy().q == 0.5


@pytest.mark.parametrize("name", FUNCTIONS)
def test_integer_and_list_inputs_compute_in_float32(name):
    y_true = (
        [0, 1]
        if name in ("sparse_categorical_crossentropy", "categorical_generalized_cross_entropy")
        else [[0, 1], [1, 0]]
    )
    kwargs = {"q": 0.5} if name == "categorical_generalized_cross_entropy" else {}
    assert getattr(P, name)(y_true, [[1, 0], [0, 1]], **kwargs).dtype == np.float32
    assert getattr(G, name)(y_true, [[1, 0], [0, 1]], **kwargs).dtype == np.float32


# --------------------------------------------------------------------------------------
# Bad input: clear errors that name the argument
# --------------------------------------------------------------------------------------

Y2, P2 = [[0.0, 1.0], [1.0, 0.0]], [[0.3, 0.7], [0.6, 0.4]]
IDS = [1, 0]
BAD_CALLS = [
    # (function name, y_true, y_pred, kwargs, error, message)
    ("binary_crossentropy", Y2, P2, {"from_logits": "yes"}, TypeError, "from_logits"),
    ("binary_crossentropy", Y2, P2, {"from_logits": 1}, TypeError, "from_logits"),
    ("binary_crossentropy", Y2, P2, {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ("binary_crossentropy", Y2, P2, {"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    ("binary_crossentropy", Y2, P2, {"label_smoothing": True}, TypeError, "label_smoothing"),
    ("binary_crossentropy", Y2, P2, {"axis": 2}, ValueError, "axis"),
    ("binary_crossentropy", Y2, P2, {"axis": True}, TypeError, "axis"),
    ("binary_crossentropy", Y2, P2, {"axis": 1.0}, TypeError, "axis"),
    ("binary_crossentropy", [[0.0, 1.0, 0.0]], P2, {}, ValueError, "same shape"),
    ("binary_crossentropy", Y2, [["a", "b"], ["c", "d"]], {}, TypeError, "y_pred"),
    ("binary_crossentropy", 1.0, 0.5, {}, ValueError, "at least 1-D"),
    ("binary_focal_crossentropy", Y2, P2, {"gamma": -1.0}, ValueError, "gamma"),
    ("binary_focal_crossentropy", Y2, P2, {"alpha": 1.5}, ValueError, "alpha"),
    (
        "binary_focal_crossentropy",
        Y2,
        P2,
        {"apply_class_balancing": 1},
        TypeError,
        "apply_class_balancing",
    ),
    ("binary_focal_crossentropy", Y2, P2, {"from_logits": None}, TypeError, "from_logits"),
    ("categorical_crossentropy", Y2, P2, {"axis": -3}, ValueError, "axis"),
    ("categorical_crossentropy", Y2, P2, {"axis": False}, TypeError, "axis"),
    ("categorical_crossentropy", Y2, P2, {"label_smoothing": 2}, ValueError, "label_smoothing"),
    (
        "categorical_crossentropy",
        [[1.0], [0.0]],
        [[0.3], [0.6]],
        {},
        ValueError,
        "at least 2 classes",
    ),
    ("categorical_crossentropy", [[1.0, 0.0]], P2, {}, ValueError, "same shape"),
    ("categorical_focal_crossentropy", Y2, P2, {"gamma": -0.5}, ValueError, "gamma"),
    ("categorical_focal_crossentropy", Y2, P2, {"alpha": [0.2, 0.8]}, TypeError, "alpha"),
    (
        "categorical_focal_crossentropy",
        [[1.0], [0.0]],
        [[0.3], [0.6]],
        {},
        ValueError,
        "2 classes",
    ),
    ("sparse_categorical_crossentropy", [1, 2], P2, {}, ValueError, "y_true"),
    ("sparse_categorical_crossentropy", [1, -1], P2, {}, ValueError, "y_true"),
    ("sparse_categorical_crossentropy", [0.5, 1.0], P2, {}, ValueError, "y_true.*integer"),
    ("sparse_categorical_crossentropy", [0, 1, 1], P2, {}, ValueError, "y_true"),
    ("sparse_categorical_crossentropy", [[0, 1]], P2, {}, ValueError, "y_true"),
    ("sparse_categorical_crossentropy", IDS, P2, {"axis": 0}, ValueError, "last axis"),
    ("sparse_categorical_crossentropy", IDS, P2, {"axis": 5}, ValueError, "axis"),
    ("sparse_categorical_crossentropy", IDS, P2, {"ignore_class": 1.5}, TypeError, "ignore_class"),
    (
        "sparse_categorical_crossentropy",
        IDS,
        P2,
        {"ignore_class": True},
        TypeError,
        "ignore_class",
    ),
    ("sparse_categorical_crossentropy", IDS, P2, {"from_logits": "no"}, TypeError, "from_logits"),
    ("sparse_categorical_crossentropy", [7, -1], P2, {"ignore_class": -1}, ValueError, "y_true"),
    ("sparse_categorical_crossentropy", IDS, 0.5, {}, ValueError, "y_pred"),
    ("categorical_generalized_cross_entropy", IDS, P2, {"q": 0.0}, ValueError, "q"),
    ("categorical_generalized_cross_entropy", IDS, P2, {"q": 1.5}, ValueError, "q"),
    ("categorical_generalized_cross_entropy", IDS, P2, {"q": -0.5}, ValueError, "q"),
    ("categorical_generalized_cross_entropy", IDS, P2, {"q": "half"}, TypeError, "q"),
    ("categorical_generalized_cross_entropy", [2, 0], P2, {"q": 0.5}, ValueError, "y_true"),
    ("categorical_generalized_cross_entropy", [1.5, 0], P2, {"q": 0.5}, ValueError, "y_true"),
    ("poisson", Y2, [[0.3, 0.7, 0.1]], {}, ValueError, "same shape"),
    ("kl_divergence", Y2, [[0.3], [0.7], [0.1]], {}, ValueError, "same shape"),
]


@pytest.mark.parametrize("module", [P, G], ids=["loss", "gradient"])
@pytest.mark.parametrize(("name", "y_true", "y_pred", "kwargs", "error", "match"), BAD_CALLS)
def test_bad_input_raises_a_clear_error(module, name, y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        getattr(module, name)(y_true, y_pred, **kwargs)


def test_categorical_generalized_cross_entropy_requires_q():
    with pytest.raises(TypeError, match="q"):
        P.categorical_generalized_cross_entropy(IDS, P2)


BAD_CONSTRUCTORS = [
    ("BinaryCrossentropy", {"from_logits": "true"}, TypeError, "from_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 1.1}, ValueError, "label_smoothing"),
    ("BinaryCrossentropy", {"axis": True}, TypeError, "axis"),
    ("BinaryCrossentropy", {"reduction": "auto"}, ValueError, "reduction"),
    ("BinaryFocalCrossentropy", {"gamma": -2.0}, ValueError, "gamma"),
    ("BinaryFocalCrossentropy", {"alpha": -0.1}, ValueError, "alpha"),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": "yes"},
        TypeError,
        "apply_class_balancing",
    ),
    ("CategoricalCrossentropy", {"axis": "last"}, TypeError, "axis"),
    ("CategoricalCrossentropy", {"label_smoothing": -1}, ValueError, "label_smoothing"),
    ("CategoricalFocalCrossentropy", {"alpha": 2.0}, ValueError, "alpha"),
    ("CategoricalFocalCrossentropy", {"from_logits": 0}, TypeError, "from_logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": "void"}, TypeError, "ignore_class"),
    ("SparseCategoricalCrossentropy", {"from_logits": None}, TypeError, "from_logits"),
    ("SparseCategoricalCrossentropy", {"axis": 1.0}, TypeError, "axis"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.0}, ValueError, "q"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 1.01}, ValueError, "q"),
    ("Poisson", {"reduction": "SUM"}, ValueError, "reduction"),
    ("KLDivergence", {"dtype": "int32"}, TypeError, "dtype"),
]


@pytest.mark.parametrize(("class_name", "config", "error", "match"), BAD_CONSTRUCTORS)
def test_bad_constructor_argument_raises_early(class_name, config, error, match):
    with pytest.raises(error, match=match):
        getattr(P, class_name)(**config)


def test_class_call_errors_name_the_argument():
    with pytest.raises(ValueError, match="last axis"):
        P.SparseCategoricalCrossentropy(axis=0)(IDS, P2)
    with pytest.raises(ValueError, match="y_true"):
        P.SparseCategoricalCrossentropy()([3, 0], P2)
    with pytest.raises(ValueError, match="sample_weight"):
        P.BinaryCrossentropy()(Y2, P2, sample_weight=[[1.0, 2.0], [3.0, 4.0]])


# --------------------------------------------------------------------------------------
# Deliberate deviations from Keras, each documented
# --------------------------------------------------------------------------------------


def test_deviation_gce_accepts_column_labels():
    """Keras broadcasts (B, 1) labels against (B, C) into a (B, B) result; we drop the 1."""
    ids, p = make_data("sparse", (3, 4), False, dtype="float32")
    ours = P.categorical_generalized_cross_entropy(ids[:, None], p, q=0.5)
    np.testing.assert_array_equal(ours, P.categorical_generalized_cross_entropy(ids, p, q=0.5))
    close(
        ours,
        keras_function_value("categorical_generalized_cross_entropy", ids, p, q=0.5),
        "float32",
    )
    keras_column = keras_function_value("categorical_generalized_cross_entropy", ids[:, None], p, q=0.5)
    assert keras_column.shape == (3, 3)


def test_deviation_gce_class_accepts_q_equal_to_one():
    """Keras' class demands 0 < q < 1; q = 1 is the MAE-like end of the family, so we allow it."""
    ids, p = make_data("sparse", (3, 4), False, dtype="float32")
    with pytest.raises(ValueError, match="q must be in the interval"):
        keras.losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    ours = P.CategoricalGeneralizedCrossEntropy(q=1.0)(ids, p)
    p_c = np.take_along_axis(p, ids[:, None], axis=-1)
    np.testing.assert_allclose(ours, np.mean(1 - p_c), rtol=1e-6)
    close(
        ours,
        np.mean(keras_function_value("categorical_generalized_cross_entropy", ids, p, q=1.0)),
        "float32",
    )


def test_deviation_categorical_smoothing_counts_the_classes_on_axis():
    """Keras smooths with s / (size of the LAST axis) even when ``axis`` is another one."""
    y, p = make_data("categorical_axis1", (2, 3, 4), False, dtype="float64")  # 4 classes on axis 1
    ours = P.categorical_crossentropy(y, p, label_smoothing=0.2, axis=1)
    smoothed = y * 0.8 + 0.2 / 4
    np.testing.assert_allclose(ours, P.categorical_crossentropy(smoothed, p, axis=1), rtol=1e-12)
    keras_way = keras_function_value("categorical_crossentropy", y, p, label_smoothing=0.2, axis=1)
    np.testing.assert_allclose(
        keras_way, P.categorical_crossentropy(y * 0.8 + 0.2 / 3, p, axis=1), **tolerance64(1e-12, 0.0)
    )
    assert not np.allclose(ours, keras_way)


def test_deviation_categorical_refuses_a_single_class():
    """Keras only warns; with one class the loss is identically ~0, so we raise."""
    y, p = [[1.0], [0.0]], [[0.3], [0.6]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras_value = keras_function_value("categorical_crossentropy", np.array(y), np.array(p))
    assert any(issubclass(w.category, SyntaxWarning) for w in caught)
    assert np.all(np.abs(keras_value) < 1e-6)
    for loss in (P.categorical_crossentropy, P.CategoricalCrossentropy()):
        with pytest.raises(ValueError, match="binary_crossentropy"):
            loss(y, p)


def test_deviation_nonsense_options_raise_instead_of_returning_a_number():
    """Keras accepts these and returns a number (or, for axis=True, a mean over axis 1)."""
    y, p = np.array(Y2, "float32"), np.array(P2, "float32")
    for kwargs in ({"label_smoothing": 1.5}, {"from_logits": "yes"}, {"axis": True}):
        if kwargs == {"axis": True} and BACKEND == "torch":
            # torch.mean takes no bool for its dim: Keras on PyTorch raises instead.
            with pytest.raises(TypeError, match="mean"):
                keras_function_value("binary_crossentropy", y, p, **kwargs)
        else:
            assert np.all(np.isfinite(keras_function_value("binary_crossentropy", y, p, **kwargs)))
        with pytest.raises((TypeError, ValueError)):
            P.binary_crossentropy(y, p, **kwargs)
    assert np.all(np.isfinite(keras_function_value("binary_focal_crossentropy", y, p, gamma=-1.0)))
    with pytest.raises(ValueError, match="gamma"):
        P.binary_focal_crossentropy(y, p, gamma=-1.0)
    # Out-of-range labels: GCE reads them as p_c = 0 (loss 1/q); we raise.  On PyTorch
    # Keras' one-hot (torch.nn.functional.one_hot) raises instead.
    if BACKEND == "torch":
        with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
            keras_function_value("categorical_generalized_cross_entropy", [5, 0], p, q=0.5)
    else:
        assert np.allclose(
            keras_function_value("categorical_generalized_cross_entropy", [5, 0], p, q=0.5)[0], 2.0
        )
    with pytest.raises(ValueError, match="y_true"):
        P.categorical_generalized_cross_entropy([5, 0], p, q=0.5)


def test_deviation_fractional_labels_raise_instead_of_being_truncated():
    """Keras casts 1.7 to class 1; a fractional id is almost always a bug, so we raise."""
    p = np.array(P2, "float32")
    np.testing.assert_allclose(
        keras_function_value("sparse_categorical_crossentropy", np.array([1.7, 0.2]), p),
        P.sparse_categorical_crossentropy([1, 0], p),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="integer"):
        P.sparse_categorical_crossentropy([1.7, 0.2], p)


def test_deviation_rank_1_targets_are_one_sample():
    """The article's 1-D BCE call: the same scalar as Keras, but a per-"sample" weight
    vector is refused (Keras broadcasts the single value and averages the weights)."""
    y, z = [1.0, 0.0, 1.0, 1.0], [-5.4, 8.7, -1.2, -4.6]
    loss = P.BinaryCrossentropy(from_logits=True)
    np.testing.assert_allclose(loss(y, z), 5.0444894, rtol=1e-6)
    close(
        loss(y, z),
        keras_class_value("BinaryCrossentropy", np.asarray(y), z, from_logits=True),
        "float32",
    )
    with pytest.raises(ValueError, match="reshape y to"):
        loss(y, z, sample_weight=[0.8, 0.2, 0.5, 1.0])


def test_deviation_float64_input_stays_float64():
    """Keras' class casts to floatx (float32) unless given dtype; we keep the input's precision."""
    y, p = make_data("binary", (4, 3), False, dtype="float64")
    assert P.BinaryCrossentropy()(y, p).dtype == np.float64
    assert keras_class_value("BinaryCrossentropy", y, p).dtype == np.float32
