"""Graded tasks of chapter 11 (reductions, sample weights, class weights and masks).

Equation numbers in the messages, (1) sum, (2) sum_over_batch_size, (3)
mean_with_sample_weight, (5) the batch-size-weighted mean of fit/evaluate and (6) the
masked mean, are those of ``notebooks/11_reductions_weights_and_masks.ipynb``.
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
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch11 import task_data
from course_lib.losses.reduction import reduce_weighted_values

#: The padding value of task 11.4: targets are in [0, 1], so -1 cannot be a real target.
PAD = -1.0


def _safe_divide(numerator: float, denominator: float) -> float:
    """Keras' divide_no_nan: 0 when the denominator is 0."""
    return float(numerator / denominator) if denominator != 0 else 0.0


# --------------------------------------------------------------------------------------
# 11.1 the three reductions (1)-(3)
# --------------------------------------------------------------------------------------


def _reduce_reference(values, sample_weight, reduction):
    return float(
        reduce_weighted_values(np.asarray(values, float), np.asarray(sample_weight, float), None, reduction)
    )


def _reduce_variant(sobs=None, mwsw=None, total=None, weighted=True):
    """The reference reduction with one reduction's rule replaced by a wrong one."""

    def wrong(values, sample_weight, reduction):
        values = np.asarray(values, float)
        weights = np.asarray(sample_weight, float) if weighted else np.ones_like(values)
        numerator = float((values * weights).sum())
        rule = {"sum_over_batch_size": sobs, "mean_with_sample_weight": mwsw, "sum": total}[reduction]
        if rule is None:
            return _reduce_reference(values, weights, reduction)
        return rule(numerator, values, weights)

    return wrong


def _reduce_case(rng: np.random.Generator, reduction: str, size: int, zeros: int) -> Case:
    """``size`` positive values and weights, ``zeros`` of the weights set to 0."""
    values = rng.gamma(2.0, 0.5, size=size)
    weights = rng.uniform(0.2, 3.0, size=size)
    weights[rng.choice(size, size=zeros, replace=False)] = 0.0
    return Case(f"{reduction}, N={size}, {zeros} zero weights", (values, weights, reduction))


_ALL_ZERO = Case(
    "mean_with_sample_weight, every weight 0 (Keras returns 0)",
    (np.array([0.3, 1.2, 0.7]), np.zeros(3), "mean_with_sample_weight"),
)

