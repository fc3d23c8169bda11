"""Input checking shared by every loss and gradient.

Each helper either returns a clean NumPy array or raises a ``TypeError`` /
``ValueError`` whose message names the offending argument and says what was
expected.  Losses never see raw user input: they see the output of these
helpers.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses.numerics import EPSILON  # noqa: F401  (re-exported)

_FLOAT_KINDS = "f"
_NUMERIC_KINDS = "biuf"


def result_dtype(x: Any, dtype: DTypeLike | None = None) -> np.dtype:
    """The floating dtype a loss computes in.

    An explicit ``dtype`` wins.  Otherwise a floating NumPy input keeps its
    precision (float32 stays float32, float64 stays float64) and anything else
    (Python lists, integers, booleans) is computed in float32, Keras' ``floatx``.
    """
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in _FLOAT_KINDS:
            raise TypeError(
                f"dtype must be a floating dtype such as 'float32'; got {dtype}."
            )
        return dtype
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in _FLOAT_KINDS:
        return x.dtype
    return np.dtype("float32")


def as_numeric_array(x: ArrayLike, name: str) -> np.ndarray:
    """Convert ``x`` to an ndarray, refusing strings, objects and complex numbers."""
    if x is None:
        raise TypeError(f"{name} must be an array of numbers; got None.")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise TypeError(
            f"{name} must be a rectangular array of numbers: {error}"
        ) from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{name} must contain real numbers (bool, int or float); "
            f"got an array of dtype {array.dtype}."
        )
    return array


def as_float_array(
    x: ArrayLike, name: str, dtype: DTypeLike | None = None
) -> np.ndarray:
    """Convert ``x`` to a floating array (:func:`result_dtype` gives the dtype rule)."""
    array = as_numeric_array(x, name)
    return array.astype(result_dtype(x, dtype), copy=False)


def align_ranks(
    x1: np.ndarray, x2: np.ndarray, expand_rank_1: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Make two arrays the same rank by adding or dropping one trailing axis of size 1.

    This is Keras' rule for ``y_true``/``y_pred`` and for losses/``sample_weight``:
    if the ranks differ by exactly one and the longer array ends in an axis of
    size 1, that axis is squeezed -- unless the shorter array is rank 1, in which
    case the shorter one is expanded instead.  Anything else is left alone.

    >>> a, b = align_ranks(np.zeros((4, 1)), np.zeros(4))
    >>> a.shape, b.shape
    ((4, 1), (4, 1))
    >>> a, b = align_ranks(np.zeros((2, 3, 1)), np.zeros((2, 3)))
    >>> a.shape, b.shape
    ((2, 3), (2, 3))
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., np.newaxis]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., np.newaxis]
        else:
            x2 = x2[..., 0]
    return x1, x2


def as_pair(
    y_true: ArrayLike, y_pred: ArrayLike, dtype: DTypeLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``(y_true, y_pred)`` for an element-wise loss.

    ``y_pred`` decides the dtype (as in Keras' functions), the ranks are aligned
    with :func:`align_ranks`, and the two shapes must then be equal.  Keras
    would silently broadcast ``(4, 1)`` against ``(4, 3)``; we refuse, because
    that is almost always a label/prediction mix-up.
    """
    y_pred = as_float_array(y_pred, "y_pred", dtype)
    y_true = as_float_array(y_true, "y_true", y_pred.dtype)
    y_true, y_pred = align_ranks(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape (a trailing axis of size 1 "
            f"may differ); got y_true {y_true.shape} and y_pred {y_pred.shape}."
        )
    if y_pred.ndim == 0:
        raise ValueError("y_true and y_pred must be at least 1-D; got scalars.")
    return y_true, y_pred


def as_class_ids(y: ArrayLike, name: str, num_classes: int) -> np.ndarray:
    """Convert integer class ids (stored as ints or integral floats) to ``int64``.

    Raises ``ValueError`` for fractional, negative or too large ids.
    """
    array = as_numeric_array(y, name)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(
                f"{name} must hold integer class ids; got non-integer values."
            )
    ids = array.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(
            f"{name} must hold class ids in [0, {num_classes - 1}] for {num_classes} "
            f"classes; got values from {ids.min()} to {ids.max()}."
        )
    return ids


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative int, or raise for bools and out-of-range
    values."""
    if isinstance(axis, bool) or not isinstance(axis, Integral):
        raise TypeError(
            f"{name} must be an int; got {axis!r} of type {type(axis).__name__}."
        )
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an input of rank {ndim}.")
    return int(axis) % ndim


def check_axes(axis: Any, ndim: int, name: str = "axis") -> tuple[int, ...] | None:
    """Like :func:`check_axis` but also accepts ``None`` (all axes) or a tuple of
    ints."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(check_axis(a, ndim, name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{name}={axis!r} repeats an axis.")
        return axes
    return (check_axis(axis, ndim, name),)


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a float; non-numbers (and bools) raise a ``TypeError``."""
    if isinstance(value, bool) or not isinstance(
        value, (Real, np.floating, np.integer)
    ):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    return value


def check_non_negative(name: str, value: Any) -> float:
    """A finite real number ``>= 0``."""
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}.")
    return value


def check_interval(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval given by ``low``, ``high`` and the open
    flags."""
    value = check_real(name, value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = (
            f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        )
        raise ValueError(f"{name} must be in {interval}; got {value}.")
    return value


def check_bool(name: str, value: Any) -> bool:
    """A genuine ``bool`` (``from_logits="no"`` is truthy and would silently flip the
    maths)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_axis_argument(axis: Any, name: str = "axis") -> int | tuple[int, ...] | None:
    """Type-check an ``axis`` argument before the input's rank is known.

    Accepts ``None``, an int, or a tuple/list of distinct ints (returned as a
    tuple).  Loss classes call this in ``__init__`` so that ``axis="1"`` fails
    at construction; the range is checked at call time by :func:`check_axes`.

    >>> check_axis_argument([1, 2])
    (1, 2)
    """
    if axis is None:
        return None
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if any(isinstance(a, bool) or not isinstance(a, Integral) for a in items):
        raise TypeError(
            f"{name} must be None, an int or a tuple of ints; got {axis!r}."
        )
    if len(set(items)) != len(items):
        raise ValueError(f"{name}={axis!r} repeats an axis.")
    return (
        tuple(int(a) for a in items) if isinstance(axis, (tuple, list)) else int(axis)
    )


def as_integer_labels(x: ArrayLike, name: str) -> np.ndarray:
    """Convert labels that are only compared for equality (any sign) to ``int64``.

    Unlike :func:`as_class_ids` there is no range to respect, but fractional,
    infinite or NaN values are refused: ``1.7`` is not a label.

    >>> as_integer_labels([3., -1., 3.], "y_true")
    array([ 3, -1,  3])
    """
    array = as_numeric_array(x, name)
    if array.dtype.kind == "f" and (
        not np.all(np.isfinite(array)) or np.any(array != np.round(array))
    ):
        raise ValueError(f"{name} must hold integer labels; got non-integer values.")
    return array.astype(np.int64)
