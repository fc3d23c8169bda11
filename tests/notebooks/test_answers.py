"""instructor/answers.md answers every recall question, stays in sync with the notebooks, and its
numbers hold.

* Every notebook's recall questions (the numbered list after "**Recall questions.**" in its
  ``## Summary`` cell) have an answer in instructor/answers.md with the same number and the same
  question text, in the same order: a new or reworded question fails until it is answered.
* Every "*Taught in:*" pointer names a heading of that notebook.
* Every number the answers quote as printed still appears in the notebook's stored outputs.
* Every number the answers compute themselves is recomputed here with NumPy and course_lib.
* One test imports Keras and re-runs the Keras behaviours that the answers state.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import course_lib.gradients as gradients
import course_lib.losses as losses
from course_lib.gradients.image import local_filter_adjoint
from course_lib.losses.image import check_window, local_filter
from course_lib.losses.reduction import reduce_values

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "instructor" / "answers.md"
NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}

# ---------------------------------------------------------------------------------------------
# Reading the notebooks and the answers
# ---------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(text.split())


def _notebook(number: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS[number], as_version=4)


def recall_questions(number: str) -> list[str]:
    """The numbered recall questions of the notebook's Summary, in order, whitespace squashed."""
    summaries = [
        cell.source.split("## Summary", 1)[1]
        for cell in _notebook(number).cells
        if cell.cell_type == "markdown" and re.search(r"^## Summary", cell.source, re.MULTILINE)
    ]
    assert len(summaries) == 1, f"notebook {number}: expected one '## Summary' cell"
    assert "**Recall questions.**" in summaries[0], f"notebook {number}: no recall questions"
    questions: list[list[str]] = []
    for line in summaries[0].split("**Recall questions.**", 1)[1].strip().splitlines():
        item = re.match(r"^(\d+)\.\s+(.*)$", line)
        if item:
            assert int(item.group(1)) == len(questions) + 1, f"notebook {number}: list numbering"
            questions.append([item.group(2)])
        elif line.startswith((" ", "\t")) and line.strip() and questions:
            questions[-1].append(line)
        elif questions:
            break  # the first line after the list ("The exercises ...", "**Next.**", a blank line)
    return [_squash(" ".join(parts)) for parts in questions]


def headings(number: str) -> set[str]:
    found = set()
    for cell in _notebook(number).cells:
        if cell.cell_type == "markdown":
            found.update(m.group(1) for m in re.finditer(r"^#{2,4} (.+)$", cell.source, re.MULTILINE))
    return {_unnumbered(heading) for heading in found}


def _unnumbered(heading: str) -> str:
    """A heading without its section number ("4.2 ", "3. ", "5 · "), which may be renumbered."""
    return re.sub(r"^(Part\s+)?\d+(\.\d+)*\.?\s*(·\s*)?", "", heading.strip())


def printed(number: str) -> str:
    """All text a notebook's code cells printed or returned, as stored in the notebook."""
    parts = []
    for cell in _notebook(number).cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif "text/plain" in output.get("data", {}):
                parts.append(output.data["text/plain"])
    return "\n".join(parts)


def parse_answers() -> dict[str, list[dict[str, object]]]:
    """{notebook: [{number, question, body, taught_in}, ...]} from instructor/answers.md."""
    sections: dict[str, list[dict[str, object]]] = {}
    entry: dict[str, object] | None = None
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        section = re.match(r"^## (\d\d) · ", line)
        if section:
            entry = None
            sections[section.group(1)] = []
            continue
        heading = re.match(r"^### (\d\d)\.(\d+)$", line)
        if heading:
            notebook, number = heading.groups()
            assert sections and notebook == list(sections)[-1], f"{line!r} is outside its notebook's section"
            entry = {"number": int(number), "question": [], "body": [], "taught_in": []}
            sections[notebook].append(entry)
            continue
        if entry is None:
            continue
        if line.startswith("> "):
            entry["question"].append(line[2:])
        elif line.startswith("*Taught in:*"):
            entry["taught_in"] = re.findall(r'"([^"]+)"', line)
        else:
            entry["body"].append(line)
    for entries in sections.values():
        for entry in entries:
            entry["question"] = _squash(" ".join(entry["question"]))
            entry["body"] = "\n".join(entry["body"]).strip()
    return sections


ANSWERED = parse_answers()


def section_text(number: str) -> str:
    """The answers of one notebook as one string."""
    return "\n".join(f"{entry['question']}\n{entry['body']}" for entry in ANSWERED[number])


# ---------------------------------------------------------------------------------------------
# Every question has its answer
# ---------------------------------------------------------------------------------------------


