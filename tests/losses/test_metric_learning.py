"""Metric-learning losses: values, classes, reductions, configs and bad input.

Circle is checked against real Keras 3.15 (``keras.losses.circle``/``Circle``).
Contrastive, triplet (three minings), quadruplet and adaptive-margin triplet are not
in Keras, so each NumPy loss is checked against its Keras twin in
``course_lib.keras_losses`` (written with ``keras.ops``), and the Keras classes are
shown to train a model.  Cases where we deliberately differ from Keras have
``deviation`` in their name and say why.

The gradients are in ``tests/gradients/test_metric_learning.py``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras_reference import (
    ATOL32,
    ATOL64,
    RTOL32,
    RTOL64,
    keras_class_value,
    keras_function_value,
    keras_loss_call,
    keras_ops_value,
    mask_merge_fails_on_torch,
    raises_mask_merge_error,
)
from loss_cases import REDUCTIONS, parameters, weights_for
from metric_learning_cases import (
    BATCH_CASES,
    CIRCLE_OPTIONS,
    EMB,
    batch_case,
    circle_case,
    pair_case,
    reference_set,
    unit_rows,
)

import course_lib.keras_losses as K
from course_lib.gradients import metric_learning as G
from course_lib.losses import metric_learning as M

CLASS_OF = {
    "triplet": "Triplet",
    "quadruplet": "Quadruplet",
    "adaptive_triplet": "AdaptiveTriplet",
    "contrastive": "Contrastive",
}


def keras_values(name, y_true, y_pred, **options):
    return keras_ops_value(getattr(K, name), y_true, y_pred, **options)


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


@pytest.mark.parametrize("options", CIRCLE_OPTIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_circle_class_matches_keras(options, reduction):
    labels, emb = circle_case(12)
    emb = emb.astype(np.float32)
    for kind in ("none", "scalar", "vector", "column"):
        weight = weights_for(kind, len(labels))
        ours = M.Circle(reduction=reduction, **options)(labels, emb, sample_weight=weight)
        if mask_merge_fails_on_torch(weight, mask_shape=(len(labels),)):  # Keras' Circle masks loss > 0
            with raises_mask_merge_error():  # Keras on PyTorch, a scalar weight: see keras_reference
                keras_class_value("Circle", labels, emb, sample_weight=weight, reduction=reduction, **options)
            continue
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
# Circle: signatures, names, configs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module, name", [(M, "circle"), (M, "Circle")])
def test_signature_matches_keras(module, name):
    assert parameters(getattr(module, name)) == parameters(getattr(keras.losses, name))


@pytest.mark.parametrize("cls", [M.Circle])
def test_class_name_and_config_round_trip(cls):
    loss = cls()
    assert loss.name == getattr(keras.losses, cls.__name__)().name
    clone = cls.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


def test_circle_options_are_exposed_as_attributes():
    loss = M.Circle(gamma=32, margin=0.25, remove_diagonal=False)
    assert (loss.gamma, loss.margin, loss.remove_diagonal) == (32.0, 0.25, False)


# --------------------------------------------------------------------------------------
# Circle: bad input, clear errors that name the argument
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
@pytest.mark.parametrize("module", [M, G])
def test_circle_bad_input_raises_a_clear_error(module, y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        module.circle(y_true, y_pred, **kwargs)


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


# --------------------------------------------------------------------------------------
# Circle: deliberate deviations from Keras
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


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet, adaptive triplet: NumPy against the Keras version
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_loss_matches_its_keras_version_float64(name, options, seed):
    labels, emb = batch_case(seed)
    ours = getattr(M, name)(labels, emb, **options)
    assert ours.shape == (10,) and ours.dtype == np.float64 and ours[-1] == 0.0
    np.testing.assert_allclose(ours, keras_values(name, labels, emb, **options), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize(("name", "options"), BATCH_CASES)
def test_batch_loss_matches_its_keras_version_float32(name, options):
    labels, emb = batch_case(2)
    emb = emb.astype(np.float32)
    ours = getattr(M, name)(labels, emb, **options)
    assert ours.dtype == np.float32 and getattr(G, name)(labels, emb, **options).dtype == np.float32
    np.testing.assert_allclose(ours, keras_values(name, labels, emb, **options), rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_contrastive_matches_its_keras_version(margin):
    labels, pairs = pair_case(0)
    np.testing.assert_allclose(
        M.contrastive(labels, pairs, margin=margin),
        keras_values("contrastive", labels, pairs, margin=margin),
        rtol=RTOL64,
        atol=ATOL64,
    )
    column = M.contrastive(labels[:, None], pairs.astype(np.float32), margin=margin)
    assert column.dtype == np.float32 and column.shape == (8,)


def test_contrastive_label_convention_one_is_similar():
    """y = 1: the squared distance; y = 0: the squared shortfall below the margin."""
    pairs = np.array([[[0.0, 0.0], [0.6, 0.8]]] * 2 + [[[0.0, 0.0], [3.0, 4.0]]])
    np.testing.assert_allclose(M.contrastive([1, 0, 0], pairs, margin=2.0), [1.0, 1.0, 0.0])


def test_triplet_minings_on_a_hand_example():
    """Anchors 0..3 on a line; FaceNet's semi-hard negative is further than the positive."""
    emb = np.array([[0.0, 0.0], [0.5, 0.0], [0.6, 0.2], [1.0, 0.0]])
    labels = [0, 0, 1, 1]
    # D: d01=.25, d02=.40, d03=1, d12=.05, d13=.25, d23=.20
    np.testing.assert_allclose(M.triplet(labels, emb, mining="hard"), [0.05, 0.4, 0.35, 0.15], atol=1e-12)
    np.testing.assert_allclose(M.triplet(labels, emb), [0.025, 0.3, 0.175, 0.075], atol=1e-12)
    # anchor 2 (positive 3 at .20): negatives .40 (further) and .05 -> picks .40: .2 - .4 + .2 = 0
    # anchor 1 (positive 0 at .25): no negative further than .25 -> the furthest, .25: hinge .2
    np.testing.assert_allclose(M.triplet(labels, emb, mining="semi-hard"), [0.05, 0.2, 0.0, 0.15], atol=1e-12)


