"""course_lib.backends (one cell on every backend, or only on one) and
course_lib.compare.value_and_gradient, on whichever backend Keras runs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras_reference import BACKEND

from course_lib import backends
from course_lib.compare import value_and_gradient
from course_lib.notebook import fmt

OTHER = next(backend for backend in backends.BACKENDS if backend != BACKEND)


def test_value_and_gradient_of_a_loss_is_the_derived_one():
    y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
    y_pred = np.array([[0.5, 0.25], [2.0, 1.0]], dtype="float32")

    def total(prediction):
        return keras.ops.sum(keras.losses.mean_squared_error(y_true, prediction))

    value, gradient = value_and_gradient(total, y_pred)
    assert value == pytest.approx(np.sum(np.mean((y_true - y_pred) ** 2, axis=-1)))
    np.testing.assert_allclose(gradient, (y_pred - y_true), rtol=1e-6)  # 2 (p - y) / 2


def test_a_thresholded_value_has_no_gradient_or_a_zero_one():
    """TensorFlow's tape returns None and PyTorch's value needs no gradient; jax.grad
    differentiates through the comparison and returns zeros."""
    logits = np.array([[-1.0], [0.5], [2.0]], dtype="float32")
    labels = np.array([[0.0], [1.0], [0.0]], dtype="float32")

    def accuracy(z):
        return keras.ops.mean(keras.metrics.binary_accuracy(labels, keras.ops.sigmoid(z)))

    value, gradient = value_and_gradient(accuracy, logits)
    assert value == pytest.approx(2 / 3)  # the last logit is on the wrong side
    if BACKEND == "jax":
        np.testing.assert_array_equal(gradient, np.zeros_like(logits))
    else:
        assert gradient is None


def test_the_gradient_of_a_lookup_is_dense_on_every_backend():
    """A gather's gradient (TensorFlow's sparse IndexedSlices) comes back as an array."""
    table = np.arange(6, dtype="float32").reshape(3, 2)
    ids = np.array([2, 0, 2])
    value, gradient = value_and_gradient(
        lambda weights: keras.ops.sum(keras.ops.take(weights, ids, axis=0)), table
    )
    assert value == pytest.approx(4 + 5 + 0 + 1 + 4 + 5)
    np.testing.assert_array_equal(gradient, [[1, 1], [0, 0], [2, 2]])


def test_fmt_prints_a_tensor_that_requires_a_gradient():
    """``fmt`` of a layer's output: a PyTorch tensor with grad has no plain ``__array__``."""
    layer = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros", dtype="float32")
    assert fmt(layer(np.array([[1.0, 2.0]], dtype="float32")), 1) == "[[3.0 3.0]]"


def test_value_and_gradient_refuses_a_backend_without_autodiff():
    with pytest.raises(ValueError, match="numpy backend has no automatic differentiation"):
        value_and_gradient(lambda x: x, np.zeros(1), backend="numpy")


def test_each_backend_runs_in_its_own_process():
    printed = backends.on_each_backend("import keras\nprint(keras.backend.backend())\n")
    assert printed == {backend: f"{backend}\n" for backend in backends.BACKENDS}


def test_a_failing_cell_raises_with_the_backend_and_its_error():
    with pytest.raises(RuntimeError, match=r"(?s)on jax the code failed.*ZeroDivisionError"):
        backends.run_on_backend("1 / 0", "jax")


def test_side_by_side_names_a_missing_backend_and_pads_short_outputs():
    table = backends.side_by_side({"tensorflow": "a\nb\n", "jax": "a\n", "torch": None})
    assert table.splitlines() == [
        "tensorflow  a",
        "jax         a",
        'torch       (not installed: pip install -e ".[torch]")',
        "",
        "tensorflow  b",
        "jax",
        'torch       (not installed: pip install -e ".[torch]")',
    ]


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.is_installed("mxnet")
    with pytest.raises(ValueError, match="%%only_on needs a backend"):
        backends.only_on_magic("theano: old", "1")


def test_only_on_another_backend_skips_with_its_reason(capsys):
    assert backends.only_on_magic(f"{OTHER}: about {OTHER} itself", "1 / 0") is None
    assert capsys.readouterr().out == (
        f"Skipped on {BACKEND}: this cell runs only on {OTHER} (about {OTHER} itself).\n"
    )


def test_only_on_its_backend_runs_the_cell_and_returns_its_last_value(monkeypatch):
    namespace = {"x": 2}
    monkeypatch.setattr(backends, "user_namespace", lambda: namespace)
    assert backends.only_on_magic(f"{BACKEND}: why", "y = x * 3\ny + 1") == 7
    assert namespace["y"] == 6
    with pytest.raises(ZeroDivisionError):
        backends.only_on_magic(BACKEND, "z = 1\n1 / 0")
    assert namespace["z"] == 1


def test_setup_registers_both_magics():
    registered = {}

    class Shell:
        def register_magic_function(self, function, kind, name):
            registered[name] = (function, kind)

    backends.register_magics(Shell())
    assert registered == {
        "on_each_backend": (backends.on_each_backend_magic, "cell"),
        "only_on": (backends.only_on_magic, "cell"),
    }


@pytest.mark.parametrize(("set_by_user", "seen"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_backends_openmp_threads_sleep_unless_the_user_chose(monkeypatch, set_by_user, seen):
    """The backends run at once; spinning OpenMP waiters (PyTorch) would slow the others."""
    if set_by_user is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", set_by_user)
    printed = backends.run_on_backend("import os\nprint(os.environ['OMP_WAIT_POLICY'])\n", OTHER)
    assert printed == f"{seen}\n"