def test_every_notebook_has_a_section_in_order():
    assert list(ANSWERED) == list(NOTEBOOKS)


@pytest.mark.parametrize("number", list(NOTEBOOKS))
def test_every_recall_question_is_answered_in_order(number):
    questions = recall_questions(number)
    entries = ANSWERED.get(number, [])
    assert questions, f"notebook {number} has no recall questions"
    assert [entry["number"] for entry in entries] == list(range(1, len(entries) + 1))
    quoted = [entry["question"] for entry in entries]
    assert quoted == questions, (
        f"notebook {number}: the recall questions and instructor/answers.md differ; answer the new "
        "or reworded questions (and revise their answers) there"
    )


@pytest.mark.parametrize("number", list(NOTEBOOKS))
def test_every_answer_has_a_body_and_points_to_a_heading(number):
    known = headings(number)
    for entry in ANSWERED[number]:
        label = f"{number}.{entry['number']}"
        assert len(entry["body"]) > 150, f"answer {label} is missing or too short"
        assert entry["taught_in"], f"answer {label} has no 'Taught in' pointer"
        for pointer in entry["taught_in"]:
            assert _unnumbered(pointer) in known, f"answer {label}: no heading {pointer!r} in {number}"


def test_the_parser_reads_a_multiline_question_and_stops_at_the_next_paragraph():
    assert recall_questions("02")[0].startswith("Which constant minimises the average MSE")
    assert recall_questions("02")[0].endswith("when 10 % of the targets are corrupted?")
    assert not any("exercises" in question for question in recall_questions("02"))


# ---------------------------------------------------------------------------------------------
# Numbers quoted as printed are still the notebooks' outputs
# ---------------------------------------------------------------------------------------------

# (answer section, notebook that printed it, the text exactly as printed)
CITED = [
    *[("00", "00", text) for text in ["[0.5 0.5 1. ]", "0.4167", "0.4004", "1.6015", "16.1181", "30.0"]],
    *[("00", "03", text) for text in ["5.04449", "15.9424"]],
    *[
        ("01", "01", text)
        for text in [
            "0.1539",
            "0.5135",
            "[ 0.984  -1.005   0.5185]",
            "0.0541",
            "44.0",
            "145",
            "278",
            "81/81",
            "312/312",
            "-1.787",
            "0.500",
            "-0.987",
            "0.563",
        ]
    ],
    *[("02", "02", text) for text in ["153.0", "255.6", "140.5", "89.5", "99.3069", "1e+08", "90.0"]],
    *[
        ("03", "03", text)
        for text in ["0.0000", "2.20", "2.197", "100.00", "976.56", "[1.00 0.00 0.85]", "[0.00 0.00 0.70]"]
    ],
    *[
        ("04", "04", text)
        for text in ["[nan nan nan]", "[0.6652 0.2447 0.0900]", "0.3722", "0.2481", "4.5109"]
        + ["0.32", "0.26", "0.10", "0.80", "0.88", "0.93"]
    ],
    *[
        ("05", "05", text)
        for text in ["-3.05", "48.35", "-3e+07", "2.0689", "0.7673", "2.8362", "-3.08e-06", "0.45814306"]
        + ["std 2.8", "std 0.7"]
    ],
    *[
        ("06", "06", text)
        for text in ["0.738", "0.019", "0.421", "0.285", "0.1050", "[0.0526 1.0000]", "0.5263", "0.5745"]
        + ["0.1304", "0.850", "0.685", "0.5000", "0.6783", "0.0446"]
    ],
    *[("07", "07", text) for text in ["0.2000", "0.3000", "0.23", "4.57", "0.200", "(None, 10, 64)"]],
    *[
        ("09", "09", text)
        for text in [
            "Could not locate class 'ForgetfulFBeta'",
            "Requested the deserialization of a Python lambda",
            "0.1928",
            "0.7713",
            "0.3216",
            "0.816",
            "0.972",
            "0.943",
            "0.925",
            "0.870",
        ]
    ],
    *[
        ("10", "10", text)
        for text in ["[]", "0.1943", "3.8850", "0.905", "1.7115", "5.5964", "0.7738", "0.7858", "0.0246"]
        + ["32.0", "150.0", "0.0948"]
    ],
    *[("11", "11", text) for text in ["1.5869", "1.3238", "0.1250"]],
    *[("12", "02", text) for text in ["139.1", "45.8", "45.1"]],
    *[("12", "12", text) for text in ["0.010", "23.18", "23.30", "0.21", "0.19"]],
    *[
        ("13", "13", text)
        for text in [
            "1.0000",
            "has no attribute 'mse'",
            "14 names",
            "has no attribute 'sum'",
            "0.0500",
            "0.1000",
            "0.0000",
            "Could not interpret loss identifier: huber_loss",
        ]
    ],
]


