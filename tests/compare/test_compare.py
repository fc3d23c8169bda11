"""course_lib.compare: deterministic verdicts that notebooks print and nbval compares."""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import BACKEND

from course_lib.compare import compare_class, compare_loss
from course_lib.sample_inputs import LOSS_NAMES, sample_inputs

CLASS_OF = {
    "huber": "Huber", "binary_crossentropy": "BinaryCrossentropy", "ctc": "CTC",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "dice": "Dice",
}  # fmt: skip


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_and_gradient_agrees_with_keras(name):
    y_true, y_pred, options = sample_inputs(name, 40, seed=3)
    verdict = compare_loss(name, y_true, y_pred, **options)
    assert verdict.ok, str(verdict)
    assert "MISMATCH" not in str(verdict)


@pytest.mark.parametrize("name", sorted(CLASS_OF))
def test_classes_agree_with_keras_with_weights(name):
    y_true, y_pred, options = sample_inputs(name, 40, seed=4)
    weights = None if name == "dice" else np.linspace(0.0, 2.0, len(y_pred))
    verdict = compare_class(CLASS_OF[name], y_true, y_pred, sample_weight=weights, reduction="sum", **options)
    assert verdict.ok, str(verdict)


#: The verdict's precision, tolerances and autodiff on each backend: float64 on TensorFlow;
#: float32 on JAX and PyTorch, where Keras computes partly in float32 even for float64 input.
VERDICT_ON = {
    "tensorflow": ("float64", "rtol=1e-09, atol=5e-09", "rtol=1e-07, atol=1e-09", "tf.GradientTape"),
    "jax": ("float32", "rtol=2e-05, atol=2e-06", "rtol=0.0002, atol=2e-05", "jax.grad"),
    "torch": ("float32", "rtol=2e-05, atol=2e-06", "rtol=0.0002, atol=2e-05", "torch.autograd"),
}


def test_verdict_text_is_stable_and_free_of_raw_differences():
    y_true, y_pred = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.2, 0.7], [0.4, 0.1]])
    text = str(compare_loss("huber", y_true, y_pred, delta=0.5))
    dtype, value_tolerance, gradient_tolerance, autodiff = VERDICT_ON[BACKEND]
    assert text == (
        f"huber(delta=0.5) vs keras.losses.huber on 2 samples ({dtype}, {BACKEND} backend)\n"
        f"  value:    OK (max |difference| within {value_tolerance})\n"
        f"  gradient: OK (max |difference| within {gradient_tolerance}) vs {autodiff}"
    )


def test_a_wrong_gradient_is_reported_as_a_mismatch(monkeypatch):
    import course_lib.gradients as G

    monkeypatch.setattr(G, "huber", lambda y_true, y_pred, delta=1.0: 2 * np.asarray(y_pred))
    verdict = compare_loss("huber", [[0.0, 1.0]], [[0.5, 0.5]])
    assert verdict.value_ok and not verdict.gradient_ok and not verdict.ok
    assert "gradient: MISMATCH" in str(verdict)


@pytest.mark.parametrize(
    ("name", "options"),
    [("soft_fbeta", {"beta": 2.0}), ("bce_dice", {"bce_weight": 0.3, "axis": (1,)}), ("contrastive", {})],
)
def test_losses_keras_lacks_are_checked_against_their_keras_ops_versions(name, options):
    rng = np.random.default_rng(5)
    if name == "contrastive":
        y_true, y_pred = rng.integers(0, 2, size=6).astype(float), rng.normal(size=(6, 2, 3))
    else:
        y_true, y_pred = (rng.random((8, 4)) < 0.4).astype(float), rng.uniform(0.05, 0.95, size=(8, 4))
    verdict = compare_loss(name, y_true, y_pred, reference="course_lib.keras_losses", **options)
    assert verdict.ok, str(verdict)
    assert f"vs course_lib.keras_losses.{name}" in str(verdict)


def test_an_unknown_reference_is_refused():
    with pytest.raises(ValueError, match="reference must be"):
        compare_loss("huber", [[0.0]], [[1.0]], reference="torch")
