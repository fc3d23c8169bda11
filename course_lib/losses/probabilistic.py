r"""Probabilistic losses: how likely is the target under the predicted distribution?

Every loss here is a negative log-likelihood, or a close relative of one.

===============================  ==============================  ======================
loss                             the model predicts              ``y_true`` holds
===============================  ==============================  ======================
binary cross-entropy             one Bernoulli probability       0/1 (or soft) targets
                                 a value
binary focal cross-entropy       the same, easy examples damped  0/1 (or soft) targets
categorical cross-entropy        a categorical distribution      one-hot (or soft) rows
categorical focal cross-entropy  the same, easy classes damped   one-hot (or soft) rows
sparse categorical CE            a categorical distribution      integer class ids
generalized cross-entropy (GCE)  a categorical distribution      integer class ids
Poisson                          the rate of a Poisson count     counts
Kullback-Leibler divergence      a distribution                  a reference
                                                                 distribution
===============================  ==============================  ======================

Probabilities or logits
-----------------------
With ``from_logits=False`` a prediction is a probability and, as in Keras, it is
clipped to :math:`[\epsilon, 1-\epsilon]` with :math:`\epsilon = 10^{-7}` before any
logarithm, so a confident mistake costs at most :math:`-\log\epsilon \approx 16.1`.
With ``from_logits=True`` the losses work on the raw scores through numerically
stable identities (``log1p``, log-sum-exp) and nothing is clipped: this is the
recommended setting.

Label smoothing
---------------
``label_smoothing`` :math:`s \in [0, 1]` pulls the *targets* (never the
predictions) towards the uniform distribution before the loss is computed:
:math:`y \leftarrow y(1-s) + s/2` for binary losses and
:math:`y \leftarrow y(1-s) + s/K` for :math:`K` classes.

Where we deliberately differ from Keras
---------------------------------------
* Arguments are validated (``from_logits`` must be a bool, ``label_smoothing``
  and ``alpha`` in :math:`[0,1]`, ``gamma \ge 0``, ``q`` in :math:`(0,1]`, ``axis`` an
  int in range, class ids integral and in range): Keras would return a number.
* The categorical losses refuse a class axis of size 1 (Keras only warns; the
  loss is then identically 0, so nothing could be learnt).
* Categorical label smoothing divides by the size of the *class axis*; Keras
  3.15 divides by the size of the last axis even when ``axis`` is another one,
  a bug by Keras' own account (keras-team/keras issue #23451).
* ``categorical_generalized_cross_entropy`` accepts labels shaped ``(B, 1)``
  (Keras broadcasts them into a ``(B, B)`` result) and ``q = 1``, where the loss
  is :math:`1 - p_c`, an MAE-like loss (the Keras class requires ``0 < q < 1``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._base import LossFunctionWrapper
from course_lib.losses._validation import (
    OptionCheck,
    as_class_ids,
    as_float_array,
    as_numeric_array,
    as_pair,
    check_axis,
    check_bool,
    check_int,
    check_non_negative,
    in_interval,
    validates_options,
)
from course_lib.losses.numerics import (
    EPSILON,
    bce_from_logits,
    bce_from_probabilities,
    clip_probability,
    log_softmax,
    sigmoid,
    softmax,
    take_class,
)

__all__ = [
    "BinaryCrossentropy", "binary_crossentropy",
    "BinaryFocalCrossentropy", "binary_focal_crossentropy",
    "CategoricalCrossentropy", "categorical_crossentropy",
    "CategoricalFocalCrossentropy", "categorical_focal_crossentropy",
    "CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy",
    "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy",
    "Poisson", "poisson",
    "KLDivergence", "kl_divergence",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Shared pieces (also used by course_lib.gradients.probabilistic)
# --------------------------------------------------------------------------------------


def check_ignore_class(value: Any, name: str = "ignore_class") -> int | None:
    """``None`` (no class ignored) or the int label to leave out."""
    return None if value is None else check_int(value, name)


#: The options every cross-entropy shares, with their checks: ``from_logits`` a
#: bool, ``label_smoothing`` in [0, 1] and ``axis`` an int (its range depends on
#: the input, so it is checked again on every call).
CROSSENTROPY_OPTIONS: dict[str, OptionCheck] = {
    "from_logits": check_bool,
    "label_smoothing": in_interval(0.0, 1.0),
    "axis": check_axis,
}
#: The focal losses' balance ``alpha`` in [0, 1] and focusing power ``gamma >= 0``.
FOCAL_OPTIONS: dict[str, OptionCheck] = {
    "alpha": in_interval(0.0, 1.0),
    "gamma": check_non_negative,
}


def _smooth_binary(y: np.ndarray, label_smoothing: float) -> np.ndarray:
    """Binary label smoothing: ``y (1 - s) + s / 2``."""
    return y * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y


def _smooth_categorical(y: np.ndarray, label_smoothing: float, axis: int) -> np.ndarray:
    """Categorical label smoothing: ``y (1 - s) + s / K`` with ``K`` classes along
    ``axis``."""
    if not label_smoothing:
        return y
    return y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]


def as_binary_inputs(
    y_true: ArrayLike, y_pred: ArrayLike, label_smoothing: float, axis: Any
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated, smoothed targets, predictions and the (non-negative) axis of the
    mean."""
    y_true, y_pred = as_pair(y_true, y_pred)
    axis = check_axis(axis, ndim=y_pred.ndim)
    return _smooth_binary(y_true, label_smoothing), y_pred, axis


