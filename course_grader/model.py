"""The instructor's half of a graded task: the reference answer, the hidden cases and what is forbidden.

:class:`~course_lib.grading.model.Case` stays in the learner package (the
public self-check needs it); :class:`Task` and :class:`Mistake` live here
because they hold what a learner must not have: the reference that computes
the right answer, the hidden cases and the wrong variants.

``forbidden`` patterns are regular expressions (matched with :func:`re.search`)
over the names that the grader records while a submission runs:

* a Python function call as ``"<module>.<qualified name>"``, e.g.
  ``"keras.src.losses.losses.huber"`` or
  ``"tensorflow.python.eager.backprop.GradientTape.__init__"``;
* a C function call as ``"<fn.__module__>.<fn.__qualname__>"``;
* an import as ``"import <module>"``, e.g. ``"import sklearn.metrics"``.

The learner's own code runs as ``__main__``, so every pattern is anchored at
the start of a library's name and can never match the learner's ``def``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from course_lib.grading.model import Case

__all__ = [
    "AUTODIFF",
    "COURSE_LIBRARY",
    "Case",
    "Mistake",
    "Task",
    "forbid",
    "library_function",
    "seeded_case",
    "seeded_cases",
]

#: The course's own implementations: ``course_lib`` except the learner-facing
#: ``course_lib.grading`` (self-check, ``task_data``) and ``course_lib.notebook`` (``setup``, ``fmt``).
COURSE_LIBRARY = (r"^(import )?course_lib\b(?!\.(grading|notebook)\b)",)

#: Automatic (or library) differentiation, forbidden in every gradient task: the
#: entry points of each Keras backend's autodiff (TensorFlow's tapes, ``jax.grad`` and
#: its kin, ``torch.autograd``, ``Tensor.backward`` and ``torch.func``) and the
#: ``autograd`` package.  Only the entry points: on the JAX or PyTorch backend Keras
#: itself calls ``jax`` and ``torch`` all the time, as it calls TensorFlow on its own.
AUTODIFF = (
    r"^tensorflow\.python\.eager\.backprop\.GradientTape\b",
    r"^tensorflow\.python\.eager\.forwardprop\.ForwardAccumulator\b",
    r"^tensorflow\.python\.ops\.gradients_impl\.",
    r"^jax\._src\.api\.(grad|value_and_grad|vjp|jvp|jacfwd|jacrev|hessian|linearize)\b",
    r"^torch\.autograd\.(grad|backward|functional)\b",
    r"^torch\._tensor\.Tensor\.backward\b",
    r"^torch\.(func|_functorch)\.",
    r"^(import )?autograd\b",
)


#: The libraries whose functions :func:`library_function` names.
LIBRARIES = r"(keras|tensorflow|tensorflow_addons|tf_keras|sklearn|scipy|torch|jax)"


def library_function(*names: str) -> str:
    r"""A pattern for any library function or class (Keras, TensorFlow, scikit-learn, ...) named ``names``.

    ``names`` are regular expressions for one part of a dotted name (``r"ctc\w*"``).

    ``library_function("huber", "Huber")`` matches
    ``keras.src.losses.losses.huber`` and ``keras.src.losses.losses.Huber.__init__``
    but not ``__main__.huber``.
    """
    return rf"^{LIBRARIES}\.\S*?\b({'|'.join(names)})\b"


def forbid(*patterns: str, autodiff: bool = False) -> tuple[str, ...]:
    r"""A task's ``forbidden`` tuple: the course's own code, autodiff if ``autodiff``, then ``patterns``.

    Every task forbids :data:`COURSE_LIBRARY`; a gradient task also forbids
    :data:`AUTODIFF`; ``patterns`` add what this task asks the learner to
    write themselves, e.g. ``forbid(library_function("huber", "Huber"))``.

    >>> forbid(r"^(import )?scipy\b") == (*COURSE_LIBRARY, r"^(import )?scipy\b")
    True
    >>> forbid(autodiff=True) == (*COURSE_LIBRARY, *AUTODIFF)
    True
    """
    return (*COURSE_LIBRARY, *(AUTODIFF if autodiff else ()), *patterns)


def seeded_cases(
    seed: int, make: Callable[..., Case], specs: Iterable[tuple], **shared: Any
) -> tuple[Case, ...]:
    """One :class:`Case` per spec, ``make(rng, *spec, **shared)``, all drawn in order from one generator.

    ``rng = np.random.default_rng(seed)`` is shared by the cases: the first
    spec's draws come first, so a case's data depends on the seed and on the
    specs before it.  Changing either changes the hidden cases (and, for
    public cases, the stored public checks: rerun ``course-exercises``).

    >>> def noise(rng, n, scale=1.0):
    ...     return Case(f"{n} values", (scale * rng.normal(size=n),))
    >>> [case.label for case in seeded_cases(0, noise, [(2,), (3,)], scale=2.0)]
    ['2 values', '3 values']
    """
    rng = np.random.default_rng(seed)
    return tuple(make(rng, *spec, **shared) for spec in specs)


def seeded_case(seed: int, make: Callable[..., Case], *args: Any, **kwargs: Any) -> Case:
    """The case ``make(np.random.default_rng(seed), *args, **kwargs)``: :func:`seeded_cases` of one spec."""
    return seeded_cases(seed, make, [args], **kwargs)[0]


@dataclass(frozen=True)
class Mistake:
    """A recognisable wrong answer: if the learner's output matches ``wrong``, say ``message``.

    ``public=False`` keeps the mistake out of the learner's stored self-check
    (it is still recognised when graded): for a value task's mistake that is a
    fixed, stated transform of the answer ("1 minus the right answer"), where
    finding the wrong value would give the right one.
    """

    message: str
    wrong: Callable[..., Any]
    public: bool = True


@dataclass(frozen=True)
class Task:
    """A graded task.

    Parameters
    ----------
    task_id : str
        ``"NN.k"``: chapter ``NN``, task ``k``.
    title : str
        Shown in feedback.
    answer : str
        Name of the function or variable the learner defines.
    reference : callable or value
        For ``kind="function"`` a function with the learner's signature; for
        ``kind="value"`` the right value.
    public, hidden : tuple of Case
        Inputs for the self-check (public) and, additionally, for grading (hidden).
    kind : {"function", "value"}
    backend : {"numpy", "keras"}
        ``"keras"`` passes the inputs to the learner's function as tensors (a
        Keras custom loss) and converts the result back.
    rtol, atol : float
        Tolerance of the comparison.
    mistakes : tuple of Mistake
        Checked in order when an output is wrong.
    forbidden : tuple of str
        Regular expressions (:func:`re.search`) over the qualified names of the
        functions a submission calls and the modules it imports while it runs
        (see the module docstring for their form), e.g.
        ``r"^keras\\.src\\.losses\\.losses\\.huber\\b"``.  Any match, anywhere in
        the submission's run, flags the task: the library's own implementation
        of what the task asks to write, or autodiff in a gradient task.  A
        pattern here must not match anything a legitimate solution of any
        task of the same notebook calls.  Build it with :func:`forbid`, which
        puts :data:`COURSE_LIBRARY` (and, for a gradient task, :data:`AUTODIFF`) first.
    forbidden_in_answer : tuple of str
        Patterns of the same form that apply only to the calls made while
        this task's own answer cell runs and while its answer is evaluated:
        what another task of the same notebook legitimately uses (e.g.
        ``keras.losses.ctc`` in 08.4) but this task must not (08.1).
    """

    task_id: str
    title: str
    answer: str
    reference: Any
    public: tuple[Case, ...] = ()
    hidden: tuple[Case, ...] = ()
    kind: Literal["function", "value"] = "function"
    backend: Literal["numpy", "keras"] = "numpy"
    rtol: float = 1e-5
    atol: float = 1e-7
    mistakes: tuple[Mistake, ...] = ()
    forbidden: tuple[str, ...] = ()
    forbidden_in_answer: tuple[str, ...] = ()

    def cases(self, hidden: bool) -> tuple[Case, ...]:
        """The public cases, followed by the hidden ones if ``hidden``."""
        return self.public + self.hidden if hidden else self.public