def test_adaptive_margins_average_alpha_and_grow_with_centre_distance():
    labels, emb = batch_case(3)
    margins, centre_distance = M.adaptive_margins(labels, emb, 0.2)
    negative = labels[:, None] != labels[None, :]
    assert np.isclose(margins[negative].mean(), 0.2)
    order = np.argsort(centre_distance[negative])
    assert np.all(np.diff(margins[negative][order]) >= 0)


def test_adaptive_triplet_equals_triplet_when_all_centres_are_equally_far():
    """Three classes on an equilateral triangle: every adaptive margin is alpha."""
    angles = np.array([0.0, 2.0, 4.0]) * np.pi / 3
    corners = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.array([[0.1, 0.05], [-0.1, -0.05]])
    emb = (corners[:, None, :] + offsets[None, :, :]).reshape(6, 2)
    labels = [0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(M.adaptive_margins(np.array(labels), emb, 0.2)[0][0, 2:], 0.2)
    for mining in ("all", "hard"):
        np.testing.assert_allclose(
            M.adaptive_triplet(labels, emb, margin=2.0, mining=mining),
            M.triplet(labels, emb, margin=2.0, mining=mining),
            rtol=1e-12,
        )


def test_quadruplet_second_term_needs_three_classes():
    labels, emb = batch_case(4, classes=2)
    labels[-1] = 0  # two classes only: no pair of negatives of different classes
    np.testing.assert_allclose(
        M.quadruplet(labels, emb, margin2=5.0), M.triplet(labels, emb, mining="hard"), rtol=1e-12
    )


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet, adaptive triplet: classes, reductions, weights, masks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "options"), [BATCH_CASES[0], BATCH_CASES[2], BATCH_CASES[3], BATCH_CASES[6]]
)
def test_batch_classes_match_their_keras_classes(name, options, reduction):
    labels, emb = batch_case(7)
    weights = np.linspace(0.0, 2.0, 10)
    ours_cls, keras_cls = getattr(M, CLASS_OF[name]), getattr(K, CLASS_OF[name])
    for sample_weight in (None, weights, weights[:, None], 0.5):
        ours = ours_cls(reduction=reduction, **options)(
            labels, emb.astype(np.float32), sample_weight=sample_weight
        )
        keras_loss = keras_cls(reduction=reduction, **options)
        # The Keras twins mask the anchors without a positive or a negative, one per sample.
        if mask_merge_fails_on_torch(sample_weight, mask_shape=(len(labels),)):
            with raises_mask_merge_error():  # Keras on PyTorch, a scalar weight: see keras_reference
                keras_loss_call(keras_loss, labels, emb.astype(np.float32), sample_weight)
            continue
        theirs = keras_loss_call(keras_loss, labels, emb.astype(np.float32), sample_weight)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_batch_classes_leave_out_anchors_without_positive_or_negative():
    labels, emb = batch_case(8)
    values = M.triplet(labels, emb)
    valid = M.valid_anchors(labels)
    assert not valid[-1] and valid.sum() < 10
    assert np.isclose(M.Triplet()(labels, emb), values[valid].mean())


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_contrastive_class_matches_its_keras_class(reduction):
    labels, pairs = pair_case(2)
    pairs = pairs.astype(np.float32)
    weights = np.linspace(0.5, 1.5, 8)
    ours = M.Contrastive(margin=0.8, reduction=reduction)(labels, pairs, sample_weight=weights)
    theirs = keras_loss_call(K.Contrastive(margin=0.8, reduction=reduction), labels, pairs, weights)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL32, atol=ATOL32)


