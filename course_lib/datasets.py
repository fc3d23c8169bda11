"""Data for the experiments: scikit-learn's bundled datasets and seeded generators.

Nothing here touches the network.  Every function takes a ``seed`` and
returns the same arrays for the same seed on every machine.  Splits are
returned as a :class:`Split` of float32 arrays, features standardised with
the *training* statistics only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    """Train and test arrays (``x_train, y_train, x_test, y_test``)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> Split:
    order = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std[std == 0] = 1.0
    x = ((x - mean) / std).astype(np.float32)
    return Split(x[train], y[train], x[test], y[test])


def noisy_quadratic(
    n: int = 60, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``y = 0.5 x^2 - x + 1 + noise`` on ``x`` in [-3, 3] (float64, for
    notebook 01)."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3.0, 3.0, size=n))
    return x, 0.5 * x**2 - x + 1.0 + rng.normal(scale=noise, size=n)


def diabetes_with_outliers(
    outlier_fraction: float = 0.1, seed: int = 0, test_fraction: float = 0.25
) -> Split:
    """scikit-learn's diabetes regression data with corrupted *training* targets.

    A fraction of the training targets is replaced by gross errors (the target
    plus 3 to 6 times its range, as a broken sensor or a data-entry slip would
    produce).  The test targets stay clean, so test error measures how well a
    loss ignored the corruption.  Targets are float32 column vectors.
    """
    from sklearn.datasets import load_diabetes

    if not 0.0 <= outlier_fraction < 1.0:
        raise ValueError(f"outlier_fraction must be in [0, 1); got {outlier_fraction}.")
    x, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(seed)
    split = _split(x, y.astype(np.float32).reshape(-1, 1), test_fraction, rng)
    y_train = split.y_train.copy()
    corrupt = rng.random(len(y_train)) < outlier_fraction
    spread = float(np.ptp(y))
    y_train[corrupt, 0] += rng.uniform(3.0, 6.0, size=int(corrupt.sum())) * spread
    return split._replace(y_train=y_train)


def imbalanced_breast_cancer(
    minority_fraction: float = 0.05, seed: int = 0, test_fraction: float = 0.3
) -> Split:
    """scikit-learn's breast-cancer data with the malignant class (label 1) made rare.

    Malignant cases are subsampled so that they form about
    ``minority_fraction`` of the data; labels are float32 columns ``(N, 1)``.
    """
    from sklearn.datasets import load_breast_cancer

    if not 0.0 < minority_fraction < 0.5:
        raise ValueError(
            f"minority_fraction must be in (0, 0.5); got {minority_fraction}."
        )
    x, y = load_breast_cancer(return_X_y=True)
    y = 1 - y  # scikit-learn codes malignant as 0; make the rare class the positive one
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_keep = int(round(minority_fraction * len(negatives) / (1 - minority_fraction)))
    keep = np.concatenate(
        [negatives, rng.choice(positives, size=n_keep, replace=False)]
    )
    return _split(
        x[keep], y[keep].astype(np.float32).reshape(-1, 1), test_fraction, rng
    )


def noisy_digits(
    noise_rate: float = 0.3, seed: int = 0, test_fraction: float = 0.3
) -> Split:
    """scikit-learn's 8x8 digits with a fraction of *training* labels replaced at
    random.

    Each corrupted label is redrawn uniformly from the other nine classes; the
    test labels stay clean.  Labels are int64 class ids ``(N,)``.
    """
    from sklearn.datasets import load_digits

    if not 0.0 <= noise_rate < 0.9:
        raise ValueError(f"noise_rate must be in [0, 0.9); got {noise_rate}.")
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    split = _split(x, y.astype(np.int64), test_fraction, rng)
    y_train = split.y_train.copy()
    flip = rng.random(len(y_train)) < noise_rate
    y_train[flip] = (y_train[flip] + rng.integers(1, 10, size=int(flip.sum()))) % 10
    return split._replace(y_train=y_train)


def poisson_counts(
    n: int = 2000, n_features: int = 5, seed: int = 0, test_fraction: float = 0.25
) -> Split:
    """Counts drawn from ``Poisson(exp(x . w + b))``: a log-linear count model.

    The middle 90 % of the rates span one and a half to two orders of magnitude
    and the extremes three to four (seeds 0-2 with the defaults), the regime where
    the Poisson loss and MSE disagree.  Returns float32 features and float32 count
    columns.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    weights = rng.normal(scale=0.6, size=n_features)
    rates = np.exp(x @ weights + 0.5)
    counts = rng.poisson(rates).astype(np.float32).reshape(-1, 1)
    return _split(x, counts, test_fraction, rng)


def poisson_rates(
    n: int = 2000, n_features: int = 5, seed: int = 0, test_fraction: float = 0.25
) -> Split:
    """The true rates behind :func:`poisson_counts` with the same arguments.

    Replays the same random draws and split, so ``x_train``/``x_test`` are
    identical to those of ``poisson_counts`` and ``y_train``/``y_test`` hold the
    rates ``E[y | x]`` (float32 columns) instead of the counts.  Use it to see how
    well a model recovers low and high rates, which the noisy counts hide.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    weights = rng.normal(scale=0.6, size=n_features)
    rates = np.exp(x @ weights + 0.5)
    rng.poisson(rates)  # consume the draws poisson_counts spends on the counts
    return _split(x, rates.astype(np.float32).reshape(-1, 1), test_fraction, rng)


def segmentation_shapes(
    n: int = 256,
    size: int = 16,
    radius: tuple[float, float] = (1.2, 3.0),
    noise: float = 0.8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images of one disc or square each, with their true masks (for notebook 06).

    Each ``size x size`` image holds one shape (a disc or a square, with equal
    chance) of random centre and radius in ``radius``; its mask is 1 inside the
    shape.  The image is the mask plus Gaussian noise of standard deviation
    ``noise``, so single pixels are ambiguous and a model must use its
    neighbours.  The foreground is small (about 7 % of the pixels with the
    defaults): the regime where overlap losses differ from cross-entropy.

    Returns ``(images, masks)``, both float32 and shaped ``(n, size, size, 1)``.

    >>> images, masks = segmentation_shapes(4, seed=0)
    >>> images.shape, masks.dtype, sorted(np.unique(masks).tolist())
    ((4, 16, 16, 1), dtype('float32'), [0.0, 1.0])
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size] + 0.5
    r = rng.uniform(*radius, size=n)[:, None, None]
    centre_row, centre_col = rng.uniform(3.0, size - 3.0, size=(2, n))
    disc = (rng.uniform(size=n) < 0.5)[:, None, None]
    d_row, d_col = rows - centre_row[:, None, None], cols - centre_col[:, None, None]
    inside_disc = d_row**2 + d_col**2 <= r**2
    inside_square = np.maximum(np.abs(d_row), np.abs(d_col)) <= r
    masks = np.where(disc, inside_disc, inside_square).astype(np.float32)
    images = masks + rng.normal(scale=noise, size=masks.shape)
    return images[..., None].astype(np.float32), masks[..., None]


def speckle_images(
    n: int = 400,
    size: int = 32,
    looks: float = 4.0,
    seed: int = 0,
    test_fraction: float = 0.25,
) -> Split:
    """Ultrasound-like grey images with multiplicative speckle noise (for notebook 12).

    Each clean image is a soft striped tissue texture (mean 0.35) with up to
    three ellipses: two bright inclusions (0.6-0.9) and one dark, cyst-like one
    (0.02-0.1).  The noisy image is ``clean * s`` with speckle
    ``s ~ Gamma(looks, 1/looks)`` (mean 1, variance ``1/looks``: the intensity
    of fully developed speckle averaged over ``looks`` looks).  Returns a
    :class:`Split` whose *inputs* are the noisy images and whose *targets* are
    the clean ones, float32 arrays of shape ``(n_split, size, size, 1)``.
    """
    if looks <= 0:
        raise ValueError(f"looks must be > 0; got {looks}.")
    rng = np.random.default_rng(seed)
    grid = (np.arange(size) + 0.5) / size
    rows, cols = grid[None, :, None], grid[None, None, :]
    angle = rng.uniform(0.0, np.pi, (n, 1, 1))
    frequency = rng.uniform(2.0, 5.0, (n, 1, 1))
    clean = 0.35 + 0.08 * np.sin(
        2 * np.pi * frequency * (rows * np.cos(angle) + cols * np.sin(angle))
    )
    for low, high in ((0.6, 0.9), (0.02, 0.1), (0.6, 0.9)):
        centre_r, centre_c = rng.uniform(0.2, 0.8, (2, n, 1, 1))
        radius_r, radius_c = rng.uniform(0.08, 0.25, (2, n, 1, 1))
        inside = ((rows - centre_r) / radius_r) ** 2 + (
            (cols - centre_c) / radius_c
        ) ** 2 <= 1.0
        present = rng.random((n, 1, 1)) < 0.8
        clean = np.where(inside & present, rng.uniform(low, high, (n, 1, 1)), clean)
    noisy = clean * rng.gamma(looks, 1.0 / looks, size=clean.shape)
    clean, noisy = (
        clean[..., None].astype(np.float32),
        noisy[..., None].astype(np.float32),
    )
    order = rng.permutation(n)
    n_test = int(round(test_fraction * n))
    test, train = order[:n_test], order[n_test:]
    return Split(noisy[train], clean[train], noisy[test], clean[test])
