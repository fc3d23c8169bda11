"""Keras helpers for the notebooks' experiments: seeded, quiet and small.

This module imports Keras when its functions run, on whichever backend
``KERAS_BACKEND`` selects (TensorFlow, JAX or PyTorch); the rest of
``course_lib`` never imports it.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from course_lib.notebook import quiet_tensorflow


def keras_session(seed: int = 0) -> Any:
    """Import Keras quietly and deterministically, seed everything, return ``keras``.

    Seeds Python, NumPy and Keras' global seed generator (from which the
    layers draw their initial weights) and makes the backend deterministic:
    TensorFlow's deterministic ops, or PyTorch's seed and deterministic
    algorithms.  ``fit`` then gives the same weights on every run on the same
    machine and backend.  Different backends draw different initial weights
    from the same seed, so trained numbers differ between backends.

    ``keras.utils.set_random_seed`` would do the seeding too, but it imports
    TensorFlow whenever TensorFlow is installed, even on the JAX or PyTorch
    backend (its documented behaviour, for ``tf.data`` pipelines), which costs
    seconds and hundreds of megabytes; so on those backends we seed by hand.
    """
    quiet_tensorflow()
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        return keras
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator

    global_state.set_global_attribute("global_random_seed", seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
    return keras


def dense_model(
    input_dim: int,
    outputs: int = 1,
    *,
    hidden: tuple[int, ...] = (),
    activation: str | None = None,
    seed: int = 0,
) -> Any:
    """A small fully connected model:
    ``input -> hidden ReLU layers -> Dense(outputs, activation)``.

    The weights are initialised from ``seed``, so two models built with the
    same arguments start identical -- only the loss differs between them.
    """
    keras = keras_session(seed)
    layers = [keras.Input(shape=(input_dim,))]
    for width in hidden:
        layers.append(keras.layers.Dense(width, activation="relu"))
    layers.append(keras.layers.Dense(outputs, activation=activation))
    return keras.Sequential(layers)


def fit_quietly(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: Any,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-2,
    seed: int = 0,
    **fit_kwargs: Any,
) -> list[float]:
    """Compile with Adam and ``loss``, train silently, and return the loss per epoch.

    ``verbose=0`` keeps progress bars (whose timings change on every run) out
    of the notebook, so the printed results can be compared by nbval.
    """
    keras = keras_session(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        shuffle=True,
        **fit_kwargs,
    )
    return [float(value) for value in history.history["loss"]]
