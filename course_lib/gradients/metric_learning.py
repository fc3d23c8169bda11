r"""Gradient of the Circle loss with respect to the embeddings ``y_pred``.

Write :math:`S = \hat Y R^\top` for the ``(B, R)`` matrix of dot products,
:math:`d = \max(1 - S, 0)`, :math:`a_i = \operatorname{LSE}_{j\in P_i} s^p_{ij}`,
:math:`b_i = \operatorname{LSE}_{k\in N_i} s^n_{ik}` and
:math:`\ell_i = \operatorname{softplus}(a_i + b_i)`.  The chain rule, link by link:

1. :math:`\partial \ell_i / \partial a_i = \partial \ell_i / \partial b_i
   = \sigma(a_i + b_i)`.
2. :math:`\partial a_i / \partial s^p_{ij} = \pi^p_{ij}`, the softmax of
   :math:`s^p_{i\cdot}` over :math:`P_i` (likewise :math:`\pi^n` over :math:`N_i`).
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

from course_lib.losses import metric_learning as losses
from course_lib.losses._validation import as_float_array, validates_options
from course_lib.losses.metric_learning import (
    adaptive_margins,
    as_batch_inputs,
    as_circle_inputs,
    batch_all,
    batch_hard,
    circle_logits,
    pair_masks,
    quadruplet_parts,
    same_label_masks,
    semi_hard,
)
from course_lib.losses.metric_learning import contrastive as _contrastive_values
from course_lib.losses.numerics import logsumexp, squared_distances

__all__ = ["adaptive_triplet", "circle", "contrastive", "quadruplet", "triplet"]


def _softmax_rows(logits: np.ndarray, lse: np.ndarray) -> np.ndarray:
    r""":math:`e^{x_{ij} - \operatorname{LSE}_i}`; 0 for masked pairs and empty rows."""
    finite = np.isfinite(lse)[:, None]
    with np.errstate(invalid="ignore"):
        return np.where(
            finite, np.exp(logits - np.where(finite, lse[:, None], 0.0)), 0.0
        )


@validates_options(**losses.circle.option_checks)
def circle(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ref_labels: ArrayLike | None = None,
    ref_embeddings: ArrayLike | None = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` circle loss w.r.t. ``y_pred``, shape ``(B, D)``.

    :math:`\partial/\partial\hat Y = G R\;(+\,G^\top\hat Y` without references), with
    :math:`G_{ij} = -\sigma(a_i+b_i)\,\bigl(2\gamma d_{ij}\,\pi^p_{ij}
    - 2\gamma(1-d_{ij})[d_{ij}\le 1+m]\,\pi^n_{ij}\bigr)\,[S_{ij}\le 1]`
    (derivation in ``help(course_lib.gradients.metric_learning)``).  The
    references, when given, are constants.

    >>> y_pred = [[1., 0.], [0.6, 0.8], [0., 1.]]
    >>> circle([0, 0, 1], y_pred, gamma=2.0)
    array([[-1.09804..., -1.46406...],
           [-1.83007...,  2.31398...],
           [ 1.38839...,  1.85119...]], dtype=float32)
    """
    self_reference = ref_embeddings is None
    labels, embeddings, ref_labels, ref_embeddings = as_circle_inputs(
        y_true, y_pred, ref_labels, ref_embeddings
    )
    dot = embeddings @ ref_embeddings.T
    distance = np.maximum(1.0 - dot, 0.0)
    positive, negative = pair_masks(labels, ref_labels, remove_diagonal)
    pos_logits, neg_logits = circle_logits(distance, positive, negative, gamma, margin)
    pos_lse, neg_lse = logsumexp(pos_logits), logsumexp(neg_logits)

    # Link 1: d softplus(a + b) = sigmoid(a + b), written to be 0 at -inf.
    sigma = np.exp(-np.logaddexp(0.0, -(pos_lse + neg_lse)))
    # Links 2 and 3: softmax weight times the slope of each pair logit in d.
    pos_slope = 2.0 * gamma * distance
    neg_slope = np.where(
        1.0 + margin - distance >= 0, -2.0 * gamma * (1.0 - distance), 0.0
    )
    d_loss_d_distance = sigma[:, None] * (
        _softmax_rows(pos_logits, pos_lse) * pos_slope
        + _softmax_rows(neg_logits, neg_lse) * neg_slope
    )
    # Link 4: d = max(1 - S, 0).
    grad_dot = np.where(dot <= 1.0, -d_loss_d_distance, 0.0).astype(embeddings.dtype)

    grad = grad_dot @ ref_embeddings
    if self_reference:
        grad = grad + grad_dot.T @ embeddings
    return grad.astype(embeddings.dtype, copy=False)


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet and adaptive-margin triplet
# --------------------------------------------------------------------------------------


