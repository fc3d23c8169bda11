"""Input checking shared by every loss and gradient.

Each helper either returns a clean value or raises a ``TypeError`` /
``ValueError`` whose message names the offending argument and says what was
expected.  Losses never see raw user input: they see the output of these
helpers.  Every helper takes the value first and its name second,
``check_real(value, "delta")``, ``as_float_array(y_pred, "y_pred")``.

Arrays are checked on every call.  A loss' options (``delta``, ``from_logits``,
...) are declared once with :func:`validates_options`: a direct call checks
them, and a loss class checks them once, when it is built.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

#: A check of one option: ``(value, name) -> clean value``, raising on bad values.
OptionCheck = Callable[[Any, str], Any]
#: A loss function ``(y_true, y_pred, **options) -> one value per sample``.
LossFunction = Callable[..., np.ndarray]

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


def check_int(value: Any, name: str) -> int:
    """A genuine integer (``True`` is refused although Python counts it as ``1``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (Integral, np.integer)
    ):
        raise TypeError(
            f"{name} must be an int; got {value!r} of type {type(value).__name__}."
        )
    return int(value)


#: An ``axis`` argument that may name several axes: ``None`` means all of them.
Axis = int | tuple[int, ...] | None


def check_axis(
    value: Any, name: str = "axis", *, ndim: int | None = None, several: bool = False
) -> Any:
    """Validate an ``axis`` argument; with ``ndim``, also its range.

    With ``several=False`` the axis is one int: returned as is, or as a
    non-negative int when ``ndim`` is given.  With ``several=True`` it may also
    be ``None`` (every axis) or a list or tuple of distinct ints.  Without
    ``ndim`` (a loss class' constructor, before any input is seen) a tuple is
    returned for a list, and the value is otherwise unchanged; with ``ndim`` the
    result is ``None`` or a tuple of non-negative axes.

    >>> check_axis(-1, ndim=3)
    2
    >>> check_axis([1, 2], several=True), check_axis(-1, ndim=3, several=True)
    ((1, 2), (2,))
    """
    if not several:
        axis = check_int(value, name)
        if ndim is not None and not -ndim <= axis < ndim:
            raise ValueError(
                f"{name}={axis} is out of range for an input of rank {ndim}."
            )
        return axis if ndim is None else axis % ndim
    if value is None:
        return None
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if any(isinstance(a, bool) or not isinstance(a, Integral) for a in items):
        raise TypeError(
            f"{name} must be None, an int or a tuple of ints; got {value!r}."
        )
    if len(set(items)) != len(items):
        raise ValueError(f"{name}={value!r} repeats an axis.")
    items = tuple(int(a) for a in items)
    if ndim is None:
        return items if isinstance(value, (tuple, list)) else int(value)
    axes = tuple(check_axis(a, name, ndim=ndim) for a in items)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}={value!r} repeats an axis.")
    return axes


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a float; non-numbers (and bools) raise a ``TypeError``."""
    if isinstance(value, bool) or not isinstance(
        value, (Real, np.floating, np.integer)
    ):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    return value


def check_non_negative(value: Any, name: str) -> float:
    """A finite real number ``>= 0``."""
    value = check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}.")
    return value


def check_interval(
    value: Any,
    name: str,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval given by ``low``, ``high`` and the open
    flags."""
    value = check_real(value, name)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = (
            f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        )
        raise ValueError(f"{name} must be in {interval}; got {value}.")
    return value


def in_interval(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> OptionCheck:
    """The check ``value -> check_interval(value, name, low, high, ...)``, for
    :func:`validates_options`."""

    def check(value: Any, name: str) -> float:
        return check_interval(
            value, name, low, high, low_open=low_open, high_open=high_open
        )

    return check


def check_bool(value: Any, name: str) -> bool:
    """A genuine ``bool`` (``from_logits="no"`` is truthy and would silently flip the
    maths)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_several_axes(value: Any, name: str) -> Axis:
    """:func:`check_axis` with ``several=True`` and no rank, as an option check."""
    return check_axis(value, name, several=True)


def validates_options(**checks: OptionCheck) -> Callable[[LossFunction], LossFunction]:
    """Decorate a loss function so that its keyword options are checked.

    ``checks`` maps each option's name to a check ``(value, name) -> value``
    that returns the clean value or raises.  A direct call checks the options
    it is given, then runs the undecorated function.  The decorated function
    also carries

    * ``check_options(**options)``, the clean options: what a loss class
      calls once, in ``__init__``;
    * ``unchecked``, the undecorated function: what the class calls with
      options it has already checked;
    * ``option_checks``, the checks, so that the loss' gradient can reuse them.

    Only the options are checked here; the arrays are checked on every call,
    by the function itself.

    >>> @validates_options(delta=check_non_negative)
    ... def scaled(y_true, y_pred, delta=1.0):
    ...     return delta * (np.asarray(y_pred) - y_true)
    >>> scaled(0.0, 2.0, delta=-1)
    Traceback (most recent call last):
    ...
    ValueError: delta must be >= 0; got -1.0.
    >>> scaled.check_options(delta=3)
    {'delta': 3.0}
    """

    def decorate(fn: LossFunction) -> LossFunction:
        signature = inspect.signature(fn)
        unknown = set(checks) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{fn.__name__} has no options {sorted(unknown)}.")

        def check_options(**options: Any) -> dict[str, Any]:
            return {
                name: checks[name](value, name) if name in checks else value
                for name, value in options.items()
            }

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> np.ndarray:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:  # let Python word the mistake, as for any function
                return fn(*args, **kwargs)
            bound.arguments.update(
                check_options(
                    **{k: v for k, v in bound.arguments.items() if k in checks}
                )
            )
            return fn(*bound.args, **bound.kwargs)

        checked.check_options = check_options  # type: ignore[attr-defined]
        checked.unchecked = fn  # type: ignore[attr-defined]
        checked.option_checks = dict(checks)  # type: ignore[attr-defined]
        return checked

    return decorate


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