@pytest.mark.parametrize("number", list(NOTEBOOKS))
def test_numbers_quoted_as_printed_are_in_the_notebook_outputs(number):
    outputs = {
        source: printed(source) for source in {source for section, source, _ in CITED if section == number}
    }
    for section, source, text in CITED:
        if section == number:
            assert text in outputs[source], (
                f"answers {number}: {text!r} is no longer printed by notebook {source}"
            )
            assert text in section_text(number), f"answers {number} no longer quote {text!r}"


# ---------------------------------------------------------------------------------------------
# Numbers that no notebook prints, recomputed
# ---------------------------------------------------------------------------------------------


def states(number: str, *texts: str) -> None:
    for text in texts:
        assert text in section_text(number), f"answers {number} should state {text!r}"


def test_00_per_sample_shape_default_denominator_and_the_clip_cap():
    rng = np.random.default_rng(0)
    assert losses.mean_squared_error(rng.normal(size=(32, 10)), rng.normal(size=(32, 10))).shape == (32,)
    y_true, y_pred = np.zeros((3, 1)), np.array([[1.0], [2.0], [3.0]])  # per-sample losses 1, 4, 9
    weighted = losses.MeanSquaredError()(y_true, y_pred, sample_weight=np.array([1.0, 1.0, 0.0]))
    assert float(weighted) == pytest.approx(5 / 3)  # divided by 3, not by 2
    cap = -math.log(1e-7)
    assert float(losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]]))[0]) == pytest.approx(
        cap, rel=1e-6
    )
    states("00", f"{cap:.2f}", "By 3")


def test_01_step_sizes_and_the_slowest_direction():
    states("01", f"{2 / 36.9:.3f}", f"{1 - 0.84 / 36.9:.3f}")


def test_02_huber_on_euros_log_cosh_overflow_and_the_mape_gradient():
    residual = np.array([[300_000.0], [-25_000.0]])
    zero = np.zeros_like(residual)
    np.testing.assert_allclose(losses.huber(zero, residual), np.abs(residual[:, 0]) - 0.5)
    np.testing.assert_allclose(gradients.huber(zero, residual)[:, 0], [1.0, -1.0])
    threshold = math.log(2 * float(np.finfo(np.float32).max))
    with np.errstate(over="ignore"):
        assert np.isfinite(np.cosh(np.float32(threshold - 0.005)))
        assert np.isinf(np.cosh(np.float32(threshold + 0.005)))
    slope = gradients.mean_absolute_percentage_error(np.array([[0.0]]), np.array([[0.1]]))[0, 0]
    assert slope == pytest.approx(1e9)
    states("02", f"{threshold:.1f}", "10^9")


def test_03_label_smoothing_optimum_and_the_focal_ratio():
    z_star = math.log(9)
    smoothed_slope = gradients.binary_crossentropy(
        np.array([[1.0]]), np.array([[z_star]]), from_logits=True, label_smoothing=0.2
    )
    assert abs(float(smoothed_slope[0, 0])) < 1e-12
    positive, p_t = np.array([[1.0]]), np.array([[0.99]])
    ce = float(losses.binary_crossentropy(positive, p_t)[0])
    fl = float(losses.binary_focal_crossentropy(positive, p_t, gamma=2.0)[0])
    assert ce / fl == pytest.approx(10_000, rel=1e-6)
    states("03", f"{z_star:.3f}", "10000", f"{ce:.5f}", f"{fl * 1e6:.3f}\\times10^{{-6}}")


def test_04_ignore_class_denominator_and_the_smoothed_gap():
    rng = np.random.default_rng(1)
    labels = np.array([3, 255, 255, 1])
    probabilities = rng.dirichlet(np.ones(4), size=4)
    per_sample = losses.sparse_categorical_crossentropy(labels, probabilities, ignore_class=255)
    mean = losses.SparseCategoricalCrossentropy(ignore_class=255)(labels, probabilities)
    assert float(mean) == pytest.approx(per_sample.sum() / 2)
    K, s = 5, 0.2
    gap = math.log(1 + K * (1 - s) / s)
    logits = np.zeros((1, K))
    logits[0, 0] = gap
    target = np.eye(K)[[0]]
    slope = gradients.categorical_crossentropy(target, logits, from_logits=True, label_smoothing=s)
    assert np.abs(slope).max() < 1e-12
    assert gap == pytest.approx(math.log(0.84 / 0.04)) and gap == pytest.approx(math.log(21))
    states("04", f"{gap:.2f}", "By 2")