def test_classes_keep_their_options_and_keras_config_round_trips():
    assert M.Triplet(margin=0.3, mining="hard").get_config()["mining"] == "hard"
    assert M.Quadruplet().name == "quadruplet" and M.AdaptiveTriplet().name == "adaptive_triplet"
    loss = K.Quadruplet(margin=0.3, margin2=0.05)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, K.Quadruplet) and clone.get_config() == loss.get_config()


def test_keras_classes_train_a_model():
    """Every Keras version is differentiable inside fit() and lowers its loss."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    for loss in (K.Triplet(mining="semi-hard"), K.Quadruplet(), K.AdaptiveTriplet(mining="hard")):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        history = model.fit(x, labels, batch_size=64, epochs=8, verbose=0).history["loss"]
        assert np.all(np.isfinite(history)) and history[-1] < history[0], (loss.name, history)


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet, adaptive triplet: bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [M, G], ids=["loss", "gradient"])
@pytest.mark.parametrize("name", ["triplet", "quadruplet", "adaptive_triplet"])
def test_batch_losses_reject_bad_input(module, name):
    labels, emb = batch_case(9)
    fn = getattr(module, name)
    with pytest.raises(ValueError, match="one label per embedding"):
        fn(labels[:-1], emb)
    with pytest.raises(ValueError, match="y_pred must be 2-D"):
        fn(labels, emb[:, :, None])
    with pytest.raises(ValueError, match="integer labels"):
        fn(labels + 0.5, emb)
    with pytest.raises(TypeError, match="y_pred"):
        fn(labels, np.full(emb.shape, "x"))
    with pytest.raises(ValueError, match="margin must be >= 0"):
        fn(labels, emb, margin=-0.1)


@pytest.mark.parametrize("module", [M, G, K], ids=["loss", "gradient", "keras"])
def test_unknown_mining_is_refused(module):
    labels, emb = batch_case(9)
    with pytest.raises(ValueError, match="mining must be one of"):
        module.triplet(labels, emb, mining="semihard")
    with pytest.raises(ValueError, match="mining must be one of"):
        module.adaptive_triplet(labels, emb, mining="semi-hard")
    with pytest.raises(TypeError, match="mining must be a string"):
        module.triplet(labels, emb, mining=None)


def test_classes_reject_bad_options_at_construction():
    for cls in (M.Triplet, K.Triplet):
        with pytest.raises(ValueError, match="mining"):
            cls(mining="batch-hard")
    for cls in (M.Quadruplet, K.Quadruplet):
        with pytest.raises(ValueError, match="margin2"):
            cls(margin2=-1.0)
    for cls in (M.Contrastive, K.Contrastive):
        with pytest.raises(TypeError, match="margin"):
            cls(margin="1")


@pytest.mark.parametrize("module", [M, G], ids=["loss", "gradient"])
def test_contrastive_rejects_bad_input(module):
    labels, pairs = pair_case(3)
    with pytest.raises(ValueError, match=r"1 \(similar pair\) or 0"):
        module.contrastive(labels * 2, pairs)
    with pytest.raises(ValueError, match=r"shape \(B, 2, D\)"):
        module.contrastive(labels, pairs[:, :1])
    with pytest.raises(ValueError, match="one 0/1 label per pair"):
        module.contrastive(labels[:-1], pairs)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        module.contrastive(labels, pairs, margin=-1.0)
