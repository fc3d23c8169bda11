"""The SSIM loss and the mixed SSIM + L1 loss (Zhao et al. 2017): NumPy vs Keras vs TF.

Keras has no SSIM loss, so the references are ``tf.image.ssim`` (with its own
11x11 Gaussian window, sigma 1.5) and our Keras version in
:mod:`course_lib.keras_losses.image`: values, classes, reductions, configs, bad input.
The gradients are in ``tests/gradients/test_image.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from image_cases import WINDOWS, _images
from keras_reference import ATOL32, ATOL64, BACKEND, RTOL32, RTOL64, keras_loss_call, keras_ops_value
from loss_cases import REDUCTIONS

import course_lib.gradients as G
import course_lib.keras_losses as K
import course_lib.losses as L
from course_lib.losses.image import gaussian_window, ssim

TF_IMAGE_SSIM = pytest.mark.skipif(BACKEND != "tensorflow", reason="the reference is tf.image.ssim")


@TF_IMAGE_SSIM
def test_ssim_matches_tf_image_ssim_with_its_gaussian_window():
    import tensorflow as tf

    x, y = _images((4, 16, 14, 3), dtype=np.float32)
    ours = ssim(x, y, max_val=1.0, window=gaussian_window(11, 1.5))
    reference = tf.image.ssim(tf.constant(x), tf.constant(y), max_val=1.0).numpy()
    np.testing.assert_allclose(ours, reference, rtol=RTOL32, atol=ATOL32)
    assert ours.dtype == np.float32


@TF_IMAGE_SSIM
def test_ssim_matches_tf_image_ssim_for_another_max_val():
    import tensorflow as tf

    x, y = _images((2, 16, 16, 1))
    ours = ssim(255 * x, 255 * y, max_val=255.0, window=gaussian_window(11, 1.5))
    reference = tf.image.ssim(tf.constant(255 * x), tf.constant(255 * y), max_val=255.0).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window", WINDOWS, ids=["uniform3", "uniform5", "gauss5", "custom2d"])
@pytest.mark.parametrize("name", ["ssim_loss", "ssim_l1_loss"])
def test_numpy_and_keras_versions_agree_float64(name, window):
    x, y = _images()
    kwargs = {"window": window, "max_val": 1.5} | ({"alpha": 0.3} if name == "ssim_l1_loss" else {})
    ours = getattr(L, name)(x, y, **kwargs)
    theirs = keras_ops_value(getattr(K, name), x, y, **kwargs)
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("name", ["ssim_loss", "ssim_l1_loss"])
def test_numpy_and_keras_versions_agree_float32(name):
    x, y = _images(dtype=np.float32)
    ours = getattr(L, name)(x, y)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, keras_ops_value(getattr(K, name), x, y), rtol=RTOL32, atol=ATOL32)


def test_identical_images_have_zero_loss_and_zero_gradient():
    x, _ = _images(dtype=np.float32)
    assert np.allclose(L.ssim_loss(x, x), 0.0, atol=1e-6)
    assert np.allclose(G.ssim_loss(x, x), 0.0, atol=1e-6)


def test_alpha_interpolates_between_ssim_loss_and_l1():
    x, y = _images()
    l1 = np.mean(np.abs(x - y), axis=(1, 2, 3))
    np.testing.assert_allclose(L.ssim_l1_loss(x, y, alpha=1.0), L.ssim_loss(x, y))
    np.testing.assert_allclose(L.ssim_l1_loss(x, y, alpha=0.0), l1)
    mixed = 0.84 * L.ssim_loss(x, y) + 0.16 * l1
    np.testing.assert_allclose(L.ssim_l1_loss(x, y), mixed)


def test_rank_3_images_are_one_channel_and_gradient_keeps_shape():
    x, y = _images((2, 8, 8, 1))
    np.testing.assert_allclose(L.ssim_loss(x[..., 0], y[..., 0]), L.ssim_loss(x, y))
    assert G.ssim_loss(x[..., 0], y[..., 0]).shape == (2, 8, 8)
    assert G.ssim_l1_loss(x, y[..., 0]).shape == (2, 8, 8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "b", "b1", "scalar"])
def test_classes_numpy_vs_keras(reduction, weight):
    x, y = _images(dtype=np.float32)
    sample_weight = {
        None: None,
        "b": np.array([1.0, 0.0, 2.0]),
        "b1": np.array([[0.5], [1.0], [0.0]]),
        "scalar": 2.0,
    }[weight]
    for ours, theirs in [
        (L.SSIMLoss(window=5, reduction=reduction), K.SSIMLoss(window=5, reduction=reduction)),
        (L.SSIML1Loss(alpha=0.5, reduction=reduction), K.SSIML1Loss(alpha=0.5, reduction=reduction)),
    ]:
        expected = keras_loss_call(theirs, x, y, sample_weight)
        np.testing.assert_allclose(
            ours(x, y, sample_weight=sample_weight), expected, rtol=RTOL32, atol=ATOL32
        )


def test_keras_class_trains_a_model_and_round_trips_its_config():
    import keras

    for loss in (K.SSIMLoss(window=3), K.SSIML1Loss(alpha=0.5, window=gaussian_window(3, 1.0))):
        clone = type(loss).from_config(loss.get_config())
        assert clone.get_config() == loss.get_config()
        assert keras.losses.deserialize(keras.losses.serialize(loss)).get_config() == loss.get_config()
    keras.utils.set_random_seed(0)
    x, y = _images((8, 8, 8, 1), dtype=np.float32)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=K.SSIML1Loss(window=3))
    history = model.fit(y, x, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_class_config_and_attributes():
    loss = L.SSIML1Loss(alpha=0.5, max_val=255, window=gaussian_window(3, 1.0))
    assert loss.alpha == 0.5 and loss.max_val == 255.0 and len(loss.window) == 3
    assert type(loss)(**loss.get_config()).get_config() == loss.get_config()
    assert L.SSIMLoss().name == "ssim_loss" and L.SSIML1Loss().name == "ssim_l1_loss"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: L.ssim_loss(np.zeros((2, 8, 8, 1)), np.zeros((2, 8, 7, 1))), ValueError, "same shape"),
        (lambda: L.ssim_loss(np.zeros((2, 8)), np.zeros((2, 8))), ValueError, "batch, height, width"),
        (lambda: L.ssim_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 1))), ValueError, "does not fit"),
        (
            lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), max_val=0),
            ValueError,
            "max_val",
        ),
        (
            lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), max_val="1"),
            TypeError,
            "max_val",
        ),
        (lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), window=0), ValueError, "window"),
        (
            lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), window=True),
            TypeError,
            "window",
        ),
        (
            lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), window=[1, -1]),
            ValueError,
            "window",
        ),
        (
            lambda: L.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), window="7"),
            TypeError,
            "window",
        ),
        (
            lambda: L.ssim_l1_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), alpha=1.5),
            ValueError,
            "alpha",
        ),
        (lambda: G.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 2))), ValueError, "same shape"),
        (
            lambda: G.ssim_l1_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)), alpha=-0.1),
            ValueError,
            "alpha",
        ),
        (lambda: L.SSIMLoss(max_val=-1), ValueError, "max_val"),
        (lambda: L.SSIML1Loss(alpha=2), ValueError, "alpha"),
        (lambda: L.SSIMLoss(window=np.ones((2, 2, 2))), ValueError, "window"),
        (lambda: K.SSIML1Loss(alpha=2), ValueError, "alpha"),
        (lambda: K.ssim_loss(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 7, 1))), ValueError, "same shape"),
        (lambda: gaussian_window(5, 0.0), ValueError, "sigma"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
