"""Plots shared by the notebooks: a loss and its gradient side by side."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Curve = Callable[[np.ndarray], np.ndarray]


def plot_loss_and_gradient(
    x: np.ndarray,
    curves: Mapping[str, tuple[Curve, Curve]],
    *,
    xlabel: str,
    title: str = "",
    loss_ylim: tuple[float, float] | None = None,
):
    """Draw each loss (left) and its gradient (right) against ``x``.

    Parameters
    ----------
    x : array
        The horizontal axis: a residual, a margin or a probability.
    curves : mapping
        ``label -> (loss_of_x, gradient_of_x)``; each callable maps ``x`` to an
        array of the same length.
    xlabel, title : str
        Axis label and figure title.
    loss_ylim : (low, high), optional
        Clip the loss panel's vertical range (useful when one curve explodes).

    Returns
    -------
    matplotlib.figure.Figure
        Display it by leaving it as a cell's last expression, or ``plt.show()``.
    """
    import matplotlib.pyplot as plt

    figure, (loss_axes, gradient_axes) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, (loss, gradient) in curves.items():
        loss_axes.plot(x, loss(x), label=label)
        gradient_axes.plot(x, gradient(x), label=label)
    loss_axes.set(xlabel=xlabel, ylabel="loss", title="loss")
    gradient_axes.set(xlabel=xlabel, ylabel="gradient", title="gradient")
    if loss_ylim is not None:
        loss_axes.set_ylim(*loss_ylim)
    loss_axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    plt.close(figure)  # the caller decides when to show it (no duplicate inline output)
    return figure


@dataclass(frozen=True)
class DescribedFigure:
    """A matplotlib figure together with a description of what it shows.

    Displayed in a notebook, it is the figure's PNG carrying the description as
    its alternative text (``metadata["image/png"]["alt"]``, which the course's
    site and slides put in the ``<img alt=...>``), and the description as its
    plain-text form, which screen readers, text front ends and nbval see.
    Build it with :func:`describe`.
    """

    figure: Any
    description: str

    def _repr_mimebundle_(self, include=None, exclude=None):
        from IPython.core.pylabtools import print_figure

        png = print_figure(self.figure, fmt="png", bbox_inches="tight")
        data = {"image/png": png, "text/plain": f"Figure: {self.description}"}
        return data, {"image/png": {"alt": self.description}}

    def __repr__(self) -> str:
        return f"Figure: {self.description}"


def describe(figure: Any, description: str) -> DescribedFigure:
    """Attach a description (alternative text) to ``figure`` for display.

    Leave ``describe(figure, "...")`` as a cell's last expression.  The
    description says what the figure shows, for a reader who cannot see it:
    the axes, the curves or images, and what they make visible.

    >>> import matplotlib.pyplot as plt
    >>> figure = plt.figure()
    >>> describe(figure, "An empty canvas.")
    Figure: An empty canvas.
    >>> describe(figure, " ")
    Traceback (most recent call last):
    ...
    ValueError: description must be a non-empty sentence saying what the figure
    shows, got ' '
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(
            f"figure must be a matplotlib Figure, got {type(figure).__name__}"
        )
    if not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
    if not description.strip():
        raise ValueError(
            "description must be a non-empty sentence saying what the figure shows, "
            f"got {description!r}"
        )
    return DescribedFigure(figure, " ".join(description.split()))