def as_categorical_inputs(
    y_true: ArrayLike, y_pred: ArrayLike, label_smoothing: float, axis: Any, loss: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Like :func:`as_binary_inputs`, refusing a class axis of a single class."""
    y_true, y_pred = as_pair(y_true, y_pred)
    axis = check_axis(axis, ndim=y_pred.ndim)
    if y_pred.shape[axis] == 1:
        raise ValueError(
            f"{loss} needs at least 2 classes along axis {axis}; y_pred has shape "
            f"{y_pred.shape}. With one class the loss is always 0: for a single "
            "probability per sample use binary_crossentropy."
        )
    return _smooth_categorical(y_true, label_smoothing, axis), y_pred, axis


def as_label_inputs(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ignore_class: int | None = None,
    axis: Any = -1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer labels against class scores on the last axis.

    Returns ``(ids, valid, y_pred)``: ``ids`` shaped ``y_pred.shape[:-1]`` (a trailing
    axis of size 1 on ``y_true`` is dropped), ``valid`` is ``False`` where the label
    equals ``ignore_class`` (whose ids are not range-checked; they read as class 0).
    """
    y_pred = as_float_array(y_pred, "y_pred")
    if y_pred.ndim == 0:
        raise ValueError(
            "y_pred must hold one score per class along its last axis; got a scalar."
        )
    if check_axis(axis, ndim=y_pred.ndim) != y_pred.ndim - 1:
        raise ValueError(
            "Only the last axis can hold the classes (axis=-1); "
            f"got axis={axis} for y_pred of rank {y_pred.ndim}. "
            f"Move the classes last with np.moveaxis(y_pred, {axis}, -1)."
        )
    labels = as_numeric_array(y_true, "y_true")
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            "y_true must hold one integer class id per sample, shaped like y_pred "
            f"without its class axis {y_pred.shape[:-1]} (or with a trailing 1); "
            f"got {labels.shape}."
        )
    valid = (
        np.ones(labels.shape, dtype=bool)
        if ignore_class is None
        else labels != ignore_class
    )
    ids = as_class_ids(np.where(valid, labels, 0), "y_true", y_pred.shape[-1])
    return ids, valid, y_pred


# --------------------------------------------------------------------------------------
# Loss functions: one value per sample
# --------------------------------------------------------------------------------------


