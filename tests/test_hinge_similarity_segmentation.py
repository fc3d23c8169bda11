"""Hinge, similarity and segmentation losses: values, classes, reductions and
gradients against real Keras, plus the cases where we deliberately differ."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    finite_difference_gradient,
    keras_class_value,
    keras_function_value,
    tape_gradient,
)

import course_lib.gradients as G
import course_lib.losses as L
from course_lib.losses.hinge import signed_labels

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
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


def _cases(ranks=(1, 2, 3, 4)):
    return [
        pytest.param(name, shape, options, id=f"{name}-{len(shape)}d-{options}")
        for name in CLASS_OF
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


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("name, shape, options", _cases())
def test_function_matches_keras_float64(name, shape, options):
    y_true, y_pred = _data(name, shape)
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float64 and np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("name, shape, options", _cases(ranks=(2, 3)))
def test_function_matches_keras_float32(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=1, dtype="float32")
    ours = getattr(L, name)(y_true, y_pred, **options)
    theirs = keras_function_value(name, y_true, y_pred, **options)
    assert np.asarray(ours).dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("labels", ["binary", "signed", "soft"])
@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "categorical_hinge"])
def test_hinge_label_kinds_match_keras(name, labels):
    if name == "categorical_hinge" and labels != "soft":
        labels = "binary"
    y_true, y_pred = _data(name, (6, 4), seed=2, labels=labels)
    ours = getattr(L, name)(y_true, y_pred)
    np.testing.assert_allclose(ours, keras_function_value(name, y_true, y_pred), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
@pytest.mark.parametrize("name, shape, options", _cases())
def test_class_matches_keras_for_every_reduction_and_weight(name, shape, options, reduction):
    y_true, y_pred = _data(name, shape, seed=3, dtype="float32")
    config = {"reduction": reduction, **options}
    values_shape = np.shape(getattr(L, name)(y_true, y_pred, **options))
    loss = getattr(L, CLASS_OF[name])(**config)
    for label, weight in _weights(values_shape).items():
        ours = loss(y_true, y_pred, sample_weight=weight)
        theirs = keras_class_value(CLASS_OF[name], y_true, y_pred, sample_weight=weight, **config)
        assert np.shape(ours) == theirs.shape, label
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=label)


@pytest.mark.parametrize("name, shape, options", _cases(ranks=(3,)))
def test_class_with_float64_dtype_matches_keras(name, shape, options):
    y_true, y_pred = _data(name, shape, seed=4)
    ours = getattr(L, CLASS_OF[name])(dtype="float64", **options)(y_true, y_pred)
    theirs = keras_class_value(CLASS_OF[name], y_true, y_pred, dtype="float64", **options)
    assert np.asarray(ours).dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_class_aligns_a_trailing_axis_of_size_1_like_keras():
    y_true = np.array([1.0, 0.0, 1.0, 1.0], dtype="float32")
    y_pred = np.array([[0.3], [-0.2], [1.4], [0.6]], dtype="float32")
    for class_name in ("Hinge", "SquaredHinge", "Dice", "Tversky", "CosineSimilarity"):
        ours = getattr(L, class_name)(reduction="none")(y_true, y_pred)
        theirs = keras_class_value(class_name, y_true, y_pred, reduction="none")
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=class_name)


@pytest.mark.parametrize("class_name", list(CLASS_OF.values()))
def test_constructor_signature_and_name_match_keras(class_name):
    ours, theirs = getattr(L, class_name), getattr(keras.losses, class_name)
    ours_params = inspect.signature(ours.__init__).parameters
    theirs_params = inspect.signature(theirs.__init__).parameters
    assert list(ours_params) == list(theirs_params)
    assert [p.default for p in ours_params.values()] == [p.default for p in theirs_params.values()]
    assert ours().name == theirs().name
    for fn_name, class_of in CLASS_OF.items():
        if class_of == class_name:
            ours_fn = inspect.signature(getattr(L, fn_name)).parameters
            theirs_fn = inspect.signature(getattr(keras.losses, fn_name)).parameters
            assert list(ours_fn) == list(theirs_fn)
            assert [p.default for p in ours_fn.values()] == [p.default for p in theirs_fn.values()]


@pytest.mark.parametrize(
    "loss",
    [L.Tversky(alpha=0.9, beta=0.1, axis=(1,)), L.Dice(axis=[1, 2]), L.CosineSimilarity(axis=0)],
    ids=repr,
)
def test_get_config_round_trips(loss):
    clone = type(loss)(**loss.get_config())
    assert clone.get_config() == loss.get_config()
    assert clone.axis == loss.axis


# --------------------------------------------------------------------------- documented facts


def test_hinge_converts_labels_only_if_the_whole_batch_is_binary():
    """The trap: one 0.5 anywhere stops the 0 -> -1 conversion for every row."""
    y_pred = np.array([[-0.5, 2.0], [0.0, 2.0]])
    all_binary = np.array([[0.0, 1.0], [1.0, 1.0]])
    one_soft = np.array([[0.0, 1.0], [0.5, 1.0]])
    for y_true in (all_binary, one_soft):
        np.testing.assert_allclose(L.hinge(y_true, y_pred), keras_function_value("hinge", y_true, y_pred))
    # Row 0 is identical in both batches, yet its loss changes: 0.25 -> 0.5.
    assert L.hinge(all_binary, y_pred)[0] == pytest.approx(0.25)
    assert L.hinge(one_soft, y_pred)[0] == pytest.approx(0.5)
    assert G.hinge(one_soft, y_pred)[0, 0] == 0.0  # a 0 label gives a constant loss


def test_categorical_hinge_floors_the_wrong_class_score_at_zero():
    """The true class enters max((1 - y) * p) as 0, so all-negative wrong scores count as 0."""
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[-0.5, -3.0]])
    np.testing.assert_allclose(L.categorical_hinge(y_true, y_pred), [1.5])
    np.testing.assert_allclose(keras_function_value("categorical_hinge", y_true, y_pred), [1.5])


def test_cosine_similarity_is_minus_one_for_identical_directions():
    y = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    p = np.array([[2.0, 4.0, 6.0], [0.0, 1.0, 0.0], [-1.0, -1.0, 0.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(L.cosine_similarity(y, p), [-1.0, 0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(
        keras_function_value("cosine_similarity", y, p), [-1.0, 0.0, 1.0, 0.0], atol=1e-15
    )


def test_cosine_similarity_floors_the_norm_at_epsilon():
    y = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], dtype="float32")
    p = np.array([[1e-9, 1e-9, 1e-9], [0.0, 0.0, 0.0]], dtype="float32")  # tiny, zero
    ours = L.cosine_similarity(y, p)
    np.testing.assert_allclose(
        ours, keras_function_value("cosine_similarity", y, p), rtol=RTOL32, atol=ATOL32
    )
    # Scaled by 1/eps = 1e7, not made unit length: -3 * (1/sqrt(3)) * 0.01.
    np.testing.assert_allclose(ours, [-np.sqrt(3) * 0.01, 0.0], rtol=1e-5)


def test_tversky_alpha_weighs_the_soft_false_negatives():
    """Keras' docstring says alpha weighs false positives; its code (and ours) weighs
    sum(y * (1 - p)), the soft false negatives.  TP = 1.2, sum y(1-p) = 1.8, sum (1-y)p = 0."""
    y_true, y_pred = np.array([1.0, 1.0, 1.0]), np.array([0.4, 0.4, 0.4])
    ours = L.tversky(y_true, y_pred, alpha=0.9, beta=0.1)
    assert float(ours) == pytest.approx(1 - 1.2 / (1.2 + 0.9 * 1.8 + 1e-7), rel=1e-12)
    assert float(ours) == pytest.approx(0.574468, abs=1e-6)
    assert float(keras_function_value("tversky", y_true, y_pred, alpha=0.9, beta=0.1)) == pytest.approx(
        float(ours), rel=1e-9
    )
    assert float(ours) != pytest.approx(1 - 1.2 / (1.2 + 0.1 * 1.8), abs=1e-3)  # paper convention: 0.1304


def test_tversky_with_equal_halves_is_dice_and_dice_sums_over_the_batch():
    y_true, y_pred = _data("dice", (2, 4, 4, 1), seed=5)
    # Equal up to where eps sits: Tversky(1/2, 1/2) = 2 TP / (sum y + sum p + 2 eps).
    np.testing.assert_allclose(L.tversky(y_true, y_pred), L.dice(y_true, y_pred), rtol=1e-8)
    per_image = L.dice(y_true, y_pred, axis=(1, 2, 3))
    assert np.shape(L.dice(y_true, y_pred)) == () and per_image.shape == (2,)
    assert float(L.dice(y_true, y_pred)) != pytest.approx(float(np.mean(per_image)), rel=1e-6)


def test_keras_dice_docstring_example():
    y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    np.testing.assert_allclose(L.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred), [0.5, 0.75757575])
    np.testing.assert_allclose(L.Dice()(y_true, y_pred), 0.6164384, rtol=1e-6)


# --------------------------------------------------------------------------- gradients


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


@pytest.mark.parametrize("name, shape, options", _cases(ranks=(1, 2, 3)))
def test_gradient_matches_tape_and_finite_differences(name, shape, options):
    y_true, y_pred = _smooth_point(name, shape, seed=6)
    ours = getattr(G, name)(y_true, y_pred, **options)
    assert ours.shape == y_pred.shape and ours.dtype == np.float64
    tape = tape_gradient(name, y_true, y_pred, **options)
    np.testing.assert_allclose(ours, tape, rtol=1e-9, atol=1e-12)
    numeric = finite_difference_gradient(getattr(L, name), y_true, y_pred, **options)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CLASS_OF))
def test_gradient_keeps_float32_and_the_shape_of_y_pred(name):
    y_true, y_pred = _data(name, (4, 1), seed=7, dtype="float32")
    grad = getattr(G, name)(y_true, y_pred[:, 0])  # y_pred of rank 1 against (4, 1)
    assert grad.shape == (4,) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, getattr(G, name)(y_true, y_pred)[:, 0], rtol=1e-6)


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("hinge", [[1.0, 0.0]], [[1.0, -1.0]]),  # both margins exactly 1
        ("squared_hinge", [[1.0, 0.0]], [[1.0, -1.0]]),
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]),  # tie among wrong classes
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, 0.0, -2.0]]),  # tie with the true class' 0
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[0.5, -1.0, -2.0]]),  # the true class' 0 wins
        ("categorical_hinge", [[1.0, 0.0, 0.0]], [[1.2, 0.2, -2.0]]),  # loss exactly at the kink
        ("cosine_similarity", [[1.0, 2.0]], [[0.0, 0.0]]),  # zero prediction: floored regime
        ("cosine_similarity", [[1.0, 2.0]], [[1e-9, 2e-9]]),  # tiny prediction: floored regime
        ("cosine_similarity", [[0.0, 0.0]], [[1.0, 2.0]]),  # zero target: constant loss
    ],
)
def test_gradient_at_kinks_and_floors_equals_tf_autodiff(name, y_true, y_pred):
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    np.testing.assert_allclose(
        getattr(G, name)(y_true, y_pred), tape_gradient(name, y_true, y_pred), rtol=1e-12
    )


def test_hinge_kink_values_spelled_out():
    # margin exactly 1: TF counts the hinge as active -> -t/d
    np.testing.assert_array_equal(G.hinge([[1.0, 0.0]], [[1.0, -1.0]]), [[-0.5, 0.5]])
    # a tie in the max is split equally (TF's reduce_max rule)
    np.testing.assert_array_equal(
        G.categorical_hinge([[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]), [[-1.0, 0.5, 0.5]]
    )


def test_cosine_gradient_in_the_floored_regime_matches_finite_differences():
    y_true, y_pred = np.array([[1.0, 2.0, -1.0]]), np.array([[1e-9, -2e-9, 3e-9]])
    numeric = finite_difference_gradient(L.cosine_similarity, y_true, y_pred, step=1e-12)
    np.testing.assert_allclose(G.cosine_similarity(y_true, y_pred), numeric, rtol=1e-6)


def test_cosine_gradient_is_orthogonal_to_the_prediction():
    y_true, y_pred = _data("cosine_similarity", (5, 4), seed=8)
    grad = G.cosine_similarity(y_true, y_pred)
    np.testing.assert_allclose(np.sum(grad * y_pred, axis=-1), 0.0, atol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", list(CLASS_OF))
def test_mismatched_shapes_strings_and_scalars_are_rejected(name):
    for module in (L, G):
        fn = getattr(module, name)
        with pytest.raises(ValueError, match="y_true and y_pred must have the same shape"):
            fn(np.zeros((4, 3)), np.zeros((4, 2)))
        with pytest.raises(TypeError, match="y_pred"):
            fn([["a"]], [["b"]])
        with pytest.raises(ValueError, match="at least 1-D"):
            fn(1.0, 0.5)
    with pytest.raises(ValueError, match="reduction"):
        getattr(L, CLASS_OF[name])(reduction="auto")
    with pytest.raises(ValueError, match="sample_weight"):
        getattr(L, CLASS_OF[name])()(np.zeros((4, 3)), np.ones((4, 3)), sample_weight=np.ones(3))


@pytest.mark.parametrize("name", ["cosine_similarity", "dice", "tversky"])
def test_bad_axis_is_rejected_in_functions_gradients_and_classes(name):
    y = np.ones((2, 3))
    for fn in (getattr(L, name), getattr(G, name)):
        with pytest.raises(ValueError, match="axis=2 is out of range"):
            fn(y, y, axis=2)
        with pytest.raises(ValueError, match=r"axis=\(1, -1\) repeats"):
            fn(y, y, axis=(1, -1))  # the same axis, only detectable once the rank is known
        with pytest.raises(TypeError, match="axis"):
            fn(y, y, axis=1.0)
    cls = getattr(L, CLASS_OF[name])
    for axis, error in [
        ("1", TypeError),
        (True, TypeError),
        ((1, 1), ValueError),
        ([0, 1.5], TypeError),
    ]:
        with pytest.raises(error, match="axis"):
            cls(axis=axis)
    with pytest.raises(ValueError, match="axis=5 is out of range"):
        cls(axis=5)(y, y)


@pytest.mark.parametrize("argument", ["alpha", "beta"])
@pytest.mark.parametrize(
    "value, error",
    [(-0.1, ValueError), (float("nan"), ValueError), ("0.5", TypeError), (None, TypeError)],
)
def test_tversky_rejects_bad_alpha_and_beta(argument, value, error):
    y = np.ones((2, 3))
    with pytest.raises(error, match=argument):
        L.tversky(y, y, **{argument: value})
    with pytest.raises(error, match=argument):
        G.tversky(y, y, **{argument: value})
    with pytest.raises(error, match=argument):
        L.Tversky(**{argument: value})


# --------------------------------------------------------------------------- deliberate deviations


@pytest.mark.parametrize("class_name", ["Dice", "Tversky"])
def test_deviation_per_sample_weight_on_the_single_whole_batch_value_raises(class_name):
    """Keras multiplies the one axis=None value by every weight and averages (= value * mean(w));
    a per-sample weight cannot mean anything for a whole-batch number, so we raise."""
    y_true, y_pred = _data("dice", (2, 3, 4), seed=9, dtype="float32")
    weight = np.array([1.0, 3.0])
    theirs = keras_class_value(class_name, y_true, y_pred, sample_weight=weight)
    value = getattr(L, class_name)(reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(theirs, value * weight.mean(), rtol=RTOL32)
    with pytest.raises(ValueError, match="sample_weight"):
        getattr(L, class_name)()(y_true, y_pred, sample_weight=weight)
    # A scalar weight is fine, and so is a per-image weight with a per-image axis.
    np.testing.assert_allclose(
        getattr(L, class_name)()(y_true, y_pred, sample_weight=2.0), 2 * value, rtol=1e-6
    )
    per_image = getattr(L, class_name)(axis=(1, 2))(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(
        per_image,
        keras_class_value(class_name, y_true, y_pred, sample_weight=weight, axis=(1, 2)),
        rtol=RTOL32,
    )


@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "categorical_hinge", "dice", "tversky"])
def test_deviation_functions_align_ranks_where_keras_functions_broadcast(name):
    """Keras' hinge/dice/tversky *functions* multiply a (B, 1) y_true by a (B,) y_pred into a
    (B, B) grid; the classes (Keras' and ours) and our functions align the ranks first."""
    y_true = np.array([[1.0], [0.0], [1.0], [1.0]])
    y_pred = np.array([0.8, 0.3, -0.4, 0.9])
    ours = getattr(L, name)(y_true, y_pred)
    aligned = getattr(L, name)(y_true, y_pred[:, None])
    np.testing.assert_allclose(ours, aligned)
    theirs = keras_function_value(name, y_true, y_pred)
    assert theirs.shape != np.shape(ours) or not np.allclose(theirs, ours)
    keras_class = keras_class_value(
        CLASS_OF[name], y_true.astype("float32"), y_pred.astype("float32"), reduction="none"
    )
    np.testing.assert_allclose(
        getattr(L, CLASS_OF[name])(reduction="none")(y_true, y_pred), keras_class, rtol=RTOL32
    )


def test_deviation_mismatched_shapes_raise_where_keras_broadcasts():
    y_true, y_pred = np.ones((4, 1)), np.full((4, 3), 0.5)
    assert np.isfinite(keras_function_value("dice", y_true, y_pred))  # Keras: a number
    with pytest.raises(ValueError, match="same shape"):
        L.dice(y_true, y_pred)


def test_deviation_negative_tversky_weights_raise_where_keras_computes():
    y_true, y_pred = np.array([1.0, 0.0, 1.0]), np.array([0.4, 0.4, 0.4])
    theirs = keras_function_value("tversky", y_true, y_pred, alpha=-0.9, beta=0.1)
    assert float(theirs) > 1  # a "loss" of 4.33, outside [0, 1]
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        L.tversky(y_true, y_pred, alpha=-0.9, beta=0.1)


def test_deviation_axis_out_of_range_is_a_value_error_not_a_backend_error():
    y = np.ones((2, 3))
    with pytest.raises(Exception) as keras_error:
        keras_function_value("dice", y, y, axis=5)
    assert not isinstance(keras_error.value, ValueError)  # TF's InvalidArgumentError
    with pytest.raises(ValueError, match="axis=5 is out of range for an input of rank 2"):
        L.dice(y, y, axis=5)


def test_deviation_cosine_similarity_config_keeps_its_axis():
    """Keras' CosineSimilarity.get_config() drops ``axis``, so a clone silently reverts to -1."""
    theirs = keras.losses.CosineSimilarity(axis=0)
    assert "axis" not in theirs.get_config()
    ours = L.CosineSimilarity(axis=0)
    assert ours.get_config()["axis"] == 0
    assert L.CosineSimilarity.from_config(ours.get_config()).axis == 0


def test_deviation_float64_input_stays_float64_in_classes():
    y_true, y_pred = _data("dice", (2, 3), seed=10)
    assert L.Dice()(y_true, y_pred).dtype == np.float64
    assert keras_class_value("Dice", y_true, y_pred).dtype == np.float32  # Keras casts to floatx
