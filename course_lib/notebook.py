"""Small conveniences for the course notebooks (no TensorFlow here).

Every notebook starts with::

    from course_lib.notebook import setup, show
    setup()

``setup`` must run before anything imports TensorFlow: it silences
TensorFlow's C++ start-up logs and switches oneDNN off, so that every
machine -- a learner's laptop, CI, nbval -- computes the same low-order bits
and prints the same numbers.
"""

from __future__ import annotations

import ast
import inspect
import os
import random
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Environment that keeps TensorFlow quiet and its float results reproducible.
#: Level 3 also hides C++ log lines of level ERROR that this TensorFlow build
#: prints during ``fit`` on NumPy arrays
#: (``node_def_util.cc ... use_unbounded_threadpool``), which are harmless;
#: Python exceptions are unaffected.  Without oneDNN the float results no
#: longer depend on the CPU's vector extensions.
TF_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}

#: Environment for Python processes that run beside each other on few cores: the
#: backends of ``%%on_each_backend``, the kernels of ``scripts/notebooks.py`` and of
#: the test suite, and the grader's sandboxed children.  PyTorch runs its CPU
#: operations on OpenMP threads (GNU libgomp), which busy-wait for a while before
#: they sleep; training runs many short parallel regions, so they rarely sleep.  Two
#: PyTorch kernels training at once on two cores then spin against each other:
#: notebook 04 beside notebook 12 took 812 s instead of 116 s alone, and 155 s with
#: ``PASSIVE`` (sleep at once).  How threads wait changes no number a notebook
#: prints.  :func:`shared_cpu_environment` keeps a value the user set; the grader
#: does not (its children get only its own list).
SHARED_CPU_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}


def shared_cpu_environment() -> dict[str, str]:
    """:data:`SHARED_CPU_ENVIRONMENT`, with any value the user already set instead."""
    return {
        key: os.environ.get(key, value) for key, value in SHARED_CPU_ENVIRONMENT.items()
    }


def quiet_tensorflow() -> None:
    """Set :data:`TF_ENVIRONMENT` (without overriding what the user set); call before
    importing TF."""
    for key, value in TF_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def setup(seed: int = 0) -> None:
    """Prepare a notebook: quiet TensorFlow, seed NumPy and ``random``, set plot
    defaults, and register the cell magics ``%%on_each_backend`` and ``%%only_on``
    (:mod:`course_lib.backends`).

    Raises ``RuntimeError`` if TensorFlow was imported first, because then its
    settings can no longer change.
    """
    if "tensorflow" in sys.modules and any(
        os.environ.get(key) != value for key, value in TF_ENVIRONMENT.items()
    ):
        raise RuntimeError(
            "call setup() before importing tensorflow or keras (restart the kernel)."
        )
    os.environ.update(TF_ENVIRONMENT)
    _SHOWN.clear()
    random.seed(seed)
    np.random.seed(seed)
    np.set_printoptions(precision=4, suppress=True)
    _register_magics()
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"figure.figsize": (7.0, 3.5), "figure.dpi": 90, "axes.grid": True}
    )