@validates_options(**CROSSENTROPY_OPTIONS)
def binary_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Binary cross-entropy, averaged over ``axis``.

    The negative log-likelihood of a Bernoulli variable with success
    probability :math:`p`, for a (possibly soft) target :math:`y \in [0, 1]`:

    .. math:: \ell(y, p) = \frac1d \sum_j
              -\bigl[y_j \log p'_j + (1-y_j)\log(1-p'_j)\bigr],
              \qquad p' = \operatorname{clip}(p, \epsilon, 1-\epsilon)

    With ``from_logits=True``, :math:`p = \sigma(z)` and the same quantity is
    computed without clipping by the stable identity

    .. math:: \max(z, 0) - z y + \log\bigl(1 + e^{-|z|}\bigr).

    Gradient: :math:`(\sigma(z) - y)/d` for logits; :math:`(p - y)/(d\,p(1-p))` for
    probabilities, and 0 where the clip is active.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits :math:`z` instead of probabilities.
    label_smoothing : float in [0, 1], default 0
        Targets become :math:`y(1-s) + s/2`.
    axis : int, default -1
        The axis averaged over.

    Examples
    --------
    >>> binary_crossentropy([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    array([0.916291, 0.713558 ], dtype=float32)
    >>> # exp(100) overflows float32
    >>> binary_crossentropy([[0.]], [[100.]], from_logits=True)
    array([100.], dtype=float32)
    """
    y, y_pred, axis = as_binary_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:
        values = bce_from_logits(y, y_pred)
    else:
        values = bce_from_probabilities(y, y_pred)
    return np.mean(values, axis=axis)


@validates_options(
    apply_class_balancing=check_bool, **FOCAL_OPTIONS, **CROSSENTROPY_OPTIONS
)
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
    r"""Binary focal cross-entropy (Lin et al., 2017), averaged over ``axis``.

    Binary cross-entropy scaled down on examples the model already gets right.
    With :math:`p_t = y p + (1-y)(1-p)`, the probability given to the target,

    .. math:: \ell = \frac1d \sum_j w_j\,(1 - p_{t,j})^{\gamma}\,
              \mathrm{BCE}(y_j, p_j),
              \qquad w_j = \begin{cases} \alpha y_j + (1-\alpha)(1-y_j)
                                        & \text{apply\_class\_balancing} \\
                                        1 & \text{otherwise} \end{cases}

    :math:`\gamma = 0` (without balancing) gives back binary cross-entropy.

    With ``from_logits=True``, :math:`p = \sigma(z)` and the BCE term is the
    stable, unclipped logit form of :func:`binary_crossentropy`; with
    probabilities it is the clipped one.  :math:`p_t` always uses the unclipped
    :math:`p`, and ``alpha`` only acts when ``apply_class_balancing=True``.  (Read
    literally, Keras' source clips in both cases, but on the TensorFlow backend
    ``ops.sigmoid`` remembers its logits and the BCE uses them: for
    :math:`y=1, z=-30` and :math:`\gamma=0`, Keras returns 30, not
    :math:`-\log\epsilon \approx 16.1`.  We match what Keras computes.)

    Gradient (product rule), with :math:`B` the BCE term and :math:`F = (1-p_t)^\gamma`:
    :math:`\partial\ell/\partial p =
    w\,[-\gamma(1-p_t)^{\gamma-1}(2y-1)\,B + F\,\partial B/\partial p]/d`;
    for logits, :math:`\partial\ell/\partial z =
    w\,[-\gamma(1-p_t)^{\gamma-1}(2y-1)\,p(1-p)\,B + F\,(p - y)]/d`.

    Parameters
    ----------
    apply_class_balancing : bool, default False
        Multiply by :math:`\alpha` on positives and :math:`1-\alpha` on negatives.
    alpha : float in [0, 1], default 0.25
    gamma : float >= 0, default 2.0
        The focusing power.
    from_logits, label_smoothing, axis
        As in :func:`binary_crossentropy`.

    Examples
    --------
    >>> binary_focal_crossentropy([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]],
    ...                           gamma=2.0)
    array([0.32986468, 0.20579839], dtype=float32)
    """
    y, y_pred, axis = as_binary_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:
        p = sigmoid(y_pred)
        bce = bce_from_logits(y, y_pred)
    else:
        p = y_pred
        bce = bce_from_probabilities(y, p)
    p_t = y * p + (1.0 - y) * (1.0 - p)
    values = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        values = (alpha * y + (1.0 - alpha) * (1.0 - y)) * values
    return np.mean(values, axis=axis)


@validates_options(**CROSSENTROPY_OPTIONS)
def categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Categorical cross-entropy, summed over the class axis ``axis``.

    The negative log-likelihood of a categorical distribution :math:`p` for a
    one-hot (or soft) target :math:`y`:

    .. math:: \ell(y, p) = -\sum_j y_j \log q'_j,
              \qquad q' = \operatorname{clip}\Bigl(\frac{p}{\sum_k p_k},
              \epsilon, 1-\epsilon\Bigr)

    Predictions are renormalised to sum to 1 first, then clipped (so
    ``[2, 1, 1]`` is read as ``[0.5, 0.25, 0.25]``).  With ``from_logits=True``,
    :math:`\log q = z - \log\sum_k e^{z_k}` (log-softmax), unclipped.

    Gradient: :math:`\operatorname{softmax}(z)\sum_k y_k - y` for logits; for
    probabilities, with :math:`S = \sum_k p_k`, :math:`q = p/S` and
    :math:`g_j = -y_j/q'_j` (0 where the clip is active),
    :math:`\partial\ell/\partial p_j = (g_j - \sum_k g_k q_k)/S`.

    Parameters
    ----------
    from_logits : bool, default False
    label_smoothing : float in [0, 1], default 0
        Targets become :math:`y(1-s) + s/K` for :math:`K` classes.
    axis : int, default -1
        The class axis; it must hold at least 2 classes.

    Notes
    -----
    **Deliberate difference from Keras 3.15.**  With ``label_smoothing`` and an
    ``axis`` other than the last, :math:`K` here is the size of the class axis
    ``axis``.  Keras 3.15 divides by the size of the *last* axis instead, so its
    smoothed targets no longer sum to 1 over the classes (with 3 classes on
    axis 1 and 5 steps on the last axis, :math:`s = 0.2` gives
    :math:`0.8 + 3 \cdot 0.04 = 0.92`).  We keep the textbook smoothing: Keras
    treats its own behaviour as a bug (keras-team/keras issue #23451, fixed by
    pull request #23437).  Every other combination of two options matches
    Keras (``tests/losses/test_option_pairs.py``).  To reproduce Keras 3.15 exactly,
    smooth the targets yourself with the last axis' size and pass
    ``label_smoothing=0``.

    Examples
    --------
    >>> categorical_crossentropy([[0., 1., 0.], [0., 0., 1.]],
    ...                          [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    array([0.05129331, 2.3025851 ], dtype=float32)
    """
    y, y_pred, axis = as_categorical_inputs(
        y_true, y_pred, label_smoothing, axis, "categorical_crossentropy"
    )
    if from_logits:
        log_q = log_softmax(y_pred, axis)
    else:
        log_q = np.log(
            clip_probability(y_pred / np.sum(y_pred, axis=axis, keepdims=True))
        )
    return -np.sum(y * log_q, axis=axis)


@validates_options(**FOCAL_OPTIONS, **CROSSENTROPY_OPTIONS)
def categorical_focal_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    r"""Categorical focal cross-entropy, summed over the class axis ``axis``.

    Each class' cross-entropy term is damped by how confident the model is:

    .. math:: \ell = \sum_j \alpha\,(1 - q'_j)^{\gamma}\,(-y_j \log q'_j),
              \qquad q' = \operatorname{clip}\Bigl(\frac{p}{\sum_k p_k},
              \epsilon, 1-\epsilon\Bigr)

    where :math:`p = \operatorname{softmax}(z)` when ``from_logits=True``.  Unlike
    the binary focal loss, the factor uses the *clipped* :math:`q'`, and
    :math:`\alpha` is one scalar for every class.  :math:`\alpha=1,\gamma=0` gives
    categorical cross-entropy (up to the clipping of logits).

    Gradient: with :math:`g_j = \alpha[\gamma(1-q'_j)^{\gamma-1} y_j\log q'_j -
    (1-q'_j)^\gamma y_j/q'_j]` (0 where the clip is active),
    :math:`\partial\ell/\partial p_j = (g_j - \sum_k g_k q_k)/S`, then through the
    softmax Jacobian :math:`p_j(h_j - \sum_k h_k p_k)` for logits.

    Parameters
    ----------
    alpha : float in [0, 1], default 0.25
    gamma : float >= 0, default 2.0
    from_logits, label_smoothing, axis
        As in :func:`categorical_crossentropy`.

    Notes
    -----
    **Deliberate difference from Keras 3.15**, as in
    :func:`categorical_crossentropy`: label smoothing with an ``axis`` other
    than the last divides by the size of ``axis`` (the number of classes), not
    by the size of the last axis as Keras 3.15 does, so the smoothed targets
    sum to 1 (keras-team/keras issue #23451).

    **Scalar** :math:`\alpha` **only.** Keras also accepts a list with one
    :math:`\alpha` per class, which weights each class' term (with one-hot
    targets, each sample by its class); this twin implements the scalar form
    and refuses a list with a ``TypeError``.  For per-class weights use
    ``class_weight`` or ``sample_weight``.

    Examples
    --------
    >>> categorical_focal_crossentropy([[0., 1., 0.], [0., 0., 1.]],
    ...                                [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    array([2.6340...e-04, 6.7591...e-01], dtype=float32)
    """
    y, y_pred, axis = as_categorical_inputs(
        y_true, y_pred, label_smoothing, axis, "categorical_focal_crossentropy"
    )
    p = softmax(y_pred, axis) if from_logits else y_pred
    q = clip_probability(p / np.sum(p, axis=axis, keepdims=True))
    return np.sum(alpha * (1.0 - q) ** gamma * (-y * np.log(q)), axis=axis)


@validates_options(
    from_logits=check_bool, ignore_class=check_ignore_class, axis=check_axis
)
def sparse_categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> np.ndarray:
    r"""Categorical cross-entropy for integer class ids.

    For a sample of true class :math:`c`,

    .. math:: \ell = -\log\frac{p'_c}{\sum_k p'_k},
              \qquad p' = \operatorname{clip}(p, \epsilon, 1 - \epsilon),

    that is, the clip comes *before* the renormalisation (the opposite order to
    :func:`categorical_crossentropy`, as in Keras on TensorFlow; its JAX and PyTorch
    backends renormalise first here too).  With ``from_logits=True``,
    :math:`\ell = \log\sum_k e^{z_k} - z_c`.

    Gradient: :math:`\operatorname{softmax}(z) - \mathrm{onehot}(c)` for logits;
    :math:`1/\sum_k p'_k - [j=c]/p'_c` for probabilities (0 where the clip is
    active); 0 for ignored samples.

    Parameters
    ----------
    y_true : array of int
        Class ids in ``[0, K-1]``, shaped like ``y_pred`` without its last axis,
        or with a trailing axis of size 1.  Integral floats are accepted.
    from_logits : bool, default False
    ignore_class : int, optional
        Samples with this label (often ``-1`` or ``255``, a "void" class) get the
        loss 0; the class form also leaves them out of the mean.
    axis : int, default -1
        Only the last axis is supported, as in Keras.

    Examples
    --------
    >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    array([0.0512934, 2.3025851 ], dtype=float32)
    >>> sparse_categorical_crossentropy([1, -1], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]],
    ...                                 ignore_class=-1)
    array([0.0512934, 0.       ], dtype=float32)
    """
    ids, valid, y_pred = as_label_inputs(y_true, y_pred, ignore_class, axis)
    if from_logits:
        values = -take_class(log_softmax(y_pred, -1), ids)
    else:
        p = clip_probability(y_pred)
        values = np.log(np.sum(p, axis=-1)) - np.log(take_class(p, ids))
    return np.where(valid, values, 0.0)


@validates_options(q=in_interval(0.0, 1.0, low_open=True))
def categorical_generalized_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, q: float
) -> np.ndarray:
    r"""Generalized cross-entropy (Zhang & Sabuncu, 2018) for integer class ids.

    With :math:`p_c` the probability given to the true class,

    .. math:: \ell = \frac{1 - p_c^{\,q}}{q}, \qquad 0 < q \le 1.

    As :math:`q \to 0` this tends to cross-entropy :math:`-\log p_c`; at
    :math:`q = 1` it is :math:`1 - p_c`, an MAE-like loss that is robust to
    noisy labels.  Nothing is clipped and there is no ``from_logits``: ``y_pred``
    must already be probabilities.  Gradient: :math:`-p_c^{\,q-1}` at the true
    class, 0 elsewhere.

    Parameters
    ----------
    y_true : array of int
        Class ids, shaped like ``y_pred`` without its last axis (or with a trailing 1).
    q : float in (0, 1]
        Required, as in Keras.  Keras' class demands ``0 < q < 1``; we also accept
        ``q = 1``.

    Examples
    --------
    >>> categorical_generalized_cross_entropy(
    ...     [1, 0], [[0.2, 0.5, 0.3], [0.64, 0.3, 0.06]], q=0.5)
    array([0.585786, 0.4], dtype=float32)
    """
    ids, _, y_pred = as_label_inputs(y_true, y_pred)
    return (1.0 - take_class(y_pred, ids) ** q) / q


