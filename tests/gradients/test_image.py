"""Gradients of the SSIM and SSIM + L1 losses against the backend's autodiff on our Keras
version (:mod:`course_lib.keras_losses.image`) and central finite differences of the
NumPy loss; the adjoint of the local filter is its transpose."""

from __future__ import annotations

import numpy as np
import pytest
from image_cases import WINDOWS, _images
from keras_reference import autodiff_gradient, finite_difference_gradient, tolerance64

import course_lib.gradients as G
import course_lib.keras_losses as K
import course_lib.losses as L
from course_lib.gradients.image import local_filter_adjoint
from course_lib.losses.image import local_filter


@pytest.mark.parametrize("window", WINDOWS[1:], ids=["uniform5", "gauss5", "custom2d"])
@pytest.mark.parametrize("name", ["ssim_loss", "ssim_l1_loss"])
def test_gradient_matches_gradient_tape(name, window):
    x, y = _images()
    kwargs = {"window": window} | ({"alpha": 0.6} if name == "ssim_l1_loss" else {})
    ours = getattr(G, name)(x, y, **kwargs)
    theirs = autodiff_gradient(getattr(K, name), x, y, **kwargs)
    np.testing.assert_allclose(ours, theirs, **tolerance64(1e-7, 1e-10))


@pytest.mark.parametrize("name", ["ssim_loss", "ssim_l1_loss"])
def test_gradient_matches_finite_differences(name):
    x, y = _images((2, 6, 5, 2))
    kwargs = {"window": 3, "max_val": 2.0}
    numeric = finite_difference_gradient(getattr(L, name), x, y, **kwargs)
    np.testing.assert_allclose(getattr(G, name)(x, y, **kwargs), numeric, rtol=1e-5, atol=1e-8)


def test_filter_adjoint_is_the_transpose():
    rng = np.random.default_rng(1)
    window = np.asarray(L.image.check_window(np.arange(1.0, 7.0).reshape(2, 3)))
    x, g = rng.random((2, 7, 6, 3)), rng.random((2, 6, 4, 3))
    assert np.isclose(np.sum(local_filter(x, window) * g), np.sum(x * local_filter_adjoint(g, window)))