def _register_magics() -> None:
    """``%%on_each_backend`` and ``%%only_on``, when running in IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from course_lib.backends import register_magics

        register_magics(shell)


def fmt(values: Any, digits: int = 4) -> str:
    """Numbers (a scalar, an array, a tensor) as text with a fixed number of decimals.

    Printing at a stated precision keeps notebook outputs identical from run to
    run and machine to machine; ``-0.0`` prints as ``0.0``.

    >>> fmt(2 / 3), fmt([0.5, -0.0], digits=2)
    ('0.6667', '[0.50 0.00]')
    """
    if callable(getattr(values, "detach", None)):  # a PyTorch tensor, maybe with grad
        values = values.detach().cpu()
    array = np.asarray(values, dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.array2string(
        array, precision=digits, floatmode="fixed", suppress_small=True
    )


# --------------------------------------------------------------------------------------
# show(): the library's code in a notebook
# --------------------------------------------------------------------------------------

#: numpydoc sections that :func:`docstring_markdown` leaves out (``Notes`` is kept:
#: it holds maths).
_REFERENCE_SECTIONS = (
    "Parameters",
    "Returns",
    "Yields",
    "Raises",
    "Examples",
    "See Also",
    "References",
)
_MATH_BLOCK = re.compile(
    r"^\.\. math::[ \t]*(.*(?:\n(?:[ \t]+.*|[ \t]*)$)*)", re.MULTILINE
)
_ROLE = re.compile(r":(?:func|class|data|meth|attr|mod):`~?([^`]+)`")


def _narrative_lines(doc: str) -> list[str]:
    """The docstring's lines without its reference sections (a heading underlined by
    dashes) and without doctest examples."""
    kept: list[str] = []
    lines = inspect.cleandoc(doc).splitlines()
    keeping, index = True, 0
    while index < len(lines):
        heading = lines[index].strip()
        if (
            index + 1 < len(lines)
            and heading
            and set(lines[index + 1].strip()) == {"-"}
        ):
            keeping = heading not in _REFERENCE_SECTIONS
            if keeping:
                kept += [f"**{heading}.**", ""]
            index += 2
            continue
        if heading.startswith(">>>"):  # a doctest example, up to the next blank line
            while index < len(lines) and lines[index].strip():
                index += 1
            continue
        if keeping:
            kept.append(lines[index])
        index += 1
    return kept


def docstring_markdown(doc: str) -> str:
    r"""A numpydoc docstring's narrative and ``Notes`` as Markdown, for a notebook.

    ``.. math::`` blocks become ``$$ ... $$`` display math, ``:math:`x``` becomes
    ``$x$``, other roles and ````code```` become code spans; the reference
    sections (``Parameters``, ``Examples``, ...) are left out.

    >>> doc = ("Squared error :math:`e^2`.\n\n.. math:: \\ell = e^2\n\n"
    ...        "Parameters\n----------")
    >>> print(docstring_markdown(doc))
    Squared error $e^2$.
    <BLANKLINE>
    $$\ell = e^2$$
    """

    def display_math(match: re.Match) -> str:
        body = " ".join(
            line.strip() for line in match.group(1).splitlines() if line.strip()
        )
        return f"$${body}$$\n\n"

    text = _MATH_BLOCK.sub(display_math, "\n".join(_narrative_lines(doc)))
    text = re.sub(r":math:`([^`]+)`", r"$\1$", text)
    text = _ROLE.sub(r"`\1`", text).replace("``", "`")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _without_docstring(source: str) -> str:
    """``source`` (one ``def`` or ``class``) with its docstring's lines removed."""
    source = textwrap.dedent(source)
    node = ast.parse(source).body[0]
    body = getattr(node, "body", [])
    if not (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        return source.rstrip()
    if not isinstance(body[0].value.value, str):
        return source.rstrip()
    lines = source.splitlines()
    first, last = body[0].lineno - 1, body[0].end_lineno
    return "\n".join(lines[:first] + lines[last:]).rstrip()


def _has_math(obj: Any) -> bool:
    doc = inspect.getdoc(obj) or ""
    return ":math:`" in doc or ".. math::" in doc


def _is_helper(function: Callable) -> bool:
    """A ``course_lib`` function that is not one of its module's public losses or
    gradients: a function of :mod:`course_lib.losses.numerics`, or any function its
    module leaves out of ``__all__`` (private helpers included), except the input
    checks ``check_*`` and converters ``as_*``."""
    module_name = getattr(function, "__module__", "") or ""
    if not module_name.startswith("course_lib."):
        return False
    if module_name == "course_lib.losses.numerics":
        return True
    if function.__name__.startswith(("check_", "as_")):
        return False  # input validation, not maths
    public = getattr(sys.modules.get(module_name), "__all__", ())
    return function.__name__ not in public


def maths_helpers(obj: Any) -> list[Callable]:
    """The ``course_lib`` helper functions that ``obj`` calls and that document a
    formula.

    A public loss is often a thin wrapper: it validates its inputs, then calls a
    helper such as :func:`course_lib.losses.numerics.bce_from_logits` that holds the
    formula.  A helper is a function of :mod:`course_lib.losses.numerics`, or one
    its module does not export in ``__all__`` (a public loss called by another is
    not a helper; nor is an input check ``check_*`` or converter ``as_*``).  These
    are the helpers :func:`show` shows after the function, in the order they are
    first called.
    """
    if not inspect.isfunction(obj):
        return []
    obj = inspect.unwrap(obj)  # a loss decorated by validates_options
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):
        return []
    found: list[Callable] = []
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "unchecked"
            and isinstance(func.value, ast.Name)
        ):
            func = func.value  # ``ssim.unchecked(...)`` runs the code of ``ssim``
        name = func.id if isinstance(func, ast.Name) else None
        helper = obj.__globals__.get(name) if name else None
        if (
            inspect.isfunction(helper)
            and helper is not obj
            and _is_helper(helper)
            and helper not in found
            and _has_math(helper)
        ):
            found.append(helper)
    return found


