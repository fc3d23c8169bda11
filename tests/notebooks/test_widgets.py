"""The interactive loss explorers (course_lib.widgets): sliders drive the curves and the figure."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from PIL import Image

import course_lib.gradients as G
import course_lib.losses as L
from course_lib import widgets as W


def _direct(name, target, x, **options):
    """A library loss and its gradient on one single-value sample per grid point, computed here."""
    y_true, y_pred = np.full((len(x), 1), float(target)), x[:, None]
    return getattr(L, name)(y_true, y_pred, **options), getattr(G, name)(y_true, y_pred, **options)[:, 0]


MISSES = np.array([-1.0, -1.0, 0, 0, 0, 0, 0, 0, 0, 0])  # the first 2 of 4 foreground pixels fade
ALARMS = np.array([0.0, 0, 0, 0, 1.0, 1.0, 0, 0, 0, 0])  # 2 of 6 background pixels light up


def _strip(error, direction, **options):
    """Tversky on the 10-pixel strip predicted as truth + e * direction, and its derivative in e."""
    truth = np.tile([1.0, 1.0, 1.0, 1.0, 0, 0, 0, 0, 0, 0], (len(error), 1))
    prediction = truth + error[:, None] * direction
    loss = L.tversky(truth, prediction, axis=-1, **options)
    return loss, G.tversky(truth, prediction, axis=-1, **options) @ direction


def _triplet(violation, margin):
    """Anchor 0's triplet loss and d loss / d D_ap, with D_an = 2 and D_ap = 2 + violation."""
    values = []
    for v in violation:
        points = np.array([[0.0], [-np.sqrt(2.0 + v)], [np.sqrt(2.0)]])
        loss = L.triplet([0, 0, 1], points, margin=margin)
        assert loss[1] == 0 and loss[2] == 0  # only the anchor's own triplet counts
        gradient = G.triplet([0, 0, 1], points, margin=margin)
        values.append((loss[0], gradient[1, 0] / (2 * points[1, 0])))
    return tuple(np.array(values).T)


def _focal(x, gamma, alpha):
    options = {"apply_class_balancing": True, "alpha": alpha, "gamma": gamma}
    return {
        "focal, y = 1 (weight alpha)": _direct("binary_focal_crossentropy", 1, x, **options),
        "focal, y = 0 (weight 1 - alpha)": _direct("binary_focal_crossentropy", 0, x, **options),
    }


def _smoothed(x, label_smoothing):
    return {
        "smoothed, y = 1": _direct(
            "binary_crossentropy", 1, x, from_logits=True, label_smoothing=label_smoothing
        )
    }


# explorer, the slider to move, its new value, and the curves the library gives (those that must change)
CASES = {
    "huber": (
        W.huber_explorer,
        "delta",
        2.5,
        lambda x, delta: {"Huber": _direct("huber", 0, x, delta=delta)},
    ),
    "focal gamma": (W.focal_explorer, "gamma", 0.5, _focal),
    "focal alpha": (W.focal_explorer, "alpha", 0.75, _focal),
    "label smoothing": (W.label_smoothing_explorer, "label_smoothing", 0.3, _smoothed),
    "tversky alpha": (W.tversky_explorer, "alpha", 0.9, lambda x, **ab: {"misses": _strip(x, MISSES, **ab)}),
    "tversky beta": (
        W.tversky_explorer,
        "beta",
        0.1,
        lambda x, **ab: {"false alarms": _strip(x, ALARMS, **ab)},
    ),
    "triplet": (W.triplet_margin_explorer, "margin", 1.0, lambda x, margin: {"triplet": _triplet(x, margin)}),
}


