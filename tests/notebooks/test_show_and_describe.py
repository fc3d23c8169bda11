"""``show()`` (the library's code in a notebook) and ``describe()`` (a figure's alt text)."""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_lib import gradients, losses  # noqa: E402
from course_lib.losses import numerics  # noqa: E402
from course_lib.notebook import SourceView, docstring_markdown, maths_helpers, show  # noqa: E402
from course_lib.plotting import describe  # noqa: E402

PUBLIC = [
    value
    for module in (losses, gradients)
    for name, value in sorted(vars(module).items())
    if not name.startswith("_") and inspect.isfunction(value) and value.__module__.startswith("course_lib.")
]


def test_a_thin_wrapper_is_followed_to_the_helpers_that_hold_its_formula():
    assert maths_helpers(losses.binary_crossentropy) == [
        numerics.bce_from_logits,
        numerics.bce_from_probabilities,
    ]
    markdown = SourceView(losses.binary_crossentropy)._repr_markdown_()
    assert "np.log1p(np.exp(-np.abs(z)))" in markdown  # the stable formula itself
    assert "The formula is in the helpers it calls" in markdown


def test_public_helpers_are_followed_but_not_public_losses_or_input_checks():
    from course_lib.gradients import metric_learning as grad_ml
    from course_lib.losses import metric_learning

    # numerics and a family's own helpers (public, not in __all__) are followed
    assert maths_helpers(gradients.triplet) == [
        numerics.squared_distances,
        grad_ml.triplet_coefficients,
        grad_ml.through_squared_distances,
    ]
    assert metric_learning.batch_hard in maths_helpers(losses.triplet)
    # contrastive's gradient calls the public loss: a loss is not a helper
    assert maths_helpers(gradients.contrastive) == []
    # the input checks (check_*, as_*) are not maths
    names = [helper.__name__ for helper in maths_helpers(losses.circle)]
    assert names == ["circle_logits", "logsumexp"]


def test_a_function_that_holds_its_formula_is_shown_alone():
    assert maths_helpers(losses.mean_squared_error) == []
    view = SourceView(losses.mean_squared_error)
    assert repr(view) == inspect.getsource(losses.mean_squared_error).rstrip()


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_markdown_has_typeset_maths_and_code_without_the_docstring(function):
    markdown = SourceView(function)._repr_markdown_()
    prose = "".join(markdown.split("```")[::2])  # outside the code blocks
    for raw in (".. math::", ":math:`", "``", ":func:`", "\nParameters\n---", ">>> "):
        assert raw not in prose, f"{raw!r} left in the Markdown of {function.__name__}"
    code = markdown.split("```python\n", 1)[1].split("\n```", 1)[0]
    assert code.startswith(("def ", "@")), code[:80]
    assert '"""' not in code, "the docstring is rendered above the code, not repeated in it"
    if ":math:" in (function.__doc__ or ""):
        assert "$" in markdown


def test_docstring_false_shows_the_code_alone():
    markdown = SourceView(losses.huber, docstring=False)._repr_markdown_()
    assert markdown.startswith("```python\n@validates_options(delta=check_non_negative)\ndef huber(")
    assert "$" not in markdown.split("```")[0]


def test_notes_are_kept_and_reference_sections_dropped():
    doc = """Summary :math:`a`.

    Parameters
    ----------
    x : int
        Ignored here.

    Notes
    -----
    .. math:: b = c
    """
    assert docstring_markdown(doc) == "Summary $a$.\n\n**Notes.**\n\n$$b = c$$"


def test_outside_a_notebook_show_prints_the_plain_source(capsys):
    show(losses.binary_crossentropy)
    printed = capsys.readouterr().out
    assert printed.startswith("@validates_options(**CROSSENTROPY_OPTIONS)\ndef binary_crossentropy(")
    assert "def bce_from_logits(" in printed  # the helpers follow the function


def test_describe_puts_the_description_in_the_png_alt_text_and_the_plain_text():
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot(np.arange(3), np.arange(3))
    data, metadata = describe(figure, "A rising  line\n from 0 to 2.")._repr_mimebundle_()
    plt.close(figure)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert metadata == {"image/png": {"alt": "A rising line from 0 to 2."}}
    assert data["text/plain"] == "Figure: A rising line from 0 to 2."


@pytest.mark.parametrize(
    ("figure", "description", "error"),
    [("not a figure", "text", TypeError), (None, "text", TypeError), ("figure", "  \n", ValueError)],
)
def test_describe_rejects_what_is_not_a_figure_or_a_description(figure, description, error):
    import matplotlib.pyplot as plt

    real = plt.figure()
    plt.close(real)
    with pytest.raises(error, match="figure must|description must"):
        describe(real if figure == "figure" else figure, description)


def test_a_helper_displayed_once_is_named_not_repeated(capsys):
    from course_lib import notebook

    notebook._SHOWN.clear()
    show(losses.binary_crossentropy)
    first = capsys.readouterr().out
    show(losses.binary_focal_crossentropy)
    second = capsys.readouterr().out
    notebook._SHOWN.clear()
    assert "def bce_from_logits(" in first
    assert "def bce_from_logits(" not in second
    assert "It also calls `bce_from_logits`" in second and "displayed above" in second