#: Qualified names of the functions :func:`show` has displayed since :func:`setup`:
#: a helper shown once is named, not repeated, under the next function that calls it.
_SHOWN: set[str] = set()


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"


@dataclass(frozen=True)
class SourceView:
    """What :func:`show` displays: ``obj``'s code, its docstring's maths, and its
    maths helpers.

    A notebook renders the Markdown form (the docstring's narrative as Markdown
    with typeset formulas, then the code without its docstring); plain-text
    front ends, and nbval, see the exact source code.
    """

    obj: Any
    docstring: bool = True
    #: qualified names of helpers displayed earlier: named, not repeated
    shown_before: frozenset[str] = frozenset()

    def _helpers(self) -> tuple[list[Callable], list[Callable]]:
        """The maths helpers to display, and those only to name (displayed earlier)."""
        helpers = maths_helpers(self.obj)
        earlier = [
            helper for helper in helpers if _qualified(helper) in self.shown_before
        ]
        return [helper for helper in helpers if helper not in earlier], earlier

    def _earlier_note(self, earlier: list[Callable]) -> str:
        names = ", ".join(f"`{helper.__name__}`" for helper in earlier)
        return f"It also calls {names}, displayed above."

    def _repr_markdown_(self) -> str:
        new, earlier = self._helpers()
        blocks = []
        for number, part in enumerate([self.obj, *new]):
            if number == 1:
                blocks.append("The formula is in the helpers it calls:")
            if number >= 1:
                blocks.append(f"**`{part.__name__}`** (in `{part.__module__}`)")
            doc = inspect.getdoc(part)
            if self.docstring and doc:
                blocks.append(docstring_markdown(doc))
            blocks.append(
                f"```python\n{_without_docstring(inspect.getsource(part))}\n```"
            )
        if earlier:
            blocks.append(self._earlier_note(earlier))
        return "\n\n".join(blocks)

    def __repr__(self) -> str:
        new, earlier = self._helpers()
        text = inspect.getsource(self.obj).rstrip()
        if new:
            text += "\n\n# The formula is in the helpers it calls:\n\n"
            text += "\n\n".join(inspect.getsource(helper).rstrip() for helper in new)
        if earlier:
            text += f"\n\n# {self._earlier_note(earlier)}"
        return text


def show(obj: Any, *, docstring: bool = True) -> None:
    """Show the source code of a ``course_lib`` function or class in a notebook.

    Notebooks show the library's real code this way instead of keeping a
    second copy of it.  In a notebook the docstring's maths is rendered as
    Markdown above the code (``docstring=False`` leaves it out; ``help(obj)``
    prints it), and where the function is a thin wrapper, the helpers
    that hold its formula follow it (see :func:`maths_helpers`); a helper that
    an earlier ``show`` already displayed is named instead of repeated.  Outside
    a notebook the plain source code is printed.

    >>> from course_lib.losses import mean_squared_error
    >>> show(mean_squared_error)  # doctest: +ELLIPSIS
    def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    ...
    """
    view = SourceView(obj, docstring=docstring, shown_before=frozenset(_SHOWN))
    _SHOWN.update(_qualified(part) for part in [obj, *maths_helpers(obj)])
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: no rich display
        get_ipython = None  # noqa: N806
    if get_ipython is not None and get_ipython() is not None:
        from IPython.display import display

        display(view)
    else:
        print(repr(view))
