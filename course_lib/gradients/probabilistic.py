r"""Gradients of the probabilistic losses, with respect to ``y_pred`` (or the logits).

Each function has the signature of its loss in
:mod:`course_lib.losses.probabilistic` and returns
:math:`\partial \sum_i \ell_i / \partial \hat y`, shaped like ``y_pred`` as passed.
With ``from_logits=True`` the derivative is with respect to the logits :math:`z`.

Three rules carry every derivation:

* **Clipping.** :math:`p' = \operatorname{clip}(p, \epsilon, 1-\epsilon)` has slope 1
  where :math:`\epsilon \le p \le 1-\epsilon` (bounds included, as in TensorFlow)
  and 0 outside: a clipped probability gets *no* gradient.
* **Renormalisation.** For :math:`q = p/S` with :math:`S = \sum_k p_k` and an upstream
  gradient :math:`g = \partial\ell/\partial q`,
  :math:`\partial\ell/\partial p_j = (g_j - \sum_k g_k q_k)/S`.
* **Sigmoid and softmax.** :math:`\sigma'(z) = \sigma(z)(1-\sigma(z))`; through
  :math:`p = \operatorname{softmax}(z)`, :math:`\partial\ell/\partial z_j =
  p_j(h_j - \sum_k h_k p_k)` with :math:`h = \partial\ell/\partial p`.

====================  ======================================================
loss                  gradient (:math:`d` = size of the averaged axis)
====================  ======================================================
BCE, logits           :math:`(\sigma(z) - y)/d`
BCE, probabilities    :math:`(p' - y)/(d\,p'(1-p'))`, 0 where clipped
CCE, logits           :math:`\operatorname{softmax}(z)\sum_k y_k - y`
CCE, probabilities    renormalisation rule with :math:`g = -y/q'`, 0 where clipped
SCCE, logits          :math:`\operatorname{softmax}(z) - \mathrm{onehot}(c)`
SCCE, probabilities   :math:`1/\sum_k p'_k - [j=c]/p'_c`, 0 where clipped
GCE                   :math:`-p_c^{\,q-1}` at the true class
Poisson               :math:`(1 - y/(\hat y+\epsilon))/d`
KL divergence         :math:`-y'/\hat y'`, 0 where clipped
====================  ======================================================
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.gradients._common import pair_with_shape, shaped_like
from course_lib.losses import probabilistic as losses
from course_lib.losses._validation import validates_options
from course_lib.losses.numerics import (
    EPSILON,
    bce_from_logits,
    bce_from_probabilities,
    clip_probability,
    inside_clip,
    sigmoid,
    softmax,
    take_class,
)
from course_lib.losses.probabilistic import (
    as_binary_inputs,
    as_categorical_inputs,
    as_label_inputs,
)

__all__ = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "categorical_generalized_cross_entropy",
    "poisson",
    "kl_divergence",
]


def through_renormalisation(g: np.ndarray, p: np.ndarray, axis: int) -> np.ndarray:
    r"""Chain rule through :math:`q = p / \sum_k p_k`:
    :math:`(g_j - \sum_k g_k q_k)/S`."""
    total = np.sum(p, axis=axis, keepdims=True)
    q = p / total
    return (g - np.sum(g * q, axis=axis, keepdims=True)) / total


def through_softmax(h: np.ndarray, p: np.ndarray, axis: int) -> np.ndarray:
    r"""Chain rule through :math:`p = \operatorname{softmax}(z)`:
    :math:`p_j(h_j - \sum_k h_k p_k)`."""
    return p * (h - np.sum(h * p, axis=axis, keepdims=True))


def _one_hot(ids: np.ndarray, num_classes: int) -> np.ndarray:
    """Boolean one-hot rows: ``[..., j]`` is ``True`` if ``j`` is the sample's class."""
    return ids[..., np.newaxis] == np.arange(num_classes)


