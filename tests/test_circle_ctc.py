"""Circle (metric learning) and CTC (sequence) losses and gradients, against real Keras 3.15.

Reference values come from ``keras.losses`` and reference gradients from
``tf.GradientTape``; the hand-derived gradients are also checked against
central finite differences of our own loss.  Cases where we deliberately
differ from Keras have ``deviation`` in their name and say why.

CTC note: TensorFlow computes CTC in float32 even for float64 input, so every
CTC comparison uses float32 tolerances.
"""

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

import course_lib.losses as losses
from course_lib.gradients import metric_learning as GM
from course_lib.gradients import sequence as GS
from course_lib.losses import metric_learning as M
from course_lib.losses import sequence as S

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
LOG_TINY_32 = float(np.float32(np.log(1e-307)))  # TF's log(0) stand-in, in float32
EMB = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]  # three unit vectors


# --------------------------------------------------------------------------------------
# Data
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


def ctc_case(seed: int, batch: int = 4, frames: int = 6, classes: int = 5, length: int = 4):
    """Left-aligned, 0-padded labels (with repeats and an empty row) and logits."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(1, classes, (batch, length))
    lengths = rng.integers(0, length + 1, batch)
    lengths[0], lengths[-1] = length, 0
    labels[0, 1] = labels[0, 0]  # an adjacent repeat: needs a blank in between
    labels = np.where(np.arange(length) < lengths[:, None], labels, 0)
    return labels, rng.normal(size=(batch, frames, classes))


# --------------------------------------------------------------------------------------
# Circle: values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
def test_circle_function_matches_keras_float64(seed, options):
    labels, emb = circle_case(seed)
    ours = M.circle(labels, emb, **options)
    assert ours.dtype == np.float64 and ours.shape == (8,)
    np.testing.assert_allclose(
        ours, keras_function_value("circle", labels, emb, **options), rtol=RTOL64, atol=ATOL64
    )


@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
def test_circle_function_matches_keras_float32(options):
    labels, emb = circle_case(2)
    emb = emb.astype(np.float32)
    ours = M.circle(labels, emb, **options)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(
        ours, keras_function_value("circle", labels, emb, **options), rtol=RTOL32, atol=ATOL32
    )


@pytest.mark.parametrize("remove_diagonal", [True, False])
def test_circle_with_a_reference_set_matches_keras(remove_diagonal):
    labels, emb = circle_case(3)
    ref_labels, ref_emb = reference_set(3)
    kwargs = {"ref_labels": ref_labels, "ref_embeddings": ref_emb, "remove_diagonal": remove_diagonal}
    np.testing.assert_allclose(
        M.circle(labels, emb, **kwargs),
        keras_function_value("circle", labels, emb, **kwargs),
        rtol=RTOL64,
        atol=ATOL64,
    )


def test_circle_removes_the_diagonal_by_position_even_with_references():
    """Keras drops the pairs (i, i) of the B x R matrix although they are different vectors."""
    labels, emb = np.array([0, 0, 1]), unit_rows(np.random.default_rng(4), 3, 2)
    ref_labels, ref_emb = np.array([0, 1, 1]), unit_rows(np.random.default_rng(5), 3, 2)
    for remove_diagonal in (True, False):
        kwargs = {"ref_labels": ref_labels, "ref_embeddings": ref_emb, "remove_diagonal": remove_diagonal}
        np.testing.assert_allclose(
            M.circle(labels, emb, **kwargs),
            keras_function_value("circle", labels, emb, **kwargs),
            rtol=RTOL64,
            atol=ATOL64,
        )
    kept = M.circle(labels, emb, ref_labels=ref_labels, ref_embeddings=ref_emb, remove_diagonal=False)
    dropped = M.circle(labels, emb, ref_labels=ref_labels, ref_embeddings=ref_emb)
    assert dropped[0] == 0 < kept[0]  # (0, 0) was sample 0's only positive pair
    assert dropped[2] != kept[2]  # (2, 2) was one of sample 2's positives


def test_circle_labels_are_only_compared_for_equality():
    labels, emb = circle_case(6)
    relabelled = np.array([-7, 3, 1000, 42])[labels % 4]
    np.testing.assert_allclose(
        M.circle(relabelled, emb), keras_function_value("circle", relabelled, emb), rtol=RTOL64, atol=ATOL64
    )
    np.testing.assert_array_equal(M.circle(relabelled, emb), M.circle(labels % 4, emb))


@pytest.mark.parametrize("layout", ["flat", "column", "list", "float"])
def test_circle_label_layouts_match_keras(layout):
    labels, emb = circle_case(7)
    given = {
        "flat": labels,
        "column": labels[:, None],
        "list": labels.tolist(),
        "float": labels.astype(np.float32),
    }[layout]
    np.testing.assert_allclose(
        M.circle(given, emb), keras_function_value("circle", labels, emb), rtol=RTOL64, atol=ATOL64
    )


def test_circle_samples_without_a_positive_or_negative_pair_get_zero():
    """Labels [0, 0, 1, 2]: only the two 0s have a positive pair (the facts' example pattern)."""
    emb = unit_rows(np.random.default_rng(8), 4, 3)
    ours = M.circle([0, 0, 1, 2], emb)
    np.testing.assert_allclose(
        ours, keras_function_value("circle", np.array([0, 0, 1, 2]), emb), rtol=RTOL64, atol=ATOL64
    )
    assert ours[0] > 0 and ours[1] > 0 and ours[2] == 0 and ours[3] == 0
    assert np.all(M.circle([1, 1, 1, 1], emb) == 0)  # no negatives at all
    # The class averages over the samples that have a loss only.
    np.testing.assert_allclose(M.Circle()([0, 0, 1, 2], emb.astype(np.float32)), ours[:2].mean(), rtol=RTOL32)


def test_circle_identical_embeddings_and_large_gamma_stay_finite():
    emb = np.repeat(unit_rows(np.random.default_rng(9), 1, 3), 4, axis=0).astype(np.float32)
    labels = np.array([0, 0, 1, 1])
    ours = M.circle(labels, emb, gamma=1000.0)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(
        ours, keras_function_value("circle", labels, emb, gamma=1000.0), rtol=RTOL32, atol=ATOL32
    )


# --------------------------------------------------------------------------------------
# Circle: class, reductions, sample weights and the loss>0 mask
# --------------------------------------------------------------------------------------


def weights_for(kind: str, n: int):
    rng = np.random.default_rng(11)
    return {"none": None, "scalar": 2.5, "vector": rng.uniform(0, 2, n), "column": rng.uniform(0, 2, (n, 1))}[
        kind
    ]


@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_circle_class_matches_keras(options, reduction):
    labels, emb = circle_case(12)
    emb = emb.astype(np.float32)
    for kind in ("none", "scalar", "vector", "column"):
        weight = weights_for(kind, len(labels))
        ours = M.Circle(reduction=reduction, **options)(labels, emb, sample_weight=weight)
        theirs = keras_class_value(
            "Circle", labels, emb, sample_weight=weight, reduction=reduction, **options
        )
        assert np.shape(ours) == np.shape(theirs), kind
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=kind)
    column = M.Circle(reduction=reduction, **options)(labels[:, None], emb)
    np.testing.assert_allclose(
        column,
        keras_class_value("Circle", labels[:, None], emb, reduction=reduction, **options),
        rtol=RTOL32,
        atol=ATOL32,
    )


