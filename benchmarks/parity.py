"""Measure how closely every course_lib loss function agrees with Keras.

For each of the 22 loss functions, on seeded inputs from
``course_lib.sample_inputs`` (several seeds and sizes), report the largest
absolute and relative difference of the per-sample values from Keras, in
float32 and in float64.  The numbers behind the tolerances the tests use.

Usage::

    python benchmarks/parity.py
"""

from __future__ import annotations

from course_lib.notebook import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import course_lib.losses as our_losses  # noqa: E402
from course_lib.sample_inputs import LOSS_NAMES, sample_inputs  # noqa: E402

SEEDS = range(5)
SIZES = (10, 100, 1000)


def worst_difference(name: str, dtype: str) -> tuple[float, float]:
    worst_abs = worst_rel = 0.0
    for seed in SEEDS:
        for size in SIZES:
            y_true, y_pred, options = sample_inputs(name, size, seed, dtype)
            ours = np.asarray(getattr(our_losses, name)(y_true, y_pred, **options), dtype=np.float64)
            theirs = getattr(keras.losses, name)(tf.constant(y_true), tf.constant(y_pred), **options)
            theirs = np.asarray(theirs, dtype=np.float64)
            difference = np.abs(ours - theirs)
            worst_abs = max(worst_abs, float(difference.max()))
            worst_rel = max(worst_rel, float((difference / np.maximum(np.abs(theirs), 1e-12)).max()))
    return worst_abs, worst_rel


def main() -> None:
    print("| loss | float32 max abs | float32 max rel | float64 max abs | float64 max rel |")
    print("|---|---:|---:|---:|---:|")
    overall = {"float32": [0.0, 0.0], "float64": [0.0, 0.0]}
    for name in LOSS_NAMES:
        cells = []
        for dtype in ("float32", "float64"):
            worst_abs, worst_rel = worst_difference(name, dtype)
            overall[dtype] = [max(overall[dtype][0], worst_abs), max(overall[dtype][1], worst_rel)]
            cells += [f"{worst_abs:.1e}", f"{worst_rel:.1e}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for dtype, (worst_abs, worst_rel) in overall.items():
        print(f"{dtype}: max abs {worst_abs:.1e}, max rel {worst_rel:.1e} over all losses")


if __name__ == "__main__":
    main()
