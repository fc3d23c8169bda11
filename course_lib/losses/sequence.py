r"""Sequence losses: score a whole label sequence against a sequence of frames.

Connectionist Temporal Classification (CTC; Graves et al., 2006) trains a model
that emits one distribution over ``C`` classes per frame, ``T`` frames in all,
when the target is a *shorter* label sequence :math:`l = (l_1, \dots, l_L)` and
nobody says which frame belongs to which label (speech, handwriting).

Class 0 is the **blank**, "no label here".  A frame-level path
:math:`\pi \in \{0,\dots,C-1\}^T` is read by merging repeats and then dropping
blanks (:math:`\mathcal B(1\,1\,0\,1\,2\,2) = 1\,1\,2`); the loss is

.. math:: \ell = -\log p(l \mid x) = -\log \sum_{\pi:\ \mathcal B(\pi) = l}
          \ \prod_{t=1}^{T} y_{t, \pi_t},
          \qquad y_t = \operatorname{softmax}(z_t).

The sum over exponentially many paths is a dynamic programme over the
*extended* label
:math:`l' = (\varnothing, l_1, \varnothing, l_2, \dots, l_L, \varnothing)`,
blanks in between and at both ends, :math:`2L+1` states.  A path moves, each
frame, from state :math:`s` to :math:`s`, :math:`s+1`, or :math:`s+2` -- the
last (skipping a blank) only into a label that differs from the one two states
back, since ``1 1`` needs a blank in between to stay two labels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import as_class_ids, as_float_array
from course_lib.losses.numerics import log_softmax, logsumexp, shift

__all__ = ["CTC", "ctc"]

#: TensorFlow's stand-in for :math:`\log 0` as the weight of ending an alignment
#: in a wrong state: :math:`\log(10^{-307}) \approx -706.89` (see :func:`ctc`).
LOG_TINY = float(np.log(1e-307))


def _ctc_inputs(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(labels (B, L) int64, logits (B, T, C) float)``."""
    logits = as_float_array(y_pred, "y_pred")
    if logits.ndim != 3:
        raise ValueError(
            "y_pred must be logits of shape (batch, time, classes); "
            f"got shape {logits.shape}."
        )
    batch, frames, classes = logits.shape
    if frames == 0 or classes == 0:
        raise ValueError(
            "y_pred needs at least one time step and one class (class 0 is the blank); "
            f"got shape {logits.shape}."
        )
    labels = as_class_ids(y_true, "y_true", classes)
    if labels.ndim != 2 or labels.shape[0] != batch:
        raise ValueError(
            "y_true must be integer labels of shape (batch, max_length) = "
            f"({batch}, L), padded with 0; got shape {labels.shape}."
        )
    is_label = labels != 0
    gaps = ~is_label[:, :-1] & is_label[:, 1:]
    if np.any(gaps):
        row = int(np.nonzero(gaps.any(axis=1))[0][0])
        raise ValueError(
            "y_true must hold each sequence's labels first and its 0-padding after "
            f"them: row {row} has a 0 before a label ({labels[row].tolist()}). "
            "0 is the blank, so it cannot be a label."
        )
    return labels, logits


def _extended_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The lattice of states, each ``(B, S)`` with :math:`S = 2L + 2`.

    State 0 is a silent *start* state (it emits nothing), then come the
    :math:`2L+1` states of :math:`l'`: blanks at odd positions, label
    :math:`l_i` at position :math:`2i`.  Returns

    * ``ext``: the class each state emits (-1 for the start state),
    * ``valid``: states that exist for this sample (:math:`s \le 2n + 1` with
      :math:`n` the label length; the rest is padding),
    * ``skip``: states :math:`s` that may be entered from :math:`s - 2`
      (a label different from the previous label; the first label may be
      entered straight from the start state).
    """
    batch, length = labels.shape
    ext = np.zeros((batch, 2 * length + 2), dtype=np.int64)
    ext[:, 0] = -1
    ext[:, 2::2] = labels
    label_length = np.count_nonzero(labels, axis=1)
    valid = np.arange(ext.shape[1]) <= 2 * label_length[:, None] + 1
    skip = np.zeros_like(valid)
    skip[:, 2::2] = ext[:, 2::2] != ext[:, :-2:2]
    return ext, valid, skip


def _boundary_log_weights(
    valid: np.ndarray, label_length: np.ndarray, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    r"""Log weights of being in each state before the first frame and after the last.

    An alignment starts in the start state and should end in the last label
    or the last blank.  For the other end states TensorFlow uses
    :data:`LOG_TINY` instead of :math:`-\infty`, and so do we; padding states
    get :math:`-\infty`.
    """
    states = np.arange(valid.shape[1])
    initial = np.where(states == 0, dtype.type(0.0), dtype.type(-np.inf))
    initial = np.broadcast_to(initial, valid.shape)
    is_final = (states == 2 * label_length[:, None]) | (
        states == 2 * label_length[:, None] + 1
    )
    outside = np.where(valid, dtype.type(LOG_TINY), dtype.type(-np.inf))
    final = np.where(is_final, dtype.type(0.0), outside)
    return initial, final


def _emission_log_probs(
    log_probs: np.ndarray, ext: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    r""":math:`\log y_{t, l'_s}` of shape ``(T, B, S)``; :math:`-\infty` for the start
    and padding."""
    emitted = np.take_along_axis(log_probs, np.maximum(ext, 0)[:, None, :], axis=2)
    emits = valid & (ext >= 0)
    return np.where(emits[:, None, :], emitted, -np.inf).transpose(1, 0, 2)


def ctc_lattice(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Everything the forward and backward passes need.

    Returns ``(log_probs (B,T,C), ext, skip, emit (T,B,S), initial, final)``.
    """
    labels, logits = _ctc_inputs(y_true, y_pred)
    log_probs = log_softmax(logits)
    ext, valid, skip = _extended_labels(labels)
    initial, final = _boundary_log_weights(
        valid, np.count_nonzero(labels, axis=1), logits.dtype
    )
    emit = _emission_log_probs(log_probs, ext, valid)
    return log_probs, ext, skip, emit, initial, final