def _assert_curves(explorer, expected):
    for label, (loss, gradient) in expected.items():
        np.testing.assert_allclose(explorer.curves[label].loss, loss, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(explorer.curves[label].gradient, gradient, rtol=1e-12, atol=1e-12)


def _assert_png(data):
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    dpi = matplotlib.rcParams["figure.dpi"]  # 90 after course_lib.notebook.setup()
    assert image.size == (round(10 * dpi), round(3.6 * dpi))  # 10 x 3.6 inches


@pytest.mark.parametrize("case", CASES)
def test_moving_a_slider_recomputes_the_curves_from_the_library_and_redraws(case):
    factory, name, new_value, library = CASES[case]
    explorer = factory()
    _assert_curves(explorer, library(explorer.x, **explorer.params))
    before_curves = {label: curve.loss.copy() for label, curve in explorer.curves.items()}
    before_png, before_params, before_text = explorer.png, explorer.params, repr(explorer)

    explorer.sliders[name].value = new_value  # what dragging the slider does

    assert explorer.params == before_params | {name: new_value}
    _assert_curves(explorer, library(explorer.x, **explorer.params))
    changed = library(explorer.x, **explorer.params)
    assert all(not np.allclose(explorer.curves[label].loss, before_curves[label]) for label in changed)
    assert explorer.png != before_png and explorer.image.value == explorer.png
    _assert_png(explorer.png)
    assert repr(explorer) == before_text  # the text does not follow the sliders: nbval compares it


@pytest.mark.parametrize("factory", [W.huber_explorer, W.focal_explorer, W.label_smoothing_explorer,
                                     W.tversky_explorer, W.triplet_margin_explorer])  # fmt: skip
def test_the_gradient_panel_is_the_derivative_of_the_loss_panel(factory):
    explorer = factory()
    for label, curve in {**explorer.curves, **explorer.references}.items():
        slope = np.gradient(curve.loss, explorer.x)
        smooth = np.abs(np.gradient(curve.gradient, explorer.x)) * np.gradient(explorer.x) < 0.05
        smooth[[0, -1]] = False  # one-sided differences at the ends
        assert smooth.mean() > 0.5, label
        np.testing.assert_allclose(slope[smooth], curve.gradient[smooth], rtol=0.02, atol=0.02, err_msg=label)


def test_huber_gradient_is_capped_at_delta_and_references_are_mse_and_mae():
    explorer = W.huber_explorer(delta=0.5)
    assert explorer.curves["Huber"].gradient.max() == 0.5
    explorer.sliders["delta"].value = 2.0
    assert explorer.curves["Huber"].gradient.max() == 2.0
    residual = explorer.x
    np.testing.assert_allclose(explorer.references["MSE / 2"].loss, residual**2 / 2)
    np.testing.assert_allclose(explorer.references["MAE"].loss, np.abs(residual))


def test_focal_alpha_weighs_positives_against_negatives():
    explorer = W.focal_explorer(gamma=2.0, alpha=0.25)
    positive = explorer.curves["focal, y = 1 (weight alpha)"].loss.copy()
    negative = explorer.curves["focal, y = 0 (weight 1 - alpha)"].loss.copy()
    explorer.sliders["alpha"].value = 0.5
    np.testing.assert_allclose(explorer.curves["focal, y = 1 (weight alpha)"].loss, 2 * positive)
    np.testing.assert_allclose(explorer.curves["focal, y = 0 (weight 1 - alpha)"].loss, negative / 1.5)
    explorer.sliders["gamma"].value = 0.0  # no focusing: alpha times BCE
    np.testing.assert_allclose(
        explorer.curves["focal, y = 1 (weight alpha)"].loss, 0.5 * explorer.references["BCE, y = 1"].loss
    )


def test_label_smoothing_moves_the_minimum_to_a_finite_logit():
    explorer = W.label_smoothing_explorer(label_smoothing=0.1)
    assert explorer.marks["lowest loss"] == pytest.approx(np.log(19), abs=0.01)
    explorer.sliders["label_smoothing"].value = 0.2
    assert explorer.marks["lowest loss"] == pytest.approx(np.log(9), abs=0.01)
    explorer.sliders["label_smoothing"].value = 0.0  # no smoothing: no minimum on the grid
    assert explorer.marks == {}


def test_tversky_alpha_prices_misses_and_beta_false_alarms():
    explorer = W.tversky_explorer(alpha=0.5, beta=0.5)
    misses, alarms = (explorer.curves[k].loss.copy() for k in ("misses", "false alarms"))
    np.testing.assert_allclose(misses, explorer.references["Dice, misses"].loss, atol=1e-6)
    explorer.sliders["alpha"].value = 0.9
    assert np.all(explorer.curves["misses"].loss[1:] > misses[1:])
    np.testing.assert_array_equal(explorer.curves["false alarms"].loss, alarms)
    explorer.sliders["beta"].value = 0.1
    assert np.all(explorer.curves["false alarms"].loss[1:] < alarms[1:])
    # at e = 1, by hand: TP = 2, FN = 2 for the misses; TP = 4, FP = 2 for the false alarms
    assert explorer.curves["misses"].loss[-1] == pytest.approx(1 - 2 / (2 + 0.9 * 2))
    assert explorer.curves["false alarms"].loss[-1] == pytest.approx(1 - 4 / (4 + 0.1 * 2))


def test_triplet_hinge_starts_at_minus_the_margin():
    explorer = W.triplet_margin_explorer(margin=0.2)
    for margin in (0.2, 1.5, 0.0):
        explorer.sliders["margin"].value = margin
        curve, x = explorer.curves["triplet"], explorer.x
        np.testing.assert_allclose(curve.loss, np.maximum(x + margin, 0.0), atol=1e-12)
        away = np.abs(x + margin) > 1e-9  # at the kink itself rounding decides
        np.testing.assert_allclose(curve.gradient[away], (x[away] + margin > 0).astype(float), atol=1e-12)


LIVE = "the curves redraw in a live Jupyter kernel."
EXPECTED_TEXT = {
    W.huber_explorer: f"Huber explorer: drag delta (0.1 to 3); {LIVE}",
    W.focal_explorer: f"Binary focal cross-entropy explorer: drag gamma (0 to 5) and alpha (0 to 1); {LIVE}",
    W.label_smoothing_explorer: f"Label smoothing explorer: drag label_smoothing (0 to 1); {LIVE}",
    W.tversky_explorer: f"Tversky explorer: drag alpha (0 to 1) and beta (0 to 1); {LIVE}",
    W.triplet_margin_explorer: f"Triplet explorer: drag margin (0 to 1.5); {LIVE}",
}


@pytest.mark.parametrize("factory", EXPECTED_TEXT, ids=lambda f: f.__name__)
def test_displays_as_one_stable_text_with_the_widget_and_the_first_figure(factory):
    explorer = factory()
    bundle, metadata = explorer._repr_mimebundle_(include=None, exclude=None)
    assert set(bundle) == {"text/plain", "image/png", "application/vnd.jupyter.widget-view+json"}
    # the static figure carries its description (alt text on the site and the slides)
    assert metadata == {"image/png": {"alt": explorer.description()}}
    assert explorer.description().startswith(explorer.name + " at ")
    assert bundle["text/plain"] == repr(explorer) == EXPECTED_TEXT[factory]
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == explorer.png
    slider = next(iter(explorer.sliders.values()))
    slider.value = slider.max
    assert (
        repr(explorer) == EXPECTED_TEXT[factory]
    )  # the text does not follow the sliders (nbval compares it)
    assert f"{slider.description} = {slider.max:.2f}" in explorer.description()  # the alt text does


@pytest.mark.parametrize(
    ("factory", "options", "name"),
    [
        (W.huber_explorer, {"delta": 0.0}, "delta"),
        (W.huber_explorer, {"delta": -1.0}, "delta"),
        (W.focal_explorer, {"gamma": -0.5}, "gamma"),
        (W.focal_explorer, {"alpha": 1.5}, "alpha"),
        (W.focal_explorer, {"alpha": -0.1}, "alpha"),
        (W.label_smoothing_explorer, {"label_smoothing": 1.2}, "label_smoothing"),
        (W.label_smoothing_explorer, {"label_smoothing": -0.1}, "label_smoothing"),
        (W.tversky_explorer, {"alpha": -0.1}, "alpha"),
        (W.tversky_explorer, {"beta": 2.0}, "beta"),
        (W.triplet_margin_explorer, {"margin": -0.2}, "margin"),
        (W.triplet_margin_explorer, {"margin": float("nan")}, "margin"),
    ],
)
def test_bad_parameters_raise_a_value_error_naming_the_argument(factory, options, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        factory(**options)


def test_a_non_number_is_a_type_error():
    with pytest.raises(TypeError, match="delta must be a real number"):
        W.huber_explorer(delta="1")


def test_importing_widgets_does_not_import_tensorflow():
    code = (
        "import sys, course_lib.widgets\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'matplotlib.pyplot') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