def poisson(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Poisson loss, averaged over the last axis.

    The negative log-likelihood of a count :math:`y` under a Poisson rate
    :math:`\hat y`, dropping the :math:`\log y!` term that does not involve the
    prediction:

    .. math:: \ell = \frac1d \sum_j \bigl[\hat y_j - y_j \log(\hat y_j + \epsilon)\bigr]

    The rate must be non-negative (a negative one gives ``nan``, as in Keras).
    Gradient: :math:`(1 - y_j/(\hat y_j + \epsilon))/d`.

    Examples
    --------
    >>> poisson([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]])
    array([0.99999994, 0.        ], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    return np.mean(y_pred - y_true * np.log(y_pred + EPSILON), axis=-1)


def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    r"""Kullback-Leibler divergence :math:`D_{KL}(y \,\|\, \hat y)`, summed over the
    last axis.

    .. math:: \ell = \sum_j y'_j \log\frac{y'_j}{\hat y'_j},
              \qquad y' = \operatorname{clip}(y, \epsilon, 1),\;
              \hat y' = \operatorname{clip}(\hat y, \epsilon, 1)

    It equals cross-entropy minus the entropy of :math:`y`, so it has the same
    gradient as cross-entropy in :math:`\hat y`.  Because of the clip an
    all-zero :math:`y` row gives a tiny *negative* value.
    Gradient: :math:`-y'_j/\hat y'_j`, 0 where the clip is active.

    Examples
    --------
    >>> kl_divergence([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    array([ 9.1628921e-01, -3.0809074e-06], dtype=float32)
    """
    y_true, y_pred = as_pair(y_true, y_pred)
    y_true = np.clip(y_true, EPSILON, 1.0)
    y_pred = np.clip(y_pred, EPSILON, 1.0)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


# --------------------------------------------------------------------------------------
# Classes: the functions plus sample_weight, masks and the reduction
# --------------------------------------------------------------------------------------


class BinaryCrossentropy(LossFunctionWrapper):
    """Class form of :func:`binary_crossentropy`.

    Examples
    --------
    >>> bce = BinaryCrossentropy(from_logits=True)
    >>> bce([[1.], [0.], [1.], [1.]], [[-5.4], [8.7], [-1.2], [-4.6]])
    np.float32(5.0444894)
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing,
            axis=axis,
        )  # fmt: skip


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Class form of :func:`binary_focal_crossentropy`.

    Examples
    --------
    >>> BinaryFocalCrossentropy(gamma=0.0)([[0., 1.]], [[0.6, 0.4]])  # = BCE
    np.float32(0.916291)
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing,
            axis=axis,
        )  # fmt: skip


class CategoricalCrossentropy(LossFunctionWrapper):
    """Class form of :func:`categorical_crossentropy`.

    Examples
    --------
    >>> CategoricalCrossentropy()([[0., 1., 0.], [0., 0., 1.]],
    ...                           [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    np.float32(1.1769392)
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing,
            axis=axis,
        )  # fmt: skip


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Class form of :func:`categorical_focal_crossentropy`.

    Examples
    --------
    >>> CategoricalFocalCrossentropy()([[0., 1., 0.], [0., 0., 1.]],
    ...                                [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    np.float32(0.33808...)
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
            alpha=alpha, gamma=gamma, from_logits=from_logits,
            label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Class form of :func:`sparse_categorical_crossentropy`.

    Note Keras' keyword order: ``reduction`` comes before ``axis``.  Samples whose
    label is ``ignore_class`` are masked out, so ``"sum_over_batch_size"``
    averages over the remaining samples only.

    Examples
    --------
    >>> scce = SparseCategoricalCrossentropy(ignore_class=-1)
    >>> # the mean skips the ignored sample
    >>> scce([1, -1], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    np.float32(0.0512934)
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, ignore_class=ignore_class,
            axis=axis,
        )  # fmt: skip

    def output_mask(
        self, y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray
    ) -> np.ndarray | None:
        """``False`` for samples labelled ``ignore_class``, so the reduction skips
        them."""
        if self.ignore_class is None:
            return None
        return np.reshape(y_true != self.ignore_class, values.shape)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Class form of :func:`categorical_generalized_cross_entropy`.

    Examples
    --------
    >>> CategoricalGeneralizedCrossEntropy(q=0.5)([1, 0],
    ...                                           [[0.2, 0.5, 0.3], [0.64, 0.3, 0.06]])
    np.float32(0.4928932)
    """

    def __init__(
        self,
        q: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_generalized_cross_entropy",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            categorical_generalized_cross_entropy,
            reduction=reduction, name=name, dtype=dtype, q=q,
        )  # fmt: skip


class Poisson(LossFunctionWrapper):
    """Class form of :func:`poisson`.

    Examples
    --------
    >>> Poisson()([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]])
    np.float32(0.49999997)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Class form of :func:`kl_divergence`.

    Examples
    --------
    >>> KLDivergence()([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    np.float32(0.45814306)
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)
