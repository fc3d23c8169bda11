"""``course-grade`` against a hostile class: every attack costs the attacker, never the class or the host.

One class of chapter 01 (NumPy only, so each child is quick) is graded once:
honest students beside one student per attack.  Each test then checks what
the honest students got, what the attacker got, that the run completed, and
that nothing outside the output folder changed.  The sandbox itself is also
probed from inside, by an instructor cell that the runner does not watch (so
the kernel's answer -- not the audit hook's -- is what is tested), both in a
child forked by the fork server and in one started from scratch.

The tests run as whatever user runs pytest; CI runs them as root, the case
where an escape would matter most.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

import course_grader.grader as grader
from course_grader.grader import Submission, find_submissions, forbidden_uses, grade_class, spreadsheet_safe
from course_grader.sandbox import CgroupRun, Limits, Sandbox, bubblewrap, child_environment, is_root
from course_grader.tasks import TASKS

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "01_fundamentals.ipynb"
FULL_MARKS, POINTS = 10.0, {"01.1": 2.0, "01.2": 3.0, "01.3": 3.0, "01.4": 2.0}

#: On CI (CI set) a missing bubblewrap is a failure, not a skip: these tests must run there, as root.
ON_CI = bool(os.environ.get("CI"))
needs_sandbox = pytest.mark.skipif(bubblewrap() is None and not ON_CI, reason="bubblewrap is not installed")

RISK = """
def empirical_risk(theta, features, y):
    residual = np.asarray(features) @ np.asarray(theta) - np.asarray(y)
    return float(np.mean(residual**2))
"""


def _solution_answers() -> dict[str, str]:
    notebook = nbformat.read(SOLUTION, as_version=4)
    answers = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            lines = [line for line in cell.source.splitlines() if "### " not in line]
            answers[meta["grade_id"]] = "\n".join(lines) + "\n"
    return answers


def _submission(**replace: str) -> nbformat.NotebookNode:
    """The solution with its answer cells (``task1_answer`` ...) replaced, others answered correctly."""
    answers = {**_solution_answers(), **replace}
    notebook = nbformat.read(SOLUTION, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and not cell.metadata["nbgrader"].get("grade"):
            cell.source = answers[grade_id]
    return notebook


def _with_first_cell(code: str) -> nbformat.NotebookNode:
    """A correct submission whose first answer cell also runs ``code`` (before the correct answer)."""
    return _submission(task1_answer=_code(code, _solution_answers()["task1_answer"]))


def _code(*parts: str) -> str:
    """Snippets joined into one cell, each dedented on its own."""
    return "\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"


FORGE = """
import os, base64, json
import numpy as np
def forge(task, case, values):
    data = base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode()
    os.write(3, (json.dumps({"event": "output", "task": task, "case": case, "shape": [],
                             "data": data}) + "\\n").encode())
