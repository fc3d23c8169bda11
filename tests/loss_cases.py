"""Helpers shared by the loss-family test files in ``tests/losses`` and ``tests/gradients``.

Plain NumPy (no Keras): the reductions every loss class accepts, the sample-weight
layouts of the batch-level families, and signatures as comparable lists.
"""

from __future__ import annotations

import inspect

import numpy as np

#: Every reduction of Keras 3.15's losses (``None`` means no reduction, like ``"none"``).
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def weights_for(kind: str, n: int):
    """Seeded sample weights for ``n`` samples: ``"none"``, a ``"scalar"``, a ``"vector"`` (n,)
    or a ``"column"`` (n, 1)."""
    rng = np.random.default_rng(11)
    return {"none": None, "scalar": 2.5, "vector": rng.uniform(0, 2, n), "column": rng.uniform(0, 2, (n, 1))}[
        kind
    ]


def parameters(obj) -> list[tuple]:
    """``(name, default, kind)`` of every parameter of ``obj``'s signature."""
    return [(p.name, p.default, p.kind) for p in inspect.signature(obj).parameters.values()]
