"""Small conveniences for the course notebooks (no TensorFlow here).

Every notebook starts with::

    from course_lib.notebook import setup, show
    setup()

``setup`` must run before anything imports TensorFlow: it silences
TensorFlow's C++ start-up logs and switches oneDNN off, so that every
machine -- a learner's laptop, CI, nbval -- computes the same low-order bits
and prints the same numbers.
"""

from __future__ import annotations

import inspect
import os
import random
import sys
from typing import Any

import numpy as np

#: Environment that keeps TensorFlow quiet and its float results reproducible.
#: Level 3 also hides C++ log lines of level ERROR that this TensorFlow build
#: prints during ``fit`` on NumPy arrays (``node_def_util.cc ... use_unbounded_threadpool``),
#: which are harmless; Python exceptions are unaffected.  Without oneDNN the
#: float results no longer depend on the CPU's vector extensions.
TF_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_tensorflow() -> None:
    """Set :data:`TF_ENVIRONMENT` (without overriding what the user set); call before importing TF."""
    for key, value in TF_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def setup(seed: int = 0) -> None:
    """Prepare a notebook: quiet TensorFlow, seed NumPy and ``random``, set plot defaults.

    Raises ``RuntimeError`` if TensorFlow was imported first, because then its
    settings can no longer change.
    """
    if "tensorflow" in sys.modules and any(
        os.environ.get(key) != value for key, value in TF_ENVIRONMENT.items()
    ):
        raise RuntimeError("call setup() before importing tensorflow or keras (restart the kernel).")
    os.environ.update(TF_ENVIRONMENT)
    random.seed(seed)
    np.random.seed(seed)
    np.set_printoptions(precision=4, suppress=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.figsize": (7.0, 3.5), "figure.dpi": 90, "axes.grid": True})


def fmt(values: Any, digits: int = 4) -> str:
    """Numbers (a scalar, an array, a tensor) as text with a fixed number of decimals.

    Printing at a stated precision keeps notebook outputs identical from run to
    run and machine to machine; ``-0.0`` prints as ``0.0``.

    >>> fmt(2 / 3), fmt([0.5, -0.0], digits=2)
    ('0.6667', '[0.50 0.00]')
    """
    array = np.asarray(values, dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.array2string(array, precision=digits, floatmode="fixed", suppress_small=True)


def show(obj: Any) -> None:
    """Print the source code of a ``course_lib`` function or class.

    Notebooks show the library's real code this way instead of keeping a
    second copy of it.

    >>> from course_lib.losses import mean_squared_error
    >>> show(mean_squared_error)  # doctest: +ELLIPSIS
    def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    ...
    """
    print(inspect.getsource(obj).rstrip())