def test_05_negative_poisson_rates_give_nan():
    with np.errstate(invalid="ignore"):
        assert np.isnan(losses.poisson(np.array([[1.0]]), np.array([[-0.5]]))[0])


def test_06_angle_dice_on_a_small_foreground_and_the_empty_mask():
    states("06", f"{math.degrees(math.acos(0.98)):.1f}°")
    mask = np.zeros((1, 10, 10, 1))
    mask[0, :2, 0] = 1.0  # 2 of 100 pixels
    assert float(losses.dice(mask, np.zeros_like(mask), axis=(1, 2, 3))[0]) == pytest.approx(1.0)
    empty, guess = np.zeros((1, 4, 4, 1)), np.full((1, 4, 4, 1), 0.3)
    assert np.abs(gradients.dice(empty, guess, axis=(1, 2, 3))).max() == 0.0
    hybrid = gradients.bce_dice(empty, guess, axis=(1, 2, 3))
    np.testing.assert_allclose(hybrid, 0.5 / (16 * 0.7))


def test_07_the_collapsed_batch_hard_model_gets_no_gradient():
    labels, collapsed = np.arange(20) % 10, np.zeros((20, 2))
    assert np.abs(gradients.triplet(labels, collapsed, mining="hard")).max() == 0.0
    assert float(losses.Triplet(mining="hard")(labels, collapsed)) == pytest.approx(0.2)


def test_08_collapse_order_frames_needed_and_the_softmax_cap():
    def merge_then_drop(path):
        merged = [k for i, k in enumerate(path) if i == 0 or path[i - 1] != k]
        return tuple(k for k in merged if k != 0)

    def drop_then_merge(path):
        kept = [k for k in path if k != 0]
        return tuple(k for i, k in enumerate(kept) if i == 0 or kept[i - 1] != k)

    assert merge_then_drop((1, 0, 1)) == (1, 1) and drop_then_merge((1, 0, 1)) == (1,)
    assert merge_then_drop((2, 0, 2, 0, 2, 3)) == (2, 2, 2, 3)  # six frames suffice
    label = np.array([[2, 2, 2, 3]])
    too_few = losses.ctc(label, np.zeros((1, 5, 4)))[0]
    enough = losses.ctc(label, np.zeros((1, 6, 4)))[0]
    assert too_few > 706.89 and enough < 20
    states("08", "Six", f"{too_few:.2f}", f"{enough:.2f}", f"{math.e / (math.e + 4):.2f}")


def test_09_negative_sample_gradient_formula():
    rng = np.random.default_rng(2)
    y = (rng.random(16) < 0.3).astype(float)
    p = rng.uniform(0.05, 0.95, size=16)
    eps, beta = 1e-7, 2.0
    tp = np.sum(y * p)
    a, b = p.sum() + eps, y.sum() + eps
    precision, recall = tp / a, tp / b
    d = beta**2 * precision + recall + eps
    formula = (1 + beta**2) * recall * (recall + eps) * precision / (d**2 * a)
    np.testing.assert_allclose(gradients.soft_fbeta(y, p, beta=beta)[y == 0], formula, rtol=1e-10)


def test_11_reductions_and_the_masked_denominator():
    values, weights = np.array([2.0, 4.0, 0.0]), np.array([1.0, 1.0, 0.0])  # w * l for l = (2, 4, 6)
    assert reduce_values(values, weights, "sum_over_batch_size") == pytest.approx(2.0)
    assert reduce_values(values, weights, "mean_with_sample_weight") == pytest.approx(3.0)
    y_true, y_pred = np.zeros((3, 2)), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # l = 0.5, 0.5, 1
    masked = losses.MeanSquaredError()(
        y_true, y_pred, sample_weight=np.array([0.5, 2.0, 0.0]), mask=np.array([True, False, True])
    )
    assert float(masked) == pytest.approx((0.5 * 0.5 + 0.0) / 2)
    states("11", "returns 2", "returns 3", "N_\\text{valid} = 2")