def test_circle_class_with_no_positive_pair_anywhere_returns_zero_like_keras():
    emb = unit_rows(np.random.default_rng(13), 3, 2).astype(np.float32)
    for reduction in REDUCTIONS:
        ours = M.Circle(reduction=reduction)([0, 1, 2], emb)
        theirs = keras_class_value("Circle", np.array([0, 1, 2]), emb, reduction=reduction)
        np.testing.assert_allclose(ours, theirs)


def test_circle_class_combines_its_mask_with_a_given_mask():
    labels, emb = circle_case(14)
    mask = np.arange(len(labels)) % 2 == 0
    emb = emb.astype(np.float32)
    for reduction in ("sum_over_batch_size", "mean_with_sample_weight", "none"):
        ours = M.Circle(reduction=reduction)(labels, emb, mask=mask)
        theirs = keras_class_value("Circle", labels, emb, mask=mask, reduction=reduction)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_circle_class_in_float64():
    labels, emb = circle_case(15)
    ours = M.Circle(dtype="float64")(labels, emb)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(
        ours, keras_class_value("Circle", labels, emb, dtype="float64"), rtol=RTOL64, atol=ATOL64
    )


# --------------------------------------------------------------------------------------
# Circle: gradients
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
def test_circle_gradient_matches_tape(options):
    labels, emb = circle_case(16)
    emb = 0.9 * emb  # |e|^2 < 1: the diagonal stays away from the clip at d = 0
    np.testing.assert_allclose(
        GM.circle(labels, emb, **options),
        tape_gradient("circle", labels, emb, **options),
        rtol=1e-9,
        atol=1e-10,
    )


