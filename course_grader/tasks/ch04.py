"""Graded tasks of chapter 04 (multiclass): CCE from logits, its gradient, a Keras GCE, ``ignore_class``.

Equation numbers in the messages, (1) softmax, (5) log-softmax, (6) its Jacobian, (7) CCE,
(8) CCE through the log-sum-exp, (9) its gradient, (11) sparse CCE, (12) the ``ignore_class``
reduction, (20) GCE and (21) its q -> 0 limit, are those of ``notebooks/04_multiclass.ipynb``.
"""

from __future__ import annotations

import numpy as np

from course_grader.model import AUTODIFF, COURSE_LIBRARY, Mistake, Task, library_function
from course_lib import gradients, losses
from course_lib.grading.model import Case
from course_lib.grading.tasks.ch04 import VOID, task_data

EPSILON = 1e-7  # Keras' backend epsilon

# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Small exact formulas (the mistakes must never raise, so no validation here)
# --------------------------------------------------------------------------------------


def _softmax(z, axis=-1) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z, axis=-1) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _cce(y_true, logits, axis=-1, *, normalise_axis=None, sum_axis=None) -> np.ndarray:
    """-sum_j y_j log softmax(z)_j with the log-softmax and the sum along (possibly different) axes."""
    y = np.asarray(y_true, dtype=np.float64)
    log_p = _log_softmax(logits, axis if normalise_axis is None else normalise_axis)
    return -np.sum(y * log_p, axis=axis if sum_axis is None else sum_axis)


def _as_float(*arrays) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _cce_global_lse(y_true, logits, axis=-1) -> np.ndarray:
    """(7) with one log-sum-exp over the whole array instead of one per sample."""
    y, z = _as_float(y_true, logits)
    shifted = z - np.max(z)
    return -np.sum(y * (shifted - np.log(np.sum(np.exp(shifted)))), axis=axis)


# --------------------------------------------------------------------------------------
# 04.1 categorical cross-entropy from logits (7) with the log-softmax (5), along `axis`
# --------------------------------------------------------------------------------------


def _logit_pair(rng, shape: tuple[int, ...], targets: str, scale: float = 2.0):
    """Targets (class axis last) and logits of ``shape``: one-hot or soft (rows sum to 1)."""
    *batch, k = shape
    if targets == "one-hot":
        y = np.eye(k)[rng.integers(0, k, size=batch)]
    else:
        y = rng.dirichlet(np.ones(k), size=batch)
    return y, rng.normal(scale=scale, size=shape)


def _extreme_pair(rng, shape: tuple[int, int]):
    """One-hot targets and logits in [-1000, 1000], with a 1000 in every row: exp(z) overflows."""
    n, k = shape
    y = np.eye(k)[rng.integers(0, k, size=n)]
    z = np.round(rng.uniform(-1000.0, 1000.0, size=shape), 1)
    z[np.arange(n), rng.integers(0, k, size=n)] = 1000.0
    z[0, np.argmax(y[0])] = -1000.0  # a confident mistake: the loss is about 2000
    return y, z


def _cce_cases(seed: int, public: bool) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    if public:
        y1, z1 = _logit_pair(rng, (5, 4), "one-hot")
        y2, z2 = _logit_pair(rng, (3, 6), "soft")
        y3, z3 = _extreme_pair(rng, (4, 3))
        y4, z4 = _logit_pair(rng, (4, 4), "one-hot")
        return (
            Case("one-hot targets, shape (5, 4)", (y1, z1)),
            Case("soft targets (rows sum to 1), shape (3, 6)", (y2, z2)),
            Case("extreme logits (±1000), shape (4, 3)", (y3, z3)),
            Case("classes along axis 0 (axis=0): 4 classes x 4 samples", (y4.T, z4.T), {"axis": 0}),
        )
    y1, z1 = _logit_pair(rng, (7, 10), "one-hot")
    y2, z2 = _logit_pair(rng, (2, 5, 5), "soft")
    y3, z3 = _extreme_pair(rng, (3, 3))
    y4, z4 = _logit_pair(rng, (6, 5), "soft", scale=4.0)
    return (
        Case("one-hot targets, shape (7, 10)", (y1, z1)),
        Case(
            "soft targets, classes along axis 1 of shape (2, 5, 5)",
            (np.moveaxis(y2, -1, 1), np.moveaxis(z2, -1, 1)),
            {"axis": 1},
        ),
        Case("extreme logits (±1000), classes along axis 0", (y3.T, z3.T), {"axis": 0}),
        Case("soft targets, large logits, shape (6, 5)", (y4, z4)),
    )


