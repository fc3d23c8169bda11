"""The gradient of the CTC loss: against the backend's autodiff on ``keras.losses.ctc`` and
central finite differences, and in float32 against float64 on long sequences.

Long sequences: log forward variables fall by a few units per frame; unscaled, float32
rounds values near -600 to steps of 4e-5, and the posteriors exp(log a + log b - log p)
were 3e-4 to 8e-4 off at T = 200.  course_lib rescales every frame, which
brings the float32 gradient to 2e-6 .. 1.3e-5 at T = 200, the accuracy of
TensorFlow's float32 kernel on the same inputs (4e-6 .. 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_reference import BACKEND, RTOL32, finite_difference_gradient, tape_gradient
from sequence_cases import ctc_case

from course_lib.gradients import sequence as GS
from course_lib.gradients.sequence import ctc as ctc_gradient
from course_lib.losses import sequence as S
from course_lib.losses.sequence import ctc as ctc_loss

# --------------------------------------------------------------------------------------
# Against the tape and finite differences
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_ctc_gradient_matches_tape(seed):
    labels, logits = ctc_case(30 + seed, frames=8)
    np.testing.assert_allclose(
        GS.ctc(labels, logits), tape_gradient("ctc", labels, logits), rtol=RTOL32, atol=1e-6
    )


def test_ctc_gradient_matches_finite_differences():
    labels, logits = ctc_case(32, batch=3, frames=5, classes=4, length=3)
    grad = GS.ctc(labels, logits)
    np.testing.assert_allclose(grad, finite_difference_gradient(S.ctc, labels, logits), atol=1e-7)


def test_ctc_gradient_known_value_and_properties():
    uniform = np.zeros((1, 3, 3))
    grad = GS.ctc([[1, 2]], uniform)
    np.testing.assert_allclose(grad, tape_gradient("ctc", np.array([[1, 2]]), uniform), atol=1e-6)
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-12)  # softmax minus a distribution
    assert GS.ctc([[1, 2]], uniform.astype(np.float32)).dtype == np.float32


def test_deviation_ctc_gradient_for_too_few_frames_is_the_derivative_of_the_loss():
    """T too short: TF's gradient also counts alignments that *start* in a wrong state
    (weight 1e-307), which its loss does not, so it is not the derivative of its loss.
    Ours is: it matches finite differences.  For labels that fit, both agree (above)."""
    labels = np.array([[1, 2, 3], [1, 1, 0]])
    logits = np.random.default_rng(33).normal(size=(2, 2, 4))
    grad = GS.ctc(labels, logits)
    np.testing.assert_allclose(grad, finite_difference_gradient(S.ctc, labels, logits), atol=1e-6)
    theirs = tape_gradient("ctc", labels, logits)
    if BACKEND == "torch":  # PyTorch's loss is inf here, its gradient NaN
        assert np.all(np.isnan(theirs))
    else:  # TensorFlow's (see above) and JAX's (log-zero -1e5) are finite, and not ours
        assert np.abs(grad - theirs).max() > 1e-2


# --------------------------------------------------------------------------------------
# float32 against float64 on long sequences
# --------------------------------------------------------------------------------------


def _long_sequences(frames: int, seed: int = 0, scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(1, 20, size=(4, 40))
    labels[1, 25:] = 0  # one shorter label, padded
    return labels, scale * rng.normal(size=(4, frames, 20))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_float32_gradient_is_within_about_1e_5_of_float64_at_200_frames(seed, scale):
    labels, logits = _long_sequences(200, seed, scale)
    exact = ctc_gradient(labels, logits)
    single = ctc_gradient(labels, logits.astype(np.float32))
    assert single.dtype == np.float32
    assert np.abs(single - exact).max() < 2e-5  # before the rescaling: 3e-4 .. 8e-4


def test_float32_gradient_at_200_frames_seed_0():
    """The measured case quoted in the module docstring: 2.7e-6 (TensorFlow: 5.2e-6)."""
    labels, logits = _long_sequences(200)
    exact = ctc_gradient(labels, logits)
    assert np.abs(ctc_gradient(labels, logits.astype(np.float32)) - exact).max() < 1e-5


def test_rescaling_changes_nothing_in_float64():
    """The per-frame scales cancel: the gradient still matches central differences of the loss."""
    labels, logits = _long_sequences(6, seed=1)
    labels, logits = labels[:2, :3], logits[:2, :, :5] / 3.0
    labels = np.minimum(labels, 4)
    step = 1e-6
    numeric = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (ctc_loss(labels, up).sum() - ctc_loss(labels, down).sum()) / (2 * step)
    np.testing.assert_allclose(ctc_gradient(labels, logits), numeric, atol=1e-8)


def test_posteriors_sum_to_one_per_frame():
    """Each frame's soft target (the used shares) sums to 1, so the gradient sums to 0 over classes."""
    labels, logits = _long_sequences(200)
    gradient = ctc_gradient(labels, logits.astype(np.float32))
    assert np.abs(gradient.sum(axis=-1)).max() < 1e-5