def test_circle_gradient_with_a_reference_set_matches_tape():
    labels, emb = circle_case(17)
    ref_labels, ref_emb = reference_set(17)
    kwargs = {"ref_labels": ref_labels, "ref_embeddings": ref_emb, "gamma": 8.0}
    np.testing.assert_allclose(
        GM.circle(labels, emb, **kwargs),
        tape_gradient("circle", labels, emb, **kwargs),
        rtol=1e-9,
        atol=1e-10,
    )


@pytest.mark.parametrize("options", CIRCLE_OPTIONS + [{"ref": True, "gamma": 4.0}])
def test_circle_gradient_matches_finite_differences(options):
    options = dict(options)
    labels, emb = circle_case(18)
    emb = 0.9 * emb
    if options.pop("ref", False):
        options["ref_labels"], options["ref_embeddings"] = reference_set(18)
    grad = GM.circle(labels, emb, **options)
    numeric = finite_difference_gradient(M.circle, labels, emb, **options)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * np.abs(grad).max())


def test_circle_gradient_where_the_negative_weight_clip_is_active():
    """A negative pair with d > 1 + m has weight 0: no gradient through it (as in Keras)."""
    emb = np.array([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.05]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(
        GM.circle(labels, emb, gamma=3.0),
        tape_gradient("circle", labels, emb, gamma=3.0),
        rtol=1e-9,
        atol=1e-12,
    )


def test_circle_gradient_dtype_and_shape():
    labels, emb = circle_case(19)
    assert GM.circle(labels, emb.astype(np.float32)).dtype == np.float32
    assert GM.circle(labels, emb).shape == emb.shape
    assert GM.circle([0, 1, 1], EMB).dtype == np.float32  # lists compute in float32


def test_circle_gradient_of_samples_without_pairs_is_zero():
    emb = unit_rows(np.random.default_rng(20), 3, 2)
    np.testing.assert_array_equal(GM.circle([0, 1, 2], emb), 0.0)
    np.testing.assert_array_equal(tape_gradient("circle", np.array([0, 1, 2]), emb), 0.0)


# --------------------------------------------------------------------------------------
# CTC: values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, frames, expected",
    [([[1]], 2, -np.log(3 / 9)), ([[1, 2]], 3, -np.log(5 / 27))],
)
def test_ctc_known_values(label, frames, expected):
    uniform = np.zeros((1, frames, 3), dtype=np.float32)
    np.testing.assert_allclose(S.ctc(label, uniform), [expected], rtol=1e-6)
    np.testing.assert_allclose(keras_function_value("ctc", np.array(label), uniform), [expected], rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_function_matches_keras_float32(seed):
    labels, logits = ctc_case(seed, frames=[3, 6, 9][seed])
    logits = (logits * [0.3, 1.0, 4.0][seed]).astype(np.float32)
    ours = S.ctc(labels, logits)
    assert ours.dtype == np.float32 and ours.shape == (4,)
    np.testing.assert_allclose(ours, keras_function_value("ctc", labels, logits), rtol=RTOL32, atol=ATOL32)


def test_ctc_float64_is_computed_in_float64():
    """Keras casts float64 logits to float32 for TF and back; we stay in float64."""
    labels, logits = ctc_case(3)
    ours = S.ctc(labels, logits)
    theirs = keras_function_value("ctc", labels, logits)
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)
    np.testing.assert_allclose(ours, S.ctc(labels, logits.astype(np.float32)), rtol=RTOL32)


