"""Graded tasks of chapter 12 (choosing a loss): SSIM, its gradient, balancing a hybrid, a Keras SSIM + L1.

Equation numbers in the messages, (12.1)-(12.3) hybrids, (12.4)-(12.7) SSIM and
(12.8)-(12.9) its gradient, are those of ``notebooks/12_choosing_a_loss.ipynb``.
"""

from __future__ import annotations

import numpy as np

from course_grader.model import (
    Mistake,
    Task,
    forbid,
    library_function,
    seeded_cases,
)
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch12 import task_data
from course_lib.losses.image import check_window, local_filter


def _image_pair(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0
) -> tuple[np.ndarray, ...]:
    clean = rng.uniform(0.05, 0.95, size=shape)
    restored = np.clip(clean * rng.gamma(6.0, 1.0 / 6.0, size=shape), 0.0, 1.0)
    return scale * clean, scale * restored


def _as4d(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[..., None] if x.ndim == 3 else x


def _ssim_variant(y_true, y_pred, max_val=1.0, window=3, *, k1=0.01, k2=0.03, squared=True, centred=True):
    """Per-image SSIM of (12.6) with switches that reproduce typical mistakes."""
    x, y = _as4d(y_true), _as4d(y_pred)
    w = check_window(window)
    c1, c2 = ((k1 * max_val) ** 2, (k2 * max_val) ** 2) if squared else (k1 * max_val, k2 * max_val)
    mu_x, mu_y = local_filter(x, w), local_filter(y, w)
    shift = 1.0 if centred else 0.0
    var_x = local_filter(x * x, w) - shift * mu_x**2
    var_y = local_filter(y * y, w) - shift * mu_y**2
    cov = local_filter(x * y, w) - shift * mu_x * mu_y
    values = (2 * mu_x * mu_y + c1) * (2 * cov + c2) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return values.mean(axis=(1, 2, 3))


# --------------------------------------------------------------------------------------
# 12.1 the SSIM loss (12.7) with a uniform size x size window
# --------------------------------------------------------------------------------------


def _ssim_case(rng: np.random.Generator, shape: tuple[int, ...], size: int, max_val: float) -> Case:
    y_true, y_pred = _image_pair(rng, shape, scale=max_val)
    label = f"images {shape}, {size}x{size} window, max_val={max_val:g}"
    return Case(label, (y_true, y_pred), {"max_val": max_val, "size": size})


SSIM_LOSS = Task(
    task_id="12.1",
    title="the SSIM loss",
    answer="my_ssim_loss",
    reference=lambda y_true, y_pred, max_val=1.0, size=3: losses.ssim_loss(
        y_true, y_pred, max_val=max_val, window=size
    ),
    forbidden=forbid(library_function(r"ssim\w*", r"SSIM\w*")),
    public=seeded_cases(
        0, _ssim_case, [((2, 8, 8, 1), 3, 1.0), ((3, 10, 9, 1), 5, 1.0), ((2, 8, 8, 1), 3, 255.0)]
    ),
    hidden=seeded_cases(
        1, _ssim_case, [((4, 6, 7, 1), 2, 1.0), ((1, 12, 12, 1), 7, 2.0), ((3, 9, 9, 1), 3, 255.0)]
    ),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is SSIM itself; the loss (12.7) is 1 - SSIM, which is 0 for identical images",
            lambda y_true, y_pred, max_val=1.0, size=3: _ssim_variant(y_true, y_pred, max_val, size),
        ),
        Mistake(
            "the constants are squared: C1 = (0.01 L)**2 and C2 = (0.03 L)**2, not 0.01 L and 0.03 L",
            lambda y_true, y_pred, max_val=1.0, size=3: (
                1 - _ssim_variant(y_true, y_pred, max_val, size, squared=False)
            ),
        ),
        Mistake(
            "your constants ignore max_val: C1 = (0.01 L)**2 and C2 = (0.03 L)**2 scale with the "
            "dynamic range L = max_val (255 for 8-bit images)",
            lambda y_true, y_pred, max_val=1.0, size=3: 1 - _ssim_variant(y_true, y_pred, 1.0, size),
        ),
        Mistake(
            "your variances and covariance are raw second moments: (12.4) subtracts the product of "
            "the local means, sigma_x**2 = F(x**2) - mu_x**2 and sigma_xy = F(xy) - mu_x mu_y",
            lambda y_true, y_pred, max_val=1.0, size=3: (
                1 - _ssim_variant(y_true, y_pred, max_val, size, centred=False)
            ),
        ),
        Mistake(
            "you computed ONE SSIM from the statistics of the whole image; (12.6) is computed in every "
            "size x size window and then averaged over the window positions",
            lambda y_true, y_pred, max_val=1.0, size=3: (
                1 - _ssim_variant(y_true, y_pred, max_val, np.ones(np.shape(y_true)[1:3]))
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 12.2 the gradient (12.9) of the global SSIM loss (one window = the whole image)
# --------------------------------------------------------------------------------------


def _global_gradient(y_true, y_pred, max_val=1.0, *, cross_factor=1.0, square_factor=2.0, per_pixel=True):
    """(12.8)-(12.9) with a single window that covers the image, with mistake switches."""
    x, y = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    axes = tuple(range(1, x.ndim))
    n = np.prod(x.shape[1:])
    c1, c2 = (0.01 * max_val) ** 2, (0.03 * max_val) ** 2
    mu_x, mu_y = x.mean(axis=axes, keepdims=True), y.mean(axis=axes, keepdims=True)
    var_x, var_y = x.var(axis=axes, keepdims=True), y.var(axis=axes, keepdims=True)
    cov = (x * y).mean(axis=axes, keepdims=True) - mu_x * mu_y
    a1, a2 = 2 * mu_x * mu_y + c1, 2 * cov + c2
    b1, b2 = mu_x**2 + mu_y**2 + c1, var_x + var_y + c2
    s = a1 * a2 / (b1 * b2)
    d_m = s * (2 * mu_x / a1 - 2 * mu_x / a2 - 2 * mu_y / b1 + 2 * mu_y / b2)
    grad = -(d_m + square_factor * y * (-s / b2) + cross_factor * x * (2 * s / a2))
    return grad / n if per_pixel else grad


def _global_case(rng: np.random.Generator, shape: tuple[int, ...], max_val: float) -> Case:
    y_true, y_pred = _image_pair(rng, shape, scale=max_val)
    return Case(f"images {shape}, max_val={max_val:g}", (y_true, y_pred), {"max_val": max_val})


GLOBAL_SSIM_GRADIENT = Task(
    task_id="12.2",
    title="gradient of the global SSIM loss",
    answer="my_global_ssim_gradient",
    reference=lambda y_true, y_pred, max_val=1.0: gradients.ssim_loss(
        y_true, y_pred, max_val=max_val, window=np.ones(np.shape(y_true)[1:3])
    ),
    forbidden=forbid(library_function(r"ssim\w*", r"SSIM\w*"), autodiff=True),
    public=seeded_cases(2, _global_case, [((2, 6, 6), 1.0), ((3, 5, 8), 1.0), ((2, 4, 4), 255.0)]),
    hidden=seeded_cases(3, _global_case, [((4, 7, 3), 1.0), ((1, 9, 9), 2.0), ((3, 6, 5), 255.0)]),
    rtol=1e-6,
    atol=1e-12,
    mistakes=(
        Mistake(
            "that is the gradient of SSIM; the loss is 1 - SSIM, so every sign flips",
            lambda y_true, y_pred, max_val=1.0: -_global_gradient(y_true, y_pred, max_val),
        ),
        Mistake(
            "the factor 1/n is missing: mu_y, F(y**2) and F(xy) are MEANS over the n pixels, so each "
            "pixel's share of their derivative is 1/n (F^T of a single window spreads 1/n over the image)",
            lambda y_true, y_pred, max_val=1.0: _global_gradient(y_true, y_pred, max_val, per_pixel=False),
        ),
        Mistake(
            "the variance term needs d F(y**2) / d y = 2y/n: the factor 2 of (12.9) is missing",
            lambda y_true, y_pred, max_val=1.0: _global_gradient(y_true, y_pred, max_val, square_factor=1.0),
        ),
        Mistake(
            "the covariance term of (12.9) is x * dSSIM/dk (d F(xy) / d y = x/n): it is missing",
            lambda y_true, y_pred, max_val=1.0: _global_gradient(y_true, y_pred, max_val, cross_factor=0.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 12.3 balancing a hybrid by gradient size (12.2)
# --------------------------------------------------------------------------------------


def _ssim_gradient(*, spread_scale: float = 1.0, square_factor: float = 2.0, cross_factor: float = 1.0):
    """g_S of 12.3, (12.8)-(12.9) with the 7x7 window, with switches that reproduce mistakes.

    ``spread_scale=49`` is an adjoint that sums its windows instead of averaging them.
    """
    clean, restored = task_data()
    window = check_window(7)
    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_y = local_filter(clean, window), local_filter(restored, window)
    var_x = local_filter(clean * clean, window) - mu_x**2
    var_y = local_filter(restored * restored, window) - mu_y**2
    cov = local_filter(clean * restored, window) - mu_x * mu_y
    a1, a2 = 2 * mu_x * mu_y + c1, 2 * cov + c2
    b1, b2 = mu_x**2 + mu_y**2 + c1, var_x + var_y + c2
    s = a1 * a2 / (b1 * b2)
    d_mean = s * (2 * mu_x / a1 - 2 * mu_x / a2 - 2 * mu_y / b1 + 2 * mu_y / b2)

    def spread(m):  # F^T: pad the per-position map by 6, then take the 7x7 local means again
        return spread_scale * local_filter(np.pad(m, ((0, 0), (6, 6), (6, 6), (0, 0))), window)

    positions = np.prod(s.shape[1:])
    return (
        -(
            spread(d_mean)
            + square_factor * restored * spread(-s / b2)
            + cross_factor * clean * spread(2 * s / a2)
        )
        / positions
    )


def _l1_gradient(*, over_batch: bool = False, per_pixel: bool = True) -> np.ndarray:
    """The gradient of the sum of per-image mean absolute errors (or of the batch mean, or unnormalised)."""
    clean, restored = task_data()
    count = clean.size if over_batch else np.prod(clean.shape[1:])
    return np.sign(restored - clean) / (count if per_pixel else 1)


def _alpha(g_ssim: np.ndarray, g_l1: np.ndarray) -> float:
    """(12.2)'s alpha: alpha |g_S| = (1 - alpha) |g_1|."""
    ssim_norm, l1_norm = np.linalg.norm(g_ssim), np.linalg.norm(g_l1)
    return float(l1_norm / (ssim_norm + l1_norm))


def _balanced_alpha() -> float:
    clean, restored = task_data()
    return _alpha(gradients.ssim_loss(clean, restored), _l1_gradient())


def _loss_ratio_alpha() -> float:
    clean, restored = task_data()
    structural = float(np.sum(losses.ssim_loss(clean, restored)))
    l1 = float(np.sum(np.mean(np.abs(restored - clean), axis=(1, 2, 3))))
    return l1 / (structural + l1)


def _single_window_alpha() -> float:
    clean, restored = task_data()
    global_gradient = gradients.ssim_loss(clean, restored, window=np.ones(clean.shape[1:3]))
    return _alpha(global_gradient, _l1_gradient())


#: Window positions per image of task_data() with the default 7x7 window: (16 - 7 + 1)**2.
_POSITIONS = (16 - 7 + 1) ** 2

BALANCED_ALPHA = Task(
    task_id="12.3",
    title="alpha that balances the gradients of the SSIM + L1 loss on task_data()",
    answer="balanced_alpha",
    kind="value",
    reference=_balanced_alpha(),
    forbidden=forbid(autodiff=True),
    public=(Case("your value", ()),),
    rtol=1e-5,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that alpha balances the gradients the wrong way round: alpha multiplies the SSIM term, so "
            "alpha * |g_SSIM| = (1 - alpha) * |g_L1| gives alpha = |g_L1| / (|g_SSIM| + |g_L1|)",
            lambda: 1 - _balanced_alpha(),
            public=False,  # 1 - the answer
        ),
        Mistake(
            "that alpha balances the loss VALUES; the hybrid's gradient (12.2) is what trains the model, "
            "so balance the gradient norms",
            _loss_ratio_alpha,
        ),
        Mistake(
            "that alpha balances the loss VALUES, and the wrong way round (alpha multiplies the SSIM "
            "term); balance the gradient norms instead",
            lambda: 1 - _loss_ratio_alpha(),
        ),
        Mistake(
            "the L1 gradient is sign(y_pred - y_true) / (H W C): the per-image mean divides by the number "
            "of pixels",
            lambda: _alpha(_ssim_gradient(), _l1_gradient(per_pixel=False)),
        ),
        Mistake(
            "the L1 term is the SUM over the images of per-image means, so its gradient is "
            "sign(y_pred - y_true) / (H W C), not divided by the batch size as well",
            lambda: _alpha(_ssim_gradient(), _l1_gradient(over_batch=True)),
        ),
        Mistake(
            f"your SSIM gradient lacks the 1/P of the mean over the P = {_POSITIONS} window positions: "
            "SSIM_i averages the per-position map (shape (4, 10, 10, 1)), so each position's share is 1/P",
            lambda: _alpha(_ssim_gradient() * _POSITIONS, _l1_gradient()),
        ),
        Mistake(
            f"you divided the SSIM gradient by the H W = 256 pixels; SSIM_i is a mean over the "
            f"P = {_POSITIONS} window positions, so divide by P (the 1/49 of each window is in F^T)",
            lambda: _alpha(_ssim_gradient() * _POSITIONS / 256, _l1_gradient()),
        ),
        Mistake(
            "your adjoint F^T sums the windows that cover a pixel; each gives the pixel 1/49 of its "
            "value (take the 7x7 local MEANS of the padded map)",
            lambda: _alpha(_ssim_gradient(spread_scale=49.0), _l1_gradient()),
        ),
        Mistake(
            "that is Task 2's gradient for a single window over the whole image; SSIM_i here is the "
            "mean over the 7x7 windows, so use the local statistics and the adjoint F^T",
            _single_window_alpha,
        ),
        Mistake(
            "the variance term needs d F(y**2) / d y: the factor 2 of 2 y * F^T(dSSIM/dv) in (12.9) "
            "is missing",
            lambda: _alpha(_ssim_gradient(square_factor=1.0), _l1_gradient()),
        ),
        Mistake(
            "the covariance term x * F^T(dSSIM/dk) of (12.9) is missing",
            lambda: _alpha(_ssim_gradient(cross_factor=0.0), _l1_gradient()),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 12.4 the mixed loss (12.3) as a Keras custom loss with a uniform 3x3 window
# --------------------------------------------------------------------------------------


def _keras_case(rng: np.random.Generator, shape: tuple[int, ...], alpha: float) -> Case:
    y_true, y_pred = (a.astype(np.float32) for a in _image_pair(rng, shape))
    return Case(f"images {shape}, alpha={alpha:g}", (y_true, y_pred), {"alpha": alpha})


def _mix(structural, l1_factor=1.0, swap=False):
    def loss(y_true, y_pred, alpha=0.84):
        a = 1 - alpha if swap else alpha
        l1 = np.mean(np.abs(np.float64(y_pred) - np.float64(y_true)), axis=(1, 2, 3))
        return a * structural(y_true, y_pred) + (1 - a) * l1_factor * l1

    return loss


def _one_minus_ssim3(y_true, y_pred):
    return 1 - _ssim_variant(np.float64(y_true), np.float64(y_pred), 1.0, 3)


KERAS_SSIM_L1 = Task(
    task_id="12.4",
    title="the SSIM + L1 loss as a Keras custom loss",
    answer="keras_ssim_l1",
    reference=lambda y_true, y_pred, alpha=0.84: losses.ssim_l1_loss(
        np.float64(y_true), np.float64(y_pred), alpha=alpha, window=3
    ),
    backend="keras",
    public=seeded_cases(4, _keras_case, [((2, 8, 8, 1), 0.84), ((3, 9, 7, 1), 0.5)]),
    hidden=seeded_cases(5, _keras_case, [((4, 6, 6, 1), 0.84), ((1, 12, 10, 1), 0.2)]),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(library_function(r"ssim\w*", r"SSIM\w*")),
    mistakes=(
        Mistake(
            "alpha weights the wrong term: (12.3) is alpha * (1 - SSIM) + (1 - alpha) * L1",
            _mix(_one_minus_ssim3, swap=True),
        ),
        Mistake(
            "the structural term of (12.3) is 1 - SSIM, not SSIM",
            _mix(lambda y_true, y_pred: 1 - _one_minus_ssim3(y_true, y_pred)),
        ),
        Mistake(
            "the constants are squared: C1 = (0.01 L)**2 and C2 = (0.03 L)**2 with L = 1",
            _mix(lambda t, p: 1 - _ssim_variant(np.float64(t), np.float64(p), 1.0, 3, squared=False)),
        ),
        Mistake(
            "you computed one SSIM from the whole image; (12.6) is averaged over every 3x3 window "
            "(keras.ops.average_pool with pool_size=3, strides=1, padding='valid' gives the local means)",
            _mix(
                lambda t, p: 1 - _ssim_variant(np.float64(t), np.float64(p), 1.0, np.ones(np.shape(t)[1:3]))
            ),
        ),
    ),
)

TASKS = (SSIM_LOSS, GLOBAL_SSIM_GRADIENT, BALANCED_ALPHA, KERAS_SSIM_L1)