@validates_options(**losses.contrastive.option_checks)
def contrastive(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 1.0
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` contrastive loss w.r.t. the pairs ``y_pred``
    ``(B, 2, D)``.

    With :math:`u_i = a_i - b_i`, :math:`d_i = \lVert u_i\rVert` and
    :math:`\ell_i = y_i d_i^2 + (1-y_i)[m-d_i]_+^2`:
    :math:`\partial d_i^2/\partial a_i = 2u_i` and
    :math:`\partial [m-d_i]_+^2/\partial a_i = -2[m-d_i]_+\,u_i/d_i`, so

    .. math::
        \frac{\partial \ell_i}{\partial a_i}
        = 2\Bigl(y_i - (1-y_i)\frac{[m-d_i]_+}{d_i}\Bigr)u_i
        = -\frac{\partial \ell_i}{\partial b_i}.

    At :math:`d_i = 0` the dissimilar term has no derivative (the distance has a
    cone there); we return 0, as the Keras version does.

    >>> pairs = [[[0., 0.], [0.6, 0.8]], [[0., 0.], [0.3, 0.4]]]
    >>> print(contrastive([1, 0], pairs).round(4))
    [[[-1.2 -1.6]
      [ 1.2  1.6]]
    <BLANKLINE>
     [[ 0.6  0.8]
      [-0.6 -0.8]]]
    """
    _contrastive_values(y_true, y_pred, margin)  # validates every argument
    pairs = as_float_array(y_pred, "y_pred")
    labels = as_float_array(y_true, "y_true", pairs.dtype).reshape(-1)
    difference = pairs[:, 0] - pairs[:, 1]
    distance = np.sqrt(np.sum(difference**2, axis=-1))
    shortfall = np.maximum(margin - distance, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        push = np.where(distance > 0, shortfall / distance, 0.0)
    coefficient = 2.0 * (labels - (1.0 - labels) * push)
    grad_a = coefficient[:, None] * difference
    return np.stack([grad_a, -grad_a], axis=1).astype(pairs.dtype, copy=False)


def through_squared_distances(
    coefficient: np.ndarray, embeddings: np.ndarray
) -> np.ndarray:
    r"""Turn :math:`C_{ij} = \partial L/\partial D_{ij}` into
    :math:`\partial L/\partial E`.

    From :math:`\partial D_{ij}/\partial e_k = 2(e_i - e_j)(\delta_{ik} - \delta_{jk})`,

    .. math::
        \frac{\partial L}{\partial e_k} = 2\Bigl(\sum_j C_{kj} + \sum_i C_{ik}\Bigr)e_k
        - 2\sum_j (C_{kj} + C_{jk})\,e_j .
    """
    symmetric = coefficient + coefficient.T
    grad = 2.0 * (symmetric.sum(axis=1)[:, None] * embeddings - symmetric @ embeddings)
    return grad.astype(embeddings.dtype, copy=False)


def triplet_coefficients(
    distance: np.ndarray,
    positive: np.ndarray,
    negative: np.ndarray,
    margins,
    mining: str,
) -> np.ndarray:
    r""":math:`C = \partial\sum_i\ell_i/\partial D` for the three minings (margins
    constant)."""
    batch = distance.shape[0]
    rows = np.arange(batch)
    coefficient = np.zeros_like(distance)
    if mining == "all":
        _, active, count = batch_all(distance, positive, negative, margins)
        weight = active / np.maximum(count, 1)[:, None, None]  # d l_i / d h_ipn
        coefficient += weight.sum(axis=2)  # + D_ip
        coefficient -= weight.sum(axis=1)  # - D_in
    elif mining == "hard":
        _, hardest_positive, hardest_negative, active = batch_hard(
            distance, positive, negative, margins
        )
        np.add.at(coefficient, (rows, hardest_positive), active)
        np.add.at(coefficient, (rows, hardest_negative), -active.astype(distance.dtype))
    else:
        _, chosen, active, n_positive = semi_hard(distance, positive, negative, margins)
        weight = active / np.maximum(n_positive, 1)[:, None]  # d l_i / d h_ip
        coefficient += weight
        np.add.at(
            coefficient,
            (np.repeat(rows, batch), chosen.reshape(-1)),
            -weight.reshape(-1),
        )
    return coefficient


@validates_options(**losses.triplet.option_checks)
def triplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, mining: str = "all"
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` triplet loss w.r.t. the embeddings ``(B, D)``.

    Each active hinge :math:`h_{ipn} = D_{ip} - D_{in} + \alpha > 0` adds its
    weight :math:`w` (:math:`1/(|P_i||N_i|)` for ``"all"``, 1 for ``"hard"``,
    :math:`1/|P_i|` for ``"semi-hard"``) to :math:`C_{ip}` and subtracts it from
    :math:`C_{in}`; the selections (hardest, semi-hard) are held fixed, as
    autodiff does through ``max``/``min``.  Then, with
    :math:`\partial D_{ij}/\partial e_k = 2(e_i - e_j)(\delta_{ik} - \delta_{jk})`,

    .. math::
        \frac{\partial L}{\partial e_k} = 2\Bigl(\sum_j C_{kj} + \sum_i C_{ik}\Bigr)e_k
        - 2\sum_j (C_{kj} + C_{jk})\,e_j .

    The positive is pulled towards the anchor, the negative pushed away, and
    the anchor moves both ways.

    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.]]
    >>> print(triplet([0, 0, 1, 1], y_pred, mining="hard").round(4))
    [[-0.8  0.4]
     [ 3.4  0.8]
     [-3.2 -0.4]
     [ 0.6 -0.8]]
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    distance = squared_distances(embeddings)
    positive, negative = same_label_masks(labels)
    alpha = embeddings.dtype.type(margin)
    margins = alpha if mining == "semi-hard" else np.full_like(distance, alpha)
    coefficient = triplet_coefficients(distance, positive, negative, margins, mining)
    return through_squared_distances(coefficient, embeddings)


