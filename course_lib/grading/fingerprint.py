r"""Recognise a value task's known mistakes without storing the wrong values.

A value task's known mistakes are often one step from the answer ("you
summed over the 6 samples instead of averaging"), so the stored public
checks cannot hold their values: reading the JSON file would give the answer
away.  They hold *fingerprints* instead.  (A mistake that is a fixed, stated
transform of the answer, such as "1 minus the right answer", is not stored
at all; the grader still recognises it.)

Each element :math:`x` of a value is placed in a bucket on a logarithmic
grid, as the pair

.. math:: b(x) = \Big(\operatorname{sign} x,\;
   \Big\lfloor \frac{\ln |x|}{s} + o \Big\rfloor\Big),
   \qquad s = 2\,\mathrm{rtol},

(zero has a bucket of its own) for two grids, :math:`o = 0` and
:math:`o = 1/2`, and the shape and the buckets of all elements are hashed
with a slow salted key-derivation function (PBKDF2-SHA256, salted with the
task, the case and the grid).  A learner's value matches a mistake when, on
either grid, it falls into the same buckets.  The edges of the two grids
interleave every :math:`s/2 = \mathrm{rtol}` in :math:`\ln |x|`, so for one
number: values whose log-ratio :math:`|\ln(x/y)|` is below ``rtol`` always
match, and those at or above ``2 rtol`` never do (for relative differences
the same holds up to terms of order :math:`\mathrm{rtol}^2`).  ``atol`` plays
no part: a mistake whose value is 0 matches only 0.  An array matches only
when all its elements share their buckets on one grid, so the guarantee is
per number; the course's one array-valued answer holds whole numbers, which
match exactly.

Checking a value costs two hashes, whatever the number of mistakes.
Recovering a mistake from its fingerprint means hashing every candidate:
about :math:`\ln 10 / (2\,\mathrm{rtol})` buckets per decade for a
continuous value (a million at ``rtol = 1e-6``, a hundred thousand at
``1e-5``), far fewer for whole numbers or simple fractions.  That keeps the
answer from being read off the file, not from a determined search.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["agree", "fingerprints", "matches"]

#: PBKDF2 rounds per fingerprint: slow enough to make guessing expensive.
ITERATIONS = 200_000
#: The grid offsets; two grids so that a value near one grid's bucket edge is
#: mid-bucket on the other.
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


def agree(mine: list[str], stored: list[str]) -> bool:
    """Whether two values' fingerprints share a bucket on some grid."""
    return any(a == b for a, b in zip(mine, stored, strict=False))


def matches(values: np.ndarray, stored: list[str], *, salt: str, rtol: float) -> bool:
    """Whether finite ``values`` fall into the buckets that ``stored`` fingerprints
    on either grid.

    >>> stored = fingerprints(np.array(0.25), salt="demo", rtol=1e-6)
    >>> matches(np.array(0.25 + 1e-9), stored, salt="demo", rtol=1e-6)
    True
    >>> matches(np.array(0.2501), stored, salt="demo", rtol=1e-6)
    False
    """
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return False
    return agree(fingerprints(values, salt=salt, rtol=rtol), stored)
