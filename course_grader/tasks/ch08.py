"""Graded tasks of chapter 08 (sequences and CTC): the forward algorithm, its gradient, too few frames,
and Keras 2's blank-last convention.

Equation numbers in the messages, (1) the CTC loss, (2) the extended label, (3) the forward recursion,
(4) its end, (7) the occupancy, (8) the gradient and (9) the frames a label needs, are those of
``notebooks/08_sequences_and_ctc.ipynb``.  Every case has enough frames for its labels, so the
large finite loss Keras returns otherwise (about 707) never matters here.
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
from course_lib.grading.tasks.ch08 import task_data

# --------------------------------------------------------------------------------------
# a plain per-sequence forward-backward with switches, to build the typical wrong answers
# --------------------------------------------------------------------------------------


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _logsumexp(x: np.ndarray) -> float:
    peak = np.max(x)
    if not np.isfinite(peak):
        return float(peak)
    return float(peak + np.log(np.sum(np.exp(x - peak))))


def _sequence_labels(row: np.ndarray, keep_padding: bool) -> np.ndarray:
    row = np.asarray(row, dtype=np.int64)
    return row if keep_padding else row[row != 0]


def _lattice(label, log_y, skip_rule, ends):
    """Log alpha, log beta (each ``(T, S)``), the extended label and log p for one sequence."""
    ext = np.zeros(2 * len(label) + 1, dtype=np.int64)
    ext[1::2] = label
    frames, states = log_y.shape[0], len(ext)
    allowed = np.zeros(states, dtype=bool)
    for s in range(2, states):
        if skip_rule == "distinct":
            allowed[s] = ext[s] != 0 and ext[s] != ext[s - 2]
        elif skip_rule == "always":
            allowed[s] = ext[s] != 0
    emit = log_y[:, ext]
    alpha = np.full((frames, states), -np.inf)
    alpha[0, : min(2, states)] = emit[0, : min(2, states)]
    for t in range(1, frames):
        for s in range(states):
            terms = [alpha[t - 1, s]] + ([alpha[t - 1, s - 1]] if s >= 1 else [])
            terms += [alpha[t - 1, s - 2]] if allowed[s] else []
            alpha[t, s] = emit[t, s] + _logsumexp(np.array(terms))
    final = [states - 1] + ([states - 2] if states >= 2 else [])
    end_states = {"both": final, "blank": [states - 1], "label": final[1:] or final}[ends]
    beta = np.full((frames, states), -np.inf)
    beta[-1, end_states] = 0.0
    for t in range(frames - 2, -1, -1):
        for s in range(states):
            terms = [emit[t + 1, s] + beta[t + 1, s]]
            if s + 1 < states:
                terms.append(emit[t + 1, s + 1] + beta[t + 1, s + 1])
            if s + 2 < states and allowed[s + 2]:
                terms.append(emit[t + 1, s + 2] + beta[t + 1, s + 2])
            beta[t, s] = _logsumexp(np.array(terms))
    log_p = _logsumexp(alpha[-1, end_states])
    return alpha, beta, ext, log_p


def _ctc_variant(skip_rule="distinct", ends="both", logits=True, keep_padding=False):
    """A per-sequence CTC loss that may get the skip rule, the ends, the softmax or the padding wrong."""

    def loss(y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        log_y = _log_softmax(y_pred) if logits else y_pred
        values = []
        for row, frames in zip(np.asarray(y_true), log_y, strict=True):
            label = _sequence_labels(row, keep_padding)
            values.append(-_lattice(label, frames, skip_rule, ends)[3])
        return np.array(values)

    return loss


def _ctc_gradient_variant(skip_rule="distinct", normalise=True, with_softmax=True, scale=1.0):
    """The gradient (8) of the summed loss, or a typical wrong version of it."""

    def gradient(y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        log_y = _log_softmax(y_pred)
        result = np.zeros_like(y_pred)
        for b, (row, frames) in enumerate(zip(np.asarray(y_true), log_y, strict=True)):
            alpha, beta, ext, log_p = _lattice(_sequence_labels(row, False), frames, skip_rule, "both")
            # alpha includes frame t's emission, beta does not: alpha * beta sums the paths through (t, s)
            weight = np.exp(alpha + beta - (log_p if normalise else 0.0))
            gamma = np.zeros_like(frames)
            for s, k in enumerate(ext):
                gamma[:, k] += weight[:, s]
            result[b] = (np.exp(frames) if with_softmax else 0.0) - gamma
        return result * scale

    return gradient


# --------------------------------------------------------------------------------------
# cases: every label fits its frames, (9)
# --------------------------------------------------------------------------------------


def _ctc_case(
    rng: np.random.Generator, text: str, labels, frames: int, classes: int, scale: float = 1.0
) -> Case:
    """Labels ``(B, L)`` and logits ``(B, T, C)`` with standard deviation ``scale``, labelled ``text``."""
    labels = np.asarray(labels, dtype=np.int64)
    logits = scale * rng.normal(size=(len(labels), frames, classes))
    return Case(text, (labels, logits))


PUBLIC_SPECS = [
    ("two different labels, T = 5", [[1, 2], [2, 1]], 5, 3),
    ("repeated labels and 0-padding, T = 7", [[1, 1, 2], [3, 0, 0], [2, 2, 2]], 7, 4),
    ("one label per sequence, T = 3", [[1], [2], [1]], 3, 3),
]
HIDDEN_SPECS = [
    ("mixed lengths, T = 9", [[1, 2, 3, 0], [4, 4, 0, 0], [1, 2, 1, 2], [3, 0, 0, 0]], 9, 5),
    ("tight fit T = L + r", [[1, 1, 2, 2]], 6, 3),
]
LONG_PUBLIC = ("long sequence, extreme: T = 400 frames, C = 30", [[5, 9, 9, 12], [3, 0, 0, 0]], 400, 30)
LONG_HIDDEN = ("long sequence, extreme: T = 500 frames, C = 40", [[7, 7, 1, 2, 3]], 500, 40)


def _loss_reference(y_true, y_pred):
    return losses.ctc(np.asarray(y_true), np.asarray(y_pred, dtype=np.float64))


def _gradient_reference(y_true, y_pred):
    return gradients.ctc(np.asarray(y_true), np.asarray(y_pred, dtype=np.float64))


# --------------------------------------------------------------------------------------
# 08.1 the CTC loss by the forward algorithm (1)-(4)
# --------------------------------------------------------------------------------------

CTC_LOSS = Task(
    task_id="08.1",
    title="CTC loss by the forward algorithm",
    answer="my_ctc",
    reference=_loss_reference,
    forbidden=forbid(),
    forbidden_in_answer=(library_function(r"ctc\w*", r"CTC\w*"),),
    public=seeded_cases(0, _ctc_case, PUBLIC_SPECS) + seeded_cases(1, _ctc_case, [LONG_PUBLIC], scale=2.0),
    hidden=seeded_cases(802, _ctc_case, HIDDEN_SPECS)  # 802: a seed no public case uses
    + seeded_cases(3, _ctc_case, [LONG_HIDDEN], scale=2.0),
    rtol=1e-6,
    atol=1e-8,
    mistakes=(
        Mistake(
            "y_pred are LOGITS: turn each frame into log-probabilities with a log-softmax over the classes "
            "before you run the recursion (3)",
            _ctc_variant(logits=False),
        ),
        Mistake(
            "your recursion skips the blank between two EQUAL labels: in (3) the skip from s-2 is allowed "
            "only into a label different from l'_{s-2}, or '1 1' would collapse to '1'",
            _ctc_variant(skip_rule="always"),
        ),
        Mistake(
            "your recursion never skips: between two DIFFERENT labels the blank is optional, so (3) also "
            "allows the step from s-2 into a label that differs from l'_{s-2}",
            _ctc_variant(skip_rule="never"),
        ),
        Mistake(
            "a path may end in the trailing blank OR in the last label: (4) adds the last TWO states of l'",
            _ctc_variant(ends="blank"),
        ),
        Mistake(
            "a path may end in the last label OR in the trailing blank: (4) adds the last TWO states of l'",
            _ctc_variant(ends="label"),
        ),
        Mistake(
            "the trailing 0s of a row are padding, not labels: the label length is the number of non-zero "
            "entries",
            _ctc_variant(keep_padding=True),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 08.2 its gradient (8) by forward-backward, for the sum over the batch
# --------------------------------------------------------------------------------------

CTC_GRADIENT = Task(
    task_id="08.2",
    title="gradient of the CTC loss by forward-backward",
    answer="my_ctc_gradient",
    reference=_gradient_reference,
    forbidden=forbid(autodiff=True),
    forbidden_in_answer=(library_function(r"ctc\w*", r"CTC\w*"),),
    public=seeded_cases(4, _ctc_case, PUBLIC_SPECS[:2])
    + seeded_cases(5, _ctc_case, [LONG_PUBLIC], scale=2.0),
    hidden=seeded_cases(6, _ctc_case, HIDDEN_SPECS) + seeded_cases(7, _ctc_case, [LONG_HIDDEN], scale=2.0),
    rtol=1e-5,
    atol=1e-7,
    mistakes=(
        Mistake(
            "that is -gamma, the derivative with respect to log y (7); the task asks for the derivative "
            "with respect to the LOGITS, which goes through the log-softmax: (8) is y - gamma",
            _ctc_gradient_variant(with_softmax=False),
        ),
        Mistake(
            "you forgot to divide alpha * beta by p: the occupancy (7) is a share of p(l|x), so it sums "
            "to 1 over the classes at every frame",
            _ctc_gradient_variant(normalise=False),
        ),
        Mistake(
            "your lattice skips the blank between two EQUAL labels: the skip into state s is allowed only "
            "if l'_s differs from l'_{s-2}, in beta as in alpha",
            _ctc_gradient_variant(skip_rule="always"),
        ),
        Mistake(
            "your lattice never skips: the blank between two DIFFERENT labels is optional, "
            "in beta as in alpha",
            _ctc_gradient_variant(skip_rule="never"),
        ),
    ),
)


# --------------------------------------------------------------------------------------
# 08.3 the fewest frames each label of task_data() needs, (9)
# --------------------------------------------------------------------------------------


def _labels() -> list[np.ndarray]:
    return [row[row != 0] for row in task_data()]


def _min_frames() -> np.ndarray:
    return np.array([len(label) + int(np.sum(label[1:] == label[:-1])) for label in _labels()], dtype=float)


MIN_FRAMES = Task(
    task_id="08.3",
    title="the fewest frames each label of task_data() needs",
    answer="min_frames",
    kind="value",
    reference=_min_frames(),
    public=(Case("your values", ()),),
    rtol=0.0,
    atol=1e-9,
    mistakes=(
        Mistake(
            "that is just the label lengths L: two EQUAL neighbours need a blank frame between them, or "
            "they merge into one label",
            lambda: np.array([len(label) for label in _labels()], dtype=float),
        ),
        Mistake(
            "that is |l'| = 2L + 1, the number of states of the extended label (2); a path does not have "
            "to visit every blank",
            lambda: np.array([2 * len(label) + 1 for label in _labels()], dtype=float),
        ),
        Mistake(
            "that counts the 0-padding as labels: the label length is the number of non-zero entries",
            lambda: np.array(
                [row.size + int(np.sum(row[1:] == row[:-1])) for row in task_data()], dtype=float
            ),
        ),
        Mistake(
            "that puts a blank between EVERY pair of labels (2L - 1); only equal neighbours need one, "
            "different ones may follow each other directly",
            lambda: np.array([2 * len(label) - 1 for label in _labels()], dtype=float),
        ),
        Mistake(
            "only ADJACENT equal labels need a blank between them: '1 2 1' fits in 3 frames",
            lambda: np.array([2 * len(label) - len(set(label.tolist())) for label in _labels()], dtype=float),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# 08.4 a Keras 3 loss for a model built with Keras 2's blank-last convention
# --------------------------------------------------------------------------------------


def _blank_last_case(rng: np.random.Generator, text: str, labels, frames: int, classes: int) -> Case:
    """Labels 0..C-2 padded with -1, float32 logits whose LAST class is the blank."""
    labels = np.asarray(labels, dtype=np.int64)
    logits = rng.normal(size=(len(labels), frames, classes)).astype(np.float32)
    return Case(text, (labels, logits))


def _blank_first(y_pred) -> np.ndarray:
    z = np.asarray(y_pred, dtype=np.float64)
    return np.concatenate([z[..., -1:], z[..., :-1]], axis=-1)


def _blank_last_reference(y_true, y_pred):
    return losses.ctc(np.asarray(y_true) + 1, _blank_first(y_pred))


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(z))


BLANK_LAST = Task(
    task_id="08.4",
    title="a Keras 3 CTC loss for a blank-last model",
    answer="keras_ctc_blank_last",
    reference=_blank_last_reference,
    backend="keras",
    public=seeded_cases(
        8,
        _blank_last_case,
        [
            ("class 0 is a real label, padding -1", [[0, 1, -1], [2, 2, 0], [1, -1, -1]], 8, 4),
            ("no padding", [[3, 0], [1, 1]], 6, 5),
        ],
    ),
    hidden=seeded_cases(
        9,
        _blank_last_case,
        [
            ("longer labels", [[0, 0, 1, 2, -1], [4, 3, 2, 1, 0], [2, -1, -1, -1, -1]], 12, 6),
            ("one class and the blank", [[0], [0]], 3, 2),
        ],
    ),
    rtol=1e-4,
    atol=1e-4,
    forbidden=forbid(),
    mistakes=(
        Mistake(
            "you shifted the labels but left the blank where it was: Keras 3's CTC takes class 0 as the "
            "blank, so move the LAST logit to the front (keras.ops.concatenate) as well",
            lambda y_true, y_pred: losses.ctc(np.asarray(y_true) + 1, np.asarray(y_pred, dtype=np.float64)),
        ),
        Mistake(
            "y_pred are logits and Keras' CTC applies its own log-softmax: do not apply a softmax first",
            lambda y_true, y_pred: losses.ctc(np.asarray(y_true) + 1, _softmax(_blank_first(y_pred))),
        ),
    ),
)

TASKS = (CTC_LOSS, CTC_GRADIENT, MIN_FRAMES, BLANK_LAST)