def test_ctc_long_sequence_is_stable():
    """p(l|x) underflows far below float32's range; the log-space recursion does not."""
    rng = np.random.default_rng(21)
    labels = rng.integers(1, 6, (2, 30))
    logits = (3.0 * rng.normal(size=(2, 150, 6))).astype(np.float32)
    ours = S.ctc(labels, logits)
    assert np.all(np.isfinite(ours)) and ours.min() > 200
    np.testing.assert_allclose(ours, keras_function_value("ctc", labels, logits), rtol=RTOL32)


def test_ctc_too_few_frames_gives_tf_large_finite_value():
    """T < L + repeats: p = 0; TF (and we) return 706.89 - log P(frames spell a prefix)."""
    labels = np.array([[1, 1, 0], [1, 2, 3], [2, 0, 0]])
    logits = np.random.default_rng(22).normal(size=(3, 2, 4)).astype(np.float32)
    ours = S.ctc(labels, logits)
    np.testing.assert_allclose(ours, keras_function_value("ctc", labels, logits), rtol=RTOL32)
    assert ours[0] > -LOG_TINY_32 and ours[1] > -LOG_TINY_32 and ours[2] < 10
    uniform = np.zeros((1, 2, 3), dtype=np.float32)  # "1 1" in 2 frames: 4 of 9 paths spell a prefix
    np.testing.assert_allclose(S.ctc([[1, 1]], uniform), -LOG_TINY_32 - np.log(4 / 9), rtol=1e-6)


@pytest.mark.parametrize("labels", [[[0, 0, 0]], [[3, 0, 0]], [[3, 3, 3]], [[1, 2, 1]]])
def test_ctc_padding_repeats_and_empty_rows_match_keras(labels):
    logits = np.random.default_rng(23).normal(size=(1, 7, 4)).astype(np.float32)
    np.testing.assert_allclose(
        S.ctc(labels, logits), keras_function_value("ctc", np.array(labels), logits), rtol=RTOL32, atol=ATOL32
    )


def test_ctc_empty_row_is_minus_log_of_all_blanks():
    logits = np.random.default_rng(24).normal(size=(1, 5, 3))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(S.ctc([[0, 0]], logits), [-log_probs[0, :, 0].sum()], rtol=1e-12)


def test_ctc_labels_as_floats_lists_and_ints_agree():
    labels, logits = ctc_case(25)
    logits = logits.astype(np.float32)
    expected = S.ctc(labels, logits)
    np.testing.assert_array_equal(S.ctc(labels.astype(np.float32), logits), expected)
    np.testing.assert_array_equal(S.ctc(labels.tolist(), logits), expected)


# --------------------------------------------------------------------------------------
# CTC: class
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_class_matches_keras(reduction):
    labels, logits = ctc_case(26)
    logits = logits.astype(np.float32)
    for kind in ("none", "scalar", "vector", "column"):
        weight = weights_for(kind, len(labels))
        ours = S.CTC(reduction=reduction)(labels, logits, sample_weight=weight)
        theirs = keras_class_value("CTC", labels, logits, sample_weight=weight, reduction=reduction)
        assert np.shape(ours) == np.shape(theirs), kind
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32, err_msg=kind)


def test_ctc_class_with_a_mask_and_in_float64():
    labels, logits = ctc_case(27)
    mask = np.array([True, False, True, True])
    ours = S.CTC()(labels, logits.astype(np.float32), mask=mask)
    np.testing.assert_allclose(ours, keras_class_value("CTC", labels, logits, mask=mask), rtol=RTOL32)
    ours64 = S.CTC(dtype="float64")(labels, logits)
    assert ours64.dtype == np.float64
    np.testing.assert_allclose(ours64, keras_class_value("CTC", labels, logits, dtype="float64"), rtol=RTOL32)


