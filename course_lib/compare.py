"""Compare a ``course_lib`` loss with Keras and print a short, deterministic verdict.

*Comparing* is this module's job: it puts our NumPy loss and our hand-derived
gradient beside Keras'.  Notebooks use it to show, in a visible cell, that the
two agree.  *Checking an exercise* is another module's,
:func:`course_lib.grading.check`, the self-check at the end of each exercise
(which judges a learner's answer with :mod:`course_lib.grading.judgement`).

It runs on whichever backend Keras uses (``KERAS_BACKEND``: TensorFlow, JAX,
PyTorch or NumPy), imports Keras lazily, when a comparison runs, and names the
backend in its verdict.  The gradient is compared with that backend's own
automatic differentiation (:data:`AUTODIFF`); the NumPy backend has none, so
there only values are compared.  (``course_lib.losses`` and
``course_lib.gradients`` never import Keras.)

>>> import numpy as np
>>> from course_lib.compare import compare_loss
>>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
>>> y_pred = np.array([[0.2, 0.7], [0.4, 0.1]])
>>> print(compare_loss("huber", y_true, y_pred, delta=0.5))
huber(delta=0.5) vs keras.losses.huber on 2 samples (float64, tensorflow backend)
  value:    OK (max |difference| within rtol=1e-09, atol=5e-09)
  gradient: OK (max |difference| within rtol=1e-07, atol=1e-09) vs tf.GradientTape

The verdict prints only OK/MISMATCH and the tolerance, not the raw
differences, so that its text does not depend on the CPU's rounding; the
differences are kept on the returned object for anyone who wants them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import course_lib.gradients as our_gradients
import course_lib.losses as our_losses
from course_lib.losses._validation import as_float_array
from course_lib.losses.reduction import reduce_weighted_values

#: Losses that TensorFlow always computes in float32 (``tf.nn.ctc_loss``).
_FLOAT32_ONLY = {"ctc", "CTC"}


def _keras() -> Any:
    """Import Keras (TensorFlow's start-up logs silenced, should it be the backend)."""
    from course_lib.notebook import quiet_tensorflow

    quiet_tensorflow()
    import keras

    return keras


#: The automatic differentiation of each Keras backend, as the verdict names it.
AUTODIFF = {
    "tensorflow": "tf.GradientTape",
    "jax": "jax.grad",
    "torch": "torch.autograd",
}


def value_and_gradient(
    function: Callable[[Any], Any], x: np.ndarray, backend: str | None = None
) -> tuple[float, np.ndarray | None]:
    """``function(x)`` and its gradient at ``x``, by the automatic differentiation of
    the Keras backend (see :data:`AUTODIFF`).

    ``function`` maps a tensor of the backend to a scalar tensor (Keras losses and
    ``keras.ops`` work on every backend); ``x`` is a NumPy array.  The gradient is
    ``None`` where the backend finds no differentiable path from ``x`` to the value
    (``tf.GradientTape`` returns ``None``; in PyTorch the value does not require a
    gradient).  ``jax.grad`` has no such notion: through a comparison or a rounding
    it returns zeros.  The gradient is always dense, also where TensorFlow's tape
    returns a sparse ``IndexedSlices``.  ``backend`` defaults to the one Keras runs on.
    """
    backend = backend or _keras().backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            value = function(variable)
        gradient = tape.gradient(value, variable)
        if gradient is None:
            return float(value), None
        # a gather (ops.take) gives a sparse IndexedSlices: make it a dense array
        return float(value), tf.convert_to_tensor(gradient).numpy()
    if backend == "jax":
        import jax

        value, gradient = jax.value_and_grad(function)(jax.numpy.asarray(x))
        return float(value), np.asarray(gradient)
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        value = function(tensor)
        if not value.requires_grad:
            return float(value), None
        value.backward()
        return float(value.detach()), tensor.grad.numpy()
    raise ValueError(f"the {backend} backend has no automatic differentiation.")


def backend_gradient(
    backend: str,
    fn: Callable[..., Any],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    **options: Any,
) -> np.ndarray:
    r""":math:`\partial \sum_i \ell_i / \partial \hat y` of a Keras loss ``fn``, by the
    automatic differentiation of ``backend`` (see :data:`AUTODIFF`)."""
    keras = _keras()
    target = keras.ops.convert_to_tensor(y_true)

    def total(prediction: Any) -> Any:
        return keras.ops.sum(fn(target, prediction, **options))

    return value_and_gradient(total, y_pred, backend)[1]


def _default_dtype(backend: str) -> str:
    """float64 where Keras really computes in float64 (TensorFlow); float32 elsewhere.

    On JAX (without ``jax_enable_x64``) float64 inputs become float32, and on
    PyTorch and the NumPy backend some of Keras' reductions (``keras.ops.mean``)
    compute in float32 even for float64 input.
    """
    return "float64" if backend == "tensorflow" else "float32"


def _course_keras_losses():
    """The package of Keras versions of the losses Keras lacks (imports Keras)."""
    import course_lib.keras_losses

    return course_lib.keras_losses


def _describe(name: str, options: dict[str, Any]) -> str:
    arguments = ", ".join(f"{key}={value!r}" for key, value in options.items())
    return f"{name}({arguments})"


@dataclass
class Verdict:
    """Outcome of one comparison.  ``str(verdict)`` is the printable, stable summary."""

    description: str
    value_ok: bool
    value_error: float
    value_tolerance: tuple[float, float]
    gradient_ok: bool | None = None
    gradient_error: float = float("nan")
    gradient_tolerance: tuple[float, float] = (0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    autodiff: str = "tf.GradientTape"

    @property
    def ok(self) -> bool:
        """True when the value and (if checked) the gradient both agree."""
        return self.value_ok and self.gradient_ok is not False

    def __str__(self) -> str:
        def line(
            label: str, ok: bool, tol: tuple[float, float], suffix: str = ""
        ) -> str:
            status = "OK" if ok else "MISMATCH"
            return (
                f"  {label:<9} {status} (max |difference| within "
                f"rtol={tol[0]:g}, atol={tol[1]:g}){suffix}"
            )

        lines = [self.description, line("value:", self.value_ok, self.value_tolerance)]
        if self.gradient_ok is not None:
            lines.append(
                line(
                    "gradient:",
                    self.gradient_ok,
                    self.gradient_tolerance,
                    f" vs {self.autodiff}",
                )
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _agreement(
    ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: Any
) -> tuple[bool, float]:
    """Whether ``np.isclose(ours, theirs, rtol, atol)`` holds everywhere (equal
    infinities agree, NaN never does), and the largest difference for the record.
    ``atol`` may be an array, one allowance per value."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return False, float("inf")
    close = np.isclose(ours, theirs, rtol=rtol, atol=atol)
    with np.errstate(invalid="ignore"):
        difference = np.where(ours == theirs, 0.0, np.abs(ours - theirs))
    return bool(np.all(close)), float(np.max(difference, initial=0.0))


def _reduced_tolerance(
    loss: Any,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sample_weight: Any,
    rtol: float,
    atol: float,
) -> np.ndarray:
    r"""The tolerance on a reduced loss: the per-sample tolerances, reduced alike.

    Each per-sample value :math:`\ell_i` may differ from Keras' by
    :math:`\tau_i = \mathrm{atol} + \mathrm{rtol}\,|\ell_i|`.  A reduction is
    linear in the values, so :math:`|\sum_i w_i(\ell_i - \ell_i^{K})|/D \le
    \sum_i |w_i|\,\tau_i / D`: we apply the loss' own weighting, mask and
    reduction to :math:`\tau` with the weights :math:`|w|`.  For ``"sum"`` over
    :math:`N` unit-weight samples this is :math:`N` times the per-sample
    tolerance (a float32 constant inside Keras' formula is summed :math:`N`
    times); for ``"sum_over_batch_size"`` it is the per-sample tolerance.
    """
    y_pred = as_float_array(y_pred, "y_pred", loss.dtype)
    y_true = as_float_array(y_true, "y_true", y_pred.dtype)
    values = np.asarray(loss.call(y_true, y_pred), dtype=np.float64)
    weights = (
        None
        if sample_weight is None
        else np.abs(np.asarray(sample_weight, dtype=np.float64))
    )
    per_sample = atol + rtol * np.abs(values)
    mask = loss.output_mask(y_true, y_pred, values)
    return np.asarray(reduce_weighted_values(per_sample, weights, mask, loss.reduction))


def _prepare(
    name: str, y_true: Any, y_pred: Any, dtype: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """Cast both inputs to the comparison dtype; integer labels stay integers."""
    if name in _FLOAT32_ONLY:
        dtype = "float32"
    y_true = np.asarray(y_true)
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(dtype)
    return y_true, np.asarray(y_pred, dtype=dtype), dtype


def _tolerances(dtype: np.dtype) -> tuple[tuple[float, float], tuple[float, float]]:
    if dtype == np.float64:
        # atol 5e-9: Keras' log_cosh uses a float32 log(2) even in float64
        # (offset 1.9e-9).
        return (1e-9, 5e-9), (1e-7, 1e-9)
    return (2e-5, 2e-6), (2e-4, 2e-5)


def compare_loss(
    name: str,
    y_true: Any,
    y_pred: Any,
    *,
    gradient: bool = True,
    dtype: str | None = None,
    reference: str = "keras.losses",
    **options: Any,
) -> Verdict:
    """Compare the *function* ``course_lib.losses.<name>`` with ``keras.losses.<name>``.

    Checks the per-sample values and, if ``gradient``, our hand-derived
    ``course_lib.gradients.<name>`` against the backend's automatic
    differentiation of the Keras function (the derivative of the sum over
    samples): ``tf.GradientTape``, ``jax.grad`` or ``torch.autograd``.

    Parameters
    ----------
    name : str
        The snake_case function name shared by both libraries, e.g. ``"huber"``.
    y_true, y_pred : array_like
        Inputs, converted to ``dtype`` (``y_true`` keeps integer labels for the
        sparse, generalised cross-entropy, circle and CTC losses).
    dtype : {"float64", "float32"}, optional
        Precision of the comparison.  By default float64 on TensorFlow and
        float32 on the other backends, where Keras computes partly in float32
        even for float64 input.  CTC is always float32 (TensorFlow's kernel).
    reference : {"keras.losses", "course_lib.keras_losses"}
        Where the Keras function comes from.  Losses that Keras lacks (triplet,
        soft F-beta, SSIM, BCE + Dice, ...) are compared with their ``keras.ops``
        versions in :mod:`course_lib.keras_losses`, and our gradient with the
        backend's automatic differentiation of those.
    **options
        Keyword arguments of the loss, e.g. ``delta=0.5`` or ``from_logits=True``.
    """
    keras = _keras()
    backend = keras.backend.backend()
    if reference not in ("keras.losses", "course_lib.keras_losses"):
        raise ValueError(
            "reference must be 'keras.losses' or 'course_lib.keras_losses'; "
            f"got {reference!r}."
        )
    keras_fn = getattr(
        keras.losses if reference == "keras.losses" else _course_keras_losses(), name
    )
    y_true, y_pred, dtype = _prepare(
        name, y_true, y_pred, dtype or _default_dtype(backend)
    )
    value_tol, gradient_tol = _tolerances(np.dtype(dtype))

    ours = getattr(our_losses, name)(y_true, y_pred, **options)
    convert = keras.ops.convert_to_tensor
    theirs = keras_fn(convert(y_true), convert(y_pred), **options)
    value_ok, value_error = _agreement(
        ours, keras.ops.convert_to_numpy(theirs), *value_tol
    )
    samples = np.size(ours)
    scope = (
        "the whole batch (one value)"
        if np.ndim(ours) == 0
        else f"{samples} sample{'s' if samples != 1 else ''}"
    )
    verdict = Verdict(
        f"{_describe(name, options)} vs {reference}.{name} on {scope} "
        f"({dtype}, {backend} backend)",
        value_ok,
        value_error,
        value_tol,
        notes=_dtype_notes(backend, dtype),
    )
    if gradient and backend not in AUTODIFF:
        verdict.notes.append(
            f"gradient not compared: the {backend} backend has no automatic "
            "differentiation"
        )
    elif gradient:
        theirs_gradient = backend_gradient(backend, keras_fn, y_true, y_pred, **options)
        ours_gradient = getattr(our_gradients, name)(y_true, y_pred, **options)
        verdict.gradient_ok, verdict.gradient_error = _agreement(
            ours_gradient, theirs_gradient, *gradient_tol
        )
        verdict.gradient_tolerance = gradient_tol
        verdict.autodiff = AUTODIFF[backend]
    return verdict


def _dtype_notes(backend: str, dtype: str) -> list[str]:
    if dtype == "float64" and _default_dtype(backend) != "float64":
        return [
            f"Keras on the {backend} backend computes partly in float32 even for "
            "float64 input, so float64 tolerances may report MISMATCH"
        ]
    return []


def compare_class(
    class_name: str,
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    dtype: str | None = None,
    **config: Any,
) -> Verdict:
    r"""Compare ``course_lib.losses.<class_name>(**config)`` with the Keras class.

    This exercises the reduction and ``sample_weight`` handling as well as the
    loss itself.  Both classes are built with the same ``dtype``.

    The printed ``rtol`` and ``atol`` are *per-sample* tolerances.  A reduced
    value is allowed the reduction of the per-sample tolerances (see
    :func:`_reduced_tolerance`), so ``reduction="sum"`` over :math:`N` samples
    allows :math:`N` times as much: Keras' ``log_cosh`` subtracts a float32
    :math:`\log 2` (off by 1.9e-9) from every element even in float64, and a
    sum adds those offsets up.

    >>> import numpy as np
    >>> y_true = np.zeros((40, 1))
    >>> y_pred = np.linspace(-2.0, 2.0, 40).reshape(-1, 1)
    >>> print(compare_class("LogCosh", y_true, y_pred, reduction="sum"))
    LogCosh(reduction='sum') vs keras.losses.LogCosh (float64, tensorflow backend)
      value:    OK (max |difference| within rtol=1e-09, atol=5e-09)
    """
    keras = _keras()
    backend = keras.backend.backend()
    y_true, y_pred, dtype = _prepare(
        class_name, y_true, y_pred, dtype or _default_dtype(backend)
    )
    value_tol, _ = _tolerances(np.dtype(dtype))
    our_loss = getattr(our_losses, class_name)(dtype=dtype, **config)
    ours = our_loss(y_true, y_pred, sample_weight=sample_weight)
    keras_loss = getattr(keras.losses, class_name)(dtype=dtype, **config)
    convert = keras.ops.convert_to_tensor
    theirs = keras_loss(
        convert(y_true),
        convert(y_pred),
        sample_weight=None if sample_weight is None else convert(sample_weight),
    )
    allowed = _reduced_tolerance(our_loss, y_true, y_pred, sample_weight, *value_tol)
    value_ok, value_error = _agreement(
        ours, keras.ops.convert_to_numpy(theirs), 0.0, allowed
    )
    weighted = "" if sample_weight is None else ", weighted"
    description = (
        f"{_describe(class_name, config)} vs keras.losses.{class_name} "
        f"({dtype}, {backend} backend{weighted})"
    )
    return Verdict(
        description,
        value_ok,
        value_error,
        value_tol,
        notes=_dtype_notes(backend, dtype),
    )
