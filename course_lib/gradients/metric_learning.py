r"""Gradient of the Circle loss with respect to the embeddings ``y_pred``.

Write :math:`S = \hat Y R^\top` for the ``(B, R)`` matrix of dot products,
:math:`d = \max(1 - S, 0)`, :math:`a_i = \operatorname{LSE}_{j\in P_i} s^p_{ij}`,
:math:`b_i = \operatorname{LSE}_{k\in N_i} s^n_{ik}` and
:math:`\ell_i = \operatorname{softplus}(a_i + b_i)`.  The chain rule, link by link:

1. :math:`\partial \ell_i / \partial a_i = \partial \ell_i / \partial b_i = \sigma(a_i + b_i)`.
2. :math:`\partial a_i / \partial s^p_{ij} = \pi^p_{ij}`, the softmax of :math:`s^p_{i\cdot}`
   over :math:`P_i` (likewise :math:`\pi^n` over :math:`N_i`).
3. The weights depend on :math:`d` too, and Keras lets the gradient flow through them:

   * :math:`s^p = -\gamma (m+d)(m-d) = \gamma(d^2 - m^2)`, so
     :math:`\partial s^p/\partial d = 2\gamma d` (with :math:`m, d \ge 0` the clip
     :math:`[m+d]_+` never binds);
   * :math:`s^n = \gamma (1+m-d)(1-m-d) = \gamma\bigl((1-d)^2 - m^2\bigr)` while
     :math:`d \le 1+m`, so :math:`\partial s^n/\partial d = -2\gamma(1-d)` there and
     0 where the clip :math:`[1+m-d]_+` is active.
4. :math:`\partial d/\partial S = -1` where :math:`S \le 1`, else 0 (the clip at 0).

Collecting them in the ``(B, R)`` matrix

.. math::
    G_{ij} = -\sigma(a_i + b_i)\Bigl(\pi^p_{ij}\,\frac{\partial s^p_{ij}}{\partial d}
    + \pi^n_{ij}\,\frac{\partial s^n_{ij}}{\partial d}\Bigr)\,[S_{ij} \le 1]

gives :math:`\partial \sum_i \ell_i / \partial \hat Y = G R`, plus :math:`G^\top \hat Y`
when the batch is its own reference set (then :math:`\hat Y` sits on both sides
of :math:`S = \hat Y \hat Y^\top`).  A sample with an empty :math:`P_i` or
:math:`N_i` has a constant loss 0 and contributes nothing.  At a tie
(:math:`S_{ij} = 1`, :math:`d_{ij} = 1+m`) we take the side TensorFlow's
``maximum`` takes: the gradient flows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.losses.metric_learning import (
    _check_circle_options,
    _circle_inputs,
    _circle_logits,
    _logsumexp_rows,
    _pair_masks,
)

__all__ = ["circle"]


def _softmax_rows(logits: np.ndarray, lse: np.ndarray) -> np.ndarray:
    r""":math:`e^{x_{ij} - \operatorname{LSE}_i}`; 0 for masked pairs and for empty rows."""
    finite = np.isfinite(lse)[:, None]
    with np.errstate(invalid="ignore"):
        return np.where(finite, np.exp(logits - np.where(finite, lse[:, None], 0.0)), 0.0)


def circle(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ref_labels: ArrayLike | None = None,
    ref_embeddings: ArrayLike | None = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` circle loss with respect to ``y_pred``, shape ``(B, D)``.

    :math:`\partial/\partial\hat Y = G R\;(+\,G^\top\hat Y` without references), with
    :math:`G_{ij} = -\sigma(a_i+b_i)\,\bigl(2\gamma d_{ij}\,\pi^p_{ij}
    - 2\gamma(1-d_{ij})[d_{ij}\le 1+m]\,\pi^n_{ij}\bigr)\,[S_{ij}\le 1]`
    (derivation in the module docstring).  The references, when given, are
    constants.

    >>> y_pred = [[1., 0.], [0.6, 0.8], [0., 1.]]
    >>> circle([0, 0, 1], y_pred, gamma=2.0)
    array([[-1.09804..., -1.46406...],
           [-1.83007...,  2.31398...],
           [ 1.38839...,  1.85119...]], dtype=float32)
    """
    gamma, margin, remove_diagonal = _check_circle_options(gamma, margin, remove_diagonal)
    self_reference = ref_embeddings is None
    labels, embeddings, ref_labels, ref_embeddings = _circle_inputs(
        y_true, y_pred, ref_labels, ref_embeddings
    )
    dot = embeddings @ ref_embeddings.T
    distance = np.maximum(1.0 - dot, 0.0)
    positive, negative = _pair_masks(labels, ref_labels, remove_diagonal)
    pos_logits, neg_logits = _circle_logits(distance, positive, negative, gamma, margin)
    pos_lse, neg_lse = _logsumexp_rows(pos_logits), _logsumexp_rows(neg_logits)

    # Link 1: d softplus(a + b) = sigmoid(a + b), written to be 0 at -inf.
    sigma = np.exp(-np.logaddexp(0.0, -(pos_lse + neg_lse)))
    # Links 2 and 3: softmax weight times the slope of each pair logit in d.
    pos_slope = 2.0 * gamma * distance
    neg_slope = np.where(1.0 + margin - distance >= 0, -2.0 * gamma * (1.0 - distance), 0.0)
    d_loss_d_distance = sigma[:, None] * (
        _softmax_rows(pos_logits, pos_lse) * pos_slope + _softmax_rows(neg_logits, neg_lse) * neg_slope
    )
    # Link 4: d = max(1 - S, 0).
    grad_dot = np.where(dot <= 1.0, -d_loss_d_distance, 0.0).astype(embeddings.dtype)

    grad = grad_dot @ ref_embeddings
    if self_reference:
        grad = grad + grad_dot.T @ embeddings
    return grad.astype(embeddings.dtype, copy=False)
