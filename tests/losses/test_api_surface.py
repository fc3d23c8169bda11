"""course_lib.losses mirrors the public surface of keras.losses (Keras 3.15.1), and
course_lib.gradients has a gradient with the same signature for every loss."""

from __future__ import annotations

import inspect
import subprocess
import sys

import keras
import pytest
from loss_cases import parameters

import course_lib.gradients as G
import course_lib.losses as L
import course_lib.losses as losses  # the name the last test uses
from course_lib.gradients import metric_learning as GM
from course_lib.gradients import sequence as GS
from course_lib.losses import metric_learning as M
from course_lib.losses import sequence as S

KERAS_CLASSES = sorted(
    name for name, obj in vars(keras.losses).items()
    if isinstance(obj, type) and issubclass(obj, keras.losses.Loss) and name != "Loss"
)  # fmt: skip
KERAS_FUNCTIONS = sorted(
    name for name, obj in vars(keras.losses).items()
    if inspect.isfunction(obj) and name not in {"get", "serialize", "deserialize"}
)  # fmt: skip


def test_keras_has_the_22_losses_the_course_covers():
    assert len(KERAS_CLASSES) == 22 and len(KERAS_FUNCTIONS) == 22


def _parameters(callable_) -> list[tuple[str, object]]:
    signature = inspect.signature(callable_)
    return [
        (p.name, p.default)
        for p in signature.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


@pytest.mark.parametrize("name", KERAS_CLASSES)
def test_class_has_keras_constructor_signature(name):
    ours = getattr(L, name)
    assert issubclass(ours, L.Loss)
    assert _parameters(ours.__init__) == _parameters(getattr(keras.losses, name).__init__)


@pytest.mark.parametrize("name", KERAS_FUNCTIONS)
def test_function_has_keras_signature(name):
    assert _parameters(getattr(L, name)) == _parameters(getattr(keras.losses, name))


@pytest.mark.parametrize("name", KERAS_FUNCTIONS)
def test_every_loss_has_a_gradient_with_the_same_signature(name):
    assert _parameters(getattr(G, name)) == _parameters(getattr(L, name))


@pytest.mark.parametrize("name", KERAS_CLASSES)
def test_default_name_matches_keras(name):
    keras_name = getattr(keras.losses, name)().name if name != "CategoricalGeneralizedCrossEntropy" else None
    if keras_name is not None:
        assert getattr(L, name)().name == keras_name


@pytest.mark.parametrize(
    "alias", ["mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE"]
)
def test_keras_string_aliases_resolve_to_the_same_loss(alias):
    assert L.get(alias).__name__ == keras.losses.get(alias).__name__
    assert getattr(L, alias) is L.get(alias)


KERAS_GET_CANNOT_RESOLVE = {"categorical_generalized_cross_entropy", "CategoricalGeneralizedCrossEntropy"}


@pytest.mark.parametrize(
    "identifier", sorted(set(KERAS_FUNCTIONS + KERAS_CLASSES) - KERAS_GET_CANNOT_RESOLVE)
)
def test_get_resolves_every_keras_identifier(identifier):
    ours, theirs = L.get(identifier), keras.losses.get(identifier)
    if isinstance(theirs, keras.losses.Loss):
        assert type(ours).__name__ == type(theirs).__name__
    else:
        assert ours.__name__ == theirs.__name__


@pytest.mark.parametrize("identifier", sorted(KERAS_GET_CANNOT_RESOLVE))
def test_get_resolves_the_loss_that_keras_registry_forgets(identifier):
    """Deviation: Keras 3.15's `get` cannot resolve the generalised cross-entropy by name."""
    with pytest.raises(ValueError, match="Could not interpret"):
        keras.losses.get(identifier)
    resolved = L.get(identifier)
    if identifier[0].isupper():
        assert isinstance(resolved, L.CategoricalGeneralizedCrossEntropy) and resolved.q == 0.5
    else:
        assert resolved is L.categorical_generalized_cross_entropy


@pytest.mark.parametrize("identifier", ["logcosh", "kullback_leibler_divergence", "huber_loss"])
def test_get_rejects_what_keras_rejects(identifier):
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        keras.losses.get(identifier)
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        L.get(identifier)


def test_importing_course_lib_does_not_import_tensorflow():
    code = (
        "import sys, course_lib, course_lib.losses, course_lib.gradients, course_lib.compare\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


OUR_FUNCTIONS = sorted(name for name, obj in L.ALL_LOSSES.items() if inspect.isfunction(obj))


@pytest.mark.parametrize("name", OUR_FUNCTIONS)
def test_every_course_lib_loss_has_a_gradient_with_the_same_signature(name):
    """Also the losses Keras lacks (metric learning, soft F-beta, SSIM, ...)."""
    assert _parameters(getattr(G, name)) == _parameters(getattr(L, name))


@pytest.mark.parametrize("name", sorted(n for n, o in L.ALL_LOSSES.items() if isinstance(o, type)))
def test_every_class_is_a_thin_wrapper_with_a_default_construction(name):
    loss = getattr(L, name)()
    assert isinstance(loss, L.LossFunctionWrapper) and loss.fn.__name__ in OUR_FUNCTIONS


# The metric-learning and sequence modules: their gradients' signatures and their exports.
def test_gradient_signatures_match_losses_and_exports():
    assert parameters(GM.circle) == parameters(M.circle)
    assert parameters(GS.ctc) == parameters(S.ctc)
    assert {"Circle", "circle"} <= set(M.__all__) and "circle" in GM.__all__
    # every metric-learning loss function has its gradient (the family grew beyond Keras' circle)
    assert {name for name in M.__all__ if name.islower()} == set(GM.__all__)
    assert sorted(S.__all__) == ["CTC", "ctc"] and GS.__all__ == ["ctc"]
    assert isinstance(losses.get("Circle"), M.Circle) and losses.get("ctc") is S.ctc
