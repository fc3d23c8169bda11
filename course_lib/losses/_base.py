"""The loss base class and the wrapper that turns a per-sample function into a class.

A loss class only *holds configuration*.  Calling it

1. converts ``y_true`` and ``y_pred`` to floating arrays (``dtype`` rule below),
2. calls :meth:`Loss.call`, which returns one value per sample,
3. hands those values to :func:`~course_lib.losses.reduction.reduce_weighted_values`
   together with ``sample_weight``, the mask and the reduction.

dtype rule: with ``dtype=None`` a float32 input is computed in float32 and a
float64 input stays float64 (Keras would cast it down to ``floatx``); lists
and integer arrays use float32.  Pass ``dtype="float64"`` to force a precision.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from course_lib.losses._validation import align_ranks, as_float_array, result_dtype
from course_lib.losses.reduction import reduce_weighted_values, standardize_reduction


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Loss:
    """Base class of every loss: subclasses implement :meth:`call`.

    Parameters
    ----------
    name : str, optional
        Defaults to the snake-case class name.
    reduction : str or None
        ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
        ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
    dtype : str or numpy dtype, optional
        Floating dtype of the computation; ``None`` keeps the input's.
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: DTypeLike | None = None,
    ) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = None if dtype is None else result_dtype(None, dtype)

    def __call__(
        self,
        y_true: ArrayLike,
        y_pred: ArrayLike,
        sample_weight: ArrayLike | None = None,
        mask: ArrayLike | None = None,
    ) -> np.ndarray:
        """Return the reduced loss (or the weighted per-sample losses for ``"none"``).

        ``mask`` plays the role of Keras' ``y_pred._keras_mask``: a boolean array
        shaped like the per-sample losses, ``False`` for values to leave out.
        """
        y_pred = as_float_array(y_pred, "y_pred", self.dtype)
        y_true = as_float_array(y_true, "y_true", y_pred.dtype)
        values = np.asarray(self.call(y_true, y_pred))
        own_mask = self.output_mask(y_true, y_pred, values)
        if mask is not None and own_mask is not None:
            mask = np.logical_and(np.asarray(mask, dtype=bool), own_mask)
        elif own_mask is not None:
            mask = own_mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """Per-sample loss values; subclasses must override this."""
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def output_mask(
        self, y_true: np.ndarray, y_pred: np.ndarray, values: np.ndarray
    ) -> np.ndarray | None:
        """Values the loss itself asks to leave out (``None``: keep all)."""
        return None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, so that ``type(loss)(**loss.get_config())``
        clones it."""
        config: dict[str, Any] = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype.name
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(
            f"{key}={value!r}" for key, value in self.get_config().items()
        )
        return f"{type(self).__name__}({arguments})"


class LossFunctionWrapper(Loss):
    """A :class:`Loss` whose :meth:`call` is a per-sample function plus fixed options.

    Every built-in class is one of these.  The constructor checks the options
    once, with the checks the function declares (see
    :func:`~course_lib.losses._validation.validates_options`), and stores each
    as an attribute of the same name (``Huber(delta=2.0).delta``).  A call
    aligns the ranks of ``y_true`` and ``y_pred`` (a trailing axis of size 1
    may differ) and runs the function *without* checking the options again.
    Set options through the constructor: assigning an attribute later skips
    its check.
    """

    def __init__(
        self,
        fn: Callable[..., np.ndarray],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: DTypeLike | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        check_options = getattr(fn, "check_options", dict)
        self.option_names = tuple(options)
        for option, value in check_options(**options).items():
            setattr(self, option, value)

    def options(self) -> dict[str, Any]:
        """The options passed to :attr:`fn` on every call."""
        return {option: getattr(self, option) for option in self.option_names}

    def call(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        y_true, y_pred = align_ranks(y_true, y_pred)
        unchecked = getattr(self.fn, "unchecked", self.fn)
        return unchecked(y_true, y_pred, **self.options())

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.options()}
