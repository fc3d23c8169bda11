"""Options are declared once per loss (``validates_options``) and checked once per
call path: by a direct call of the function, or once by the class' constructor."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import course_lib.gradients as gradients
import course_lib.losses as losses
from course_lib.losses import _validation
from course_lib.losses._base import LossFunctionWrapper
from course_lib.sample_inputs import sample_inputs

CLASSES = sorted(losses.CLASS_OF_FUNCTION.items())


def _options(cls):
    """The loss options of a class' constructor (everything but name/reduction/dtype)."""
    skip = {"self", "name", "reduction", "dtype"}
    return [name for name in inspect.signature(cls.__init__).parameters if name not in skip]


@pytest.mark.parametrize(("function", "class_name"), CLASSES)
def test_every_option_of_a_class_is_an_attribute_not_a_lookup(function, class_name):
    cls = getattr(losses, class_name)
    loss = cls(**({"q": 0.5} if function == "categorical_generalized_cross_entropy" else {}))
    assert "__getattr__" not in vars(LossFunctionWrapper)
    for option in _options(cls):
        assert option in vars(loss), f"{class_name}.{option} is not assigned"
        assert loss.get_config()[option] == getattr(loss, option) or option == "window"


@pytest.mark.parametrize(("function", "class_name"), CLASSES)
def test_a_function_with_options_declares_their_checks(function, class_name):
    fn = getattr(losses, function)
    options = _options(getattr(losses, class_name))
    if not options:
        assert not hasattr(fn, "option_checks")
        return
    assert set(fn.option_checks) == set(options)
    assert fn.unchecked is inspect.unwrap(fn)
    gradient = getattr(gradients, function, None)
    if gradient is not None:
        assert gradient.option_checks == fn.option_checks


def test_the_class_checks_its_options_once_and_the_function_on_every_call():
    calls = []
    original = losses.huber.option_checks["delta"]

    def counted(value, name):
        calls.append(name)
        return original(value, name)

    @_validation.validates_options(delta=counted)
    def scaled(y_true, y_pred, delta=1.0):
        return delta * np.mean(np.asarray(y_pred) - y_true, axis=-1)

    y_true, y_pred = np.zeros((4, 2)), np.ones((4, 2))
    loss = LossFunctionWrapper(scaled, delta=2)
    assert calls == ["delta"] and loss.delta == 2.0
    for _ in range(3):
        assert loss(y_true, y_pred) == 2.0
    assert calls == ["delta"]  # the class never checks again
    scaled(y_true, y_pred, 3)
    scaled(y_true, y_pred, delta=3)
    assert calls == ["delta"] * 3  # a direct call checks, positional or keyword


def test_a_bad_option_fails_at_construction_and_on_a_direct_call():
    y_true, y_pred, _ = sample_inputs("huber")
    with pytest.raises(ValueError, match="delta must be >= 0; got -1.0"):
        losses.Huber(delta=-1)
    with pytest.raises(ValueError, match="delta must be >= 0; got -1.0"):
        losses.huber(y_true, y_pred, -1)
    with pytest.raises(ValueError, match="delta must be >= 0; got -1.0"):
        gradients.huber(y_true, y_pred, delta=-1)
    with pytest.raises(TypeError, match="from_logits must be True or False"):
        losses.BinaryFocalCrossentropy(from_logits="no")


def test_a_missing_or_unknown_argument_is_reported_as_python_would():
    with pytest.raises(TypeError, match=r"categorical_generalized_cross_entropy\(\) missing"):
        losses.categorical_generalized_cross_entropy([0], [[0.5, 0.5]])
    with pytest.raises(TypeError, match="unexpected keyword argument 'deltaa'"):
        losses.huber([[0.0]], [[1.0]], deltaa=1.0)


def test_a_check_must_name_a_real_option():
    with pytest.raises(TypeError, match=r"has no options \['margin'\]"):

        @_validation.validates_options(margin=_validation.check_non_negative)
        def plain(y_true, y_pred, delta=1.0):
            return y_pred


def test_check_axis_single_and_several():
    check_axis = _validation.check_axis
    assert check_axis(-1) == -1 and check_axis(-1, ndim=3) == 2
    assert check_axis([0, 2], several=True) == (0, 2)
    assert check_axis(1, several=True) == 1
    assert check_axis(None, several=True) is None
    assert check_axis((0, -1), ndim=3, several=True) == (0, 2)
    with pytest.raises(TypeError, match="axis must be an int; got True of type bool"):
        check_axis(True)
    with pytest.raises(ValueError, match="axis=3 is out of range for an input of rank 3"):
        check_axis(3, ndim=3)
    with pytest.raises(ValueError, match=r"axis=\(0, -3\) repeats an axis"):
        check_axis((0, -3), ndim=3, several=True)
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints"):
        check_axis("1", several=True)
