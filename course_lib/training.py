"""Keras helpers for the notebooks' experiments: seeded, quiet and small.

This module imports Keras (and so TensorFlow) when its functions run; the
rest of ``course_lib`` never does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.notebook import quiet_tensorflow


def keras_session(seed: int = 0) -> Any:
    """Import Keras quietly and deterministically, seed everything, return ``keras``.

    Seeds Python, NumPy and TensorFlow with ``keras.utils.set_random_seed`` and
    turns on TensorFlow's deterministic ops, so ``fit`` gives the same weights
    on every run on the same machine.
    """
    quiet_tensorflow()
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
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
