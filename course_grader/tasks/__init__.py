"""The registry of graded tasks, one module per chapter (``chNN.py``).

``TASKS["02.1"]`` is the first task of chapter 02.  Each chapter module
defines a tuple ``TASKS`` of :class:`~course_grader.model.Task`; the data
that its value tasks ask about comes from the learner's
``course_lib.grading.tasks.chNN.task_data``.
"""

from __future__ import annotations

import pkgutil
import re
from importlib import import_module

from course_grader.model import Task

#: Every ``chNN`` module in this package, found on disk (no list to keep in sync).
CHAPTERS = tuple(
    sorted(module.name for module in pkgutil.iter_modules(__path__) if re.fullmatch(r"ch\d\d", module.name))
)


def _collect() -> dict[str, Task]:
    registry: dict[str, Task] = {}
    for chapter in CHAPTERS:
        for task in import_module(f"{__name__}.{chapter}").TASKS:
            if task.task_id in registry:
                raise RuntimeError(f"task {task.task_id} is defined twice")
            registry[task.task_id] = task
    return registry


TASKS: dict[str, Task] = _collect()
