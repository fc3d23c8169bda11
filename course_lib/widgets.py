r"""Interactive loss explorers: sliders that redraw a loss and its gradient.

Each ``*_explorer`` function returns a :class:`LossExplorer`.  Leave it as the
last expression of a notebook cell: in a live Jupyter kernel it shows one
slider per parameter above a figure (the loss on the left, its derivative along
the horizontal axis on the right) that redraws whenever a slider moves.

========================================  =========================================
explorer                                  horizontal axis
========================================  =========================================
:func:`huber_explorer`                    the residual :math:`e = \hat y - y`
:func:`focal_explorer`                    the predicted probability :math:`p` of class 1
:func:`label_smoothing_explorer`          the logit :math:`z` of a positive example
:func:`tversky_explorer`                  how wrong two pixels of a 10-pixel strip are
:func:`triplet_margin_explorer`           the violation :math:`D_{ap} - D_{an}`
========================================  =========================================

Every curve comes from :mod:`course_lib.losses` and :mod:`course_lib.gradients`;
nothing here re-types a formula.  The figure is drawn with
:class:`matplotlib.figure.Figure` (never ``pyplot``, so nothing is shown twice)
and sent to an ``ipywidgets.Image`` as PNG bytes.  The explorer displays as a
single output: the widget, a fixed ``text/plain`` description (what nbval
compares) and the first figure as ``image/png`` (what a static page, which
cannot run the widget, shows instead).

>>> explorer = huber_explorer(delta=0.5)
>>> explorer
Huber explorer: drag delta (0.1 to 3); the curves redraw in a live Jupyter kernel.
>>> float(explorer.curves["Huber"].gradient.max())
0.5
>>> # what dragging does: the curves are recomputed
>>> explorer.sliders["delta"].value = 2.0
>>> float(explorer.curves["Huber"].gradient.max())
2.0
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets
import numpy as np

import course_lib.gradients as gradients
import course_lib.losses as losses
from course_lib.losses._validation import check_interval

__all__ = [
    "Curve",
    "LossExplorer",
    "Parameter",
    "View",
    "focal_explorer",
    "huber_explorer",
    "label_smoothing_explorer",
    "triplet_batch",
    "triplet_margin_explorer",
    "tversky_explorer",
]


@dataclass(frozen=True)
class Curve:
    """A loss and its derivative along the horizontal axis, one value per grid point."""

    loss: np.ndarray
    gradient: np.ndarray


@dataclass(frozen=True)
class View:
    """What one setting of the sliders draws.

    ``curves`` are drawn in colour, ``references`` faintly; ``marks`` are
    vertical lines (label -> position) and ``note`` is added to the title.
    """

    curves: dict[str, Curve]
    references: dict[str, Curve] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Parameter:
    """A slider: the loss argument it sets, its range and its step."""

    name: str
    low: float
    high: float
    step: float

    def checked(self, value: Any) -> float:
        """``value`` as a float, or a ``ValueError`` naming the argument if it is off
        the slider."""
        return check_interval(value, self.name, self.low, self.high)

    def slider(self, value: float) -> ipywidgets.FloatSlider:
        """A slider for this parameter, starting at ``value``."""
        return ipywidgets.FloatSlider(
            value=value, min=self.low, max=self.high, step=self.step,
            description=self.name, readout_format=".2f",
            style={"description_width": "initial"},
        )  # fmt: skip


class LossExplorer:
    """Sliders above a loss-and-gradient figure that redraws when a slider moves.

    Build one with the ``*_explorer`` functions.  For tests and for reading the
    numbers, the explorer exposes:

    * ``params``: the current value of every slider (name -> float);
    * ``sliders``: the ``ipywidgets.FloatSlider`` of each parameter -- setting
      ``slider.value`` redraws, exactly as dragging does;
    * ``x``, ``curves``, ``references``, ``marks``: the arrays last drawn;
    * ``png``: the PNG bytes of the figure last drawn, shown by ``image``;
    * ``widget``: the whole ``ipywidgets.VBox``.

    Parameters
    ----------
    name : str
        Name of the loss, used in the description and the title.
    x : array
        The horizontal axis.
    xlabel : str
        Its label.
    draw : callable
        ``draw(**params) -> View``: the curves for one setting of the sliders.
    parameters : sequence of Parameter
        One slider each.
    values : mapping
        The starting value of each parameter; each must lie on its slider.
    loss_ylim, gradient_ylim : (low, high)
        Fixed vertical ranges, so that moving a slider moves the curves, not the axes.
    summary : str
        What the figure makes visible, for its description (alt text): see
        :meth:`description`.
    """

    def __init__(
        self,
        name: str,
        x: np.ndarray,
        xlabel: str,
        draw: Callable[..., View],
        parameters: tuple[Parameter, ...],
        values: Mapping[str, Any],
        *,
        loss_ylim: tuple[float, float],
        gradient_ylim: tuple[float, float],
        summary: str,
    ) -> None:
        checked = {p.name: p.checked(values[p.name]) for p in parameters}
        self.name, self.x, self.xlabel, self._draw, self.summary = (
            name,
            x,
            xlabel,
            draw,
            summary,
        )
        self.parameters, self.ylims = parameters, (loss_ylim, gradient_ylim)
        self.sliders = {p.name: p.slider(checked[p.name]) for p in parameters}
        self.image = ipywidgets.Image(format="png")
        self.widget = ipywidgets.VBox(
            [ipywidgets.HBox(list(self.sliders.values())), self.image]
        )
        self.redraw()
        for slider in self.sliders.values():
            slider.observe(self.redraw, names="value")

    @property
    def params(self) -> dict[str, float]:
        """The current value of every slider."""
        return {name: float(slider.value) for name, slider in self.sliders.items()}

    def redraw(self, change: Any = None) -> None:
        """Recompute the curves for the current slider values and redraw (the slider
        callback)."""
        view = self._draw(**self.params)
        self.curves, self.references, self.marks = (
            view.curves,
            view.references,
            view.marks,
        )
        self.note = view.note
        self.png = _render(self, view)
        self.image.value = self.png

    def __repr__(self) -> str:
        ranges = " and ".join(
            f"{p.name} ({p.low:g} to {p.high:g})" for p in self.parameters
        )
        return (
            f"{self.name} explorer: drag {ranges}; "
            "the curves redraw in a live Jupyter kernel."
        )

    def description(self) -> str:
        """The figure last drawn, in words (its alt text on the site and the slides)."""
        settings = ", ".join(
            f"{name} = {value:.2f}" for name, value in self.params.items()
        )
        curves = _quoted(self.curves)
        faint = (
            f"; drawn faintly for comparison: {_quoted(self.references)}"
            if self.references
            else ""
        )
        note = f" ({self.note})" if self.note else ""
        text = (
            f"{self.name} at {settings}{note}: the loss (left) and its gradient "
            f"(right) against the {self.xlabel}, for {curves}{faint}. {self.summary}"
        )
        return " ".join(text.split())

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget for Jupyter, the first figure and its description for static
        pages, and a text."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle, {"image/png": {"alt": self.description()}}


def _quoted(labels: Mapping[str, Any]) -> str:
    """Curve labels as a phrase: '"a"', '"a" and "b"', '"a", "b" and "c"'."""
    names = [f'"{label}"' for label in labels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _render(explorer: LossExplorer, view: View) -> bytes:
    """Draw ``view`` as two panels (loss, gradient) and return the PNG bytes."""
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(10, 3.6)
    )  # at matplotlib's dpi, which setup() sets for the course
    loss_axes, gradient_axes = figure.subplots(1, 2)
    for label, curve in view.references.items():
        loss_axes.plot(
            explorer.x,
            curve.loss,
            color="0.65",
            linestyle="--",
            linewidth=1,
            label=label,
        )
        gradient_axes.plot(
            explorer.x, curve.gradient, color="0.65", linestyle="--", linewidth=1
        )
    for label, curve in view.curves.items():
        (line,) = loss_axes.plot(explorer.x, curve.loss, linewidth=2, label=label)
        gradient_axes.plot(
            explorer.x, curve.gradient, linewidth=2, color=line.get_color()
        )
    for label, position in view.marks.items():
        for axes in (loss_axes, gradient_axes):
            axes.axvline(
                position, color="black", linestyle=":", linewidth=1, label=label
            )
    for axes, ylabel, ylim in zip(
        (loss_axes, gradient_axes), ("loss", "gradient"), explorer.ylims, strict=True
    ):
        axes.set(
            xlabel=explorer.xlabel,
            ylabel=ylabel,
            title=ylabel,
            ylim=ylim,
            xlim=explorer.x[[0, -1]],
        )
        axes.grid(True)
    loss_axes.legend(fontsize="small")
    settings = ", ".join(
        f"{name} = {value:.2f}" for name, value in explorer.params.items()
    )
    figure.suptitle(
        f"{explorer.name}: {settings}" + (f"  ({view.note})" if view.note else "")
    )
    figure.subplots_adjust(
        left=0.065, right=0.985, bottom=0.15, top=0.83, wspace=0.2
    )  # tight_layout is slow
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _along(
    function: Callable[..., np.ndarray], target: float, x: np.ndarray, **options: Any
) -> np.ndarray:
    """``function`` (a loss or its gradient) with one single-value sample per grid
    point ``x``."""
    y_true = np.full((len(x), 1), target)
    return np.asarray(function(y_true, x[:, None], **options)).reshape(len(x))


def _curve(name: str, target: float, x: np.ndarray, **options: Any) -> Curve:
    """The library's loss ``name`` and its gradient, along the grid ``x`` for one
    ``target``."""
    loss = _along(getattr(losses, name), target, x, **options)
    return Curve(loss, _along(getattr(gradients, name), target, x, **options))


def huber_explorer(delta: float = 1.0) -> LossExplorer:
    """Huber loss and its gradient against the residual, with a slider for ``delta``.

    Half the MSE and the MAE, the two losses Huber interpolates, are drawn
    faintly: the quadratic part follows MSE / 2, and the gradient is capped at
    :math:`\\pm\\delta`.

    Parameters
    ----------
    delta : float in [0.1, 3], default 1.0
        Where the quadratic part ends (``keras.losses.Huber``'s ``delta``).

    Examples
    --------
    >>> huber_explorer(delta=0.0)
    Traceback (most recent call last):
    ...
    ValueError: delta must be in [0.1, 3]; got 0.0.
    """
    residual = np.linspace(-4.0, 4.0, 401)
    mse = _curve("mean_squared_error", 0.0, residual)
    references = {
        "MSE / 2": Curve(mse.loss / 2, mse.gradient / 2),
        "MAE": _curve("mean_absolute_error", 0.0, residual),
    }

    def draw(delta: float) -> View:
        return View({"Huber": _curve("huber", 0.0, residual, delta=delta)}, references)

    return LossExplorer(
        "Huber", residual, "residual  e = ŷ − y", draw,
        (Parameter("delta", 0.1, 3.0, 0.05),), {"delta": delta},
        loss_ylim=(0.0, 5.0), gradient_ylim=(-4.2, 4.2),
        summary="Huber follows MSE / 2 for residuals within delta and grows linearly "
        "beyond; its gradient equals the residual inside and is capped at plus or "
        "minus delta outside.",
    )  # fmt: skip


def focal_explorer(gamma: float = 2.0, alpha: float = 0.25) -> LossExplorer:
    """Binary focal cross-entropy and its gradient against ``p``, with sliders
    ``gamma`` and ``alpha``.

    Two examples are drawn against the predicted probability ``p`` of class 1:
    a positive (``y = 1``, weighted by ``alpha``) and a negative (``y = 0``,
    weighted by ``1 - alpha``), both with ``apply_class_balancing=True`` --
    without it Keras ignores ``alpha``.  Binary cross-entropy, the focal loss
    with ``gamma = 0`` and no weights, is drawn faintly.  Raising ``gamma``
    flattens the loss where the example is already right; ``alpha`` shifts the
    weight between the two classes.

    Parameters
    ----------
    gamma : float in [0, 5], default 2.0
        The focusing power.
    alpha : float in [0, 1], default 0.25
        The weight of the positive class.

    Examples
    --------
    >>> focal_explorer(gamma=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: gamma must be in [0, 5]; got -1.0.
    """
    p = np.linspace(0.01, 0.99, 197)
    references = {f"BCE, y = {y}": _curve("binary_crossentropy", y, p) for y in (1, 0)}

    def draw(gamma: float, alpha: float) -> View:
        options = {"apply_class_balancing": True, "alpha": alpha, "gamma": gamma}
        curves = {
            "focal, y = 1 (weight alpha)": _curve(
                "binary_focal_crossentropy", 1.0, p, **options
            ),
            "focal, y = 0 (weight 1 - alpha)": _curve(
                "binary_focal_crossentropy", 0.0, p, **options
            ),
        }
        return View(curves, references)

    parameters = (Parameter("gamma", 0.0, 5.0, 0.1), Parameter("alpha", 0.0, 1.0, 0.05))
    return LossExplorer(
        "Binary focal cross-entropy", p, "predicted probability p of class 1", draw,
        parameters, {"gamma": gamma, "alpha": alpha},
        loss_ylim=(0.0, 4.0), gradient_ylim=(-10.0, 10.0),
        summary="Raising gamma flattens each focal curve where its example is already "
        "classified correctly; alpha moves weight between the positive and the "
        "negative example.",
    )  # fmt: skip


def label_smoothing_explorer(label_smoothing: float = 0.1) -> LossExplorer:
    """Binary cross-entropy with label smoothing against the logit of a positive
    example.

    With ``label_smoothing`` :math:`s > 0` the target 1 becomes :math:`1 - s/2`,
    and the loss has its minimum at a *finite* logit (marked by a dotted line
    where the loss is lowest on the grid); without smoothing (drawn faintly) it
    keeps falling as the logit grows.  The gradient is the library's gradient
    with respect to the logit (``from_logits=True``).

    Parameters
    ----------
    label_smoothing : float in [0, 1], default 0.1

    Examples
    --------
    >>> explorer = label_smoothing_explorer(label_smoothing=0.1)
    >>> round(explorer.marks["lowest loss"], 2)  # log((2 - s) / s) = log 19 = 2.944
    2.94
    """
    z = np.linspace(-4.0, 8.0, 601)
    references = {
        "no smoothing": _curve("binary_crossentropy", 1.0, z, from_logits=True)
    }

    def draw(label_smoothing: float) -> View:
        curve = _curve(
            "binary_crossentropy",
            1.0,
            z,
            from_logits=True,
            label_smoothing=label_smoothing,
        )
        best = int(np.argmin(curve.loss))
        if best == len(z) - 1:
            return View(
                {"smoothed, y = 1": curve},
                references,
                note="no minimum: the loss keeps falling",
            )
        note = f"lowest loss at z = {z[best]:.2f}"
        return View(
            {"smoothed, y = 1": curve},
            references,
            {"lowest loss": float(z[best])},
            note,
        )

    return LossExplorer(
        "Label smoothing", z, "logit z of a positive example (y = 1)", draw,
        (Parameter("label_smoothing", 0.0, 1.0, 0.01),),
        {"label_smoothing": label_smoothing},
        loss_ylim=(0.0, 4.5), gradient_ylim=(-1.05, 1.05),
        summary="With smoothing the loss has its minimum at a finite logit, where the "
        "gradient crosses zero; without smoothing it keeps falling as the logit grows.",
    )  # fmt: skip


#: The strip of :func:`tversky_explorer`: 4 foreground pixels out of 10.
TVERSKY_TRUTH = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
#: How each of its two wrong predictions moves away from the truth as the error e grows:
#: the prediction is ``TVERSKY_TRUTH + e * direction``.
TVERSKY_ERRORS = {
    "misses": np.array([-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
    "false alarms": np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
}


def _overlap_curve(
    name: str, error: np.ndarray, direction: np.ndarray, **options: Any
) -> Curve:
    """Loss ``name`` on the strip predicted as ``truth + e * direction``, and its
    derivative in ``e``."""
    y_true = np.tile(TVERSKY_TRUTH, (len(error), 1))
    y_pred = y_true + error[:, None] * direction
    loss = getattr(losses, name)(y_true, y_pred, axis=-1, **options)
    return Curve(
        loss, getattr(gradients, name)(y_true, y_pred, axis=-1, **options) @ direction
    )


def tversky_explorer(alpha: float = 0.5, beta: float = 0.5) -> LossExplorer:
    """Tversky loss of two wrong predictions of a 10-pixel strip, with sliders
    ``alpha`` and ``beta``.

    The strip has 4 foreground pixels.  One prediction *misses* two of them
    (they are predicted at :math:`1 - e`), the other raises two *false alarms*
    (two background pixels predicted at :math:`e`); both are drawn against the
    error :math:`e`, and the gradient is the derivative in :math:`e` (the
    library's gradient summed over the two pixels that move).  As in Keras'
    code, ``alpha`` weighs the soft false **negatives** (the misses) and
    ``beta`` the false positives: raise ``alpha`` to make misses cost more.
    Dice (``alpha = beta = 0.5``) is drawn faintly.

    Parameters
    ----------
    alpha : float in [0, 1], default 0.5
        Weight of the soft false negatives :math:`\\sum y(1-p)`.
    beta : float in [0, 1], default 0.5
        Weight of the soft false positives :math:`\\sum (1-y)p`.

    Examples
    --------
    >>> explorer = tversky_explorer(alpha=0.8, beta=0.2)
    >>> [round(float(curve.loss[-1]), 4) for curve in explorer.curves.values()]  # e = 1
    [0.4444, 0.0909]
    """
    error = np.linspace(0.0, 1.0, 101)
    note = (
        "misses: 2 foreground pixels at 1 − e; false alarms: 2 background pixels at e"
    )
    references = {
        f"Dice, {label}": _overlap_curve("dice", error, move)
        for label, move in TVERSKY_ERRORS.items()
    }

    def draw(alpha: float, beta: float) -> View:
        curves = {
            label: _overlap_curve("tversky", error, direction, alpha=alpha, beta=beta)
            for label, direction in TVERSKY_ERRORS.items()
        }
        return View(curves, references, note=note)

    parameters = (Parameter("alpha", 0.0, 1.0, 0.05), Parameter("beta", 0.0, 1.0, 0.05))
    return LossExplorer(
        "Tversky", error, "error e of 2 of the 10 pixels", draw, parameters,
        {"alpha": alpha, "beta": beta}, loss_ylim=(0.0, 0.6), gradient_ylim=(0.0, 0.6),
        summary="Raising alpha lifts the misses' curve and raising beta lifts the "
        "false alarms' curve.",
    )  # fmt: skip


#: Squared distance between the anchor and the negative in
#: :func:`triplet_margin_explorer`.
TRIPLET_D_AN = 2.0


def triplet_batch(violation: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels and 1-D embeddings of an anchor, a positive and a negative with
    ``D_ap - D_an = violation``.

    The anchor sits at 0, the negative at :math:`\\sqrt{2}` (so :math:`D_{an} = 2`)
    and the positive on the other side at :math:`-\\sqrt{2 + v}`.  The positive's
    own triplet (anchor :math:`p`) then never violates a margin below 2, and the
    negative has no positive: only the anchor's triplet contributes.

    >>> labels, embeddings = triplet_batch(-1.0)
    >>> print(embeddings[:, 0] ** 2)
    [0. 1. 2.]
    """
    positive = -np.sqrt(TRIPLET_D_AN + violation)
    return np.array([0, 0, 1]), np.array([[0.0], [positive], [np.sqrt(TRIPLET_D_AN)]])


def _triplet_point(violation: float, margin: float) -> tuple[float, float]:
    """The anchor's triplet loss and its derivative in :math:`D_{ap}`, for one
    violation."""
    labels, points = triplet_batch(violation)
    loss = losses.triplet(labels, points, margin=margin)[0]
    # The gradient on the positive p is d loss / d D_ap times d D_ap / d p = 2 (p - a),
    # with a = 0.
    slope = gradients.triplet(labels, points, margin=margin)[1, 0] / (2 * points[1, 0])
    return float(loss), float(slope)


def _triplet_curve(violation: np.ndarray, margin: float) -> Curve:
    """:func:`_triplet_point` along the grid ``violation``."""
    loss, slope = np.array([_triplet_point(v, margin) for v in violation]).T
    return Curve(loss, slope)


def triplet_margin_explorer(margin: float = 0.2) -> LossExplorer:
    """Triplet loss and its derivative against the violation :math:`D_{ap} - D_{an}`;
    slider ``margin``.

    One triplet (see :func:`triplet_batch`) with squared Euclidean distances:
    the loss is zero once the negative is further than the positive by the
    margin, and has slope 1 inside it.  The margin 0 is drawn faintly.

    Parameters
    ----------
    margin : float in [0, 1.5], default 0.2
        :math:`\\alpha` in :math:`[D_{ap} - D_{an} + \\alpha]_+` (FaceNet's 0.2,
        the default of :func:`course_lib.losses.triplet`).

    Examples
    --------
    >>> triplet_margin_explorer(margin=-0.1)
    Traceback (most recent call last):
    ...
    ValueError: margin must be in [0, 1.5]; got -0.1.
    """
    violation = np.linspace(-1.8, 1.0, 141)
    references = {"margin = 0": _triplet_curve(violation, 0.0)}

    def draw(margin: float) -> View:
        return View({"triplet": _triplet_curve(violation, margin)}, references)

    return LossExplorer(
        "Triplet", violation, "violation  D_ap − D_an  (squared distances)", draw,
        (Parameter("margin", 0.0, 1.5, 0.05),), {"margin": margin},
        loss_ylim=(0.0, 2.6), gradient_ylim=(-0.1, 1.1),
        summary="The loss is zero until the violation exceeds minus the margin, then "
        "rises with slope 1; a larger margin moves that kink to the left.",
    )  # fmt: skip