@validates_options(**losses.binary_crossentropy.option_checks)
def binary_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of binary cross-entropy.

    Logits: :math:`\ell_j = \log(1+e^{z}) - yz`, so
    :math:`\partial\ell/\partial z = (\sigma(z) - y)/d`: prediction minus target.
    Probabilities: :math:`\partial\ell/\partial p = (-y/p' + (1-y)/(1-p'))/d =
    (p' - y)/(d\,p'(1-p'))` where the clip is inactive, 0 where it is active.
    :math:`y` is the smoothed target.

    >>> binary_crossentropy([[1., 0.]], [[0., 0.]], from_logits=True)
    array([[-0.25,  0.25]], dtype=float32)
    >>> binary_crossentropy([[1.]], [[0.]])  # p = 0 is clipped: no gradient
    array([[0.]], dtype=float32)
    """
    y, y_pred_, axis = as_binary_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:
        grad = sigmoid(y_pred_) - y
    else:
        p = clip_probability(y_pred_)
        grad = np.where(inside_clip(y_pred_), (p - y) / (p * (1.0 - p)), 0.0)
    return shaped_like(grad / y_pred_.shape[axis], np.shape(y_pred), y_pred_.dtype)


@validates_options(**losses.binary_focal_crossentropy.option_checks)
def binary_focal_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of binary focal cross-entropy, by the product rule.

    The loss is :math:`w F B / d` with :math:`F = (1-p_t)^\gamma`,
    :math:`p_t = yp + (1-y)(1-p)` (so :math:`\partial p_t/\partial p = 2y-1`) and
    :math:`B` the BCE term.  Hence

    .. math:: \frac{\partial\ell}{\partial p} = \frac{w}{d}\Bigl[
              -\gamma(1-p_t)^{\gamma-1}(2y-1)\,B
              + F\,\frac{\partial B}{\partial p}\Bigr],
              \qquad \frac{\partial B}{\partial p} = \frac{p'-y}{p'(1-p')}
              \ (0 \text{ if clipped}).

    For logits, :math:`p = \sigma(z)` and :math:`B` is the unclipped logit form, so
    :math:`\partial p/\partial z = p(1-p)` and :math:`\partial B/\partial z = p - y`:

    .. math:: \frac{\partial\ell}{\partial z} = \frac{w}{d}\Bigl[
              -\gamma(1-p_t)^{\gamma-1}(2y-1)\,p(1-p)\,B + F\,(p - y)\Bigr].

    >>> binary_focal_crossentropy([[1.]], [[0.5]], gamma=0.0)  # = BCE: -1/p
    array([[-2.]], dtype=float32)
    """
    y, y_pred_, axis = as_binary_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:  # derivatives with respect to z
        p = sigmoid(y_pred_)
        bce, d_bce, d_p = bce_from_logits(y, y_pred_), p - y, p * (1.0 - p)
    else:  # derivatives with respect to p
        p = y_pred_
        p_clipped = clip_probability(p)
        bce, d_p = bce_from_probabilities(y, p), 1.0
        d_bce = np.where(
            inside_clip(p), (p_clipped - y) / (p_clipped * (1.0 - p_clipped)), 0.0
        )
    miss = 1.0 - (y * p + (1.0 - y) * (1.0 - p))  # 1 - p_t
    if gamma == 0:
        d_focal = np.zeros_like(miss)
    else:
        with np.errstate(
            divide="ignore"
        ):  # (1 - p_t)**(gamma - 1) at p_t = 1, gamma < 1
            d_focal = -gamma * miss ** (gamma - 1.0) * (2.0 * y - 1.0) * d_p
    grad = d_focal * bce + miss**gamma * d_bce
    if apply_class_balancing:
        grad = (alpha * y + (1.0 - alpha) * (1.0 - y)) * grad
    return shaped_like(grad / y_pred_.shape[axis], np.shape(y_pred), y_pred_.dtype)