# --------------------------------------------------------------------------------------
# CTC: gradients
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_ctc_gradient_matches_tape(seed):
    labels, logits = ctc_case(30 + seed, frames=8)
    np.testing.assert_allclose(
        GS.ctc(labels, logits), tape_gradient("ctc", labels, logits), rtol=RTOL32, atol=1e-6
    )


def test_ctc_gradient_matches_finite_differences():
    labels, logits = ctc_case(32, batch=3, frames=5, classes=4, length=3)
    grad = GS.ctc(labels, logits)
    np.testing.assert_allclose(grad, finite_difference_gradient(S.ctc, labels, logits), atol=1e-7)


def test_ctc_gradient_known_value_and_properties():
    uniform = np.zeros((1, 3, 3))
    grad = GS.ctc([[1, 2]], uniform)
    np.testing.assert_allclose(grad, tape_gradient("ctc", np.array([[1, 2]]), uniform), atol=1e-6)
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-12)  # softmax minus a distribution
    assert GS.ctc([[1, 2]], uniform.astype(np.float32)).dtype == np.float32


def test_deviation_ctc_gradient_for_too_few_frames_is_the_derivative_of_the_loss():
    """T too short: TF's gradient also counts alignments that *start* in a wrong state
    (weight 1e-307), which its loss does not, so it is not the derivative of its loss.
    Ours is: it matches finite differences.  For labels that fit, both agree (above)."""
    labels = np.array([[1, 2, 3], [1, 1, 0]])
    logits = np.random.default_rng(33).normal(size=(2, 2, 4))
    grad = GS.ctc(labels, logits)
    np.testing.assert_allclose(grad, finite_difference_gradient(S.ctc, labels, logits), atol=1e-6)
    assert np.abs(grad - tape_gradient("ctc", labels, logits)).max() > 1e-2


# --------------------------------------------------------------------------------------
# API: signatures, names, configs
# --------------------------------------------------------------------------------------


def parameters(obj) -> list[tuple]:
    return [(p.name, p.default, p.kind) for p in inspect.signature(obj).parameters.values()]


@pytest.mark.parametrize("module, name", [(M, "circle"), (M, "Circle"), (S, "ctc"), (S, "CTC")])
def test_signature_matches_keras(module, name):
    assert parameters(getattr(module, name)) == parameters(getattr(keras.losses, name))


def test_gradient_signatures_match_losses_and_exports():
    assert parameters(GM.circle) == parameters(M.circle)
    assert parameters(GS.ctc) == parameters(S.ctc)
    assert {"Circle", "circle"} <= set(M.__all__) and "circle" in GM.__all__
    # every metric-learning loss function has its gradient (the family grew beyond Keras' circle)
    assert {name for name in M.__all__ if name.islower()} == set(GM.__all__)
    assert sorted(S.__all__) == ["CTC", "ctc"] and GS.__all__ == ["ctc"]
    assert isinstance(losses.get("Circle"), M.Circle) and losses.get("ctc") is S.ctc


@pytest.mark.parametrize("cls", [M.Circle, S.CTC])
def test_class_name_and_config_round_trip(cls):
    loss = cls()
    assert loss.name == getattr(keras.losses, cls.__name__)().name
    clone = cls.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


def test_circle_options_are_exposed_as_attributes():
    loss = M.Circle(gamma=32, margin=0.25, remove_diagonal=False)
    assert (loss.gamma, loss.margin, loss.remove_diagonal) == (32.0, 0.25, False)


