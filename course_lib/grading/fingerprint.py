"""Recognise a value task's known mistakes without storing the wrong values.

A value task's known mistakes are often one step from the answer ("that is
1 minus the right answer", "you summed instead of averaging over 6
samples"), so the stored public checks cannot hold their values: reading the
JSON file would give the answer away.  They hold *fingerprints* instead.

A number :math:`x` is placed in a bucket on a logarithmic grid,

.. math:: b(x) = \\operatorname{sign}(x)\\,\\Big\\lfloor \\frac{\\ln |x|}{s} + o \\Big\\rfloor,
   \\qquad s = 2\\,\\mathrm{rtol},

for two grids, :math:`o = 0` and :math:`o = 1/2`, and the buckets of all
elements are hashed with a slow salted key-derivation function (PBKDF2-SHA256,
salted with the task, the case and the grid).  A learner's value matches a
mistake when, on either grid, it falls into the same buckets.  For one
number that means: a relative difference below ``rtol`` always matches, and
one above ``2 rtol`` never does.  (An array matches element for element on
one grid; the course's only array-valued answer holds whole numbers, which
match exactly.)

Checking a value costs two hashes (about 50 ms).  Recovering a mistake's
value from its fingerprint means hashing every bucket it could lie in, which
for ``rtol = 1e-6`` is millions of buckets per decade: far more work than
computing the answer.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["fingerprints", "matches"]

#: PBKDF2 rounds per fingerprint: slow enough to make guessing expensive.
ITERATIONS = 100_000
#: The grid offsets; two grids so that a value near one grid's bucket edge is mid-bucket on the other.
OFFSETS = (0.0, 0.5)
#: Hex digits kept of each hash (64 bits).
DIGITS = 16


def _step(rtol: float) -> float:
    return 2.0 * max(rtol, 1e-12)


def _buckets(values: np.ndarray, step: float, offset: float) -> str:
    """Each element's sign and bucket on the grid, as text; zero is its own bucket."""
    parts = []
    for value in np.asarray(values, dtype=np.float64).ravel().tolist():
        if value == 0.0:
            parts.append("0")
        else:
            bucket = math.floor(math.log(abs(value)) / step + offset)
            parts.append(f"{'+' if value > 0 else '-'}{bucket}")
    return ",".join(parts)


def _hash(text: str, salt: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", text.encode(), salt.encode(), ITERATIONS)
    return digest.hex()[:DIGITS]


def fingerprints(values: np.ndarray, *, salt: str, rtol: float) -> list[str]:
    """The fingerprint of ``values`` on each grid (``salt`` names the task and case).

    >>> a = fingerprints(np.array(0.25), salt="demo", rtol=1e-6)
    >>> b = fingerprints(np.array(0.25 * (1 + 1e-8)), salt="demo", rtol=1e-6)
    >>> len(a), any(x == y for x, y in zip(a, b))
    (2, True)
    """
    values = np.asarray(values, dtype=np.float64)
    shape = "x".join(map(str, values.shape))
    step = _step(rtol)
    return [
        _hash(f"{shape}:{_buckets(values, step, offset)}", f"{salt}:{index}")
        for index, offset in enumerate(OFFSETS)
    ]


def matches(values: np.ndarray, stored: list[str], *, salt: str, rtol: float) -> bool:
    """Whether finite ``values`` fall into the buckets that ``stored`` fingerprints on either grid.

    >>> stored = fingerprints(np.array(0.25), salt="demo", rtol=1e-6)
    >>> matches(np.array(0.25 + 1e-9), stored, salt="demo", rtol=1e-6)
    True
    >>> matches(np.array(0.2501), stored, salt="demo", rtol=1e-6)
    False
    """
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return False
    return any(
        mine == theirs
        for mine, theirs in zip(fingerprints(values, salt=salt, rtol=rtol), stored, strict=False)
    )
