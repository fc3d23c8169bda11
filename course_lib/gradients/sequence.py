r"""Gradient of the CTC loss w.r.t. the logits, by the forward-backward algorithm.

The forward variable :math:`\alpha_t(s)` (see :func:`course_lib.losses.sequence.ctc`)
sums the paths over frames :math:`1..t` that end in state :math:`s`; the
backward variable :math:`\beta_t(s)` sums the ways to finish frames
:math:`t+1..T` from state :math:`s`:

.. math::
    \beta_T(s) = \text{end weight of } s, \qquad
    \beta_{t-1}(s) = \sum_{s' \in \{s,\ s+1,\ s+2\}} y_{t,l'_{s'}}\,\beta_t(s')
    \quad (s+2 \text{ only where the skip is allowed}).

Then :math:`\alpha_t(s)\beta_t(s)` sums the paths that sit in state :math:`s`
at frame :math:`t`, and :math:`\sum_s \alpha_t(s)\beta_t(s) = p` for every
:math:`t`.  Each path is a product with exactly one factor :math:`y_{t,k}` per
frame, so :math:`\partial \log p/\partial \log y_{t,k} = \frac1p\sum_{s:\,l'_s = k}
\alpha_t(s)\beta_t(s)`, the expected share of paths emitting class :math:`k` at
frame :math:`t`.  Through the softmax (:math:`\partial\log y_{t,j}/\partial z_{t,k}
= [j=k] - y_{t,k}`, and those shares sum to 1 over :math:`k`):

.. math::
    \frac{\partial\,(-\log p)}{\partial z_{t,k}}
    = y_{t,k} - \frac{1}{p}\sum_{s:\ l'_s = k} \alpha_t(s)\,\beta_t(s).

"What the model predicts minus what the alignments use": the same shape as the
softmax cross-entropy gradient, with a soft, computed target.

Everything is done in log space, and each frame of :math:`\log\alpha` and
:math:`\log\beta` is shifted so that its largest entry is 0.  Unshifted,
:math:`\log\alpha_t` falls by a few units per frame, to about -600 at
:math:`T = 200`; float32 then rounds it to steps of about :math:`4\times10^{-5}`,
and :math:`\log\alpha + \log\beta - \log p` cancels three such numbers,
which left the float32 gradient :math:`3` to :math:`8\times10^{-4}` from the
float64 one.  Shifted, the numbers stay near 0 and the error is
:math:`2\times10^{-6}` to :math:`1.3\times10^{-5}`, as for TensorFlow's float32
kernel (:math:`4\times10^{-6}` to :math:`10^{-5}`; measured on random logits,
:math:`B = 4`, :math:`C = 20`, in ``tests/gradients/test_sequence.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.losses.numerics import shift
from course_lib.losses.sequence import ctc_lattice

__all__ = ["ctc"]


def _peak_normalised(log_x: np.ndarray) -> np.ndarray:
    """Subtract each row's largest entry over the states (last axis), so the peak is 0.

    A row with no finite entry (no state reachable) is left as it is.
    """
    peak = np.max(log_x, axis=-1, keepdims=True)
    return log_x - np.where(np.isfinite(peak), peak, 0.0).astype(log_x.dtype)


def scaled_forward(
    emit: np.ndarray, skip: np.ndarray, initial: np.ndarray
) -> np.ndarray:
    r"""Forward variables rescaled per frame:
    :math:`\log\alpha_t(s) - \max_{s'}\log\alpha_t(s')`.

    The recursion of :func:`course_lib.losses.sequence.ctc_forward` is linear in
    :math:`\alpha_{t-1}`, so dividing a frame by any constant :math:`c_t` only
    divides every later frame by it too.  Rescaling keeps the peak at
    :math:`\log 1 = 0` instead of letting :math:`\log\alpha_t` drift to
    about :math:`-3t`, where float32 has an absolute spacing of
    :math:`|\log\alpha_t| \cdot 6\times10^{-8}` (:math:`4\times10^{-5}` at
    :math:`-600`).  Shape ``(T + 1, B, S)``.
    """
    alpha = np.empty((emit.shape[0] + 1,) + initial.shape, dtype=emit.dtype)
    alpha[0] = initial
    for t in range(emit.shape[0]):
        previous = alpha[t]
        from_skip = np.where(skip, shift(previous, 2), -np.inf)
        arrive = np.logaddexp(np.logaddexp(previous, shift(previous, 1)), from_skip)
        alpha[t + 1] = _peak_normalised(emit[t] + arrive)
    return alpha


def scaled_backward(
    emit: np.ndarray, skip: np.ndarray, final: np.ndarray
) -> np.ndarray:
    r"""Backward variables :math:`\log\beta_t(s)`, rescaled per frame like
    :func:`scaled_forward`.

    :math:`\beta_T` is the end weight of each state, then
    :math:`\beta_{t-1}(s) = \sum_{s'} y_{t,l'_{s'}}\beta_t(s')` over
    :math:`s' \in \{s, s+1, s+2\}` (:math:`s+2` where the skip is allowed).
    ``emit`` holds :math:`\log y_{t,l'_s}` for frames :math:`1..T` (index ``t - 1``).
    Shape ``(T + 1, B, S)``.
    """
    beta = np.empty((emit.shape[0] + 1,) + final.shape, dtype=emit.dtype)
    beta[-1] = _peak_normalised(final)
    for t in range(emit.shape[0], 0, -1):
        leave = emit[t - 1] + beta[t]  # emit frame t in state s', then finish
        to_skip = shift(np.where(skip, leave, -np.inf), -2)
        beta[t - 1] = _peak_normalised(
            np.logaddexp(np.logaddexp(leave, shift(leave, -1)), to_skip)
        )
    return beta


def state_posteriors(log_alpha: np.ndarray, log_beta: np.ndarray) -> np.ndarray:
    r"""Share of the probability in each state per frame,
    :math:`\alpha_t(s)\beta_t(s)/p`.

    Since :math:`\sum_s \alpha_t(s)\beta_t(s) = p` at *every* frame, the
    posterior is a softmax over the states of :math:`\log\alpha_t + \log\beta_t`,
    frame by frame; the per-frame scales of :func:`scaled_forward` and
    :func:`scaled_backward` cancel, and :math:`\log p` is never needed.
    """
    log_joint = log_alpha + log_beta
    shares = np.exp(_peak_normalised(log_joint))
    return shares / np.sum(shares, axis=-1, keepdims=True)


def ctc(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of :math:`\sum_b` CTC loss w.r.t. the logits ``y_pred``, ``(B, T, C)``.

    .. math::
        \frac{\partial \ell}{\partial z_{t,k}} = \operatorname{softmax}(z_t)_k
        - \sum_{s:\ l'_s = k} \gamma_t(s),
        \qquad
        \gamma_t(s) = \frac{\alpha_t(s)\beta_t(s)}{\sum_{s'}\alpha_t(s')\beta_t(s')}
                    = \frac{\alpha_t(s)\beta_t(s)}{p}

    (derivation in ``help(course_lib.gradients.sequence)``).
    :math:`\gamma_t` is computed frame by frame as a softmax of
    :math:`\log\alpha_t + \log\beta_t` over the
    states, from per-frame rescaled :math:`\alpha` and :math:`\beta`, so that
    float32 input gives a float32 gradient within about :math:`10^{-5}` of the
    float64 one at :math:`T = 200`, as accurate as TensorFlow's float32 kernel.

    For a label too long for the ``T`` frames this is the derivative of the
    large finite loss of :func:`course_lib.losses.sequence.ctc`: it raises the
    probability of spelling a prefix of the label.  TensorFlow's gradient there
    is *not* the derivative of its own loss -- it also counts alignments that
    start in a wrong state at the price :math:`10^{-307}` -- so ours differs
    from ``tf.GradientTape`` in that case only.

    >>> # paths 1 1, 0 1, 1 0: blank used 1/3, "1" 2/3
    >>> ctc([[1]], [[[0., 0., 0.]] * 2])
    array([[[ 0.       , -0.3333333,  0.3333333],
            [ 0.       , -0.3333333,  0.3333333]]], dtype=float32)
    """
    log_probs, ext, skip, emit, initial, final = ctc_lattice(y_true, y_pred)
    alpha = scaled_forward(emit, skip, initial)
    beta = scaled_backward(emit, skip, final)
    occupancy = state_posteriors(alpha[1:], beta[1:])  # (T, B, S)
    classes = np.arange(log_probs.shape[-1])
    emits_class = (ext[:, :, None] == classes).astype(log_probs.dtype)  # (B, S, C)
    used = np.einsum("tbs,bsc->btc", occupancy, emits_class)
    return (np.exp(log_probs) - used).astype(log_probs.dtype, copy=False)