REDUCE = Task(
    task_id="11.1",
    title="the three reductions",
    answer="my_reduce",
    reference=_reduce_reference,
    forbidden=forbid(library_function(r"reduce_weighted_values", r"reduce_values", r"apply_mask")),
    forbidden_in_answer=(r"^(import )?keras\b",),
    public=seeded_cases(
        0, _reduce_case, [("sum", 5, 1), ("sum_over_batch_size", 6, 2), ("mean_with_sample_weight", 4, 1)]
    )
    + (_ALL_ZERO,),
    hidden=seeded_cases(
        1, _reduce_case, [("sum", 8, 3), ("sum_over_batch_size", 3, 1), ("mean_with_sample_weight", 7, 2)]
    )
    + (
        Case(
            "sum_over_batch_size, every weight 0", (np.array([2.0, 1.0]), np.zeros(2), "sum_over_batch_size")
        ),
    ),
    rtol=1e-9,
    atol=1e-12,
    mistakes=(
        Mistake(
            "for sum_over_batch_size you divided by sum(w); (2) divides by N, the number of values: "
            "a zero-weight sample still counts in its denominator",
            _reduce_variant(sobs=lambda n, v, w: _safe_divide(n, w.sum())),
        ),
        Mistake(
            "for mean_with_sample_weight you divided by N; (3) divides by sum(w), so zero-weight "
            "samples drop out of the denominator",
            _reduce_variant(mwsw=lambda n, v, w: n / v.size),
        ),
        Mistake(
            "'sum' (1) is the plain weighted sum: no division at all",
            _reduce_variant(total=lambda n, v, w: n / v.size),
        ),
        Mistake(
            "you ignored sample_weight: every reduction first multiplies each loss by its weight",
            _reduce_variant(weighted=False),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 11.2 the default reduction with a mask (6)
# --------------------------------------------------------------------------------------


def _masked_reference(values, mask, sample_weight):
    return float(reduce_weighted_values(np.asarray(values, float), np.asarray(sample_weight, float), mask))


def _masked_parts(values, mask, sample_weight):
    values = np.asarray(values, float)
    m = np.asarray(mask, bool).astype(float)
    w = np.broadcast_to(np.asarray(sample_weight, float), values.shape)
    return values, m, w


def _masked_case(rng: np.random.Generator, batch: int, steps: int, weight_kind: str) -> Case:
    values = rng.gamma(2.0, 0.5, size=(batch, steps))
    lengths = rng.integers(1, steps, size=batch)  # every sequence but the first has padding
    lengths[0] = steps
    mask = np.arange(steps)[None, :] < lengths[:, None]
    shape = (batch, 1) if weight_kind == "per sequence" else (batch, steps)
    weights = rng.uniform(0.2, 3.0, size=shape)
    weights.flat[-1] = 0.0
    return Case(f"(B, T) = ({batch}, {steps}), weights {weight_kind} {shape}", (values, mask, weights))


MASKED = Task(
    task_id="11.2",
    title="the default reduction with a mask",
    answer="masked_loss",
    reference=_masked_reference,
    forbidden=forbid(library_function(r"reduce_weighted_values", r"reduce_values", r"apply_mask")),
    forbidden_in_answer=(r"^(import )?keras\b",),
    public=seeded_cases(2, _masked_case, [(3, 4, "per sequence"), (4, 5, "per step")]),
    hidden=seeded_cases(3, _masked_case, [(5, 3, "per step"), (2, 6, "per sequence"), (6, 2, "per step")]),
    rtol=1e-9,
    atol=1e-12,
    mistakes=(
        Mistake(
            "you divided by N, the number of ALL entries; with a mask the default reduction divides by "
            "the number of VALID entries, sum(mask), as in (6)",
            lambda v, m, w: float(
                (_masked_parts(v, m, w)[0] * _masked_parts(v, m, w)[1] * _masked_parts(v, m, w)[2]).sum()
                / np.size(v)
            ),
        ),
        Mistake(
            "you divided by sum(mask * w): that is mean_with_sample_weight; the default (6) divides by "
            "the number of valid entries, whatever their weights",
            lambda v, m, w: _safe_divide(
                (np.prod(_masked_parts(v, m, w), axis=0)).sum(),
                (_masked_parts(v, m, w)[1] * _masked_parts(v, m, w)[2]).sum(),
            ),
        ),
        Mistake(
            "the masked entries are still in your numerator: multiply each loss by its mask before summing",
            lambda v, m, w: _safe_divide(
                (_masked_parts(v, m, w)[0] * _masked_parts(v, m, w)[2]).sum(), _masked_parts(v, m, w)[1].sum()
            ),
        ),
        Mistake(
            "you ignored sample_weight: multiply each loss by its (broadcast) weight as well as its mask",
            lambda v, m, w: _safe_divide(
                (_masked_parts(v, m, w)[0] * _masked_parts(v, m, w)[1]).sum(), _masked_parts(v, m, w)[1].sum()
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 11.3 what evaluate() reports (5)
# --------------------------------------------------------------------------------------


def _batches(values: np.ndarray, batch_size: int) -> list[np.ndarray]:
    return [values[i : i + batch_size] for i in range(0, len(values), batch_size)]


def _reported() -> float:
    losses, weights, _ = task_data()
    return float((weights * losses).sum() / losses.size)


def _mean_of_batch_means() -> float:
    losses, weights, batch_size = task_data()
    return float(
        np.mean(
            [
                (w * loss).mean()
                for loss, w in zip(_batches(losses, batch_size), _batches(weights, batch_size), strict=True)
            ]
        )
    )


def _mean_of_weighted_batch_means() -> float:
    losses, weights, batch_size = task_data()
    parts = zip(_batches(losses, batch_size), _batches(weights, batch_size), strict=True)
    return float(np.mean([_safe_divide((w * loss).sum(), w.sum()) for loss, w in parts]))


REPORTED = Task(
    task_id="11.3",
    title="the loss evaluate() reports",
    answer="reported_loss",
    kind="value",
    reference=_reported(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is sum(w*l)/sum(w), the mean_with_sample_weight reduction; the model uses the default "
            "sum_over_batch_size, which divides by the number of samples",
            lambda: float((task_data()[1] * task_data()[0]).sum() / task_data()[1].sum()),
        ),
        Mistake(
            "that is the plain mean of the batch losses; Keras weights each batch loss by its batch "
            "size (5), and the last batch here is smaller",
            _mean_of_batch_means,
        ),
        Mistake(
            "that is the mean over batches of sum(w*l)/sum(w) per batch; the model's reduction divides each "
            "batch by its size, and the batches are combined weighted by size (5)",
            _mean_of_weighted_batch_means,
        ),
        Mistake(
            "that ignores the sample weights: evaluate(..., sample_weight=w) multiplies each loss "
            "by its weight",
            lambda: float(task_data()[0].mean()),
        ),
        Mistake(
            "that is the weighted SUM; the default reduction divides by the number of samples",
            lambda: float((task_data()[1] * task_data()[0]).sum()),
            public=False,  # the answer times the number of samples
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 11.4 a per-sequence masked MSE as a Keras custom loss
# --------------------------------------------------------------------------------------


def _padded_case(
    rng: np.random.Generator, batch: int, steps: int, label: str, empty_row: bool = False
) -> Case:
    y_true = rng.uniform(0.0, 1.0, size=(batch, steps))
    y_pred = rng.uniform(-0.5, 1.5, size=(batch, steps))
    lengths = rng.integers(1, steps + 1, size=batch)
    if empty_row:
        lengths[-1] = 0
    y_true[np.arange(steps)[None, :] >= lengths[:, None]] = PAD
    return Case(f"{label} ({batch}, {steps})", (y_true.astype(np.float32), y_pred.astype(np.float32)))


def _padded_parts(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    valid = (y_true != PAD).astype(np.float64)
    return (y_pred - y_true) ** 2, valid


def _masked_sequence_mse(y_true, y_pred):
    squared, valid = _padded_parts(y_true, y_pred)
    counts = valid.sum(axis=-1)
    return np.where(counts > 0, (squared * valid).sum(axis=-1) / np.maximum(counts, 1), 0.0)


KERAS_MASKED_MSE = Task(
    task_id="11.4",
    title="a per-sequence masked MSE as a Keras custom loss",
    answer="masked_sequence_mse",
    reference=_masked_sequence_mse,
    backend="keras",
    public=seeded_cases(4, _padded_case, [(3, 5), (4, 3)], label="padded sequences")
    + (seeded_case(5, _padded_case, 3, 4, "padded sequences, last one all padding", empty_row=True),),
    hidden=seeded_cases(6, _padded_case, [(5, 6), (2, 2)], label="padded sequences")
    + (seeded_case(7, _padded_case, 4, 5, "padded sequences, last one all padding", empty_row=True),),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(library_function(r"mean_squared_error", r"MeanSquaredError")),
    mistakes=(
        Mistake(
            "you divided by T, the number of ALL steps; the masked mean divides by the number of VALID "
            "steps of each sequence, as in (6)",
            lambda y_true, y_pred: (np.prod(_padded_parts(y_true, y_pred), axis=0)).mean(axis=-1),
        ),
        Mistake(
            "padded steps (y_true == -1) are still in your loss: multiply the squared errors by the mask",
            lambda y_true, y_pred: _padded_parts(y_true, y_pred)[0].mean(axis=-1),
        ),
        Mistake(
            "you summed over the valid steps; the loss is their MEAN: divide by the number of valid steps",
            lambda y_true, y_pred: np.prod(_padded_parts(y_true, y_pred), axis=0).sum(axis=-1),
        ),
        Mistake(
            "you averaged over the whole batch: return one value per sequence, shape (B,)",
            lambda y_true, y_pred: np.full(np.shape(y_true)[0], _masked_sequence_mse(y_true, y_pred).mean()),
        ),
    ),
)

TASKS = (REDUCE, MASKED, REPORTED, KERAS_MASKED_MSE)
