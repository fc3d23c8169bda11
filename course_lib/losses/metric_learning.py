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

The second half of the module holds the losses Keras lacks, all on squared
Euclidean distances :math:`D_{ij} = \lVert e_i - e_j\rVert^2`: the contrastive
loss on pairs (label 1 = similar), the triplet loss on a labelled batch with
batch-all, batch-hard or semi-hard mining, the batch-hard quadruplet loss and an
adaptive-margin triplet loss.  Their Keras twins are in
:mod:`course_lib.keras_losses.metric_learning`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    as_float_array,
    as_integer_labels,
    check_bool,
    check_non_negative,
    in_interval,
    validates_options,
)
from course_lib.losses.numerics import logsumexp, squared_distances

__all__ = [
    "AdaptiveTriplet",
    "Circle",
    "Contrastive",
    "Quadruplet",
    "Triplet",
    "adaptive_triplet",
    "circle",
    "contrastive",
    "quadruplet",
    "triplet",
]


def _labels_1d(labels: ArrayLike, name: str) -> np.ndarray:
    """Integer labels of shape ``(n,)``; a trailing axis of size 1 is dropped."""
    labels = as_integer_labels(labels, name)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D integer labels (n,) or (n, 1); got {labels.shape}."
        )
    return labels


def _embeddings_2d(
    embeddings: ArrayLike, name: str, dtype: DTypeLike | None = None
) -> np.ndarray:
    """Floating embeddings of shape ``(n, D)``."""
    embeddings = as_float_array(embeddings, name, dtype)
    if embeddings.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D embeddings (n, D); got shape {embeddings.shape}."
        )
    return embeddings


def as_circle_inputs(
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
            "ref_labels and ref_embeddings must be given together (or both left as "
            "None); to compare with reference embeddings that share y_true's labels, "
            "pass ref_labels=y_true."
        )
    if ref_embeddings is None:
        return labels, embeddings, labels, embeddings
    ref_emb = _embeddings_2d(ref_embeddings, "ref_embeddings", embeddings.dtype)
    ref_lab = _labels_1d(ref_labels, "ref_labels")
    if ref_emb.shape[1] != embeddings.shape[1]:
        raise ValueError(
            "ref_embeddings must have the embedding size of y_pred "
            f"({embeddings.shape[1]}); got shape {ref_emb.shape}."
        )
    if ref_lab.shape[0] != ref_emb.shape[0]:
        raise ValueError(
            "ref_labels must hold one label per reference embedding: "
            f"got {ref_lab.shape[0]} labels for {ref_emb.shape[0]} embeddings."
        )
    return labels, embeddings, ref_lab, ref_emb


