"""Graded tasks of chapter 04 (multiclass): CCE at a temperature, a class-weighted CCE gradient, a Keras
GCE, ``ignore_class``.

None of the functions asked for is one that the notebook prints with ``show()``: 04.1 and 04.2 are
variants (a temperature, class weights) that need the same derivations.  Equation numbers in the
messages, (1) softmax, (3) the Boltzmann distribution at temperature T, (5) log-softmax, (6) its
Jacobian, (7) CCE, (8) CCE through the log-sum-exp, (9) its gradient, (10) CCE on probabilities,
(11) sparse CCE, (12) the ``ignore_class`` reduction, (20) GCE and (21) its q -> 0 limit, are those
of ``notebooks/04_multiclass.ipynb``.
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
from course_lib import losses
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
# 04.1 cross-entropy against the softmax at temperature T, (3), from logits, along `axis`
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
    z[0, np.argmax(y[0])] = -1000.0  # a confident mistake: the loss is about 2000 / T
    return y, z


def _tempered_cases(seed: int, public: bool) -> tuple[Case, ...]:
    # Not seeded_cases: each case moves its class axis its own way.
    rng = np.random.default_rng(seed)
    if public:
        y1, z1 = _logit_pair(rng, (5, 4), "one-hot")
        y2, z2 = _logit_pair(rng, (3, 6), "soft")
        y3, z3 = _extreme_pair(rng, (4, 3))
        y4, z4 = _logit_pair(rng, (4, 4), "one-hot")
        return (
            Case("one-hot targets, shape (5, 4), T=2", (y1, z1), {"temperature": 2.0}),
            Case("soft targets (rows sum to 1), shape (3, 6), T=0.5", (y2, z2), {"temperature": 0.5}),
            Case("extreme logits (±1000), shape (4, 3), T=0.1", (y3, z3), {"temperature": 0.1}),
            Case(
                "classes along axis 0 (axis=0): 4 classes x 4 samples, T=3",
                (y4.T, z4.T),
                {"temperature": 3.0, "axis": 0},
            ),
        )
    y1, z1 = _logit_pair(rng, (7, 10), "one-hot")
    y2, z2 = _logit_pair(rng, (2, 5, 5), "soft")
    y3, z3 = _extreme_pair(rng, (3, 3))
    y4, z4 = _logit_pair(rng, (6, 5), "soft", scale=4.0)
    y5, z5 = _logit_pair(rng, (3, 4, 4), "soft")
    return (
        Case("one-hot targets, shape (7, 10), T=4", (y1, z1), {"temperature": 4.0}),
        Case(
            "soft targets, classes along axis 1 of shape (2, 5, 5), T=0.7",
            (np.moveaxis(y2, -1, 1), np.moveaxis(z2, -1, 1)),
            {"temperature": 0.7, "axis": 1},
        ),
        Case(
            "extreme logits (±1000), classes along axis 0, T=2", (y3.T, z3.T), {"temperature": 2.0, "axis": 0}
        ),
        Case("soft targets, large logits, shape (6, 5), T=1", (y4, z4), {"temperature": 1.0}),
        Case(
            "soft targets, classes on the last axis of shape (3, 4, 4), T=1.5", (y5, z5), {"temperature": 1.5}
        ),
    )


def _tempered(loss, *, scale=lambda z, t: z / t):
    """``loss(y_true, scale(logits, T), axis)`` as a function of the task's arguments."""

    def wrong(y_true, logits, temperature=1.0, axis=-1):
        return loss(y_true, scale(np.asarray(logits, dtype=np.float64), temperature), axis)

    return wrong


def _batch_axis(axis: int, ndim: int) -> int:
    """The first axis that is not the class axis: the batch axis."""
    return 1 if axis % ndim == 0 else 0


