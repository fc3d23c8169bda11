"""Plots shared by the notebooks: a loss and its gradient side by side."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