def pair_masks(
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


def circle_logits(
    distance: np.ndarray,
    positive: np.ndarray,
    negative: np.ndarray,
    gamma: float,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The pair logits :math:`s^p = -\gamma [m+d]_+ (m-d)` and
    :math:`s^n = \gamma [1+m-d]_+ (1-m-d)`, set to :math:`-\infty` outside their
    mask."""
    pos_weight = np.maximum((margin + distance) * positive, 0.0)
    neg_weight = np.maximum((1.0 + margin - distance) * negative, 0.0)
    pos_logits = -gamma * pos_weight * (margin - distance)
    neg_logits = gamma * neg_weight * (1.0 - margin - distance)
    return np.where(positive, pos_logits, -np.inf), np.where(
        negative, neg_logits, -np.inf
    )


@validates_options(
    gamma=check_non_negative,
    margin=in_interval(0.0, 0.5, high_open=True),
    remove_diagonal=check_bool,
)
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
    labels, embeddings, ref_labels, ref_embeddings = as_circle_inputs(
        y_true, y_pred, ref_labels, ref_embeddings
    )
    distance = np.maximum(1.0 - embeddings @ ref_embeddings.T, 0.0)
    positive, negative = pair_masks(labels, ref_labels, remove_diagonal)
    pos_logits, neg_logits = circle_logits(distance, positive, negative, gamma, margin)
    return np.logaddexp(0.0, logsumexp(pos_logits) + logsumexp(neg_logits))


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
        super().__init__(
            circle,
            reduction=reduction,
            name=name,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )

    def output_mask(
        self, y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        """Keep only the samples with a positive loss (Keras' mask ``loss > 0``)."""
        return values > 0


# --------------------------------------------------------------------------------------
# Contrastive, triplet, quadruplet and adaptive-margin triplet losses
# --------------------------------------------------------------------------------------
#
# All of them work with *squared Euclidean* distances between embeddings,
# D_ij = ||e_i - e_j||^2, computed from the differences (not from the expansion
# |e_i|^2 + |e_j|^2 - 2 e_i.e_j, which can go slightly negative), so that D_ii = 0
# exactly and every D_ij is smooth in the embeddings.

MININGS = ("all", "hard", "semi-hard")


def check_mining(
    value: Any, name: str = "mining", allowed: tuple[str, ...] = MININGS
) -> str:
    """``mining`` must be one of ``allowed`` (a string, compared exactly)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {allowed}; got {value!r}.")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}.")
    return value


#: ``adaptive_triplet`` mines all or the hardest triplets only.
check_all_or_hard = functools.partial(check_mining, allowed=("all", "hard"))


def as_batch_inputs(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Validate integer labels ``(B,)`` and embeddings ``(B, D)`` of the same batch."""
    embeddings = _embeddings_2d(y_pred, "y_pred")
    labels = _labels_1d(y_true, "y_true")
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"y_true must hold one label per embedding: got {labels.shape[0]} labels "
            f"for {embeddings.shape[0]} embeddings."
        )
    return labels, embeddings


def same_label_masks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(positive, negative)``: same label but not oneself, and different label."""
    same = labels[:, None] == labels[None, :]
    return same & ~np.eye(labels.shape[0], dtype=bool), ~same


def valid_anchors(labels: np.ndarray) -> np.ndarray:
    """Anchors that have at least one positive and one negative in the batch."""
    positive, negative = same_label_masks(labels)
    return positive.any(axis=1) & negative.any(axis=1)


def batch_all(
    distance: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Mean hinge over every valid triplet of each anchor.

    Returns ``(values, active, count)``: :math:`\ell_i`, the ``(B, B, B)`` mask of
    triplets :math:`(i, p, n)` with a positive hinge, and the number of valid
    triplets per anchor.  ``margin[i, n]`` is the margin of the pair ``(i, n)``.
    """
    hinge = distance[:, :, None] - distance[:, None, :] + margin[:, None, :]
    valid = positive[:, :, None] & negative[:, None, :]
    count = valid.sum(axis=(1, 2))
    active = valid & (hinge > 0)
    values = np.sum(np.where(active, hinge, 0.0), axis=(1, 2)) / np.maximum(
        count, 1
    ).astype(distance.dtype)
    return values, active, count


def batch_hard(
    distance: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Hardest positive against hardest negative, per anchor.

    Returns ``(values, hardest_positive, hardest_negative, active)``: the indices
    :math:`p^*_i = \arg\max_{p} D_{ip}` and
    :math:`n^*_i = \arg\min_n (D_{in} - \alpha_{in})` (the first one on a tie) and
    whether the anchor's hinge is positive.
    """
    positive_distance = np.where(positive, distance, -np.inf)
    shifted_negative = np.where(negative, distance - margin, np.inf)
    hardest_positive = np.argmax(positive_distance, axis=1)
    hardest_negative = np.argmin(shifted_negative, axis=1)
    rows = np.arange(distance.shape[0])
    hinge = (
        positive_distance[rows, hardest_positive]
        - shifted_negative[rows, hardest_negative]
    )
    active = positive.any(axis=1) & negative.any(axis=1) & (hinge > 0)
    return np.where(active, hinge, 0.0), hardest_positive, hardest_negative, active


def semi_hard(
    distance: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""A semi-hard negative for every anchor-positive pair, chosen deterministically.

    FaceNet (Schroff et al. 2015) calls a negative semi-hard when it is further
    than the positive but still inside the margin, and picks such negatives
    within the mini-batch; the deterministic rule below is TensorFlow Addons'
    (``tfa.losses.TripletSemiHardLoss``).

    For the pair :math:`(i, p)` the negative is the closest one *further* than
    the positive, :math:`n^*_{ip} = \arg\min\{D_{in} : D_{in} > D_{ip}\}`; when no
    negative is further, the furthest negative :math:`\arg\max_n D_{in}` (the
    mildest of the hard ones).  Returns ``(values, chosen, active, n_positive)``.
    """
    further = negative[:, None, :] & (distance[:, None, :] > distance[:, :, None])
    closest_further = np.argmin(np.where(further, distance[:, None, :], np.inf), axis=2)
    furthest = np.argmax(np.where(negative, distance, -np.inf), axis=1)
    chosen = np.where(further.any(axis=2), closest_further, furthest[:, None])
    hinge = distance - np.take_along_axis(distance, chosen, axis=1) + margin
    active = positive & negative.any(axis=1)[:, None] & (hinge > 0)
    n_positive = positive.sum(axis=1)
    values = np.sum(np.where(active, hinge, 0.0), axis=1) / np.maximum(
        n_positive, 1
    ).astype(distance.dtype)
    return values, chosen, active, n_positive


def adaptive_margins(
    labels: np.ndarray, embeddings: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""The ``(B, B)`` margins :math:`\alpha_{in} = \alpha\,C_{in} / \bar C` of the
    adaptive triplet loss, and the centre distances :math:`C_{in}`.

    :math:`c_i` is the mean embedding of sample :math:`i`'s class in the batch,
    :math:`C_{in} = \lVert c_i - c_n\rVert^2` and :math:`\bar C` the mean of
    :math:`C_{in}` over the negative pairs (:math:`\alpha_{in} = \alpha` if it is 0).
    """
    same = (labels[:, None] == labels[None, :]).astype(embeddings.dtype)
    centres = (same @ embeddings) / same.sum(axis=1, keepdims=True)
    centre_distance = squared_distances(centres)
    negative = ~(same > 0)
    mean = centre_distance[negative].mean() if negative.any() else 0.0
    if mean > 0:
        return margin * centre_distance / mean, centre_distance
    return np.full_like(centre_distance, margin), centre_distance


@validates_options(margin=check_non_negative)
def contrastive(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 1.0
) -> np.ndarray:
    r"""Contrastive (Siamese) loss of each pair of embeddings (Hadsell, Chopra &
    LeCun, 2006).

    Each sample is a *pair* :math:`(a_i, b_i)` and a label :math:`y_i`.
    **Label convention: y = 1 means similar (same class), y = 0 dissimilar.**
    With the Euclidean distance :math:`d_i = \lVert a_i - b_i\rVert_2`,

    .. math::
        \ell_i = y_i\, d_i^2 + (1 - y_i)\,\bigl[m - d_i\bigr]_+^2 .

    Similar pairs are pulled together with a spring of rest length 0;
    dissimilar pairs are pushed apart only while closer than the margin
    :math:`m`.  The paper writes the opposite convention (:math:`Y = 0` for
    similar pairs) and a factor :math:`\tfrac12` on both terms; we drop the
    :math:`\tfrac12`, as most libraries do.  Gradient: see
    :func:`course_lib.gradients.metric_learning.contrastive`.

    Parameters
    ----------
    y_true : array of 0/1, shape ``(B,)`` or ``(B, 1)``
        1 for a similar pair, 0 for a dissimilar one.
    y_pred : array, shape ``(B, 2, D)``
        The two embeddings of each pair, stacked on axis 1.
    margin : float, default 1.0
        :math:`m \ge 0`: dissimilar pairs further apart than this cost nothing.

    Examples
    --------
    >>> # distances 1.0 and 0.5
    >>> pairs = [[[0., 0.], [0.6, 0.8]], [[0., 0.], [0.3, 0.4]]]
    >>> contrastive([1, 0], pairs)  # 1.0**2 and (1 - 0.5)**2
    array([1.  , 0.25], dtype=float32)
    """
    pairs = as_float_array(y_pred, "y_pred")
    if pairs.ndim != 3 or pairs.shape[1] != 2:
        raise ValueError(
            "y_pred must hold pairs of embeddings, shape (B, 2, D); "
            f"got shape {pairs.shape}."
        )
    labels = as_float_array(y_true, "y_true", pairs.dtype)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != pairs.shape[:1]:
        raise ValueError(
            f"y_true must hold one 0/1 label per pair, shape ({pairs.shape[0]},); "
            f"got {labels.shape}."
        )
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError(
            "y_true must hold 1 (similar pair) or 0 (dissimilar pair) only."
        )
    squared = np.sum((pairs[:, 0] - pairs[:, 1]) ** 2, axis=-1)
    shortfall = np.maximum(pairs.dtype.type(margin) - np.sqrt(squared), 0.0)
    return labels * squared + (1 - labels) * shortfall**2


@validates_options(margin=check_non_negative, mining=check_mining)
def triplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, mining: str = "all"
) -> np.ndarray:
    r"""Triplet loss of each anchor in a labelled batch (FaceNet, Schroff et al., 2015).

    Every embedding is an anchor :math:`i`; its positives :math:`p` share its
    label (:math:`p \ne i`), its negatives :math:`n` do not.  With squared
    Euclidean distances :math:`D_{ij} = \lVert e_i - e_j\rVert^2` a triplet costs

    .. math::
        h_{ipn} = \bigl[D_{ip} - D_{in} + \alpha\bigr]_+ ,

    zero once the negative is further than the positive by the margin
    :math:`\alpha`.  ``mining`` chooses which triplets an anchor averages:

    * ``"all"`` (batch-all):
      :math:`\ell_i = \frac{1}{|P_i||N_i|}\sum_{p\in P_i}\sum_{n\in N_i} h_{ipn}`;
    * ``"hard"`` (batch-hard, Hermans et al. 2017): the hardest positive and
      negative, :math:`\ell_i = [\max_p D_{ip} - \min_n D_{in} + \alpha]_+`;
    * ``"semi-hard"`` (FaceNet's semi-hard negatives, chosen by TensorFlow
      Addons' deterministic rule): for each positive, the closest negative that
      is still further than it, :math:`n^*_{ip} = \arg\min\{D_{in} : D_{in} > D_{ip}\}`
      (if there is none, the furthest negative), and
      :math:`\ell_i = \frac{1}{|P_i|}\sum_{p\in P_i} h_{ip n^*_{ip}}`.

    An anchor without a positive or without a negative in the batch gets
    :math:`\ell_i = 0`; the class :class:`Triplet` leaves it out of its mean.
    Gradient: see :func:`course_lib.gradients.metric_learning.triplet`.

    Parameters
    ----------
    y_true : array of int, shape ``(B,)`` or ``(B, 1)``
        Labels; only equality matters.
    y_pred : array, shape ``(B, D)``
        Embeddings (not normalised by the loss).
    margin : float, default 0.2
        :math:`\alpha \ge 0`, FaceNet's value (for unit-length embeddings).
    mining : {"all", "hard", "semi-hard"}, default "all"

    Examples
    --------
    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.]]
    >>> print(triplet([0, 0, 1, 1], y_pred).round(4))
    [0.025 0.3 0.175 0.075]
    >>> print(triplet([0, 0, 1, 1], y_pred, mining="hard").round(4))
    [0.05 0.4 0.35 0.15]
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    distance = squared_distances(embeddings)
    positive, negative = same_label_masks(labels)
    alpha = embeddings.dtype.type(margin)
    if mining == "semi-hard":
        return semi_hard(distance, positive, negative, alpha)[0]
    margins = np.full_like(distance, alpha)
    if mining == "hard":
        return batch_hard(distance, positive, negative, margins)[0]
    return batch_all(distance, positive, negative, margins)[0]


def _negative_pairs(labels: np.ndarray) -> np.ndarray:
    """``(B, B, B)`` mask of the pairs ``(l, k)`` usable in anchor ``i``'s second term:
    both of another class than ``i``, and of different classes from each other."""
    _, negative = same_label_masks(labels)
    return negative[:, :, None] & negative[:, None, :] & negative[None, :, :]


class QuadrupletParts(NamedTuple):
    """What :func:`quadruplet_parts` returns: the values and the selected indices."""

    values: np.ndarray
    distance: np.ndarray
    hardest_positive: np.ndarray
    hardest_negative: np.ndarray
    active1: np.ndarray
    pair_l: np.ndarray
    pair_k: np.ndarray
    active2: np.ndarray


def quadruplet_parts(
    labels: np.ndarray, embeddings: np.ndarray, margin: float, margin2: float
) -> QuadrupletParts:
    """Values and the selected indices of the batch-hard quadruplet loss."""
    distance = squared_distances(embeddings)
    positive, negative = same_label_masks(labels)
    margins = np.full_like(distance, margin)
    first, hardest_positive, hardest_negative, active1 = batch_hard(
        distance, positive, negative, margins
    )
    pairs = _negative_pairs(labels)
    batch = labels.shape[0]
    pair_distance = np.where(pairs, distance[None, :, :], np.inf).reshape(batch, -1)
    closest_pair = np.argmin(pair_distance, axis=1)
    rows = np.arange(batch)
    hinge2 = (
        distance[rows, hardest_positive] - pair_distance[rows, closest_pair] + margin2
    )
    active2 = positive.any(axis=1) & pairs.any(axis=(1, 2)) & (hinge2 > 0)
    values = first + np.where(active2, hinge2, 0.0)
    pair_l, pair_k = np.divmod(closest_pair, batch)
    return QuadrupletParts(
        values,
        distance,
        hardest_positive,
        hardest_negative,
        active1,
        pair_l,
        pair_k,
        active2,
    )


@validates_options(margin=check_non_negative, margin2=check_non_negative)
def quadruplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, margin2: float = 0.1
) -> np.ndarray:
    r"""Quadruplet loss of each anchor in a labelled batch (Chen et al., 2017),
    batch-hard.

    Chen et al. add to the triplet term a second one that compares the
    anchor's positive pair with a pair of two *other* samples :math:`(l, k)`
    whose labels differ from the anchor's and from each other:

    .. math::
        \ell_i = \bigl[D_{ip^*} - D_{in^*} + \alpha_1\bigr]_+
               + \bigl[D_{ip^*} - D_{l^*k^*} + \alpha_2\bigr]_+ ,

    with squared Euclidean distances, the hardest positive
    :math:`p^* = \arg\max_p D_{ip}`, the hardest negative
    :math:`n^* = \arg\min_n D_{in}` and the closest such negative pair
    :math:`(l^*, k^*) = \arg\min D_{lk}` (hard mining, as the paper's online
    mining does).  The second term does not involve the anchor's own negatives:
    it asks *every* positive distance to be smaller than *every* negative
    distance in the batch, which tightens classes globally.  The paper takes
    :math:`\alpha_2 < \alpha_1` (the second term is the weaker constraint).

    An anchor without positive or negative gets 0 (left out by
    :class:`Quadruplet`); when the batch holds fewer than three classes the
    second term is 0.  Gradient: see
    :func:`course_lib.gradients.metric_learning.quadruplet`.

    Parameters
    ----------
    y_true : array of int, shape ``(B,)`` or ``(B, 1)``
    y_pred : array, shape ``(B, D)``
    margin : float, default 0.2
        :math:`\alpha_1 \ge 0`, the triplet margin.
    margin2 : float, default 0.1
        :math:`\alpha_2 \ge 0`, the margin against pairs of other classes.

    Examples
    --------
    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.], [0., 1.]]
    >>> # 4 has no positive
    >>> print(quadruplet([0, 0, 1, 1, 2], y_pred, margin2=1.0).round(4))
    [0.3  0.65 0.55 0.35 0.  ]
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    dtype = embeddings.dtype.type
    return quadruplet_parts(labels, embeddings, dtype(margin), dtype(margin2)).values


@validates_options(margin=check_non_negative, mining=check_all_or_hard)
def adaptive_triplet(
    y_true: ArrayLike, y_pred: ArrayLike, margin: float = 0.2, mining: str = "all"
) -> np.ndarray:
    r"""Triplet loss whose margin grows with the distance between class centres.

    In the spirit of Zhao et al. (2019), who make the margin of a triplet
    depend on how different the anchor's and the negative's classes are (they
    measure it with weak labels such as text), we measure it **in the batch**:
    with the class centres :math:`c_i` (mean embedding of sample :math:`i`'s
    class in the batch) and :math:`C_{in} = \lVert c_i - c_n\rVert^2`,

    .. math::
        \alpha_{in} = \alpha\,\frac{C_{in}}{\bar C}, \qquad
        \bar C = \operatorname{mean}_{(i,n):\,y_i \ne y_n} C_{in},

    so the margins average :math:`\alpha` over the negative pairs, classes whose
    centres are far apart must be separated by more, and neighbouring classes
    by less (if :math:`\bar C = 0`, every margin is :math:`\alpha`).  The
    margins are **constants** for the gradient (a stop-gradient): they set the
    target, they are not optimised.  The per-triplet hinge is
    :math:`[D_{ip} - D_{in} + \alpha_{in}]_+`, mined as in :func:`triplet`
    with ``"all"`` or ``"hard"`` (:math:`n^* = \arg\min_n (D_{in} - \alpha_{in})`).

    Parameters
    ----------
    y_true : array of int, shape ``(B,)`` or ``(B, 1)``
    y_pred : array, shape ``(B, D)``
    margin : float, default 0.2
        :math:`\alpha \ge 0`, the mean margin.
    mining : {"all", "hard"}, default "all"

    Examples
    --------
    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.], [0., 1.]]
    >>> # class 2 is the furthest
    >>> print(adaptive_triplet([0, 0, 1, 1, 2], y_pred).round(4))
    [0.     0.1198 0.0766 0.0099 0.    ]
    """
    labels, embeddings = as_batch_inputs(y_true, y_pred)
    distance = squared_distances(embeddings)
    positive, negative = same_label_masks(labels)
    margins = adaptive_margins(labels, embeddings, embeddings.dtype.type(margin))[0]
    if mining == "hard":
        return batch_hard(distance, positive, negative, margins)[0]
    return batch_all(distance, positive, negative, margins)[0]


class _AnchorLoss(LossFunctionWrapper):
    """Shared by the batch losses: leave out anchors without a positive or a
    negative."""

    def output_mask(
        self, y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        return valid_anchors(_labels_1d(y_true, "y_true"))


class Contrastive(LossFunctionWrapper):
    """Class form of :func:`contrastive` (label 1: similar pair, 0: dissimilar).

    >>> pairs = [[[0., 0.], [0.6, 0.8]], [[0., 0.], [0.3, 0.4]]]
    >>> Contrastive()([1, 0], pairs)     # (1.0 + 0.25) / 2
    np.float32(0.625)
    """

    def __init__(
        self,
        margin: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "contrastive",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            contrastive, reduction=reduction, name=name, dtype=dtype, margin=margin
        )


class Triplet(_AnchorLoss):
    """Class form of :func:`triplet`; anchors without a positive or a negative are
    left out.

    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.]]
    >>> Triplet(mining="hard")([0, 0, 1, 1], y_pred)  # (0.05 + 0.4 + 0.35 + 0.15) / 4
    np.float32(0.2375)
    """

    def __init__(
        self,
        margin: float = 0.2,
        mining: str = "all",
        reduction: str | None = "sum_over_batch_size",
        name: str = "triplet",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            triplet,
            reduction=reduction,
            name=name,
            dtype=dtype,
            margin=margin,
            mining=mining,
        )


class Quadruplet(_AnchorLoss):
    """Class form of :func:`quadruplet`; anchors without a positive or a negative
    are left out.

    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.], [0., 1.]]
    >>> # sample 4 is left out: 1.85 / 4
    >>> Quadruplet(margin2=1.0)([0, 0, 1, 1, 2], y_pred)
    np.float32(0.4625)
    """

    def __init__(
        self,
        margin: float = 0.2,
        margin2: float = 0.1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "quadruplet",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            quadruplet,
            reduction=reduction,
            name=name,
            dtype=dtype,
            margin=margin,
            margin2=margin2,
        )


class AdaptiveTriplet(_AnchorLoss):
    """Class form of :func:`adaptive_triplet`; anchors without a positive or a
    negative are left out.

    >>> y_pred = [[0., 0.], [0.5, 0.], [0.6, 0.2], [1., 0.], [0., 1.]]
    >>> AdaptiveTriplet()([0, 0, 1, 1, 2], y_pred)   # sample 4 is left out
    np.float32(0.0516...)
    """

    def __init__(
        self,
        margin: float = 0.2,
        mining: str = "all",
        reduction: str | None = "sum_over_batch_size",
        name: str = "adaptive_triplet",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            adaptive_triplet,
            reduction=reduction,
            name=name,
            dtype=dtype,
            margin=margin,
            mining=mining,
        )
