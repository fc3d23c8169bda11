"""Shared by ``tests/losses/test_classification_metrics.py`` and
``tests/gradients/test_classification_metrics.py``: the source article's soft F-beta
written with TensorFlow (a reference for values and for ``tf.GradientTape``), seeded
data and the axes worth testing.

``article_fbeta`` needs TensorFlow (it imports it when called), so the tests that use it
run on the TensorFlow backend only.
"""

from __future__ import annotations

import keras
import numpy as np

AXES = [None, -1, 0, (1, 2)]


def article_fbeta(y_true, y_pred, beta=1.0):
    """The source article's custom_fbeta_loss, with tf.reduce_sum for K.sum and Keras' epsilon."""
    import tensorflow as tf

    eps = keras.config.epsilon()
    true_positives = tf.reduce_sum(y_true * y_pred)
    false_positives = tf.reduce_sum((1 - y_true) * y_pred)
    false_negatives = tf.reduce_sum(y_true * (1 - y_pred))
    precision = true_positives / (true_positives + false_positives + eps)
    recall = true_positives / (true_positives + false_negatives + eps)
    fbeta_score = (1 + beta**2) * (precision * recall) / ((beta**2 * precision) + recall + eps)
    return 1 - fbeta_score


def _data(shape, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    y = (rng.random(shape) < 0.4).astype(dtype)
    y.flat[0] = 1.0
    p = rng.uniform(0.05, 0.95, shape).astype(dtype)
    return y, p