"""

# -- students, by attack class --------------------------------------------------------------------------


def _hostile_students(tmp: Path) -> dict[str, nbformat.NotebookNode]:
    secret = tmp / "root-only.txt"
    return {
        "solution": _submission(),
        "honest_with_comments": _submission(
            task1_answer=_code("# I did not use course_lib, sklearn or keras.losses.mean_squared_error", RISK)
        ),
        # escape: unmount what hides the host, remount / read-write, plant files
        "escape": _with_first_cell(
            f"""
            for attempt in (
                lambda: __import__("ctypes").CDLL(None).umount2(b"/grading/job", 2),
                lambda: open("/work/main/.venv/lib/python3.11/site-packages/sitecustomize.py", "w"),
                lambda: open({str(tmp / "planted.txt")!r}, "w").write("pwned"),
            ):
                try:
                    attempt()
                except Exception:
                    pass
            """
        ),
        # host read: a root-only file, the repository, the solutions, fed back through an error message
        "host_read": _with_first_cell(
            f"""
            leaked = []
            for path in ({str(secret)!r}, {str(ROOT / ".git" / "HEAD")!r}, {str(SOLUTION)!r}, "/etc/shadow",
                         "/root/.bashrc"):
                try:
                    leaked.append(open(path).read()[:100])
                except OSError:
                    pass
            if leaked:
                raise RuntimeError("LEAKED " + " ".join(leaked))
            """
        ),
        # the reference through introspection, a built import name, the task module's source
        "reference_by_introspection": _submission(
            task1_answer=_code("""
            from course_lib.grading import check
            empirical_risk = check.__globals__["TASKS"]["01.1"].reference
            """)
        ),
        "reference_by_import": _submission(
            task1_answer=_code("""
            import importlib
            empirical_risk = importlib.import_module("course_" + "grader.tasks").TASKS["01.1"].reference
            """)
        ),
        "reference_by_source": _submission(
            task1_answer=_code(f"""
            namespace = {{}}
            exec(open({str(ROOT / "course_grader" / "tasks" / "ch01.py")!r}).read(), namespace)
            empirical_risk = namespace["EMPIRICAL_RISK"].reference
            """)
        ),
        "reference_from_course_lib": _submission(
            task1_answer=_code("""
            from course_lib.losses import mean_squared_error
            def empirical_risk(theta, features, y):
                return float(mean_squared_error(y, features @ theta))
            """)
        ),
        "library_implementation": _submission(
            task1_answer=_code("""
            from sklearn.metrics import mean_squared_error
            def empirical_risk(theta, features, y):
                return mean_squared_error(y, features @ theta)
            """)
        ),
        # a later answer cell rewrites an earlier task's outputs (01.1 answered wrongly)
        "rewrites_earlier_outputs": _submission(
            task1_answer="def empirical_risk(theta, features, y):\n    return 0.0\n",
            task4_answer=_code(
                FORGE,
                "for case in range(6):\n    forge('01.1', case, 1.0)",
                _solution_answers()["task4_answer"],
            ),
        ),
        # malformed messages on the child's pipe
        "malformed_messages": _with_first_cell(
            """
            import os
            huge = b'{"event": "output", "task": "01.2", "case": 0, "shape": [1000000000000], "data": ""}'
            bad_case = b'{"event": "output", "task": "01.2", "case": 99, "shape": [], "data": "AAAAAAAAAAA="}'
            odd = (b'{"event": "evaluated", "task": "nope"}', b'{"event": "used", "name": 5}',
                   b'{"event": "output", "task": "01.2", "case": 0, "shape": [0, 9223372036854775808]}',
                   b'{"event": "refused", "what": "free text the grader must not repeat"}')
            for line in (b'{"task": "01.1", "case": [0]}', b"[" * 99999, b"\\xff\\xfe", huge, bad_case, *odd):
                os.write(3, line + b"\\n")
            """
        ),
        "message_flood": _with_first_cell("import os\nos.write(3, b'x' * (40 * 2**20))\n"),
        "bracket_flood": _with_first_cell("import os\nos.write(3, b'[' + b'[],' * (3 * 2**20) + b']\\n')\n"),
        # hidden inputs copied into exception names and messages, hoping to find them in the feedback
        "leaks_hidden_inputs": _submission(
            task1_answer=_code(
                RISK,
                """
                _honest = empirical_risk
                def empirical_risk(theta, features, y):
                    if len(y) not in (60, 5, 12):  # a hidden case
                        raise type("HIDDEN" + str(np.round(theta, 4).tolist()), (Exception,), {})()
                    return _honest(theta, features, y)
                """,
            ),
            task4_answer=_code(
                _solution_answers()["task4_answer"],
                """
                import glob
                paths = glob.glob("/grading/job/inputs/*.npz")
                leaked = [np.load(path)["arg0"].round(4).tolist() for path in paths]
                raise ValueError("HIDDEN " + str(leaked))
                """,
            ),
        ),
        # the runner's own send() replaced, so that a later cell's forgery is the only answer to 01.1
        "rewrites_through_the_runner": _submission(
            task1_answer=_code(
                """
                import sys
                runner = sys.modules.get("runner") or sys.modules["__main__"]
                _send = runner.send
                runner.send = lambda **message: None if message.get("task") == "01.1" else _send(**message)
                def empirical_risk(theta, features, y):
                    return 0.0
                """
            ),
            task4_answer=_code(
                FORGE,
                """
                import glob
                for path in sorted(glob.glob("/grading/job/inputs/01.1__*.npz")):
                    theta, features, y = (np.load(path)[f"arg{i}"] for i in range(3))
                    forge("01.1", int(path.split("__")[1][:-4]), np.mean((features @ theta - y) ** 2))
                os.write(3, b'{"event": "evaluated", "task": "01.1"}\\n')
                """,
                _solution_answers()["task4_answer"],
            ),
        ),
        "fifo_and_links": _with_first_cell(
            """
            import os
            os.mkfifo("events.jsonl")
            os.symlink("/dev/zero", "outputs")
            """
        ),
        # resources for the submission as a whole
        "shm_memory": _with_first_cell(
            """
            try:
                with open("/dev/shm/hog", "wb") as handle:
                    for _ in range(1600):
                        handle.write(b"x" * 2**20)
            except OSError:
                pass
            """
        ),
        "fork_memory": _with_first_cell(
            """
            import os, time
            children = []
            for _ in range(3):  # each under the per-process limit, together over the submission's
                pid = os.fork()
                if pid == 0:
                    hog = b"x" * (700 * 2**20)
                    time.sleep(5)
                    os._exit(0)
                children.append(pid)
            for pid in children:
                os.waitpid(pid, 0)
            """
        ),
        "fork_bomb": _with_first_cell(
            """
            import os, time
            started = 0
            for _ in range(5000):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    started += 1
                except OSError:
                    break
            """
        ),
        "disk_filling": _with_first_cell(
            """
            for index in range(1024):
                try:
                    with open(f"junk{index}", "wb") as handle:
                        handle.write(b"x" * 2**20)
                except OSError:
                    break
            """
        ),
        "constant_answer": _submission(
            task1_answer="def empirical_risk(theta, features, y):\n    return 1.0\n"
        ),
        "starts_programs": _with_first_cell(
            """
            import subprocess
            try:
                subprocess.run(["/bin/ls", "/"])
            except Exception:
                pass
            """
        ),
        "infinite_loop": _submission(task3_answer="while True:\n    pass\n"),
        "fills_memory": _with_first_cell("hog = b'x' * (4 * 2**30)"),
    }


def _write_odd_submissions(submissions: Path) -> dict[str, str]:
    """Broken and odd files in the submissions folder; returns ``student -> what it is``."""
    good = nbformat.writes(_submission())
    notebook = json.loads(good)
    cell = next(c for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    odd = {}

    def write(name: str, text: str, what: str) -> None:
        (submissions / f"{name}.ipynb").write_text(text)
        odd[name] = what

    broken = json.loads(good)
    for c in broken["cells"]:
        c.pop("cell_type", None)
    write("no_cell_type", json.dumps(broken), "cells without cell_type")
    broken = json.loads(good)
    for c in broken["cells"]:
        c["metadata"]["nbgrader"] = "not a dict"
    write("nbgrader_not_a_dict", json.dumps(broken), "metadata.nbgrader a string")
    broken = json.loads(good)
    for c in broken["cells"]:
        c["source"] = 42
    write("source_a_number", json.dumps(broken), "sources that are numbers")
    write("json_bomb", "[" * 100_000 + "]" * 100_000, "deeply nested JSON")
    write("not_json", "this is not a notebook", "not JSON")
    (submissions / "a_directory.ipynb").mkdir()
    odd["a_directory"] = "a directory"
    os.mkfifo(submissions / "a_fifo.ipynb")
    odd["a_fifo"] = "a FIFO"
    (submissions / "dev_zero.ipynb").symlink_to("/dev/zero")
    odd["dev_zero"] = "a link to /dev/zero"
    (submissions / "links_to_solution.ipynb").symlink_to(SOLUTION)
    odd["links_to_solution"] = "a link to the solutions"
    with open(submissions / "huge.ipynb", "wb") as handle:
        handle.truncate(64 * 2**20)
    odd["huge"] = "64 MB of zeros"
    assert cell  # the fixture notebook has answer cells
    return odd


#: student -> where their notebook lies: nbgrader's submitted/ layout, one folder per student (Moodle).
LAYOUTS = {
    "nbgrader_student": f"nbgrader_student/{SOLUTION.stem}/{SOLUTION.name}",
    "folder_student": "folder_student/handed_in.ipynb",
}
#: student folders in which no single notebook can be graded: each still gets a row of zeros and a note.
UNGRADABLE_FOLDERS = {"empty_folder": [], "two_notebooks": ["first.ipynb", "second.ipynb"]}
ODD_NAMES = ['=HYPERLINK("x")', "+cmd", "@SUM(A1)", "-1", "a" * 240, "new\nline", "élève ü", ".hidden"]


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    if bubblewrap() is None:
        if ON_CI:
            pytest.fail("bubblewrap is not installed on CI (.ci/run installs it)")
        pytest.skip("bubblewrap is not installed")
    tmp = tmp_path_factory.mktemp("hostile")
    secret = tmp / "root-only.txt"
    secret.write_text("TOP SECRET")
    secret.chmod(0o600)
    submissions = tmp / "submissions"
    submissions.mkdir()
    students = _hostile_students(tmp)
    for student, notebook in students.items():
        nbformat.write(notebook, submissions / f"{student}.ipynb")
    odd = _write_odd_submissions(submissions)
    for name in ODD_NAMES:
        nbformat.write(_submission(), submissions / f"{name}.ipynb")
    for layout in LAYOUTS.values():  # honest students in the other layouts the grader reads
        (submissions / layout).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(_submission(), submissions / layout)
    for folder, names in UNGRADABLE_FOLDERS.items():
        (submissions / folder).mkdir()
        for name in names:
            nbformat.write(_submission(), submissions / folder / name)
    before = _snapshot(tmp, ROOT / ".venv")
    limits = Limits(seconds=30, memory_mb=1024, disk_mb=64, processes=128)
    results = grade_class(SOLUTION, submissions, tmp / "out", limits=limits, jobs=2)
    with open(tmp / "out" / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    feedback = {}
    for row in rows:
        feedback[row["student"]] = json.loads((tmp / "out" / "feedback" / row["feedback"]).read_text())
    grades = {feedback[row["student"]]["student"]: row for row in rows}
    feedback = {value["student"]: value for value in feedback.values()}
    return {"tmp": tmp, "results": results, "grades": grades, "feedback": feedback, "odd": odd,
            "before": before, "after": _snapshot(tmp, ROOT / ".venv")}  # fmt: skip


def _snapshot(*folders: Path) -> dict[str, str]:
    """Digest of every regular file under ``folders`` (the output folder excluded)."""
    digests = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if "out" in path.relative_to(folder).parts[:1] or not path.is_file() or path.is_symlink():
                continue
            if path.stat().st_size > 2**20:
                digests[str(path)] = str(path.stat().st_size)
            else:
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _total(hostile_class, student: str) -> float:
    return float(hostile_class["grades"][student]["total"])


def _task(hostile_class, student: str, task_id: str) -> dict:
    return next(t for t in hostile_class["feedback"][student]["tasks"] if t["task_id"] == task_id)


def _notes(hostile_class, student: str) -> str:
    return " ".join(hostile_class["feedback"][student]["notes"])


def _all_feedback_text(hostile_class) -> str:
    return json.dumps(hostile_class["feedback"])


# -- the class as a whole -------------------------------------------------------------------------------


def test_every_student_has_a_row_and_a_feedback_file(hostile_class):
    expected = {*_hostile_students(hostile_class["tmp"]), *hostile_class["odd"], *ODD_NAMES, *LAYOUTS}
    expected |= set(UNGRADABLE_FOLDERS)
    assert set(hostile_class["grades"]) == expected
    assert len(list((hostile_class["tmp"] / "out" / "feedback").iterdir())) == len(expected)


def test_a_folder_without_one_gradable_notebook_gets_a_row_of_zeros_and_says_why(hostile_class):
    assert _total(hostile_class, "empty_folder") == 0.0
    assert "the folder empty_folder holds no notebook" in _notes(hostile_class, "empty_folder")
    assert _total(hostile_class, "two_notebooks") == 0.0
    assert "holds 2 notebooks and no way to tell which to grade" in _notes(hostile_class, "two_notebooks")


def test_two_notebooks_under_one_name_grade_the_first_and_name_the_other(tmp_path):
    (tmp_path / "ada").mkdir()
    for path in ("ada.ipynb", "ada/late.ipynb", "bob.ipynb", ".ipynb_checkpoints/bob-checkpoint.ipynb"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        nbformat.write(_submission(), tmp_path / path)
    found = find_submissions(tmp_path, SOLUTION)
    assert set(found) == {"ada", "bob"}
    assert found["ada"].path == tmp_path / "ada.ipynb"
    assert found["ada"].notes == ("also found, not graded: ada/late.ipynb",)
    assert found["bob"] == Submission(tmp_path / "bob.ipynb")


def test_honest_students_get_full_marks(hostile_class):
    for student in ["solution", "honest_with_comments", *ODD_NAMES, *LAYOUTS]:
        assert _total(hostile_class, student) == FULL_MARKS, hostile_class["feedback"][student]


def test_nothing_outside_the_output_folder_changed(hostile_class):
    assert hostile_class["after"] == hostile_class["before"]
    assert not (hostile_class["tmp"] / "planted.txt").exists()
    site = ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "sitecustomize.py"
    assert not site.exists()


def test_no_secret_from_the_host_reaches_any_output(hostile_class):
    text = _all_feedback_text(hostile_class)
    assert "TOP SECRET" not in text and "LEAKED" not in text and "ref: refs" not in text
    assert "BEGIN SOLUTION" not in text


# -- one test per attack class --------------------------------------------------------------------------


def test_escape_attempts_are_refused_and_cost_nothing_else(hostile_class):
    assert _total(hostile_class, "escape") == FULL_MARKS
    assert "refused: the submission tried to use ctypes" in _notes(hostile_class, "escape")


def test_host_files_are_not_visible(hostile_class):
    assert _total(hostile_class, "host_read") == FULL_MARKS  # nothing was readable, so nothing raised


@pytest.mark.parametrize(
    "student",
    ["reference_by_introspection", "reference_by_import", "reference_by_source", "reference_from_course_lib"],
)
def test_the_reference_is_unreachable(hostile_class, student):
    assert _task(hostile_class, student, "01.1")["score"] == 0.0
    assert _total(hostile_class, student) == FULL_MARKS - POINTS["01.1"]


def test_library_implementations_score_zero_and_say_what_was_used(hostile_class):
    student = "library_implementation"
    task = _task(hostile_class, student, "01.1")
    assert task["score"] == 0.0 and "write it yourself" in " ".join(task["messages"])
    assert _total(hostile_class, student) == FULL_MARKS - POINTS["01.1"]


def test_a_later_cell_cannot_rewrite_an_earlier_task(hostile_class):
    assert _task(hostile_class, "rewrites_earlier_outputs", "01.1")["score"] == 0.0
    assert _total(hostile_class, "rewrites_earlier_outputs") == FULL_MARKS - POINTS["01.1"]


def test_not_even_by_silencing_the_runner_first(hostile_class):
    if "fork server" not in hostile_class["feedback"]["solution"]["sandbox"]:
        pytest.skip("without a fork server one child runs every cell (see the README's limits)")
    assert _task(hostile_class, "rewrites_through_the_runner", "01.1")["score"] == 0.0
    assert _total(hostile_class, "rewrites_through_the_runner") == FULL_MARKS - POINTS["01.1"]


def test_feedback_repeats_no_text_from_the_submission(hostile_class):
    feedback = hostile_class["feedback"]["leaks_hidden_inputs"]
    text = json.dumps(feedback)
    assert "HIDDEN" not in text
    hidden = TASKS["01.1"].hidden[0].args[0]  # theta of the first hidden case
    assert not any(f"{value:.4f}"[:-1] in text for value in np.ravel(hidden))
    assert "raised an exception" in text  # the exception class named after the hidden inputs
    assert _total(hostile_class, "leaks_hidden_inputs") == FULL_MARKS - POINTS["01.1"] / 2  # 3 of 6 cases
    assert "free text" not in _all_feedback_text(hostile_class)


@pytest.mark.parametrize("student", ["malformed_messages", "fifo_and_links", "bracket_flood"])
def test_malformed_messages_and_files_are_ignored(hostile_class, student):
    assert _total(hostile_class, student) == FULL_MARKS, hostile_class["feedback"][student]


def test_malformed_messages_are_counted(hostile_class):
    assert "malformed message(s) from the submission were ignored" in _notes(
        hostile_class, "malformed_messages"
    )


def test_a_message_flood_is_capped(hostile_class):
    assert "more than 32 MB" in _notes(hostile_class, "message_flood")
    assert _total(hostile_class, "message_flood") < FULL_MARKS


@pytest.mark.parametrize("student", ["shm_memory", "disk_filling", "fork_bomb"])
def test_whole_submission_limits_hold_without_stopping_it(hostile_class, student):
    assert _total(hostile_class, student) == FULL_MARKS, hostile_class["feedback"][student]


def test_forked_memory_is_capped_for_the_submission_as_a_whole(hostile_class):
    probe = CgroupRun.create()
    if probe is None:
        pytest.skip("no cgroup here: memory is capped per process only")
    probe.remove()
    assert "reached its memory limit" in _notes(hostile_class, "fork_memory")


def test_one_process_cannot_take_more_than_its_memory(hostile_class):
    assert "MemoryError" in _notes(hostile_class, "fills_memory")
    assert _total(hostile_class, "fills_memory") == FULL_MARKS - POINTS["01.1"]  # its cell never finished


def test_starting_programs_is_refused(hostile_class):
    assert "refused: the submission tried to start a program" in _notes(hostile_class, "starts_programs")
    assert _total(hostile_class, "starts_programs") == FULL_MARKS


def test_an_endless_loop_costs_its_task_and_the_later_ones(hostile_class):
    assert "time limit" in _notes(hostile_class, "infinite_loop")
    assert _total(hostile_class, "infinite_loop") == POINTS["01.1"] + POINTS["01.2"]


@pytest.mark.parametrize(
    "student",
    ["no_cell_type", "nbgrader_not_a_dict", "source_a_number", "json_bomb", "not_json", "a_directory",
     "a_fifo", "dev_zero", "links_to_solution", "huge"],
)  # fmt: skip
def test_unreadable_notebooks_get_a_zero_row_with_a_note(hostile_class, student):
    assert _total(hostile_class, student) == 0.0
    assert hostile_class["feedback"][student]["notes"], hostile_class["odd"][student]


def test_hidden_checks_never_quote_a_number_from_a_hidden_value(hostile_class):
    messages = " ".join(_task(hostile_class, "constant_answer", "01.1")["messages"])
    assert "off by a constant factor" in messages
    hidden = [m for m in _task(hostile_class, "constant_answer", "01.1")["messages"] if "hidden" in m]
    assert hidden and not any("factor of" in m or "expected" in m for m in hidden)


def test_spreadsheet_formulas_are_neutralised(hostile_class):
    with open(hostile_class["tmp"] / "out" / "grades.csv", encoding="utf-8", newline="") as handle:
        first_cells = [row[0] for row in csv.reader(handle)][1:]
    assert not any(cell[:1] in "=+-@" for cell in first_cells)
    assert '\'=HYPERLINK("x")' in first_cells and spreadsheet_safe("-1") == "'-1"


def test_feedback_file_names_are_safe_and_unique(hostile_class):
    names = [p.name for p in (hostile_class["tmp"] / "out" / "feedback").iterdir()]
    assert len(names) == len(set(names))
    assert all(len(name) <= 100 and "\n" not in name and not name.startswith(".") for name in names)


# -- the sandbox itself, probed without the runner's audit hook -------------------------------------------


PROBE = r"""
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
probe = {
    "uid": os.getuid(),
    "caps": sum(int(status[key], 16) for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb")),
    "nnp": int(status["NoNewPrivs"]),
    "umount": libc.umount2(b"/grading/job", 2) == 0 or libc.umount2(b"/grading/work", 2) == 0,
    "remount": libc.mount(b"none", b"/", None, 32 | 4096, None) == 0,
    "visible": [p for p in __PATHS__ if os.path.exists(p)],
    "listed": {d: os.listdir(d) for d in ("/grading/jobs", "/grading/cgroup") if os.path.isdir(d)},
    "repository": sorted(os.listdir(__ROOT__)) if os.path.isdir(__ROOT__) else [],
    "processes": len([p for p in os.listdir("/proc") if p.isdigit()]),
    # the report must fit in the grader's 300 characters: short keys
    # (PWD from bwrap, LC_CTYPE from Python's C-locale coercion)
    "env": sorted(set(os.environ) - set(__ENVIRONMENT__) - {"PWD", "LC_CTYPE"}),
    "omp": os.environ.get("OMP_WAIT_POLICY"),
    "userns": libc.unshare(0x10000000) == 0,  # CLONE_NEWUSER
    # add_key(2) into the user keyring, which would outlive this child
    "keyring": libc.syscall({"x86_64": 248, "aarch64": 217}[os.uname().machine], b"user", b"note",
                            b"left here", 9, -4) >= 0,
}
for name, attempt in (("writes_environment", lambda: open(__VENV__ + "/planted", "w")),
                      ("writes_job", lambda: open("/grading/job/planted", "w"))):
    try:
        attempt()
        probe[name] = True
    except OSError:
        probe[name] = False
raise RuntimeError("PROBE" + json.dumps(probe, separators=(",", ":")))
"""


def _probe_assignment(tmp: Path) -> Path:
    """Chapter 01 with one more instructor cell: the probe, run by the grader's own runner (no hook on it)."""
    secret = tmp / "secret.txt"
    secret.write_text("x")
    repository = [ROOT / ".git", ROOT / "README.md", ROOT / "solutions", ROOT / "course_grader"]
    paths = [*map(str, repository), "/root/.bashrc", "/home", "/etc/shadow", "/etc/passwd", str(secret),
             "/var", "/sys/fs/cgroup", str(tmp)]  # fmt: skip
    code = PROBE.replace("__PATHS__", repr(paths)).replace("__ROOT__", repr(str(ROOT)))
    code = code.replace("__VENV__", repr(str(Path(sys.prefix))))
    code = code.replace("__ENVIRONMENT__", repr(sorted(child_environment("/grading/work"))))
    notebook = nbformat.read(SOLUTION, as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(code))
    path = tmp / "assignment" / SOLUTION.name
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


#: Feedback repeats no text from the child, so the tests read the probe's report off the pipe itself.
CAPTURE_PROBES = """
import json
import course_grader.grader as _grader
PROBES = []
_take = _grader.ChildReport._take
def _capture(self, message, known):
    text = message.get("message")
    if isinstance(text, str) and "PROBE" in text:
        PROBES.append(json.loads(text.split("PROBE", 1)[1]))
    return _take(self, message, known)
_grader.ChildReport._take = _capture
"""


def _assert_confined(probe: dict) -> None:
    assert probe["uid"] != 0 and probe["caps"] == 0 and probe["nnp"] == 1
    assert not probe["umount"] and not probe["remount"] and not probe["userns"] and not probe["keyring"]
    assert not probe["writes_environment"] and not probe["writes_job"]
    assert probe["visible"] == []
    assert all(listing == [] for listing in probe["listed"].values())  # other jobs, the cgroups
    # The repository shows at most the virtual environment that holds the interpreter.
    assert set(probe["repository"]) <= {".venv"}
    assert probe["processes"] <= 3  # its own PID namespace: the runner (and bwrap's init)
    # Its whole environment is the grader's list, none of the host's; OpenMP threads sleep
    # while they wait, so a PyTorch task does not spin against the submissions beside it.
    assert probe["env"] == []
    assert probe["omp"] == "PASSIVE"


@needs_sandbox
@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "fresh-process"])
def test_the_sandboxed_child_has_no_privilege_and_sees_only_the_allow_list(tmp_path, fork_server):
    assignment = _probe_assignment(tmp_path)
    (tmp_path / "submissions").mkdir()
    for student in ("alice", "bob"):
        nbformat.write(_submission(), tmp_path / "submissions" / f"{student}.ipynb")
    namespace: dict = {}
    exec(CAPTURE_PROBES, namespace)
    try:
        results = grade_class(
            assignment, tmp_path / "submissions", tmp_path / "out", limits=Limits(seconds=60), jobs=2,
            fork_server=fork_server,
        )  # fmt: skip
    finally:
        grader.ChildReport._take = namespace["_take"]
    assert len(namespace["PROBES"]) >= 2  # with a fork server, one child per task
    for result in results:
        assert result.total == FULL_MARKS  # the probe cell is the instructor's; it costs nothing
        assert "instructor cell 3: raised RuntimeError" in result.notes  # and its text stays out
    for probe in namespace["PROBES"]:
        _assert_confined(probe)