def _as_probabilities(y_true, z, axis, *, renormalise: bool) -> np.ndarray:
    """(10) applied to logits, as with from_logits=False: renormalise (or not), clip, log."""
    q = z / np.sum(z, axis=axis, keepdims=True) if renormalise else z
    return -np.sum(
        np.asarray(y_true, dtype=np.float64) * np.log(np.clip(q, EPSILON, 1.0 - EPSILON)), axis=axis
    )


_WRONG_AXIS = (
    "wrong axis: you reduced over the last axis whatever `axis` says; the classes lie along `axis` "
    "(here 0 or 1), so the max, the log-sum-exp of (5) and the sum over classes of (7) must all run "
    "along `axis`"
)

_LOGITS_AS_PROBABILITIES = (
    "you treated the logits as probabilities, as from_logits=False does with (10) (renormalise, clip to "
    "[1e-7, 1 - 1e-7], log); logits are unnormalised scores, any real numbers: take the log-softmax (5) "
    "of z / T"
)

TEMPERED_CCE = Task(
    task_id="04.1",
    title="cross-entropy at temperature T from logits",
    answer="my_tempered_cce",
    reference=_tempered(_cce),
    forbidden=forbid(
        library_function(
            r"categorical_crossentropy",
            r"CategoricalCrossentropy",
            r"sparse_categorical_crossentropy",
            r"SparseCategoricalCrossentropy",
            r"log_softmax",
            r"\w*logsumexp",
            r"softmax_cross_entropy\w*",
        )
    ),
    public=_tempered_cases(0, public=True),
    hidden=_tempered_cases(401, public=False),  # a seed no public case of any chapter uses
    mistakes=(
        Mistake(
            "that is the loss at T = 1 whatever `temperature` is passed: the Boltzmann distribution (3) "
            "is softmax(z / T), so divide the logits by T before the log-softmax",
            _tempered(_cce, scale=lambda z, t: z),
        ),
        Mistake(
            "you multiplied the logits by T; the Boltzmann distribution (3) is softmax(z / T)",
            _tempered(_cce, scale=lambda z, t: z * t),
        ),
        Mistake(
            "you divided the loss by T; the temperature divides the logits INSIDE the softmax, (3): "
            "-sum_j y_j log softmax(z / T)_j",
            lambda y_true, logits, temperature=1.0, axis=-1: _cce(y_true, logits, axis) / temperature,
        ),
        Mistake(
            "softmax applied twice: you turned the logits into probabilities and then took the "
            "log-softmax of those; take log_softmax(z / T) of the raw logits, (5)",
            _tempered(lambda y, z, axis: _cce(y, _softmax(z, axis), axis)),
        ),
        Mistake(
            "wrong axis: your softmax normalises over the batch axis (over the samples) instead of over "
            "the classes, which lie along `axis`; use np.max and np.sum with axis=axis, keepdims=True",
            _tempered(lambda y, z, axis: _cce(y, z, axis, normalise_axis=_batch_axis(axis, np.ndim(z)))),
        ),
        Mistake(_WRONG_AXIS, _tempered(lambda y, z, axis: _cce(y, z, -1))),
        Mistake(
            "wrong axis: your log-softmax normalises along the last axis but the sum runs along `axis`; "
            "the softmax normalises over the classes, which lie along `axis`",
            _tempered(lambda y, z, axis: _cce(y, z, axis, normalise_axis=-1)),
        ),
        Mistake(
            "wrong axis: your log-softmax normalises along `axis` but you summed over the last axis; "
            "the sum over classes of (7) runs along `axis` too",
            _tempered(lambda y, z, axis: _cce(y, z, axis, sum_axis=-1)),
        ),
        Mistake(
            "your log-sum-exp runs over the whole array (np.sum without an axis): each sample's softmax "
            "normalises over its own classes, np.sum(..., axis=axis, keepdims=True)",
            _tempered(_cce_global_lse),
        ),
        Mistake(
            "you averaged over the classes; cross-entropy (7) SUMS -y_j log p_j over the classes",
            _tempered(lambda y, z, axis: _cce(y, z, axis) / np.shape(z)[axis]),
        ),
        Mistake(
            "your log-softmax is z/T - max(z/T): the log-sum-exp trick (5) also subtracts "
            "log(sum_k exp(z_k/T - m)), which is what makes the probabilities sum to 1",
            _tempered(
                lambda y, z, axis: (
                    -np.sum(
                        np.asarray(y, dtype=np.float64) * (z - np.max(z, axis=axis, keepdims=True)), axis=axis
                    )
                )
            ),
        ),
        Mistake(
            "you clipped the probabilities (as Keras does with from_logits=False), which caps the loss "
            "at -log(1e-7) ≈ 16.12; from logits nothing is clipped: use the log-softmax (5) directly",
            _tempered(
                lambda y, z, axis: (
                    -np.sum(
                        np.asarray(y, dtype=np.float64)
                        * np.log(np.clip(_softmax(z, axis), EPSILON, 1.0 - EPSILON)),
                        axis=axis,
                    )
                )
            ),
        ),
        Mistake(
            "you took the log of the logits as if they were probabilities: a logit can be negative "
            "(log gives NaN) or above 1; logits are unnormalised scores: take the log-softmax (5) of z / T",
            _tempered(lambda y, z, axis: -np.sum(np.asarray(y, dtype=np.float64) * np.log(z), axis=axis)),
        ),
        Mistake(
            "you took the log of the logits as if they were probabilities: a logit can be negative "
            "(log gives NaN) or above 1; logits are unnormalised scores: take the log-softmax (5) of z / T",
            _tempered(
                lambda y, z, axis: -np.sum(np.asarray(y, dtype=np.float64) * np.log(z), axis=axis),
                scale=lambda z, t: z,
            ),
        ),
        Mistake(
            _LOGITS_AS_PROBABILITIES,
            _tempered(lambda y, z, axis: _as_probabilities(y, z, axis, renormalise=True)),
        ),
        Mistake(
            _LOGITS_AS_PROBABILITIES,
            _tempered(lambda y, z, axis: _as_probabilities(y, z, axis, renormalise=False)),
        ),
        Mistake(
            _LOGITS_AS_PROBABILITIES,
            _tempered(
                lambda y, z, axis: _as_probabilities(y, z, axis, renormalise=True), scale=lambda z, t: z
            ),
        ),
        Mistake(
            _LOGITS_AS_PROBABILITIES,
            _tempered(
                lambda y, z, axis: _as_probabilities(y, z, axis, renormalise=False), scale=lambda z, t: z
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 04.2 the gradient of the summed class-weighted CCE with respect to the logits, from (8)
# --------------------------------------------------------------------------------------


def _unnormalised_pair(rng, shape: tuple[int, int]):
    """Targets whose rows do not all sum to 1: a zero row (padding), a row summing to 2, soft rows."""
    n, k = shape
    y = rng.dirichlet(np.ones(k), size=n)
    y[0] = 0.0
    y[1] = 2.0 * np.eye(k)[rng.integers(0, k)]
    y[2:] *= rng.uniform(0.5, 1.5, size=(n - 2, 1))
    return y, rng.normal(scale=2.0, size=shape)


def _class_weights(rng, k: int) -> np.ndarray:
    return np.round(rng.uniform(0.2, 3.0, size=k), 2)


def _weighted_gradient_cases(seed: int, public: bool) -> tuple[Case, ...]:
    # Not seeded_cases: every pair is drawn before any class weight, so a case is not one call.
    rng = np.random.default_rng(seed)
    if public:
        pairs = [
            ("one-hot targets, shape (5, 4)", _logit_pair(rng, (5, 4), "one-hot")),
            ("soft targets (rows sum to 1), shape (4, 3)", _logit_pair(rng, (4, 3), "soft")),
            (
                "targets whose rows do not sum to 1 (a zero row, a row summing to 2)",
                _unnormalised_pair(rng, (4, 3)),
            ),
            ("extreme logits (±1000), shape (4, 3)", _extreme_pair(rng, (4, 3))),
        ]
    else:
        pairs = [
            ("one-hot targets, shape (8, 10)", _logit_pair(rng, (8, 10), "one-hot")),
            ("soft targets, shape (3, 7)", _logit_pair(rng, (3, 7), "soft")),
            ("targets whose rows do not sum to 1, shape (6, 4)", _unnormalised_pair(rng, (6, 4))),
            ("extreme logits (±1000), shape (5, 5)", _extreme_pair(rng, (5, 5))),
            (
                "soft targets, classes on the last axis of shape (3, 4, 4)",
                _logit_pair(rng, (3, 4, 4), "soft"),
            ),
        ]
    return tuple(
        Case(f"{label}, class weights", (y, z, _class_weights(rng, np.shape(z)[-1])))
        for label, (y, z) in pairs
    )


def _weighted_gradient(*, p_factor="weighted", target="weighted", outer=None, axis=-1, divide_by_n=False):
    """p * s - t for s = sum_j a_j y_j and t = a * y, or a variant (the reference with the defaults)."""

    def gradient(y_true, logits, class_weight):
        y, z, a = _as_float(y_true, logits, class_weight)
        p = _softmax(np.ravel(z), axis=0).reshape(z.shape) if axis is None else _softmax(z, axis)
        s = {
            "weighted": np.sum(a * y, axis=-1, keepdims=True),
            "unweighted": np.sum(y, axis=-1, keepdims=True),
            "one": 1.0,
            "global": np.sum(a * y),
        }[p_factor]
        t = a * y if target == "weighted" else y
        g = p * s - t
        if outer == "class weight":
            g = a * (p * np.sum(y, axis=-1, keepdims=True) - y)
        return g / (z.size / z.shape[-1]) if divide_by_n else g

    return gradient


WEIGHTED_CCE_GRADIENT = Task(
    task_id="04.2",
    title="gradient of class-weighted cross-entropy with respect to the logits",
    answer="my_weighted_cce_gradient",
    reference=_weighted_gradient(),
    forbidden=forbid(autodiff=True),
    public=_weighted_gradient_cases(2, public=True),
    hidden=_weighted_gradient_cases(3, public=False),
    mistakes=(
        Mistake(
            "your gradient is off by 1/N: it is the gradient of the batch MEAN; the task asks for the "
            "gradient of the SUM of the per-sample losses",
            _weighted_gradient(divide_by_n=True),
        ),
        Mistake(
            "sign error: the gradient is (sum_j a_j y_j) softmax(z) - a * y, the weighted prediction minus "
            "the weighted target; yours is its negative",
            lambda y_true, logits, class_weight: -_weighted_gradient()(y_true, logits, class_weight),
        ),
        Mistake(
            "the class weights are missing: with weights, (8) becomes (sum_j a_j y_j) LSE(z) - "
            "sum_j a_j y_j z_j, so both terms of the gradient carry them",
            _weighted_gradient(p_factor="unweighted", target="unweighted"),
        ),
        Mistake(
            "you multiplied the unweighted gradient p_k - y_k by a_k, the weight of the logit's class; "
            "the weights belong to the TARGET classes j: differentiate (sum_j a_j y_j) LSE(z) - "
            "sum_j a_j y_j z_j",
            _weighted_gradient(outer="class weight"),
        ),
        Mistake(
            "the LSE term of (8) is multiplied by sum_j a_j y_j, not by sum_j y_j: the weights enter it too",
            _weighted_gradient(p_factor="unweighted"),
        ),
        Mistake(
            "softmax(z) - a * y assumes sum_j a_j y_j = 1; in general (8) with weights gives "
            "softmax(z) * sum_j a_j y_j - a * y",
            _weighted_gradient(p_factor="one"),
        ),
        Mistake(
            "sum_j a_j y_j is one number PER SAMPLE (summed over the classes, the last axis, keepdims=True), "
            "not one number for the whole batch",
            _weighted_gradient(p_factor="global"),
        ),
        Mistake(
            "you returned softmax(z) alone: the gradient is (sum_j a_j y_j) softmax(z) - a * y",
            lambda y_true, logits, class_weight: _softmax(logits),
        ),
        Mistake(
            "only your target entries are non-zero: every logit moves every probability (Jacobian (6)), "
            "so every class k gets (sum_j a_j y_j) p_k - a_k y_k",
            lambda y_true, logits, class_weight: np.where(
                np.asarray(y_true) != 0, _weighted_gradient()(y_true, logits, class_weight), 0.0
            ),
        ),
        Mistake(
            "that is -a * y / p, the gradient with respect to the PROBABILITIES; the task asks for the "
            "logits: chain it through the softmax Jacobian (6) and the 1/p cancels, as in (9)",
            lambda y_true, logits, class_weight: (
                -np.asarray(class_weight, dtype=np.float64)
                * np.asarray(y_true, dtype=np.float64)
                / _softmax(logits)
            ),
        ),
        Mistake(
            "wrong axis: your softmax normalises over the samples (axis 0); it normalises each sample's "
            "logits over the classes, the last axis",
            _weighted_gradient(axis=0),
        ),
        Mistake(
            "wrong axis: your softmax normalises over axis 1, not over the classes on the last axis",
            _weighted_gradient(axis=1),
        ),
        Mistake(
            "wrong axis: your softmax divides by the sum over the whole array (np.sum without an axis); "
            "normalise each sample: np.sum(..., axis=-1, keepdims=True)",
            _weighted_gradient(axis=None),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 04.3 generalised cross-entropy (20) as a Keras custom loss, integer labels and probabilities
# --------------------------------------------------------------------------------------


def _gce_case(rng: np.random.Generator, label: str, n: int, k: int, q: float, zero_one: bool = False) -> Case:
    labels = rng.integers(0, k, size=n)
    probabilities = rng.dirichlet(np.ones(k), size=n)
    if zero_one:  # the true class at probability exactly 0 (a confident mistake) and exactly 1
        probabilities[0] = 1.0 / (k - 1)
        probabilities[0, labels[0]] = 0.0
        probabilities[1] = np.eye(k)[labels[1]]
    return Case(label, (labels.astype(np.int64), probabilities.astype(np.float32)), {"q": q})


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
    public=seeded_cases(
        4,
        _gce_case,
        [
            ("q=0.5 (Keras' default), 6 samples, 4 classes", 6, 4, 0.5),
            ("q=0.7 (the paper's), 5 samples, 3 classes", 5, 3, 0.7),
            ("q=1 (the MAE end), 4 samples, 5 classes", 4, 5, 1.0),
            ("true-class probability exactly 0 or 1, q=0.3", 5, 4, 0.3, True),
        ],
    ),
    hidden=seeded_cases(
        5,
        _gce_case,
        [
            ("q=0.1 (close to cross-entropy), 7 samples, 6 classes", 7, 6, 0.1),
            ("q=0.6, 9 samples, 10 classes", 9, 10, 0.6),
            ("q=1, 3 samples, 2 classes", 3, 2, 1.0),
            ("true-class probability exactly 0 or 1, q=0.25", 4, 3, 0.25, True),
        ],
    ),
    rtol=1e-4,
    atol=1e-5,
    forbidden=forbid(
        library_function(r"categorical_generalized_cross_entropy", r"CategoricalGeneralizedCrossEntropy")
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

TASKS = (TEMPERED_CCE, WEIGHTED_CCE_GRADIENT, KERAS_GCE, IGNORE_CLASS)
