"""The CTC loss (sequence) against real Keras 3.15: function values, the class with
every reduction, weights and a mask, signatures and configs, bad input.

TensorFlow computes CTC in float32 even for float64 input, so every comparison uses
float32 tolerances.  Cases where we deliberately differ from Keras have ``deviation``
in their name and say why.  The gradient is in ``tests/gradients/test_sequence.py``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras_reference import ATOL32, BACKEND, RTOL32, keras_class_value, keras_function_value
from loss_cases import REDUCTIONS, parameters, weights_for
from sequence_cases import ctc_case

from course_lib.gradients import sequence as GS
from course_lib.losses import sequence as S

LOG_TINY_32 = float(np.float32(np.log(1e-307)))  # TF's log(0) stand-in, in float32


def _fits(labels: np.ndarray, frames: int) -> np.ndarray:
    """Rows whose label fits in ``frames``: its length plus one blank per adjacent repeat."""
    labels = np.asarray(labels)
    repeats = np.sum((labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] > 0), axis=1)
    return np.sum(labels > 0, axis=1) + repeats <= frames


def assert_keras_ctc_where_the_label_cannot_fit(ours: np.ndarray, theirs: np.ndarray) -> None:
    """p(label) = 0 (too few frames): each backend has its own stand-in for -log 0
    (measured, Keras 3.15).  TensorFlow: 706.89 - log P(the frames spell a prefix), about
    708, which we follow; JAX: its log-zero is -1e5, so about 1e5; PyTorch
    (``torch.nn.functional.ctc_loss``): inf."""
    if BACKEND == "tensorflow":
        np.testing.assert_allclose(ours, theirs, rtol=RTOL32)
    elif BACKEND == "jax":
        np.testing.assert_allclose(theirs, 1e5, rtol=1e-4)
    else:
        assert np.all(np.isposinf(theirs))


# --------------------------------------------------------------------------------------
# Values
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
    theirs = keras_function_value("ctc", labels, logits)
    fits = _fits(labels, logits.shape[1])  # seed 0: the first label (4 + a repeat) needs 5 frames of 3
    np.testing.assert_allclose(ours[fits], theirs[fits], rtol=RTOL32, atol=ATOL32)
    assert_keras_ctc_where_the_label_cannot_fit(ours[~fits], theirs[~fits])


def test_ctc_float64_is_computed_in_float64():
    """Keras casts float64 logits to float32 for TF and back; we stay in float64."""
    labels, logits = ctc_case(3)
    ours = S.ctc(labels, logits)
    theirs = keras_function_value("ctc", labels, logits)
    assert ours.dtype == np.float64
    # On JAX and PyTorch Keras returns the float32 result as it is.
    assert theirs.dtype == (np.float64 if BACKEND == "tensorflow" else np.float32)
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
    theirs = keras_function_value("ctc", labels, logits)
    assert list(_fits(labels, 2)) == [False, False, True]
    assert_keras_ctc_where_the_label_cannot_fit(ours[:2], theirs[:2])
    np.testing.assert_allclose(ours[2], theirs[2], rtol=RTOL32)
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
# Class
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
# API: signatures, names, configs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module, name", [(S, "ctc"), (S, "CTC")])
def test_signature_matches_keras(module, name):
    assert parameters(getattr(module, name)) == parameters(getattr(keras.losses, name))


@pytest.mark.parametrize("cls", [S.CTC])
def test_class_name_and_config_round_trip(cls):
    loss = cls()
    assert loss.name == getattr(keras.losses, cls.__name__)().name
    clone = cls.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


# --------------------------------------------------------------------------------------
# Bad input: clear errors that name the argument
# --------------------------------------------------------------------------------------

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


def test_ctc_class_errors_name_the_argument():
    with pytest.raises(ValueError, match="reduction"):
        S.CTC(reduction="SUM")
    with pytest.raises(ValueError, match="0 before a label"):
        S.CTC()([[2, 0, 1]], np.zeros((1, 4, 3), np.float32))


# --------------------------------------------------------------------------------------
# Deliberate deviations from Keras
# --------------------------------------------------------------------------------------


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
    # TensorFlow and JAX return a negative "loss" (-0.333 for this input).  Keras is not
    # called on PyTorch: torch.nn.functional.ctc_loss does not check class ids on the CPU
    # and reads memory past the logits (measured for this input: 0.87, then 0.87, then
    # -1.3e31 in one process), which no test can assert on.
    if BACKEND != "torch":
        assert keras_function_value("ctc", np.array([[5]]), logits)[0] < 0
    with pytest.raises(ValueError, match="class ids"):
        S.ctc([[5]], logits)


def test_deviation_ctc_empty_label_array_is_not_off_by_log_2():
    """For y_true of shape (B, 0) TF counts the start->blank step twice (log 2 too little,
    possibly negative).  We return the true value, which Keras gives for (B, 1) zeros."""
    logits = np.random.default_rng(44).normal(size=(2, 3, 4)).astype(np.float32)
    ours = S.ctc(np.zeros((2, 0), dtype=int), logits)
    np.testing.assert_allclose(ours, keras_function_value("ctc", np.zeros((2, 1), int), logits), rtol=RTOL32)
    # TensorFlow's kernel is off by log 2; JAX's and PyTorch's give the true value, as we do.
    off_by = np.log(2) if BACKEND == "tensorflow" else 0.0
    np.testing.assert_allclose(
        ours - off_by, keras_function_value("ctc", np.zeros((2, 0), int), logits), rtol=RTOL32, atol=ATOL32
    )
    np.testing.assert_allclose(
        GS.ctc(np.zeros((2, 0), dtype=int), logits), GS.ctc(np.zeros((2, 1), dtype=int), logits)
    )
