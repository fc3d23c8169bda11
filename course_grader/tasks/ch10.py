"""Graded tasks of chapter 10 (add_loss and regularisation).

The L1 penalty (2) and its gradient (4), the loss ``evaluate()`` reports (6) with a
batch-sum penalty, and the per-sample penalty (5) of ``activity_regularizer``.
Equation numbers are those of ``notebooks/10_add_loss_and_regularisation.ipynb``.
"""

from __future__ import annotations

import numpy as np

from course_grader.model import Mistake, Task, forbid, seeded_cases
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch10 import task_data


def _as_float(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _l1(activations, factor=0.01) -> float:
    """The L1 penalty (2): factor times the sum of |a| over every entry, batch included."""
    return float(factor * np.sum(np.abs(_as_float(activations))))


def _activation_case(rng: np.random.Generator, kind: str, shape: tuple[int, ...], factor: float) -> Case:
    """``kind`` ``"ReLU"``: ReLU outputs (non-negative, with exact zeros); ``"signed"``: normal values."""
    values = rng.normal(size=shape)
    if kind == "ReLU":
        return Case(
            f"ReLU activations {shape}, factor={factor}", (np.maximum(values, 0.0),), {"factor": factor}
        )
    return Case(f"signed values {shape}, factor={factor}", (values,), {"factor": factor})


# --------------------------------------------------------------------------------------
# 10.1 the L1 penalty (2), summed over the batch as the article's layer does
# --------------------------------------------------------------------------------------

L1_PENALTY = Task(
    task_id="10.1",
    title="the L1 penalty of the article's L1PenaltyLayer",
    answer="l1_penalty",
    reference=_l1,
    forbidden=forbid(r"^keras\.src\.regularizers\b"),
    public=seeded_cases(
        0, _activation_case, [("ReLU", (8, 4), 0.01), ("signed", (5, 3), 0.1), ("ReLU", (6, 2, 3), 0.5)]
    ),
    hidden=seeded_cases(
        1, _activation_case, [("ReLU", (12, 8), 0.003), ("signed", (4, 7), 1.0), ("ReLU", (3, 3, 2), 0.05)]
    ),
    mistakes=(
        Mistake(
            "you divided by the batch size: that is activity_regularizer's value (5); the article's layer "
            "sums over the whole batch, (2)",
            lambda a, factor=0.01: _l1(a, factor) / len(a),
        ),
        Mistake(
            "you averaged over all entries; the penalty (2) is a SUM of |a| over every entry, batch included",
            lambda a, factor=0.01: factor * float(np.mean(np.abs(_as_float(a)))),
        ),
        Mistake(
            "the absolute value is missing: (2) sums |a|, so negative entries must add to the penalty too",
            lambda a, factor=0.01: factor * float(np.sum(_as_float(a))),
        ),
        Mistake(
            "that is the L2 penalty (3), factor * sum(a**2); the L1 penalty (2) sums |a|",
            lambda a, factor=0.01: factor * float(np.sum(_as_float(a) ** 2)),
        ),
        Mistake(
            "the factor is missing: multiply the sum of |a| by `factor`",
            lambda a, factor=0.01: _l1(a, 1.0),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 10.2 its gradient (4)
# --------------------------------------------------------------------------------------

L1_GRADIENT = Task(
    task_id="10.2",
    title="gradient of the L1 penalty",
    answer="l1_penalty_gradient",
    reference=lambda a, factor=0.01: factor * np.sign(_as_float(a)),
    forbidden=forbid(r"^keras\.src\.regularizers\b", autodiff=True),
    public=seeded_cases(2, _activation_case, [("ReLU", (8, 4), 0.01), ("signed", (5, 3), 0.2)]),
    hidden=seeded_cases(
        3, _activation_case, [("ReLU", (10, 6), 0.5), ("signed", (4, 2, 3), 0.03), ("ReLU", (7, 5), 1.0)]
    ),
    mistakes=(
        Mistake(
            "at a = 0 (ReLU outputs are often exactly 0) use sign(0) = 0, as TensorFlow does; your gradient "
            "there is ±factor",
            lambda a, factor=0.01: np.where(_as_float(a) >= 0, factor, -factor),
        ),
        Mistake(
            "at a = 0 (ReLU outputs are often exactly 0) use sign(0) = 0, as TensorFlow does; your gradient "
            "there is ±factor",
            lambda a, factor=0.01: np.where(_as_float(a) > 0, factor, -factor),
        ),
        Mistake(
            "that is the L2 gradient 2*factor*a from (4); the L1 gradient is factor*sign(a), the same size "
            "for every non-zero entry",
            lambda a, factor=0.01: 2.0 * factor * _as_float(a),
        ),
        Mistake(
            "factor*a is the gradient of factor*a**2/2, not of factor*|a|: the L1 gradient (4) is "
            "factor*sign(a)",
            lambda a, factor=0.01: factor * _as_float(a),
        ),
        Mistake(
            "you divided by the batch size; the penalty (2) is a plain sum, so each entry's gradient is "
            "factor*sign(a)",
            lambda a, factor=0.01: factor * np.sign(_as_float(a)) / len(a),
        ),
        Mistake(
            "the factor is missing: the gradient (4) is factor*sign(a)",
            lambda a, factor=0.01: np.sign(_as_float(a)),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 10.3 the loss evaluate() reports (6), with a batch-sum penalty and a short last batch
# --------------------------------------------------------------------------------------


def _batches(n: int, batch_size: int) -> list[slice]:
    return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def _reported_loss(weighted: bool = True, penalty: str = "batch") -> float:
    cross_entropy, activations, factor, batch_size = task_data()
    n = len(cross_entropy)
    per_batch, sizes = [], []
    for part in _batches(n, batch_size):
        size = part.stop - part.start
        term = _l1(activations[part], factor)
        if penalty == "per_sample":
            term /= size
        per_batch.append(float(np.mean(cross_entropy[part])) + term)
        sizes.append(size)
    if weighted:
        return float(np.average(per_batch, weights=sizes))
    return float(np.mean(per_batch))


def _mean_cross_entropy() -> float:
    return float(np.mean(task_data()[0]))


REPORTED_LOSS = Task(
    task_id="10.3",
    title="the loss evaluate() reports with an L1PenaltyLayer",
    answer="reported_loss",
    kind="value",
    reference=_reported_loss(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is the cross-entropy alone (what a `ce_only` metric reports); the loss adds each batch's "
            "penalty, (6)",
            _mean_cross_entropy,
        ),
        Mistake(
            "that adds the penalty on all 50 samples at once, as if batch_size were 50; each batch of 16 "
            "(the last one smaller) sums only its own activations",
            lambda: _mean_cross_entropy() + _l1(task_data()[1], task_data()[2]),
        ),
        Mistake(
            "you averaged the batches' losses with equal weights; Keras weights each batch by its size, so "
            "the short last batch counts less",
            lambda: _reported_loss(weighted=False),
        ),
        Mistake(
            "you divided each batch's penalty by its size (or the whole penalty by N): that is "
            "activity_regularizer's behaviour (5), not the article's reduce_sum layer",
            lambda: _reported_loss(penalty="per_sample"),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 10.4 a batch-size independent penalty in keras.ops, like activity_regularizer (5)
# --------------------------------------------------------------------------------------


def _keras_case(rng: np.random.Generator, shape: tuple[int, ...], factor: float) -> Case:
    values = rng.normal(size=shape).astype(np.float32)
    return Case(f"batch of {shape[0]}, shape {shape}, factor={factor}", (values,), {"factor": factor})


KERAS_PER_SAMPLE_L1 = Task(
    task_id="10.4",
    title="a per-sample L1 activity penalty with keras.ops",
    answer="per_sample_l1",
    reference=lambda a, factor=0.01: _l1(a, factor) / len(a),
    backend="keras",
    public=seeded_cases(4, _keras_case, [((8, 4), 0.01), ((32, 4), 0.1)]),
    hidden=seeded_cases(5, _keras_case, [((3, 5), 0.5), ((17, 2), 0.02), ((6, 2, 2), 0.3)]),
    rtol=1e-4,
    atol=1e-6,
    forbidden=forbid(r"^keras\.src\.regularizers\b"),
    mistakes=(
        Mistake(
            "that is the article's batch SUM (2); to match activity_regularizer (5) divide by the batch size",
            _l1,
        ),
        Mistake(
            "you divided by the number of ENTRIES (ops.mean over everything); (5) divides by the batch size "
            "only: sum over the features, mean over the samples",
            lambda a, factor=0.01: factor * float(np.mean(np.abs(_as_float(a)))),
        ),
        Mistake(
            "the absolute value is missing: (5) sums |a|",
            lambda a, factor=0.01: factor * float(np.sum(_as_float(a))) / len(a),
        ),
        Mistake(
            "the factor is missing: multiply by `factor`",
            lambda a, factor=0.01: _l1(a, 1.0) / len(a),
        ),
    ),
)

TASKS = (L1_PENALTY, L1_GRADIENT, REPORTED_LOSS, KERAS_PER_SAMPLE_L1)