@validates_options(**losses.categorical_crossentropy.option_checks)
def categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of categorical cross-entropy.

    Logits: :math:`\ell = \sum_k y_k \log\sum_m e^{z_m} - \sum_k y_k z_k`, so
    :math:`\partial\ell/\partial z_j = \operatorname{softmax}(z)_j \sum_k y_k - y_j`
    (just :math:`\operatorname{softmax}(z) - y` for a one-hot or smoothed target).
    Probabilities: with :math:`q = p/S`, :math:`g_j = -y_j/q'_j` (0 where the clip is
    active), :math:`\partial\ell/\partial p_j = (g_j - \sum_k g_k q_k)/S`.

    >>> categorical_crossentropy([[0., 1.]], [[0., 0.]], from_logits=True)
    array([[ 0.5, -0.5]], dtype=float32)
    >>> categorical_crossentropy([[0., 1.]], [[0.5, 0.5]])
    array([[ 1., -1.]], dtype=float32)
    """
    y, y_pred_, axis = as_categorical_inputs(
        y_true, y_pred, label_smoothing, axis, "categorical_crossentropy"
    )
    if from_logits:
        grad = softmax(y_pred_, axis) * np.sum(y, axis=axis, keepdims=True) - y
    else:
        q = y_pred_ / np.sum(y_pred_, axis=axis, keepdims=True)
        g = np.where(inside_clip(q), -y / clip_probability(q), 0.0)
        grad = through_renormalisation(g, y_pred_, axis)
    return shaped_like(grad, np.shape(y_pred), y_pred_.dtype)


@validates_options(**losses.categorical_focal_crossentropy.option_checks)
def categorical_focal_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of categorical focal cross-entropy.

    With :math:`q = p/S`, :math:`q' = \operatorname{clip}(q)` and
    :math:`\ell = \sum_j \alpha(1-q'_j)^\gamma(-y_j\log q'_j)`, the product rule gives

    .. math:: g_j = \frac{\partial\ell}{\partial q_j} = \alpha\Bigl[
              \gamma(1-q'_j)^{\gamma-1}\,y_j\log q'_j
              - (1-q'_j)^{\gamma}\,\frac{y_j}{q'_j}\Bigr]

    (0 where the clip is active), then the renormalisation rule
    :math:`h_j = (g_j - \sum_k g_k q_k)/S` and, for logits
    (:math:`p = \operatorname{softmax}(z)`), the softmax rule
    :math:`p_j(h_j - \sum_k h_k p_k)`.

    >>> categorical_focal_crossentropy([[0., 1.]], [[0.5, 0.5]],
    ...                                alpha=1.0, gamma=0.0)  # = CCE
    array([[ 1., -1.]], dtype=float32)
    """
    y, y_pred_, axis = as_categorical_inputs(
        y_true, y_pred, label_smoothing, axis, "categorical_focal_crossentropy"
    )
    p = softmax(y_pred_, axis) if from_logits else y_pred_
    q = p / np.sum(p, axis=axis, keepdims=True)
    q_clipped = clip_probability(q)
    miss = 1.0 - q_clipped  # >= eps, so miss ** (gamma - 1) is finite
    d_focal = gamma * miss ** (gamma - 1.0) * y * np.log(q_clipped)
    d_ce = miss**gamma * y / q_clipped
    g = np.where(inside_clip(q), alpha * (d_focal - d_ce), 0.0)
    grad = through_renormalisation(g, p, axis)
    if from_logits:
        grad = through_softmax(grad, p, axis)
    return shaped_like(grad, np.shape(y_pred), y_pred_.dtype)


