"""NumPy twin of ``keras.losses`` (Keras 3.15): the same class and function names,
constructor keywords, defaults, reductions and ``sample_weight`` behaviour.

Functions (``binary_crossentropy``, ``huber``, ...) return one value per sample;
classes (``BinaryCrossentropy``, ``Huber``, ...) add ``sample_weight``, masks
and the reduction, all handled in one place, :mod:`course_lib.losses.reduction`.
The maths the families share (sigmoid, softmax, the stable cross-entropies,
squared distances, log-sum-exp) is public in :mod:`course_lib.losses.numerics`.

>>> import course_lib.losses as losses
>>> losses.get("mse") is losses.mean_squared_error
True
"""

from __future__ import annotations

from typing import Any

from course_lib.losses import classification_metrics as _classification_metrics
from course_lib.losses import hinge as _hinge_module
from course_lib.losses import image as _image
from course_lib.losses import metric_learning as _metric_learning
from course_lib.losses import probabilistic as _probabilistic
from course_lib.losses import regression as _regression
from course_lib.losses import segmentation as _segmentation
from course_lib.losses import sequence as _sequence
from course_lib.losses import similarity as _similarity
from course_lib.losses._base import Loss, LossFunctionWrapper
from course_lib.losses.classification_metrics import *  # noqa: F403
from course_lib.losses.hinge import *  # noqa: F403
from course_lib.losses.image import *  # noqa: F403
from course_lib.losses.metric_learning import *  # noqa: F403
from course_lib.losses.probabilistic import *  # noqa: F403
from course_lib.losses.reduction import REDUCTIONS, reduce_weighted_values
from course_lib.losses.regression import *  # noqa: F403
from course_lib.losses.segmentation import *  # noqa: F403
from course_lib.losses.sequence import *  # noqa: F403
from course_lib.losses.similarity import *  # noqa: F403

_FAMILIES = (
    _regression, _probabilistic, _hinge_module, _similarity,
    _segmentation, _metric_learning, _sequence, _classification_metrics, _image,
)  # fmt: skip

#: Every public loss, by its Keras name (snake_case functions and CamelCase classes).
ALL_LOSSES: dict[str, Any] = {
    name: getattr(module, name) for module in _FAMILIES for name in module.__all__
}

#: The class that wraps each loss function, e.g. ``"huber" -> "Huber"`` (read off the
#: classes).
CLASS_OF_FUNCTION: dict[str, str] = {
    obj().fn.__name__: name
    for name, obj in ALL_LOSSES.items()
    if isinstance(obj, type) and issubclass(obj, LossFunctionWrapper)
}

#: Keras' short string identifiers, also importable as attributes (``losses.mse``).
ALIASES: dict[str, str] = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
}  # fmt: skip

globals().update(
    {
        alias: ALL_LOSSES[target]
        for alias, target in ALIASES.items()
        if target in ALL_LOSSES
    }
)


def get(identifier: str | Loss | Any) -> Any:
    """Resolve a loss from its name, as ``keras.losses.get`` does.

    Accepts a function or class name (``"huber"``, ``"Huber"``), a short alias
    (``"mse"``) or an object that is already callable (returned unchanged).
    A class name returns an *instance* with default arguments.

    >>> get("Huber").delta
    1.0
    >>> get("logcosh")
    Traceback (most recent call last):
    ...
    ValueError: Could not interpret loss identifier 'logcosh'. Known names ...
    """
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"identifier must be a loss name or a callable; got {identifier!r}."
        )
    name = ALIASES.get(identifier, identifier)
    if name not in ALL_LOSSES:
        raise ValueError(
            f"Could not interpret loss identifier {identifier!r}. Known names are the "
            f"snake_case functions, CamelCase classes and aliases {sorted(ALIASES)}."
        )
    found = ALL_LOSSES[name]
    return found() if isinstance(found, type) else found


__all__ = [
    "CLASS_OF_FUNCTION",
    "Loss",
    "LossFunctionWrapper",
    "REDUCTIONS",
    "get",
    "reduce_weighted_values",
]
__all__ += list(ALL_LOSSES) + list(ALIASES)