AS_NORMAL_USER = """
set -e
for path in "$@"; do  # what the user must read but lies under /root: bound into a fresh /root
    mkdir -p "/tmp/course-grade-bind$path" && mount --bind "$path" "/tmp/course-grade-bind$path"
done
if [ "$#" -gt 0 ]; then
    mount -t tmpfs -o mode=0755 tmpfs /root
    for path in "$@"; do mkdir -p "$path" && mount --move "/tmp/course-grade-bind$path" "$path"; done
fi
exec setpriv --reuid=1000 --regid=1000 --clear-groups -- env HOME="$WORK" "$PYTHON" -c "$SCRIPT"
"""

GRADE_AS_NORMAL_USER = (
    CAPTURE_PROBES
    + """
import json, os, sys
from pathlib import Path
from course_grader.grader import grade_class
work = Path(os.environ["WORK"])
results = grade_class(Path(os.environ["ASSIGNMENT"]), work / "submissions", work / "out", jobs=2)
print(json.dumps({"uid": os.getuid(), "probes": PROBES,
                  "results": {r.student: [r.total, r.notes] for r in results}}))
"""
)


@needs_sandbox
def test_a_normal_user_grades_in_a_user_namespace_sandbox(tmp_path_factory):
    """As root (CI), grade as uid 1000 in a mount namespace where the interpreter stays readable."""
    if not is_root() or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("needs root to become a normal user; as a normal user the other tests are this test")
    work = Path(tempfile.mkdtemp(prefix="course-grade-user-"))
    try:
        work.chmod(0o777)
        assignment = _probe_assignment(work)
        (work / "submissions").mkdir()
        nbformat.write(_submission(), work / "submissions" / "honest.ipynb")
        nbformat.write(_hostile_students(work)["escape"], work / "submissions" / "escape.ipynb")
        for path in [work, *work.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        under_root = sorted(
            {str(p) for p in (Path(sys.base_prefix), Path(sys.prefix), ROOT) if p.is_relative_to("/root")}
        )
        environment = {"WORK": str(work), "PYTHON": sys.executable, "SCRIPT": GRADE_AS_NORMAL_USER,
                       "ASSIGNMENT": str(assignment), "PATH": os.environ.get("PATH", "/bin")}  # fmt: skip
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", AS_NORMAL_USER, "sh", *under_root],
            capture_output=True, text=True, timeout=600, env=environment, cwd="/",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert report["uid"] == 1000
    for student, (total, notes) in report["results"].items():
        assert total == FULL_MARKS, (student, notes)
    assert len(report["probes"]) >= 2
    for probe in report["probes"]:
        _assert_confined(probe)
    assert "refused: the submission tried to use ctypes" in " ".join(report["results"]["escape"][1])


#: Descriptors 3 and 4 are held, as another submission's pipes would be, and closed at the last
#: moment before the child forks (after subprocess made its own pipes), as a second grading
#: thread may do.
CLOSE_3_AND_4_BEFORE_THE_CHILD_FORKS = """
import json, os, subprocess, sys
from pathlib import Path
from course_grader.grader import grade_class
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(2)]
assert held == [3, 4], held  # a fresh interpreter: 0, 1 and 2 only
real_fork_exec = subprocess._fork_exec
def fork_exec(*args):
    if held and len(args[3]) >= 3:  # the child's start: its two pipes and subprocess's own
        for descriptor in held:
            os.close(descriptor)
        held.clear()
    return real_fork_exec(*args)
subprocess._fork_exec = fork_exec
work = Path(sys.argv[1])
results = grade_class(Path(sys.argv[2]), work / "submissions", work / "out", jobs=1, fork_server=False)
assert not held, "the child's start was not intercepted"
print(json.dumps({r.student: [r.total, r.notes] for r in results}))
"""


@needs_sandbox
def test_a_child_starts_when_descriptors_3_and_4_were_just_closed(tmp_path):
    """A regression: the child's pipes must not be passed at fixed numbers (3 and 4), which
    another thread may have closed a moment before; the start then failed with EBADF and an
    honest student scored 0."""
    (tmp_path / "submissions").mkdir()
    nbformat.write(_submission(), tmp_path / "submissions" / "honest.ipynb")
    result = subprocess.run(
        [sys.executable, "-c", CLOSE_3_AND_4_BEFORE_THE_CHILD_FORKS, str(tmp_path), str(SOLUTION)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, close_fds=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    total, notes = json.loads(result.stdout.strip().splitlines()[-1])["honest"]
    assert total == FULL_MARKS, notes


def test_without_bubblewrap_root_is_refused_unless_asked(tmp_path, monkeypatch):
    import course_grader.sandbox as sandbox

    if not is_root():
        pytest.skip("the refusal applies to root")
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    with pytest.raises(RuntimeError, match="--no-sandbox-as-root"):
        Sandbox.choose(Limits(), tmp_path)
    try:
        chosen = Sandbox.choose(Limits(), tmp_path, allow_unsandboxed_root=True)
    except RuntimeError as error:  # Python lives where no unprivileged user can read it
        assert "unprivileged" in str(error)
    else:
        assert chosen.mode == "none"


# -- attributing what a submission used ------------------------------------------------------------------


def test_forbidden_holds_for_the_whole_run_and_forbidden_in_answer_for_the_task_only():
    task = TASKS["08.1"]  # forbids keras' ctc in its own answer only: 08.4 asks for keras' ctc
    keras_ctc = "keras.src.losses.losses.ctc"
    assert task.forbidden_in_answer and any(re.search(p, keras_ctc) for p in task.forbidden_in_answer)
    assert forbidden_uses(task, (1, 2), [(keras_ctc, 7)]) == []  # used in 08.4's cell: allowed
    assert forbidden_uses(task, (1, 2), [(keras_ctc, 2)]) == [keras_ctc]  # while 08.1 was evaluated
    library = "course_lib.losses.sequence.ctc"
    assert forbidden_uses(task, (1, 2), [(library, 7)]) == [library]  # the course's own: never


def test_a_value_task_that_asks_for_your_own_gradient_forbids_the_library_s():
    task = TASKS["12.3"]  # the balancing alpha needs the SSIM gradient: course_lib.gradients has it
    for used in ("course_lib.gradients.image.ssim_loss", "tensorflow.python.eager.backprop.GradientTape"):
        assert forbidden_uses(task, (5, 6), [(used, 1)]) == [used]
    assert forbidden_uses(task, (5, 6), [("numpy.lib.stride_tricks.sliding_window_view", 5)]) == []
