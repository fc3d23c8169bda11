"""course_lib: the library behind *Loss functions in Keras, from first principles*.

``course_lib.losses`` is a NumPy twin of ``keras.losses`` (same names, keywords,
defaults, reductions and ``sample_weight`` behaviour) and ``course_lib.gradients``
holds the hand-derived gradient of every loss.  Neither imports TensorFlow:
:mod:`course_lib.compare` puts them beside Keras, and
:mod:`course_lib.keras_losses` writes the losses Keras lacks with ``keras.ops``.

Both are imported on first use (``course_lib.losses`` works as before), so
that ``course_lib.grading``, the learner's self-check, loads without them.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

__all__ = ["gradients", "losses"]
__version__ = "0.1.0"

#: The machine epsilon Keras uses for clipping (``keras.config.epsilon()``).
EPSILON = 1e-7


def __getattr__(name: str) -> ModuleType:
    """Import ``course_lib.losses`` and ``course_lib.gradients`` when first used."""
    if name in __all__:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
