"""The shared maths of the losses and their gradients, stable and NumPy only.

Every loss family and its hand-written gradient use these functions: the
sigmoid and softmax, the clipping Keras applies before a logarithm, the binary
cross-entropy in both forms, squared distances, the log-sum-exp trick, the
floored norm of the cosine similarity and the soft counts of the overlap losses.
They take clean arrays (the losses validate their inputs first) and return
arrays; none of them checks its arguments.

>>> import numpy as np
>>> from course_lib.losses import numerics
>>> numerics.sigmoid(np.array([0.0]))
array([0.5])
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPSILON",
    "sigmoid",
    "softmax",
    "log_softmax",
    "logsumexp",
    "clip_probability",
    "inside_clip",
    "bce_from_probabilities",
    "bce_from_logits",
    "squared_distances",
    "take_class",
    "shift",
    "floored_norm",
    "soft_counts",
]

#: ``keras.config.epsilon()``: the constant Keras uses to clip probabilities.
EPSILON = 1e-7


def clip_probability(p: np.ndarray) -> np.ndarray:
    """Keras' guard before a logarithm: ``clip(p, eps, 1 - eps)`` with
    ``eps = EPSILON``.

    Examples
    --------
    >>> clip_probability(np.array([0.0, 0.5, 1.0]))
    array([1.000000e-07, 5.000000e-01, 9.999999e-01])
    """
    return np.clip(p, EPSILON, 1.0 - EPSILON)


def inside_clip(p: np.ndarray, high: float = 1.0 - EPSILON) -> np.ndarray:
    """Where ``clip(p, eps, high)`` passes ``p`` through: ``eps <= p <= high``
    (bounds included, as in TensorFlow), so the clip's derivative is 1 there and 0
    elsewhere.

    Examples
    --------
    >>> inside_clip(np.array([0.0, 0.5, 1.0]))
    array([False,  True, False])
    """
    return (p >= EPSILON) & (p <= high)


def sigmoid(z: np.ndarray) -> np.ndarray:
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, written with :math:`e^{-|z|}` so nothing
    overflows.

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax :math:`e^{z_j} / \sum_k e^{z_k}` along ``axis``; subtracting the
    maximum first avoids overflow.

    Examples
    --------
    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`z_j - \log\sum_k e^{z_k}` along ``axis``, by the same max-shift
    (the log-sum-exp trick).

    Examples
    --------
    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\log\sum_j e^{x_j}` along ``axis``, stable: the maximum
    :math:`m` is taken out, :math:`m + \log\sum_j e^{x_j - m}`; a slice of only
    :math:`-\infty` gives :math:`-\infty`.

    Examples
    --------
    >>> logsumexp(np.array([[0.0, 0.0], [-np.inf, -np.inf]]))
    array([0.69314718,       -inf])
    """
    peak = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(x - peak), axis=axis))
    return total + np.squeeze(peak, axis=axis)


def bce_from_probabilities(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    r"""Element-wise :math:`-[y\log p' + (1-y)\log(1-p')]` with the clipped
    :math:`p' = \mathrm{clip}(p, \epsilon, 1-\epsilon)`.

    Examples
    --------
    >>> bce_from_probabilities(np.array([1.0]), np.array([0.5]))
    array([0.69314718])
    """
    p = clip_probability(p)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def bce_from_logits(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    r"""Element-wise :math:`\max(z,0) - zy + \log(1+e^{-|z|})`: the same loss for
    :math:`p=\sigma(z)`, exact and overflow-free for any :math:`z`.

    Examples
    --------
    >>> bce_from_logits(np.array([1.0]), np.array([0.0]))
    array([0.69314718])
    """
    return np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))


def squared_distances(embeddings: np.ndarray) -> np.ndarray:
    r"""The ``(B, B)`` matrix :math:`D_{ij} = \lVert e_i - e_j\rVert^2` of a
    ``(B, d)`` batch of embeddings.

    Examples
    --------
    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    array([[ 0., 25.],
           [25.,  0.]])
    """
    difference = embeddings[:, None, :] - embeddings[None, :, :]
    return np.sum(difference**2, axis=-1)


def take_class(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``values[..., ids]`` sample by sample: ``v[i, y_i]``, the entry of each
    sample's true class ``y_i`` (classes on the last axis).

    Examples
    --------
    >>> take_class(np.array([[0.1, 0.9], [0.7, 0.3]]), np.array([1, 0]))
    array([0.9, 0.7])
    """
    return np.take_along_axis(values, ids[..., np.newaxis], axis=-1)[..., 0]


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """Shift along the last (state) axis by ``k`` (right if positive), filling
    with ``-inf`` (``log 0``): ``out[..., s] = x[..., s - k]``.

    Examples
    --------
    >>> shift(np.array([[1.0, 2.0, 3.0]]), 1)
    array([[-inf,   1.,   2.]])
    """
    out = np.full_like(x, -np.inf)
    if k > 0:
        out[..., k:] = x[..., :-k]
    else:
        out[..., :k] = x[..., -k:]
    return out


def floored_norm(x: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
    r"""The L2 norm over ``axes`` (kept as size-1 axes), floored at :math:`\epsilon`.

    .. math:: n(x) = \max\bigl(\lVert x \rVert_2,\ \epsilon\bigr),
              \qquad \epsilon = 10^{-7}

    Dividing by :math:`n(x)` is Keras' ``x * min(rsqrt(sum x^2), 1/eps)``.

    >>> floored_norm(np.array([[3., 4.], [0., 0.]]), (1,))
    array([[5.e+00],
           [1.e-07]])
    """
    return np.maximum(np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True)), EPSILON)


def soft_counts(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    axes: tuple[int, ...] | None,
    keepdims: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The soft true positives, false positives and false negatives, summed over
    ``axes``: :math:`\sum y p`, :math:`\sum (1-y) p` and :math:`\sum y (1-p)`.

    >>> y, p = np.array([1., 1., 0.]), np.array([0.9, 0.2, 0.4])
    >>> [float(c) for c in soft_counts(y, p, None)]  # TP, FP, FN
    [1.1, 0.4, 0.9]
    """
    true_positives = np.sum(y_true * y_pred, axis=axes, keepdims=keepdims)
    false_positives = np.sum((1.0 - y_true) * y_pred, axis=axes, keepdims=keepdims)
    false_negatives = np.sum(y_true * (1.0 - y_pred), axis=axes, keepdims=keepdims)
    return true_positives, false_positives, false_negatives