def test_12_ssim_is_flat_at_a_match_l1_is_not_and_the_adjoint_identity():
    rng = np.random.default_rng(3)
    image = rng.random((1, 16, 16, 1))
    assert np.abs(gradients.ssim_loss(image, image)).max() < 1e-15
    for delta, sign in [(0.01, 1.0), (-0.01, -1.0)]:
        flat_true, flat_shifted = image.reshape(1, -1), (image + delta).reshape(1, -1)
        along_shift = gradients.mean_absolute_error(flat_true, flat_shifted).sum()
        assert along_shift == pytest.approx(sign)
    window = check_window(3)
    x, g = rng.random((1, 6, 5, 1)), rng.random((1, 4, 3, 1))
    assert np.sum(local_filter(x, window) * g) == pytest.approx(np.sum(x * local_filter_adjoint(g, window)))


# ---------------------------------------------------------------------------------------------
# The Keras behaviours the answers state (the only test that imports TensorFlow)
# ---------------------------------------------------------------------------------------------


def test_keras_behaves_as_the_answers_say():
    from course_lib.notebook import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(4)
    # 00.1, 00.2: one value per sample; the default reduction divides by N, zero weights included
    assert tuple(
        keras.losses.mean_squared_error(rng.normal(size=(32, 10)), rng.normal(size=(32, 10))).shape
    ) == (32,)
    y_true, y_pred = np.zeros((3, 1), "float32"), np.array([[1.0], [2.0], [3.0]], "float32")
    weighted = keras.losses.MeanSquaredError()(y_true, y_pred, sample_weight=np.array([1.0, 1.0, 0.0]))
    assert float(weighted) == pytest.approx(5 / 3, rel=1e-6)
    # 04.3: ignore_class divides by the number of valid labels
    labels = np.array([3, 255, 255, 1])
    probabilities = rng.dirichlet(np.ones(4), size=4).astype("float32")
    none = keras.losses.SparseCategoricalCrossentropy(ignore_class=255, reduction="none")(
        labels, probabilities
    )
    mean = keras.losses.SparseCategoricalCrossentropy(ignore_class=255)(labels, probabilities)
    assert float(mean) == pytest.approx(float(np.sum(none)) / 2, rel=1e-6)
    # 05.2: a negative rate gives nan
    assert np.isnan(float(keras.losses.poisson(np.array([[1.0]]), np.array([[-0.5]]))[0]))
    # 08.3: 2 2 2 3 needs six frames; with five Keras returns a large finite number
    label = np.array([[2, 2, 2, 3]])
    too_few = float(keras.losses.ctc(label, np.zeros((1, 5, 4), "float32"))[0])
    enough = float(keras.losses.ctc(label, np.zeros((1, 6, 4), "float32"))[0])
    assert np.isfinite(too_few) and f"{too_few:.2f}" == "710.36" and f"{enough:.2f}" == "8.32"
    # 08.5: CTC reads y_pred as logits, even the output of a Keras softmax (which carries its logits)
    logits = rng.normal(size=(1, 6, 5)).astype("float32")
    on_logits = float(keras.losses.ctc(np.array([[1, 2]]), logits)[0])
    on_softmax = float(keras.losses.ctc(np.array([[1, 2]]), keras.ops.softmax(logits))[0])
    assert abs(on_softmax - on_logits) > 0.01

    # 09.4: a loss that returns one number per batch is only scaled by the mean weight
    class BatchMean(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    targets, outputs = rng.normal(size=(4, 1)).astype("float32"), rng.normal(size=(4, 1)).astype("float32")
    plain = float(BatchMean()(targets, outputs))
    scaled = float(BatchMean()(targets, outputs, sample_weight=np.array([1.0, 1.0, 0.0, 0.0])))
    assert scaled == pytest.approx(0.5 * plain, rel=1e-6)
    # 11.2: a (B,) weight on (B, T) per-step losses weights the time steps when B == T
    sequences_true = rng.normal(size=(4, 4, 1)).astype("float32")
    sequences_pred = rng.normal(size=(4, 4, 1)).astype("float32")
    steps = np.square(sequences_true - sequences_pred)[..., 0]  # (B, T) per-step MSE
    w = np.array([1.0, 0.0, 0.0, 0.0], "float32")
    trap = float(keras.losses.MeanSquaredError()(sequences_true, sequences_pred, sample_weight=w))
    assert trap == pytest.approx(steps[:, 0].sum() / 16, rel=1e-5)
    assert trap != pytest.approx(steps[0].sum() / 16, rel=1e-3)
    # 11.4: with a mask the default reduction divides by the number of valid entries
    masked = tf.constant(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32"))
    masked._keras_mask = tf.constant([True, False, True])
    value = keras.losses.MeanSquaredError()(
        np.zeros((3, 2), "float32"), masked, sample_weight=np.array([0.5, 2.0, 0.0], "float32")
    )
    assert float(value) == pytest.approx(0.125, rel=1e-6)
