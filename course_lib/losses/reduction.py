"""The one place where per-sample losses become the number you train on.

Every loss class in :mod:`course_lib.losses` returns *per-sample* values from
its function and hands them here.  This module applies, in Keras' order:

1. the **mask** (from ``mask=`` or from the loss itself, e.g. ``ignore_class``),
2. the **sample weights**, aligned to the values by Keras' trailing-axis rule,
3. the **reduction**.

With per-sample values :math:`\\ell_i`, weights :math:`w_i` and :math:`N`
values in total, the reductions are

.. math::

    \\texttt{sum} = \\sum_i w_i \\ell_i, \\qquad
    \\texttt{sum\\_over\\_batch\\_size} = \\texttt{mean}
    = \\frac{1}{N}\\sum_i w_i \\ell_i,
    \\qquad
    \\texttt{mean\\_with\\_sample\\_weight} = \\frac{\\sum_i w_i \\ell_i}{\\sum_i w_i}.

Note that the default, ``sum_over_batch_size``, divides by the number of
values :math:`N`, *not* by :math:`\\sum_i w_i`: a zero weight still counts in
the denominator.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from course_lib.losses._validation import align_ranks, as_numeric_array

#: Every reduction Keras 3 accepts (``None`` means the same as ``"none"``).
REDUCTIONS = (
    "sum_over_batch_size",
    "sum",
    "mean",
    "mean_with_sample_weight",
    "none",
    None,
)


def standardize_reduction(reduction: str | None) -> str | None:
    """Return ``reduction`` unchanged if Keras accepts it, else raise ``ValueError``.

    >>> standardize_reduction("sum")
    'sum'
    >>> standardize_reduction("auto")
    Traceback (most recent call last):
    ...
    ValueError: reduction must be one of ... got 'auto'. Keras 3 removed 'auto'; ...
    """
    if reduction is not None and not isinstance(reduction, str):
        raise TypeError(f"reduction must be a string or None; got {reduction!r}.")
    if reduction not in REDUCTIONS:
        hint = ""
        if isinstance(reduction, str) and reduction.lower() in REDUCTIONS:
            hint = f" Reductions are lower-case: use {reduction.lower()!r}."
        elif reduction == "auto":
            hint = " Keras 3 removed 'auto'; its default is 'sum_over_batch_size'."
        raise ValueError(
            "reduction must be one of 'sum_over_batch_size', 'sum', 'mean', "
            f"'mean_with_sample_weight', 'none' or None; got {reduction!r}.{hint}"
        )
    return reduction


def _check_weights_fit(weights: np.ndarray, values: np.ndarray, name: str) -> None:
    """Check that ``weights``, once aligned to ``values`` by Keras' trailing-axis rule,
    broadcast onto the values without enlarging them.

    Keras multiplies whatever broadcasts; we refuse weights that would silently
    stretch the losses along an axis they were not meant for.
    """
    aligned_values, aligned = align_ranks(values, weights)
    if aligned.ndim == 0:
        return
    same_rank = aligned.ndim == aligned_values.ndim and all(
        w in (1, v) for w, v in zip(aligned.shape, aligned_values.shape, strict=True)
    )
    # A lower-rank weight would broadcast from the right (along the last axis,
    # not the batch axis), so only a single number is allowed that way.
    fits = same_rank or (aligned.ndim < aligned_values.ndim and aligned.size == 1)
    if not fits and values.ndim == 0:
        raise ValueError(
            f"{name} of shape {weights.shape} does not fit: the loss produced a "
            "single value, so only a scalar weight applies. A rank-1 y_true is ONE "
            "sample for losses that average over the last axis; reshape y to "
            "(N, 1) for N samples."
        )
    if not fits:
        per_sample = values.shape[:1] + (1,) * (values.ndim - 1)
        raise ValueError(
            f"{name} of shape {weights.shape} does not fit the per-sample losses "
            f"of shape {values.shape}: give a scalar, one weight per sample "
            f"{per_sample} or one per value {values.shape}."
        )


def apply_mask(
    sample_weight: np.ndarray | None,
    mask: np.ndarray | None,
    values: np.ndarray,
    reduction: str | None,
) -> np.ndarray | None:
    """Fold a boolean ``mask`` into the sample weights.

    For ``mean``/``sum_over_batch_size`` valid entries get the weight
    ``total / valid`` (0 if nothing is valid), so that dividing by the number of
    values afterwards averages over the *valid* entries only.
    """
    if mask is None:
        return sample_weight
    mask = as_numeric_array(mask, "mask").astype(bool)
    if mask.shape != values.shape:
        raise ValueError(
            f"mask must have the shape of the per-sample losses {values.shape}; "
            f"got {mask.shape}."
        )
    float_mask = mask.astype(values.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = float_mask.sum()
        float_mask *= values.dtype.type(mask.size) / valid if valid else 0
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = align_ranks(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(
    values: np.ndarray, sample_weight: np.ndarray | None, reduction: str | None
) -> np.ndarray:
    """Reduce already weighted values; scalars and empty vectors come back unreduced."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = values.sum(dtype=values.dtype)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum(dtype=values.dtype)
    else:
        divisor = values.dtype.type(values.size)
    return total / divisor if divisor != 0 else values.dtype.type(0)


def reduce_weighted_values(
    values: ArrayLike,
    sample_weight: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> np.ndarray:
    """Mask, weight and reduce per-sample loss values exactly as Keras 3 does.

    Parameters
    ----------
    values : array
        Per-sample losses, e.g. ``(batch,)`` or ``(batch, time)``.
    sample_weight : array or float, optional
        A scalar, one weight per sample (``(batch,)`` or ``(batch, 1)``) or one
        per value (same shape as ``values``).
    mask : array of bool, optional
        ``False`` marks values to leave out, as Keras' ``_keras_mask`` does.
    reduction : str or None
        One of :data:`REDUCTIONS`.

    Returns
    -------
    numpy scalar or array
        A scalar for the reducing options, the weighted values for ``"none"``.

    Notes
    -----
    For ``mean_with_sample_weight`` the divisor is the sum of the weights *as
    given* (after aligning ranks, before broadcasting), exactly like Keras: a
    ``(batch, 1)`` weight on ``(batch, time)`` values divides by
    :math:`\\sum_b w_b`, not :math:`T \\sum_b w_b`.

    Examples
    --------
    >>> losses = np.array([0.5, 0.5, 1.0], dtype="float32")
    >>> w = np.array([0.5, 2.0, 0.0])
    >>> float(reduce_weighted_values(losses, w))  # (0.25 + 1 + 0) / 3 values
    0.4166666...
    >>> float(reduce_weighted_values(losses, w, reduction="mean_with_sample_weight"))
    0.5
    """
    reduction = standardize_reduction(reduction)
    values = np.asarray(values)
    if sample_weight is not None:
        sample_weight = as_numeric_array(sample_weight, "sample_weight").astype(
            values.dtype
        )
        _check_weights_fit(sample_weight, values, "sample_weight")
    sample_weight = apply_mask(sample_weight, mask, values, reduction)
    if sample_weight is not None:
        values, sample_weight = align_ranks(values, sample_weight)
        values = values * sample_weight
    reduced = reduce_values(values, sample_weight, reduction)
    return (
        reduced[()] if reduced.ndim == 0 else reduced
    )  # a NumPy scalar, not a 0-d array
