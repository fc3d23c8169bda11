"""Graded tasks of chapter 03 (binary classification): BCE, its stable logit form, its gradient, focal loss.

Equation numbers in the messages, (3.2) BCE, (3.3) its gradient with respect to the
probability, (3.4) with respect to the logit, (3.5) and (3.6) the logit forms, (3.10)
p_t and (3.11) the focal loss, are those of ``notebooks/03_binary_classification.ipynb``.
"""

from __future__ import annotations

import numpy as np

from course_grader.model import (
    Mistake,
    Task,
    forbid,
    library_function,
    seeded_case,
    seeded_cases,
)
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch03 import task_data

EPSILON = 1e-7  # Keras' backend epsilon
GAMMA = 2.0  # the focusing power of task 03.4

# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def _labels(rng: np.random.Generator, shape: tuple[int, ...], soft: bool = False) -> np.ndarray:
    """0/1 labels; with ``soft``, about a third of them replaced by soft labels in [0.1, 0.9]."""
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    if soft:
        y = np.where(rng.random(size=shape) < 0.3, np.round(rng.uniform(0.1, 0.9, size=shape), 2), y)
    return y


def _probability_case(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    """Labels (some soft) and probabilities in [0.02, 0.98]."""
    return Case(
        f"labels and probabilities, some soft labels, shape {shape}",
        (_labels(rng, shape, soft=True), rng.uniform(0.02, 0.98, size=shape)),
    )


def _exact_zero_one_case(rng: np.random.Generator, shape: tuple[int, int]) -> Case:
    """Probabilities of exactly 0 and 1, right and wrong: the unclipped log gives inf and nan."""
    y, p = _labels(rng, shape), rng.uniform(0.05, 0.95, size=shape)
    y[0, :2], p[0, :2] = [1.0, 0.0], [1.0, 0.0]  # confidently right: 0 * log 0 is nan
    y[1, :2], p[1, :2] = [1.0, 0.0], [0.0, 1.0]  # confidently wrong: log 0 is -inf
    return Case(f"probabilities of exactly 0 and 1, shape {shape}", (y, p))


def _near_zero_one_case(rng: np.random.Generator, shape: tuple[int, int]) -> Case:
    """Probabilities within 1e-9 .. 1e-8 of 0 or 1: the unclipped loss is finite but not Keras'."""
    y = _labels(rng, shape)
    tiny = 10.0 ** rng.uniform(-9.0, -8.0, size=shape)
    p = np.where(rng.random(size=shape) < 0.5, tiny, 1.0 - tiny)
    p[-1, -1] = 0.3  # one ordinary prediction
    return Case(f"probabilities within 1e-8 of 0 or 1, shape {shape}", (y, p))


# --------------------------------------------------------------------------------------
# Small exact formulas (the mistakes must never raise, so no validation here)
# --------------------------------------------------------------------------------------


def _as_float(*arrays) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _sigmoid(z) -> np.ndarray:
    """sigma(z) without overflow: exp(-softplus(-z))."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def _bce_elements(y_true, y_pred, eps: float | None = EPSILON, log=np.log) -> np.ndarray:
    """Element-wise -[y log p + (1-y) log(1-p)], with p clipped to [eps, 1-eps] unless eps is None."""
    y, p = _as_float(y_true, y_pred)
    if eps is not None:
        p = np.clip(p, eps, 1.0 - eps)
    return -(y * log(p) + (1.0 - y) * log(1.0 - p))


def _mean_bce(**options):
    return lambda y_true, y_pred: np.mean(_bce_elements(y_true, y_pred, **options), axis=-1)


# --------------------------------------------------------------------------------------
# 03.1 binary cross-entropy from probabilities, as Keras computes it (3.2)
# --------------------------------------------------------------------------------------

BCE = Task(
    task_id="03.1",
    title="binary cross-entropy from probabilities",
    answer="my_binary_crossentropy",
    reference=lambda y_true, y_pred: losses.binary_crossentropy(y_true, y_pred),
    forbidden=forbid(
        library_function(
            r"binary_crossentropy", r"BinaryCrossentropy", r"binary_cross_entropy\w*", r"log_loss"
        )
    ),
    public=(
        seeded_case(30, _probability_case, (4, 3)),
        seeded_case(31, _exact_zero_one_case, (4, 2)),
        seeded_case(32, _near_zero_one_case, (3, 4)),
    ),
    hidden=seeded_cases(33, _probability_case, [((7, 2),), ((2, 5),)])
    + (seeded_case(34, _exact_zero_one_case, (5, 3)), seeded_case(35, _near_zero_one_case, (4, 3))),
    mistakes=(
        Mistake(
            "your log is not clipped: Keras clips p to [eps, 1-eps] with eps = 1e-7 before the logarithms, "
            "so a confident mistake costs at most -log(1e-7) ≈ 16.1",
            _mean_bce(eps=None),
        ),
        Mistake(
            "you summed over the last axis; Keras' BCE is the MEAN of (3.2) over the last axis",
            lambda y_true, y_pred: np.sum(_bce_elements(y_true, y_pred), axis=-1),
        ),
        Mistake(
            "y_true and y_pred are swapped: Keras losses take the labels first, loss(y_true, y_pred), "
            "and (3.2) takes the log of the prediction p, not of the label y",
            lambda y_true, y_pred: np.mean(_bce_elements(y_pred, y_true), axis=-1),
        ),
        Mistake(
            "the second term is missing: BCE (3.2) is -[y log p + (1-y) log(1-p)], and the (1-y) log(1-p) "
            "term is what makes a negative example cost anything",
            lambda y_true, y_pred: np.mean(
                -_as_float(y_true)[0] * np.log(np.clip(_as_float(y_pred)[0], EPSILON, 1.0 - EPSILON)), axis=-1
            ),
        ),
        Mistake(
            "you added eps inside the logarithms, log(p + eps); Keras CLIPS p to [eps, 1-eps] instead, "
            "which gives different values near 0 and 1",
            lambda y_true, y_pred: np.mean(
                -(
                    _as_float(y_true)[0] * np.log(_as_float(y_pred)[0] + EPSILON)
                    + (1.0 - _as_float(y_true)[0]) * np.log(1.0 - _as_float(y_pred)[0] + EPSILON)
                ),
                axis=-1,
            ),
        ),
        Mistake(
            "your clip is too loose: Keras clips p to [eps, 1-eps] with eps = 1e-7, not a smaller eps "
            "such as 1e-15 or the machine epsilon",
            _mean_bce(eps=1e-15),
        ),
        Mistake(
            "your clip is too loose: Keras clips p to [eps, 1-eps] with eps = 1e-7, not a smaller eps "
            "such as 1e-15 or the machine epsilon",
            _mean_bce(eps=float(np.finfo(np.float64).eps)),
        ),
        Mistake(
            "use the natural logarithm (np.log): cross-entropy in Keras is measured in nats, not bits",
            _mean_bce(log=np.log2),
        ),
        Mistake(
            "use the natural logarithm (np.log), not log10",
            _mean_bce(log=np.log10),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 03.2 the stable from-logits form (3.6) as a Keras custom loss
# --------------------------------------------------------------------------------------


def _logit_case(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float, label: str, soft=False
) -> Case:
    y = _labels(rng, shape, soft=soft).astype(np.float32)
    z = np.clip(rng.normal(scale=scale, size=shape), -6.0, 6.0).astype(np.float32)
    return Case(f"{label}, shape {shape}", (y, z))


def _extreme_logit_case(rng: np.random.Generator, shape: tuple[int, int], low: float, high: float) -> Case:
    """Logits of size low..high, both signs, with 0/1 labels: right and confidently wrong."""
    y = _labels(rng, shape).astype(np.float32)
    magnitude = rng.uniform(low, high, size=shape) if low < high else np.full(shape, low)
    z = (np.where(rng.random(size=shape) < 0.5, -1.0, 1.0) * magnitude).astype(np.float32)
    z[0, 0], y[0, 0] = -high, 1.0  # at least one confidently wrong positive ...
    z[-1, -1], y[-1, -1] = high, 0.0  # ... and one confidently wrong negative
    size = f"±{low:g}" if low == high else f"±{low:g} to ±{high:g}"
    return Case(f"extreme logits ({size}), shape {shape}", (y, z))


def _float32_sigmoid(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    return (np.float32(1.0) / (np.float32(1.0) + np.exp(-z))).astype(np.float32)


def _clipped_float32(p) -> np.ndarray:
    """p clipped to [eps, 1-eps] in float32, as keras.ops.clip does to a float32 tensor."""
    return np.clip(np.asarray(p, dtype=np.float32), np.float32(EPSILON), np.float32(1.0 - EPSILON))


def _stable_elements(y, z) -> np.ndarray:
    y, z = _as_float(y, z)
    return np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))


BCE_FROM_LOGITS = Task(
    task_id="03.2",
    title="stable binary cross-entropy from logits as a Keras custom loss",
    answer="my_bce_from_logits",
    reference=lambda y_true, logits: losses.binary_crossentropy(
        np.float64(y_true), np.float64(logits), from_logits=True
    ),
    backend="keras",
    public=(
        seeded_case(40, _logit_case, (4, 3), 2.5, "moderate logits", soft=True),
        seeded_case(41, _extreme_logit_case, (4, 2), 1000.0, 1000.0),
    ),
    hidden=seeded_cases(
        42, _logit_case, [((6, 1),), ((3, 5),)], scale=2.0, label="moderate logits", soft=True
    )
    + (
        seeded_case(43, _extreme_logit_case, (5, 3), 100.0, 1000.0),
        seeded_case(44, _extreme_logit_case, (3, 4), 20.0, 60.0),
        # rank 3: "the mean over the last axis" is not the mean over axis 1
        seeded_case(45, _logit_case, (3, 4, 4), 2.0, "moderate logits", soft=True),
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(
        library_function(
            r"binary_crossentropy",
            r"BinaryCrossentropy",
            r"sigmoid_cross_entropy\w*",
            r"binary_focal_crossentropy",
            r"BinaryFocalCrossentropy",
        )
    ),
    mistakes=(
        Mistake(
            "you turned the logits into probabilities and clipped them to [1e-7, 1 - 1e-7], as Keras does "
            "for probabilities: a confidently wrong logit then costs at most -log(1e-7) ≈ 16.1 instead of "
            "about |z|. Never form sigma(z): use the exact form (3.6)",
            lambda y_true, logits: np.mean(
                _bce_elements(y_true, _clipped_float32(_float32_sigmoid(logits)), eps=None), axis=-1
            ),
        ),
        Mistake(
            "you treated the logits as probabilities (pitfall 1: from_logits forgotten); here the inputs "
            "are logits z, and p = sigma(z) is never formed: use (3.6)",
            lambda y_true, logits: np.mean(
                _bce_elements(y_true, _clipped_float32(logits), eps=None), axis=-1
            ),
        ),
        Mistake(
            "you summed over the last axis; Keras' BCE is the MEAN of (3.6) over the last axis",
            lambda y_true, logits: np.sum(_stable_elements(y_true, logits), axis=-1),
        ),
        Mistake(
            "the max(z, 0) term of (3.6) is missing: the loss is max(z, 0) - z y + log(1 + exp(-|z|))",
            lambda y_true, logits: np.mean(
                _stable_elements(y_true, logits) - np.maximum(_as_float(logits)[0], 0.0), axis=-1
            ),
        ),
        Mistake(
            "sign error in the middle term: (3.6) SUBTRACTS z y, max(z, 0) - z y + log(1 + exp(-|z|))",
            lambda y_true, logits: np.mean(
                _stable_elements(y_true, logits) + 2.0 * np.multiply(*_as_float(y_true, logits)), axis=-1
            ),
        ),
        Mistake(
            "the exponent in (3.6) is -|z|, not -z: log(1 + exp(-|z|)) is what makes the max(z, 0) form "
            "exact for negative z and overflow-free",
            lambda y_true, logits: np.mean(
                np.maximum(_as_float(logits)[0], 0.0)
                - np.multiply(*_as_float(y_true, logits))
                + np.log1p(np.exp(-_as_float(logits)[0])),
                axis=-1,
            ),
        ),
        Mistake(
            "y_true and the logits are swapped: Keras losses take the labels first, loss(y_true, y_pred)",
            lambda y_true, logits: np.mean(_stable_elements(logits, y_true), axis=-1),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 03.3 the gradient of the summed BCE with respect to the logits (3.4)
# --------------------------------------------------------------------------------------


def _gradient_case(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> Case:
    y, z = _labels(rng, shape, soft=True), rng.normal(scale=scale, size=shape)
    return Case(f"labels (some soft) and logits, shape {shape}", (y, z))


def _extreme_gradient_case(rng: np.random.Generator, shape: tuple[int, int]) -> Case:
    y = _labels(rng, shape)
    z = np.where(rng.random(size=shape) < 0.5, -1000.0, 1000.0)
    z[0, 0] = 0.7  # one ordinary logit
    return Case(f"extreme logits (±1000), shape {shape}", (y, z))


def _p_minus_y(y_true, logits) -> np.ndarray:
    return _sigmoid(logits) - _as_float(y_true)[0]


def _d(logits) -> int:
    return np.shape(logits)[-1]


BCE_GRADIENT = Task(
    task_id="03.3",
    title="gradient of binary cross-entropy with respect to the logits",
    answer="my_bce_gradient",
    reference=lambda y_true, logits: gradients.binary_crossentropy(y_true, logits, from_logits=True),
    forbidden=forbid(autodiff=True),
    public=seeded_cases(50, _gradient_case, [((4, 3),), ((5, 2),)], scale=2.0)
    + (seeded_case(51, _extreme_gradient_case, (3, 2)),),
    hidden=seeded_cases(52, _gradient_case, [((6, 1),), ((2, 5),)], scale=3.0)
    + (seeded_case(53, _extreme_gradient_case, (4, 3)),),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for the "
            "gradient of the SUM of the per-sample losses",
            lambda y_true, logits: _p_minus_y(y_true, logits) / _d(logits) / len(logits),
        ),
        Mistake(
            "the factor 1/d is missing: each per-sample loss is the MEAN over its d outputs, so every "
            "element's gradient (3.4) is divided by d",
            _p_minus_y,
        ),
        Mistake(
            "you divided by N, the batch size; the factor is 1/d, from the mean over the d outputs "
            "of each sample",
            lambda y_true, logits: _p_minus_y(y_true, logits) / len(logits),
        ),
        Mistake(
            "sign error: the gradient (3.4) is p - y, prediction minus target; y - p is its negative, "
            "the direction gradient descent steps in",
            lambda y_true, logits: -_p_minus_y(y_true, logits) / _d(logits),
        ),
        Mistake(
            "that is the gradient with respect to the PROBABILITY p, (3.3); the task asks for the logit "
            "z. By the chain rule multiply by sigma'(z) = p(1-p): the factor cancels and leaves (p - y)/d, "
            "(3.4)",
            lambda y_true, logits: (
                _p_minus_y(y_true, logits) / (_sigmoid(logits) * (1.0 - _sigmoid(logits))) / _d(logits)
            ),
        ),
        Mistake(
            "you used the logit z itself where (3.4) has the probability p = sigma(z): the gradient is "
            "(sigma(z) - y)/d",
            lambda y_true, logits: np.subtract(*_as_float(logits, y_true)) / _d(logits),
        ),
        Mistake(
            "you multiplied p - y by sigma'(z) = p(1-p) once more: in (3.4) the chain rule's p(1-p) CANCELS "
            "the denominator of (3.3), leaving (p - y)/d",
            lambda y_true, logits: (
                _p_minus_y(y_true, logits) * _sigmoid(logits) * (1.0 - _sigmoid(logits)) / _d(logits)
            ),
        ),
        Mistake(
            "that is the gradient of the MSE on a sigmoid output, 2(p - y)p(1-p)/d, which vanishes when a "
            "wrong prediction saturates; BCE's gradient with respect to the logit is (p - y)/d",
            lambda y_true, logits: (
                2.0 * _p_minus_y(y_true, logits) * _sigmoid(logits) * (1.0 - _sigmoid(logits)) / _d(logits)
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 03.4 the share of the focal loss (3.11) carried by the well-classified examples
# --------------------------------------------------------------------------------------


def _share_of_easy(gamma: float = GAMMA, *, use_p: bool = False, select_p: bool = False, alpha=None) -> float:
    """Share of sum_i (1 - q_i)^gamma CE_i carried by the examples with p_t > 0.5 (or p > 0.5).

    ``use_p`` puts p instead of p_t into the modulating factor; ``alpha`` adds the class balancing.
    """
    y, z = task_data()
    p = _sigmoid(z)
    p_t = np.where(y == 1.0, p, 1.0 - p)
    cross_entropy = _stable_elements(y, z)
    values = (1.0 - (p if use_p else p_t)) ** gamma * cross_entropy
    if alpha is not None:
        values = np.where(y == 1.0, alpha, 1.0 - alpha) * values
    easy = (p if select_p else p_t) > 0.5
    return float(values[easy].sum() / values.sum())


def _focal_share() -> float:
    y, z = task_data()
    focal = losses.binary_focal_crossentropy(y, z, gamma=GAMMA, from_logits=True)
    p_t = np.where(y[:, 0] == 1.0, _sigmoid(z[:, 0]), 1.0 - _sigmoid(z[:, 0]))
    return float(focal[p_t > 0.5].sum() / focal.sum())


FOCAL_SHARE = Task(
    task_id="03.4",
    title="the share of the focal loss carried by the well-classified examples of task_data()",
    answer="easy_share",
    kind="value",
    reference=_focal_share(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is the share of the plain cross-entropy (gamma = 0); the focal loss (3.11) multiplies each "
            "example's -log p_t by (1 - p_t)**gamma with gamma = 2",
            lambda: _share_of_easy(0.0),
        ),
        Mistake(
            "that is the share of the MISCLASSIFIED examples (p_t <= 0.5); the question asks for the "
            "well-classified ones, p_t > 0.5",
            lambda: 1.0 - _focal_share(),
            public=False,  # 1 - the answer
        ),
        Mistake(
            "that is the fraction of the EXAMPLES that are well-classified, not their share of the loss",
            lambda: float(np.mean((2.0 * task_data()[0] - 1.0) * task_data()[1] > 0.0)),
        ),
        Mistake(
            "the modulating factor uses p_t, the probability of the TRUE class (3.10): p for a positive, "
            "1 - p for a negative, not p = sigma(z) for every example",
            lambda: _share_of_easy(use_p=True),
        ),
        Mistake(
            "'well-classified' means p_t > 0.5, the probability of the TRUE class (3.10), not p > 0.5",
            lambda: _share_of_easy(select_p=True),
        ),
        Mistake(
            "p_t is the probability of the TRUE class (3.10): p for a positive, 1 - p for a negative; you "
            "used p for every example",
            lambda: _share_of_easy(use_p=True, select_p=True),
        ),
        Mistake(
            "that is the focal loss with class balancing (alpha = 0.25 on positives); the question asks for "
            "plain (3.11), without alpha",
            lambda: _share_of_easy(alpha=0.25),
        ),
        Mistake(
            "gamma is 2: the modulating factor is (1 - p_t)**2",
            lambda: _share_of_easy(1.0),
        ),
    ),
)

TASKS = (BCE, BCE_FROM_LOGITS, BCE_GRADIENT, FOCAL_SHARE)