@validates_options(**losses.sparse_categorical_crossentropy.option_checks)
def sparse_categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> np.ndarray:
    r"""Gradient of sparse categorical cross-entropy.

    Logits: :math:`\ell = \log\sum_k e^{z_k} - z_c`, so
    :math:`\partial\ell/\partial z_j = \operatorname{softmax}(z)_j - [j = c]`.
    Probabilities: :math:`\ell = \log\sum_k p'_k - \log p'_c`, so
    :math:`\partial\ell/\partial p_j = 1/\sum_k p'_k - [j=c]/p'_c` where the clip is
    inactive, else 0.  Samples labelled ``ignore_class`` get 0 everywhere.

    >>> sparse_categorical_crossentropy([1, -1], [[0., 0.], [5., 1.]], from_logits=True,
    ...                                 ignore_class=-1)
    array([[ 0.5, -0.5],
           [ 0. ,  0. ]], dtype=float32)
    """
    ids, valid, y_pred_ = as_label_inputs(y_true, y_pred, ignore_class, axis)
    is_true_class = _one_hot(ids, y_pred_.shape[-1])
    if from_logits:
        grad = softmax(y_pred_, -1) - is_true_class
    else:
        p = clip_probability(y_pred_)
        total = np.sum(p, axis=-1, keepdims=True)
        grad = np.where(inside_clip(y_pred_), 1.0 / total - is_true_class / p, 0.0)
    grad = np.where(valid[..., np.newaxis], grad, 0.0)
    return shaped_like(grad, np.shape(y_pred), y_pred_.dtype)


@validates_options(**losses.categorical_generalized_cross_entropy.option_checks)
def categorical_generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, q: float
) -> np.ndarray:
    r"""Gradient of GCE: :math:`\partial[(1-p_c^q)/q]/\partial p_c = -p_c^{\,q-1}`,
    0 elsewhere.

    At :math:`q=1` this is the constant :math:`-1` (MAE-like, bounded); as
    :math:`q\to 0` it tends to :math:`-1/p_c`, cross-entropy's unbounded gradient.

    >>> categorical_generalized_cross_entropy([1], [[0.75, 0.25]], q=0.5)
    array([[ 0., -2.]], dtype=float32)
    """
    ids, _, y_pred_ = as_label_inputs(y_true, y_pred)
    with np.errstate(divide="ignore"):  # p_c = 0 with q < 1: an infinite slope
        slope = -(take_class(y_pred_, ids) ** (q - 1.0))
    grad = np.where(_one_hot(ids, y_pred_.shape[-1]), slope[..., np.newaxis], 0.0)
    return shaped_like(grad, np.shape(y_pred), y_pred_.dtype)


def poisson(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of the Poisson loss: :math:`(1 - y_j/(\hat y_j + \epsilon))/d`.

    It vanishes when the predicted rate equals the count (up to :math:`\epsilon`).

    >>> poisson([[2., 0.]], [[1., 1.]])
    array([[-0.4999999,  0.5      ]], dtype=float32)
    """
    y_true, y_pred_, shape = pair_with_shape(y_true, y_pred)
    grad = (1.0 - y_true / (y_pred_ + EPSILON)) / y_pred_.shape[-1]
    return shaped_like(grad, shape, y_pred_.dtype)


def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Gradient of the KL divergence: :math:`-y'_j/\hat y'_j`, 0 where
    :math:`\hat y` is clipped.

    Here :math:`y' = \operatorname{clip}(y, \epsilon, 1)` and
    :math:`\hat y' = \operatorname{clip}(\hat y, \epsilon, 1)`; the entropy term of
    :math:`y` does not depend on :math:`\hat y`.

    >>> kl_divergence([[0.5, 0.5]], [[0.25, 1.5]])  # 1.5 is clipped to 1
    array([[-2.,  0.]], dtype=float32)
    """
    y_true, y_pred_, shape = pair_with_shape(y_true, y_pred)
    y_clipped = np.clip(y_true, EPSILON, 1.0)
    p_clipped = np.clip(y_pred_, EPSILON, 1.0)
    grad = np.where(inside_clip(y_pred_, high=1.0), -y_clipped / p_clipped, 0.0)
    return shaped_like(grad, shape, y_pred_.dtype)
