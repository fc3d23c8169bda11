"""course_lib: the library behind *Loss functions in Keras, from first principles*.

``course_lib.losses`` is a NumPy twin of ``keras.losses`` (same names, keywords,
defaults, reductions and ``sample_weight`` behaviour) and ``course_lib.gradients``
holds the hand-derived gradient of every loss.  Neither imports TensorFlow;
only :mod:`course_lib.check` talks to Keras.
"""

from course_lib import gradients, losses

__all__ = ["gradients", "losses"]
__version__ = "0.1.0"

#: The machine epsilon Keras uses for clipping (``keras.config.epsilon()``).
EPSILON = 1e-7
