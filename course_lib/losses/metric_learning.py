r"""Metric-learning losses: shape an embedding space instead of predicting a target.

The model maps each input to an embedding :math:`\hat y_i \in \mathbb{R}^D`;
the labels only say *which embeddings belong together*.  A metric-learning
loss pulls embeddings with the same label together (positive pairs) and pushes
embeddings with different labels apart (negative pairs).

Circle loss (Sun et al., 2020, https://arxiv.org/abs/2002.10857) works with
cosine similarities :math:`s = \hat y_i \cdot \hat y_j`.  Keras writes it with
the cosine *distance* :math:`d = 1 - s`, clipped at 0, and so do we:

=========================  =============================  ======================
quantity                   positive pair (same label)     negative pair
=========================  =============================  ======================
target ("optimum")         :math:`d \to -m`               :math:`d \to 1 + m`
decision margin            :math:`d < m`                  :math:`d > 1 - m`
self-paced weight          :math:`[m + d]_+`              :math:`[1 + m - d]_+`
=========================  =============================  ======================

A pair far from its optimum gets a large weight, so Circle loss spends its
gradient where it is most needed -- unlike a triplet or contrastive loss whose
positive and negative terms are pushed with equal strength.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    as_float_array,
    as_integer_labels,
    check_bool,
    check_interval,
    check_non_negative,
)

__all__ = ["Circle", "circle"]


def _labels_1d(labels: ArrayLike, name: str) -> np.ndarray:
    """Integer labels of shape ``(n,)``; a trailing axis of size 1 is dropped."""
    labels = as_integer_labels(labels, name)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer labels (n,) or (n, 1); got {labels.shape}.")
    return labels


def _embeddings_2d(embeddings: ArrayLike, name: str, dtype: DTypeLike | None = None) -> np.ndarray:
    """Floating embeddings of shape ``(n, D)``."""
    embeddings = as_float_array(embeddings, name, dtype)
    if embeddings.ndim != 2:
        raise ValueError(f"{name} must be 2-D embeddings (n, D); got shape {embeddings.shape}.")
    return embeddings


def _circle_inputs(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ref_labels: ArrayLike | None,
    ref_embeddings: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and return ``(labels, embeddings, ref_labels, ref_embeddings)``.

    Without references the batch is compared with itself (``ref`` *is* ``y_pred``).
    """
    embeddings = _embeddings_2d(y_pred, "y_pred")
    labels = _labels_1d(y_true, "y_true")
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"y_true must hold one label per embedding: got {labels.shape[0]} labels "
            f"for {embeddings.shape[0]} embeddings."
        )
    if (ref_labels is None) != (ref_embeddings is None):
        raise ValueError(
            "ref_labels and ref_embeddings must be given together (or both left as None); "
            "to compare with reference embeddings that share y_true's labels, pass "
            "ref_labels=y_true."
        )
    if ref_embeddings is None:
        return labels, embeddings, labels, embeddings
    ref_emb = _embeddings_2d(ref_embeddings, "ref_embeddings", embeddings.dtype)
    ref_lab = _labels_1d(ref_labels, "ref_labels")
    if ref_emb.shape[1] != embeddings.shape[1]:
        raise ValueError(
            f"ref_embeddings must have the embedding size of y_pred ({embeddings.shape[1]}); "
            f"got shape {ref_emb.shape}."
        )
    if ref_lab.shape[0] != ref_emb.shape[0]:
        raise ValueError(
            f"ref_labels must hold one label per reference embedding: got {ref_lab.shape[0]} "
            f"labels for {ref_emb.shape[0]} embeddings."
        )
    return labels, embeddings, ref_lab, ref_emb


def _check_circle_options(gamma: float, margin: float, remove_diagonal: bool) -> tuple[float, float, bool]:
    """``gamma >= 0``, ``margin`` in ``[0, 0.5)``, ``remove_diagonal`` a bool."""
    gamma = check_non_negative("gamma", gamma)
    margin = check_interval("margin", margin, 0.0, 0.5, high_open=True)
    return gamma, margin, check_bool("remove_diagonal", remove_diagonal)


def _pair_masks(
    labels: np.ndarray, ref_labels: np.ndarray, remove_diagonal: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean ``(B, R)`` masks of the positive and negative pairs.

    ``remove_diagonal`` drops the pairs ``(i, i)`` from the positives -- by
    *position*, so also when the references are a different set (as in Keras).
    The diagonal is never a negative: it has the same label as itself.
    """
    positive = labels[:, None] == ref_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive &= ~np.eye(labels.shape[0], ref_labels.shape[0], dtype=bool)
    return positive, negative


def _circle_logits(
    distance: np.ndarray, positive: np.ndarray, negative: np.ndarray, gamma: float, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""The pair logits :math:`s^p = -\gamma [m+d]_+ (m-d)` and
    :math:`s^n = \gamma [1+m-d]_+ (1-m-d)`, set to :math:`-\infty` outside their mask."""
    pos_weight = np.maximum((margin + distance) * positive, 0.0)
    neg_weight = np.maximum((1.0 + margin - distance) * negative, 0.0)
    pos_logits = -gamma * pos_weight * (margin - distance)
    neg_logits = gamma * neg_weight * (1.0 - margin - distance)
    return np.where(positive, pos_logits, -np.inf), np.where(negative, neg_logits, -np.inf)


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    r""":math:`\log\sum_j e^{x_{ij}}` per row, stable; a row of only :math:`-\infty` gives :math:`-\infty`."""
    peak = np.max(x, axis=1, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - peak), axis=1)) + peak[:, 0]