@validates_options(**losses.quadruplet.option_checks)
def quadruplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, margin2: float = 0.1
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` quadruplet loss w.r.t. the embeddings ``(B, D)``.

    The first hinge adds :math:`+1` to :math:`C_{ip^*}` and :math:`-1` to
    :math:`C_{in^*}` when active; the second adds :math:`+1` to :math:`C_{ip^*}`
    and :math:`-1` to :math:`C_{l^*k^*}` -- a pair that does not contain the
    anchor, so it moves two other embeddings apart.  :math:`C` goes through
    :math:`\partial D/\partial E` as for :func:`triplet`.
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    dtype = embeddings.dtype.type
    parts = quadruplet_parts(labels, embeddings, dtype(margin), dtype(margin2))
    rows = np.arange(labels.shape[0])
    coefficient = np.zeros_like(parts.distance)
    active1 = parts.active1.astype(parts.distance.dtype)
    active2 = parts.active2.astype(parts.distance.dtype)
    np.add.at(coefficient, (rows, parts.hardest_positive), active1 + active2)
    np.add.at(coefficient, (rows, parts.hardest_negative), -active1)
    np.add.at(coefficient, (parts.pair_l, parts.pair_k), -active2)
    return through_squared_distances(coefficient, embeddings)


@validates_options(**losses.adaptive_triplet.option_checks)
def adaptive_triplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, mining: str = "all"
) -> np.ndarray:
    r"""Gradient of :math:`\sum_i` adaptive-margin triplet loss w.r.t. the embeddings
    ``(B, D)``.

    The margins :math:`\alpha_{in}` are constants (stop-gradient), so this is
    the gradient of :func:`triplet` with the per-pair margins put in the hinges.
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    distance = squared_distances(embeddings)
    positive, negative = same_label_masks(labels)
    margins = adaptive_margins(labels, embeddings, embeddings.dtype.type(margin))[0]
    coefficient = triplet_coefficients(distance, positive, negative, margins, mining)
    return through_squared_distances(coefficient, embeddings)
