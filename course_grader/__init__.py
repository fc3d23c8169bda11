"""The instructor's side of the graded exercises: never installed for learners, never seen by a submission.

* :mod:`course_grader.tasks` -- every graded task: its reference answer, its
  hidden cases and what it forbids;
* :mod:`course_grader.grader` -- ``course-grade``, which grades a class in a sandbox;
* :mod:`course_grader.generate` -- ``course-exercises``, which writes ``exercises/``
  from ``solutions/``;
* :mod:`course_grader.release` -- ``course-release``, which writes what learners get.

Learners have :mod:`course_lib.grading` (the public self-check and the
``task_data`` of each chapter); nothing there can compute a graded answer.
"""