def ctc_forward(emit: np.ndarray, skip: np.ndarray, initial: np.ndarray) -> np.ndarray:
    r"""Log forward variables :math:`\log\alpha_t(s)`, shape ``(T + 1, B, S)``.

    :math:`\alpha_0` is ``initial``, then
    :math:`\alpha_t(s) = y_{t,l'_s}\,\bigl(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
    + [\text{skip}_s]\,\alpha_{t-1}(s-2)\bigr)`: the probability of the first
    :math:`t` frames ending in state :math:`s`.
    """
    alpha = np.empty((emit.shape[0] + 1,) + initial.shape, dtype=emit.dtype)
    alpha[0] = initial
    for t in range(emit.shape[0]):
        previous = alpha[t]
        from_skip = np.where(skip, shift(previous, 2), -np.inf)
        arrive = np.logaddexp(np.logaddexp(previous, shift(previous, 1)), from_skip)
        alpha[t + 1] = emit[t] + arrive
    return alpha


def ctc(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""CTC loss :math:`-\log p(l \mid x)` per sequence, by the forward algorithm in
    log space.

    .. math::
        \alpha_t(s) = y_{t,l'_s}\bigl(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
            + [l'_s \ne \varnothing,\ l'_s \ne l'_{s-2}]\ \alpha_{t-1}(s-2)\bigr),
        \qquad
        p(l \mid x) = \alpha_T(|l'|) + \alpha_T(|l'| - 1),

    with :math:`\alpha_1` allowing only the first blank and the first label
    (we put a silent start state before :math:`l'`, with :math:`\alpha_0 = 1`
    there and 0 elsewhere, so that every frame runs the same recursion).
    Everything runs on :math:`\log\alpha` with :math:`\log(e^a + e^b)` =
    ``np.logaddexp(a, b)``, because :math:`\alpha` underflows after a few
    hundred frames.  The time recursion is a loop; batch and states are
    vectorised.

    Parameters
    ----------
    y_true : array of int, shape ``(B, L)``
        Label sequences, **left-aligned and padded with 0**: class 0 is the blank
        and the padding, so it cannot be a label.  The length of a sequence is
        its number of non-zero entries.
    y_pred : array, shape ``(B, T, C)``
        **Logits** (a log-softmax is applied here); all ``T`` frames are used.

    Returns
    -------
    array, shape ``(B,)``

    Notes
    -----
    * **Too few frames.**  A label of length :math:`L` with :math:`r` adjacent
      repeats needs :math:`T \ge L + r`; otherwise :math:`p(l\mid x) = 0`.
      Keras (TensorFlow) does not return :math:`+\infty` then: it lets an
      alignment *end* in a wrong state at the price :math:`10^{-307}`
      (:data:`LOG_TINY` in log space), so the loss is the large finite number
      :math:`706.89 - \log P(\text{the frames spell a prefix of } l)`.  We do
      the same; for a label that fits, the change is far below float rounding.
    * **Empty ``y_true``** of shape ``(B, 0)``: TensorFlow counts the step from
      its start state to the first blank twice and returns :math:`\log 2` too
      little (even negative losses); we return the correct
      :math:`-\sum_t \log y_{t,\varnothing}`, which is also what Keras gives
      for a row of zeros in a ``(B, L >= 1)`` array.
    * **float64.**  TensorFlow computes CTC in float32 and casts the result
      back; we compute float64 input in float64.
    * Stricter than Keras: a 0 *before* a label in a row (TF would silently
      read the label as a blank), labels :math:`\ge C` or negative, and
      fractional labels raise ``ValueError``.

    Gradient: :func:`course_lib.gradients.sequence.ctc`.

    Examples
    --------
    >>> uniform = [[[0., 0., 0.]] * 3]     # T = 3 frames, C = 3, every y = 1/3
    >>> ctc([[1, 2]], uniform)             # 5 of the 27 paths give "1 2"
    array([1.686399], dtype=float32)
    >>> ctc([[1, 1]], [[[0., 0., 0.]] * 2])   # "1 1" needs 3 frames: ~ 707, not inf
    array([707.7045...], dtype=float32)
    """
    _, _, skip, emit, initial, final = ctc_lattice(y_true, y_pred)
    alpha = ctc_forward(emit, skip, initial)
    return -logsumexp(alpha[-1] + final)


class CTC(LossFunctionWrapper):
    """Class form of :func:`ctc`.

    Examples
    --------
    >>> # (-log(6/27) - log(5/27)) / 2
    >>> CTC()([[1, 0], [1, 2]], [[[0., 0., 0.]] * 3] * 2)
    np.float32(1.5952382)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ctc",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)