# --------------------------------------------------------------------------------------
# Bad input: clear errors that name the argument
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, error, match",
    [
        ([0, 0, 1], [1.0, 0.0, 0.0], {}, ValueError, "y_pred must be 2-D"),
        ([0, 0, 1], [[EMB]], {}, ValueError, "y_pred must be 2-D"),
        ([0, 0], EMB, {}, ValueError, "one label per embedding"),
        ([[0, 0], [1, 1], [0, 1]], EMB, {}, ValueError, "y_true must be 1-D"),
        ([0, 0.5, 1], EMB, {}, ValueError, "y_true must hold integer labels"),
        (["a", "b", "c"], EMB, {}, TypeError, "y_true must contain real numbers"),
        ([0, 0, 1], EMB, {"gamma": -1.0}, ValueError, "gamma must be >= 0"),
        ([0, 0, 1], EMB, {"margin": 0.5}, ValueError, r"margin must be in \[0, 0.5\)"),
        ([0, 0, 1], EMB, {"margin": -0.1}, ValueError, "margin must be in"),
        ([0, 0, 1], EMB, {"remove_diagonal": "yes"}, TypeError, "remove_diagonal must be True or False"),
        ([0, 0, 1], EMB, {"ref_labels": [0, 1]}, ValueError, "must be given together"),
        ([0, 0, 1], EMB, {"ref_embeddings": EMB}, ValueError, "must be given together"),
        (
            [0, 0, 1],
            EMB,
            {"ref_labels": [0, 1], "ref_embeddings": [[1.0, 0.0, 0.0]] * 2},
            ValueError,
            "ref_embeddings must have the embedding size",
        ),
        (
            [0, 0, 1],
            EMB,
            {"ref_labels": [0, 1, 1], "ref_embeddings": EMB[:2]},
            ValueError,
            "ref_labels must hold one label per reference",
        ),
        (
            [0, 0, 1],
            EMB,
            {"ref_labels": [0, 1], "ref_embeddings": [1.0, 0.0]},
            ValueError,
            "ref_embeddings must be 2-D",
        ),
    ],
)
@pytest.mark.parametrize("module", [M, GM])
def test_circle_bad_input_raises_a_clear_error(module, y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        module.circle(y_true, y_pred, **kwargs)


LOGITS = np.zeros((2, 4, 3))


@pytest.mark.parametrize(
    "y_true, y_pred, error, match",
    [
        ([1, 2], LOGITS, ValueError, r"y_true must be integer labels of shape \(batch, max_length\)"),
        ([[[1]], [[2]]], LOGITS, ValueError, "y_true must be integer labels"),
        ([[1], [2], [1]], LOGITS, ValueError, r"= \(2, L\)"),
        ([[1], [2]], np.zeros((2, 4)), ValueError, r"logits of shape \(batch, time, classes\)"),
        ([[1], [2]], np.zeros((2, 4, 3, 1)), ValueError, "y_pred must be logits"),
        ([[1], [2]], np.zeros((2, 0, 3)), ValueError, "at least one time step"),
        ([[1, 0, 2], [1, 2, 0]], LOGITS, ValueError, r"row 0 has a 0 before a label \(\[1, 0, 2\]\)"),
        ([[0, 1], [1, 2]], LOGITS, ValueError, "0 is the blank"),
        ([[1, 3], [1, 2]], LOGITS, ValueError, r"y_true must hold class ids in \[0, 2\]"),
        ([[1, -1], [1, 2]], LOGITS, ValueError, "y_true must hold class ids"),
        ([[1.5, 2], [1, 2]], LOGITS, ValueError, "y_true must hold integer class ids"),
        ([[1], [2]], [["a"]], TypeError, "y_pred must contain real numbers"),
    ],
)
@pytest.mark.parametrize("module", [S, GS])
def test_ctc_bad_input_raises_a_clear_error(module, y_true, y_pred, error, match):
    with pytest.raises(error, match=match):
        module.ctc(y_true, y_pred)


@pytest.mark.parametrize(
    "config, error, match",
    [
        ({"gamma": -2.0}, ValueError, "gamma"),
        ({"gamma": "80"}, TypeError, "gamma must be a real number"),
        ({"margin": 0.7}, ValueError, "margin"),
        ({"remove_diagonal": 1}, TypeError, "remove_diagonal"),
        ({"reduction": "auto"}, ValueError, "reduction"),
    ],
)
def test_circle_bad_constructor_argument_raises_early(config, error, match):
    with pytest.raises(error, match=match):
        M.Circle(**config)


def test_ctc_class_errors_name_the_argument():
    with pytest.raises(ValueError, match="reduction"):
        S.CTC(reduction="SUM")
    with pytest.raises(ValueError, match="0 before a label"):
        S.CTC()([[2, 0, 1]], np.zeros((1, 4, 3), np.float32))


# --------------------------------------------------------------------------------------
# Deliberate deviations from Keras
# --------------------------------------------------------------------------------------


def test_deviation_circle_fractional_labels_raise_instead_of_being_truncated():
    emb = np.array(EMB)
    # Keras casts 0.5 -> 0 and computes a loss with labels [0, 0, 1].
    assert np.isfinite(keras_function_value("circle", np.array([0.0, 0.5, 1.0]), emb)).all()
    with pytest.raises(ValueError, match="integer labels"):
        M.circle([0.0, 0.5, 1.0], emb)


def test_deviation_circle_reference_labels_and_embeddings_must_come_together():
    """Keras fills a missing one from the batch (ref_labels=y_true or ref_embeddings=y_pred);
    mixing a reference set with the batch is almost always a mistake, so we refuse.  Pass
    ref_labels=y_true explicitly to compare two views that share labels."""
    labels, emb = circle_case(40)
    other = unit_rows(np.random.default_rng(41), len(labels), emb.shape[1])
    keras_value = keras_function_value("circle", labels, emb, ref_embeddings=other)
    with pytest.raises(ValueError, match="together"):
        M.circle(labels, emb, ref_embeddings=other)
    np.testing.assert_allclose(
        M.circle(labels, emb, ref_labels=labels, ref_embeddings=other), keras_value, rtol=RTOL64, atol=ATOL64
    )


def test_deviation_circle_margin_outside_its_range_raises():
    """Keras computes anything; with m >= 0.5 the positive target distance m is no longer
    below the negative one 1 - m, and m < 0 puts the positive optimum at a negative distance."""
    emb = np.array(EMB)
    assert np.isfinite(keras_function_value("circle", np.array([0, 0, 1]), emb, margin=0.8)).all()
    with pytest.raises(ValueError, match="margin"):
        M.circle([0, 0, 1], emb, margin=0.8)


def test_deviation_ctc_interior_zero_raises_instead_of_being_read_as_a_blank_label():
    """TF takes the first (number of non-zeros) entries: [1, 0, 2] is read as "1, blank",
    so the 2 is never looked at and [1, 0, 3] gives the same number."""
    logits = np.random.default_rng(42).normal(size=(1, 5, 4)).astype(np.float32)
    keras_value = keras_function_value("ctc", np.array([[1, 0, 2]]), logits)
    np.testing.assert_allclose(keras_value, keras_function_value("ctc", np.array([[1, 0, 3]]), logits))
    with pytest.raises(ValueError, match="0 before a label"):
        S.ctc([[1, 0, 2]], logits)


def test_deviation_ctc_out_of_range_labels_raise_instead_of_returning_nonsense():
    logits = np.random.default_rng(43).normal(size=(1, 3, 4)).astype(np.float32)
    assert keras_function_value("ctc", np.array([[5]]), logits)[0] < 0  # a negative "loss"
    with pytest.raises(ValueError, match="class ids"):
        S.ctc([[5]], logits)


def test_deviation_ctc_empty_label_array_is_not_off_by_log_2():
    """For y_true of shape (B, 0) TF counts the start->blank step twice (log 2 too little,
    possibly negative).  We return the true value, which Keras gives for (B, 1) zeros."""
    logits = np.random.default_rng(44).normal(size=(2, 3, 4)).astype(np.float32)
    ours = S.ctc(np.zeros((2, 0), dtype=int), logits)
    np.testing.assert_allclose(ours, keras_function_value("ctc", np.zeros((2, 1), int), logits), rtol=RTOL32)
    np.testing.assert_allclose(
        ours - np.log(2), keras_function_value("ctc", np.zeros((2, 0), int), logits), rtol=RTOL32, atol=ATOL32
    )
    np.testing.assert_allclose(
        GS.ctc(np.zeros((2, 0), dtype=int), logits), GS.ctc(np.zeros((2, 1), dtype=int), logits)
    )