_WRONG_AXIS = (
    "wrong axis: you reduced over the last axis whatever `axis` says; the classes lie along `axis` "
    "(here 0 or 1), so the max, the log-sum-exp of (5) and the sum over classes of (7) must all run "
    "along `axis`"
)

CCE_FROM_LOGITS = Task(
    task_id="04.1",
    title="categorical cross-entropy from logits",
    answer="my_cce_from_logits",
    reference=lambda y_true, logits, axis=-1: losses.categorical_crossentropy(
        y_true, logits, from_logits=True, axis=axis
    ),
    forbidden=(
        *COURSE_LIBRARY,
        library_function(
            r"categorical_crossentropy",
            r"CategoricalCrossentropy",
            r"sparse_categorical_crossentropy",
            r"SparseCategoricalCrossentropy",
            r"log_softmax",
            r"\w*logsumexp",
            r"softmax_cross_entropy\w*",
        ),
    ),
    public=_cce_cases(0, public=True),
    hidden=_cce_cases(401, public=False),  # a seed no public case of any chapter uses
    mistakes=(
        Mistake(
            "softmax applied twice: you turned the logits into probabilities and then used the "
            "from-logits formula on them. With from_logits=True the loss applies softmax itself; "
            "don't apply it twice: use log_softmax(z) of the raw logits, (5)",
            lambda y_true, logits, axis=-1: _cce(y_true, _softmax(logits, axis), axis),
        ),
        Mistake(_WRONG_AXIS, lambda y_true, logits, axis=-1: _cce(y_true, logits, -1)),
        Mistake(
            "wrong axis: your log-softmax normalises along the last axis but the sum runs along `axis`; "
            "the softmax normalises over the classes, which lie along `axis`",
            lambda y_true, logits, axis=-1: _cce(y_true, logits, axis, normalise_axis=-1),
        ),
        Mistake(
            "wrong axis: your log-softmax normalises along `axis` but you summed over the last axis; "
            "the sum over classes of (7) runs along `axis` too",
            lambda y_true, logits, axis=-1: _cce(y_true, logits, axis, sum_axis=-1),
        ),
        Mistake(
            "your log-sum-exp runs over the whole array (np.sum without an axis): each sample's softmax "
            "normalises over its own classes, np.sum(..., axis=axis, keepdims=True)",
            _cce_global_lse,
        ),
        Mistake(
            "you averaged over the classes; cross-entropy (7) SUMS -y_j log p_j over the classes",
            lambda y_true, logits, axis=-1: _cce(y_true, logits, axis) / np.shape(logits)[axis],
        ),
        Mistake(
            "your log-softmax is z - max(z): the log-sum-exp trick (5) also subtracts "
            "log(sum_k exp(z_k - m)), which is what makes the probabilities sum to 1",
            lambda y_true, logits, axis=-1: (
                -np.sum(
                    np.asarray(y_true, dtype=np.float64)
                    * (np.asarray(logits, dtype=np.float64) - np.max(logits, axis=axis, keepdims=True)),
                    axis=axis,
                )
            ),
        ),
        Mistake(
            "you clipped the probabilities (as Keras does with from_logits=False), which caps the loss "
            "at -log(1e-7) ≈ 16.12; from logits nothing is clipped: use the log-softmax (5) directly",
            lambda y_true, logits, axis=-1: (
                -np.sum(
                    np.asarray(y_true, dtype=np.float64)
                    * np.log(np.clip(_softmax(logits, axis), EPSILON, 1.0 - EPSILON)),
                    axis=axis,
                )
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 04.2 the gradient (8)-(9) of the summed CCE with respect to the logits
# --------------------------------------------------------------------------------------


def _unnormalised_pair(rng, shape: tuple[int, int]):
    """Targets whose rows do not all sum to 1: a zero row (padding), a row summing to 2, soft rows."""
    n, k = shape
    y = rng.dirichlet(np.ones(k), size=n)
    y[0] = 0.0
    y[1] = 2.0 * np.eye(k)[rng.integers(0, k)]
    y[2:] *= rng.uniform(0.5, 1.5, size=(n - 2, 1))
    return y, rng.normal(scale=2.0, size=shape)


def _gradient_cases(seed: int, public: bool) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    if public:
        y1, z1 = _logit_pair(rng, (5, 4), "one-hot")
        y2, z2 = _logit_pair(rng, (4, 3), "soft")
        y3, z3 = _unnormalised_pair(rng, (4, 3))
        y4, z4 = _extreme_pair(rng, (4, 3))
        return (
            Case("one-hot targets, shape (5, 4)", (y1, z1)),
            Case("soft targets (rows sum to 1), shape (4, 3)", (y2, z2)),
            Case("targets whose rows do not sum to 1 (a zero row, a row summing to 2)", (y3, z3)),
            Case("extreme logits (±1000), shape (4, 3)", (y4, z4)),
        )
    y1, z1 = _logit_pair(rng, (8, 10), "one-hot")
    y2, z2 = _logit_pair(rng, (3, 7), "soft")
    y3, z3 = _unnormalised_pair(rng, (6, 4))
    y4, z4 = _extreme_pair(rng, (5, 5))
    return (
        Case("one-hot targets, shape (8, 10)", (y1, z1)),
        Case("soft targets, shape (3, 7)", (y2, z2)),
        Case("targets whose rows do not sum to 1, shape (6, 4)", (y3, z3)),
        Case("extreme logits (±1000), shape (5, 5)", (y4, z4)),
    )


def _cce_gradient(y_true, logits) -> np.ndarray:
    y, z = _as_float(y_true, logits)
    return _softmax(z) * np.sum(y, axis=-1, keepdims=True) - y


CCE_GRADIENT = Task(
    task_id="04.2",
    title="gradient of categorical cross-entropy with respect to the logits",
    answer="my_cce_gradient",
    reference=lambda y_true, logits: gradients.categorical_crossentropy(y_true, logits, from_logits=True),
    forbidden=(
        *COURSE_LIBRARY,
        *AUTODIFF,
    ),
    public=_gradient_cases(2, public=True),
    hidden=_gradient_cases(3, public=False),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for the "
            "gradient of the SUM of the per-sample losses",
            lambda y_true, logits: _cce_gradient(y_true, logits) / np.shape(logits)[0],
        ),
        Mistake(
            "sign error: the gradient (9) is softmax(z) - y, prediction minus target; y - softmax(z) is its "
            "negative, the direction gradient descent steps in",
            lambda y_true, logits: -_cce_gradient(y_true, logits),
        ),
        Mistake(
            "you returned softmax(z) alone: the gradient (9) is softmax(z) - y, subtract the target",
            lambda y_true, logits: _softmax(logits),
        ),
        Mistake(
            "softmax(z) - y holds only when each target row sums to 1; in general (8) gives "
            "softmax(z) * sum_j y_j - y (a zero row has gradient 0, a row summing to 2 pulls twice as hard)",
            lambda y_true, logits: _softmax(logits) - np.asarray(y_true, dtype=np.float64),
        ),
        Mistake(
            "only your target entries are non-zero: every logit moves every probability (Jacobian (6)), "
            "so the gradient is p_k - y_k for ALL classes k, (9)",
            lambda y_true, logits: np.where(np.asarray(y_true) != 0, _cce_gradient(y_true, logits), 0.0),
        ),
        Mistake(
            "that is -y/p, the gradient with respect to the PROBABILITIES; the task asks for the logits: "
            "chain it through the softmax Jacobian (6) and the 1/p cancels, (9)",
            lambda y_true, logits: -np.asarray(y_true, dtype=np.float64) / _softmax(logits),
        ),
        Mistake(
            "wrong axis: your softmax normalises over the samples (axis 0) or the whole array; it "
            "normalises each sample's logits over the classes, the last axis",
            lambda y_true, logits: (
                _softmax(logits, axis=0) * np.sum(y_true, axis=-1, keepdims=True)
                - np.asarray(y_true, dtype=np.float64)
            ),
        ),
        Mistake(
            "wrong axis: your softmax divides by the sum over the whole array (np.sum without an axis); "
            "normalise each row: np.sum(..., axis=-1, keepdims=True)",
            lambda y_true, logits: (
                _softmax(np.ravel(logits), axis=0).reshape(np.shape(logits))
                * np.sum(y_true, axis=-1, keepdims=True)
                - np.asarray(y_true, dtype=np.float64)
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 04.3 generalised cross-entropy (20) as a Keras custom loss, integer labels and probabilities
# --------------------------------------------------------------------------------------


def _gce_case(rng, label: str, n: int, k: int, q: float, *, zero_one: bool = False) -> Case:
    labels = rng.integers(0, k, size=n)
    probabilities = rng.dirichlet(np.ones(k), size=n)
    if zero_one:  # the true class at probability exactly 0 (a confident mistake) and exactly 1
        probabilities[0] = 1.0 / (k - 1)
        probabilities[0, labels[0]] = 0.0
        probabilities[1] = np.eye(k)[labels[1]]
    return Case(label, (labels.astype(np.int64), probabilities.astype(np.float32)), {"q": q})


def _gce_cases(seed: int, public: bool) -> tuple[Case, ...]:
    rng = np.random.default_rng(seed)
    if public:
        return (
            _gce_case(rng, "q=0.5 (Keras' default), 6 samples, 4 classes", 6, 4, 0.5),
            _gce_case(rng, "q=0.7 (the paper's), 5 samples, 3 classes", 5, 3, 0.7),
            _gce_case(rng, "q=1 (the MAE end), 4 samples, 5 classes", 4, 5, 1.0),
            _gce_case(rng, "true-class probability exactly 0 or 1, q=0.3", 5, 4, 0.3, zero_one=True),
        )
    return (
        _gce_case(rng, "q=0.1 (close to cross-entropy), 7 samples, 6 classes", 7, 6, 0.1),
        _gce_case(rng, "q=0.6, 9 samples, 10 classes", 9, 10, 0.6),
        _gce_case(rng, "q=1, 3 samples, 2 classes", 3, 2, 1.0),
        _gce_case(rng, "true-class probability exactly 0 or 1, q=0.25", 4, 3, 0.25, zero_one=True),
    )


def _p_true(labels, probabilities) -> np.ndarray:
    ids = np.asarray(labels, dtype=np.int64)
    return np.take_along_axis(np.asarray(probabilities, dtype=np.float64), ids[:, None], axis=-1)[:, 0]


def _gce(labels, probabilities, q) -> np.ndarray:
    return (1.0 - _p_true(labels, probabilities) ** q) / q


KERAS_GCE = Task(
    task_id="04.3",
    title="generalised cross-entropy as a Keras custom loss",
    answer="my_gce",
    reference=lambda labels, probabilities, q: losses.categorical_generalized_cross_entropy(
        labels, np.float64(probabilities), q=q
    ),
    backend="keras",
    public=_gce_cases(4, public=True),
    hidden=_gce_cases(5, public=False),
    rtol=1e-4,
    atol=1e-5,
    forbidden=(
        *COURSE_LIBRARY,
        library_function(r"categorical_generalized_cross_entropy", r"CategoricalGeneralizedCrossEntropy"),
    ),
    mistakes=(
        Mistake(
            "you raised p_c to the power 1/q; (20) raises it to the power q: (1 - p_c**q) / q "
            "(the two agree only at q = 1)",
            lambda labels, probabilities, q: (1.0 - _p_true(labels, probabilities) ** (1.0 / q)) / q,
        ),
        Mistake(
            "the division by q is missing: GCE (20) is (1 - p_c**q) / q, and the 1/q is what makes it tend "
            "to cross-entropy as q -> 0, (21)",
            lambda labels, probabilities, q: 1.0 - _p_true(labels, probabilities) ** q,
        ),
        Mistake(
            "the power applies to p_c, not to 1 - p_c: GCE (20) is (1 - p_c**q) / q",
            lambda labels, probabilities, q: (1.0 - _p_true(labels, probabilities)) ** q / q,
        ),
        Mistake(
            "one-hot used wrongly: you applied (1 - y_j p_j**q) / q to EVERY class and summed, so the 1 "
            "is counted K times; first pick p_c = sum_j y_j p_j (one_hot(labels) * p, summed over the "
            "classes), then apply (20)",
            lambda labels, probabilities, q: (
                (np.shape(probabilities)[-1] - _p_true(labels, probabilities) ** q) / q
            ),
        ),
        Mistake(
            "you summed (1 - p_j**q) / q over ALL classes; GCE (20) uses only the probability p_c of the "
            "labelled class",
            lambda labels, probabilities, q: np.sum(
                (1.0 - np.asarray(probabilities, dtype=np.float64) ** q) / q, axis=-1
            ),
        ),
        Mistake(
            "that is cross-entropy -log p_c, the q -> 0 limit (21) of GCE; use (20) with the given q",
            lambda labels, probabilities, q: -np.log(_p_true(labels, probabilities)),
        ),
        Mistake(
            "you clipped the probabilities: Keras' GCE clips nothing, so at p_c = 0 the loss is exactly "
            "1/q (clipping belongs before the loss in training, trap 3 of the notebook, not inside it)",
            lambda labels, probabilities, q: (
                (1.0 - np.clip(_p_true(labels, probabilities), EPSILON, 1.0 - EPSILON) ** q) / q
            ),
        ),
        Mistake(
            "that is GCE with q = 0.5 whatever q is passed: use the `q` argument",
            lambda labels, probabilities, q: _gce(labels, probabilities, 0.5),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 04.4 the value of SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1) on task_data()
# --------------------------------------------------------------------------------------


def _per_sample_losses(void_as_last_class: bool = False) -> np.ndarray:
    """(11) for every sample; a void label gives 0, or (the NumPy bug) the loss of the last class."""
    labels, logits, _ = task_data()
    valid = labels != VOID
    picked = np.take_along_axis(_log_softmax(logits), np.where(valid, labels, 0)[:, None], axis=-1)[:, 0]
    if void_as_last_class:
        return -np.where(valid, picked, _log_softmax(logits)[:, -1])
    return -np.where(valid, picked, 0.0)


def _batch_loss(*, weighted=True, divide_by="valid", void_as_last_class=False) -> float:
    labels, _, weights = task_data()
    valid = labels != VOID
    per_sample = _per_sample_losses(void_as_last_class) * (weights if weighted else 1.0)
    divisor = {
        "valid": valid.sum(),
        "all": len(labels),
        "valid weights": np.sum(weights * valid),
        "all weights": np.sum(weights),
    }[divide_by]
    return float(np.sum(per_sample) / divisor)


IGNORE_CLASS = Task(
    task_id="04.4",
    title="the batch loss with ignore_class and sample weights on task_data()",
    answer="batch_loss",
    kind="value",
    reference=_batch_loss(),
    public=(Case("your value", ()),),
    rtol=1e-6,
    atol=1e-9,
    mistakes=(
        Mistake(
            "you divided by all N samples, as np.mean of the function's output would; with ignore_class "
            "the class form divides by the number of VALID samples, (12)",
            lambda: _batch_loss(divide_by="all"),
        ),
        Mistake(
            "you divided by the sum of the weights of the valid samples; the default reduction divides by "
            "their NUMBER, (12): the weights only multiply the losses",
            lambda: _batch_loss(divide_by="valid weights"),
        ),
        Mistake(
            "the sample weights are missing: (12) multiplies each valid loss by w_i before summing",
            lambda: _batch_loss(weighted=False),
        ),
        Mistake(
            "the sample weights are missing, and you divided by all N samples, not the valid ones, (12)",
            lambda: _batch_loss(weighted=False, divide_by="all"),
        ),
        Mistake(
            "the void samples were counted: in NumPy a label -1 indexes the LAST class, so logits[i, -1] "
            "silently gives them a loss; an ignored sample has loss 0 and is left out of the divisor, (12)",
            lambda: _batch_loss(void_as_last_class=True, divide_by="all"),
        ),
        Mistake(
            "the void samples contribute a loss: in NumPy a label -1 indexes the LAST class, so "
            "logits[i, -1] silently gives them one; an ignored sample has loss 0, (12)",
            lambda: _batch_loss(void_as_last_class=True),
        ),
        Mistake(
            "you divided by the sum of all weights, void samples included; (12) divides by the number "
            "of valid samples",
            lambda: _batch_loss(divide_by="all weights"),
        ),
    ),
)

TASKS = (CCE_FROM_LOGITS, CCE_GRADIENT, KERAS_GCE, IGNORE_CLASS)
