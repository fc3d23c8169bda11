"""The data that a chapter's value tasks ask about:
``from course_lib.grading.tasks.ch02 import task_data``.

One module per chapter that has such a task, each with a public
``task_data()`` and nothing else a learner could grade against: the graded
tasks themselves (references, hidden cases) are the instructor's
(:mod:`course_grader.tasks`).  These modules import only NumPy and the
standard library.
"""
