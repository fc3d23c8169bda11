r"""Gradient of the CTC loss with respect to the logits, by the forward-backward algorithm.

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
softmax cross-entropy gradient, with a soft, computed target.  Everything is
done in log space.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.losses.sequence import (
    _ctc_lattice,
    _forward,
    _logsumexp_states,
    _shift,
)

__all__ = ["ctc"]


def _backward(emit: np.ndarray, skip: np.ndarray, final: np.ndarray) -> np.ndarray:
    r"""Log backward variables :math:`\log\beta_t(s)`, shape ``(T + 1, B, S)``.

    ``emit`` is :math:`\log y_{t,l'_s}` for frames :math:`1..T` (index ``t - 1``).
    """
    beta = np.empty((emit.shape[0] + 1,) + final.shape, dtype=emit.dtype)
    beta[-1] = final
    for t in range(emit.shape[0], 0, -1):
        leave = emit[t - 1] + beta[t]  # emit frame t in state s', then finish
        to_skip = _shift(np.where(skip, leave, -np.inf), -2)
        beta[t - 1] = np.logaddexp(np.logaddexp(leave, _shift(leave, -1)), to_skip)
    return beta


def ctc(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of :math:`\sum_b` CTC loss with respect to the logits ``y_pred``, ``(B, T, C)``.

    .. math::
        \frac{\partial \ell}{\partial z_{t,k}} = \operatorname{softmax}(z_t)_k
        - \sum_{s:\ l'_s = k} \exp\bigl(\log\alpha_t(s) + \log\beta_t(s) - \log p\bigr)

    (derivation in the module docstring).

    For a label too long for the ``T`` frames this is the derivative of the
    large finite loss of :func:`course_lib.losses.sequence.ctc`: it raises the
    probability of spelling a prefix of the label.  TensorFlow's gradient there
    is *not* the derivative of its own loss -- it also counts alignments that
    start in a wrong state at the price :math:`10^{-307}` -- so ours differs
    from ``tf.GradientTape`` in that case only.

    >>> ctc([[1]], [[[0., 0., 0.]] * 2])   # paths 1 1, 0 1, 1 0: blank used 1/3, "1" 2/3
    array([[[ 0.       , -0.3333333,  0.3333333],
            [ 0.       , -0.3333333,  0.3333333]]], dtype=float32)
    """
    log_probs, ext, skip, emit, initial, final = _ctc_lattice(y_true, y_pred)
    alpha = _forward(emit, skip, initial)
    beta = _backward(emit, skip, final)
    log_p = _logsumexp_states(alpha[-1] + final)
    occupancy = np.exp(alpha[1:] + beta[1:] - log_p[None, :, None])  # (T, B, S)
    classes = np.arange(log_probs.shape[-1])
    emits_class = (ext[:, :, None] == classes).astype(log_probs.dtype)  # (B, S, C)
    used = np.einsum("tbs,bsc->btc", occupancy, emits_class)
    return (np.exp(log_probs) - used).astype(log_probs.dtype, copy=False)