def circle(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ref_labels: ArrayLike | None = None,
    ref_embeddings: ArrayLike | None = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> np.ndarray:
    r"""Circle loss of each embedding against a reference set (by default, the batch).

    With the clipped cosine distance :math:`d_{ij} = \max(1 - \hat y_i \cdot r_j, 0)`,
    positives :math:`P_i` (same label) and negatives :math:`N_i` (different label),

    .. math::
        s^p_{ij} = -\gamma\,[m + d_{ij}]_+\,(m - d_{ij}), \qquad
        s^n_{ij} = \gamma\,[1 + m - d_{ij}]_+\,(1 - m - d_{ij}),

    .. math::
        \ell_i = \operatorname{softplus}\Bigl(
            \log\sum_{j\in P_i} e^{s^p_{ij}} + \log\sum_{j\in N_i} e^{s^n_{ij}}\Bigr)
        = \log\Bigl(1 + \sum_{j\in P_i}\sum_{k\in N_i} e^{s^p_{ij} + s^n_{ik}}\Bigr).

    A sample with no positive or no negative pair gets :math:`\ell_i = 0` (an
    empty log-sum-exp is :math:`-\infty`); the class :class:`Circle` leaves such
    samples out of its mean.  Gradient: see
    :func:`course_lib.gradients.metric_learning.circle`.

    Parameters
    ----------
    y_true : array of int, shape ``(B,)`` or ``(B, 1)``
        Labels; only equality matters, so any integers will do.
    y_pred : array, shape ``(B, D)``
        Embeddings.  **They should be L2-normalised** (e.g. by a
        ``UnitNormalization`` layer): like Keras, we do not normalise them, and
        :math:`1 - \hat y_i\cdot r_j` is a cosine distance only for unit vectors.
    ref_labels, ref_embeddings : arrays ``(R,)`` and ``(R, D)``, optional
        A reference set to compare with, given together; default: the batch itself.
    remove_diagonal : bool, default True
        Drop the pairs :math:`(i, i)` from the positives (an embedding is
        trivially close to itself).  As in Keras the diagonal of the
        :math:`B \times R` matrix is dropped even when references are given.
    gamma : float, default 80
        Scale :math:`\gamma \ge 0` of the logits (the softmax temperature inverse).
    margin : float, default 0.4
        Relaxation :math:`m \in [0, 0.5)`: positives should end closer than
        :math:`m`, negatives further than :math:`1-m`, which needs :math:`m < 1-m`.

    Examples
    --------
    >>> y_pred = [[1., 0.], [0.6, 0.8], [0., 1.]]   # unit vectors
    >>> circle([0, 0, 1], y_pred, gamma=2.0)        # sample 2 has no positive pair
    array([0.54589..., 1.28417..., 0.        ], dtype=float32)
    """
    gamma, margin, remove_diagonal = _check_circle_options(gamma, margin, remove_diagonal)
    labels, embeddings, ref_labels, ref_embeddings = _circle_inputs(
        y_true, y_pred, ref_labels, ref_embeddings
    )
    distance = np.maximum(1.0 - embeddings @ ref_embeddings.T, 0.0)
    positive, negative = _pair_masks(labels, ref_labels, remove_diagonal)
    pos_logits, neg_logits = _circle_logits(distance, positive, negative, gamma, margin)
    return np.logaddexp(0.0, _logsumexp_rows(pos_logits) + _logsumexp_rows(neg_logits))


class Circle(LossFunctionWrapper):
    """Class form of :func:`circle` (the batch is its own reference set).

    Like Keras, the class **leaves out samples whose loss is 0** -- those with no
    positive (or no negative) pair in the batch -- so ``"sum_over_batch_size"``
    averages over the samples that have a loss.

    Examples
    --------
    >>> y_pred = [[1., 0.], [0.6, 0.8], [0., 1.]]
    >>> Circle(gamma=2.0)([0, 0, 1], y_pred)    # (0.545893 + 1.284178) / 2, not / 3
    np.float32(0.915035...)
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "circle",
        dtype: DTypeLike | None = None,
    ) -> None:
        gamma, margin, remove_diagonal = _check_circle_options(gamma, margin, remove_diagonal)
        super().__init__(
            circle,
            reduction=reduction,
            name=name,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )

    def output_mask(self, y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Keep only the samples with a positive loss (Keras' mask ``loss > 0``)."""
        return values > 0
