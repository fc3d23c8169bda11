"""Keras versions of the losses that Keras itself lacks (this package imports Keras).

Each is written with ``keras.ops`` so that it trains a model, and is checked
against its NumPy twin in :mod:`course_lib.losses` and against autodiff.
Importing :mod:`course_lib` does not import this package.
"""

from course_lib.keras_losses.classification_metrics import *  # noqa: F403
from course_lib.keras_losses.image import *  # noqa: F403
from course_lib.keras_losses.metric_learning import *  # noqa: F403
from course_lib.keras_losses.segmentation import *  # noqa: F403
