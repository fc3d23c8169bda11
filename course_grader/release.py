"""``course-release``: write what learners get for a graded class, and nothing an instructor keeps.

    course-release OUT            # OUT must not exist yet (or pass --force to replace it)

Run it from the course's checkout, or name the checkout with ``--course``.

``OUT`` holds the course notebooks, the exercise notebooks, the badges they
show, the Binder files, and the learner package ``course_lib`` with a
``pyproject.toml`` of its own (``pip install -e OUT`` or ``pip install OUT``).
It leaves out ``solutions/``, the instructor's package ``course_grader``
(reference answers, hidden cases, the grader), the workshop kit, the tests
and the repository's history.  Publish ``OUT`` (a repository learners clone,
an nbgitpuller source, a zip on the LMS) instead of this repository when the
exercises are graded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

#: What learners get, relative to the course's root.
LEARNER_FOLDERS = ("notebooks", "exercises", "badges", "binder")
LEARNER_FILES = ("LICENSE",)
#: Never copied, wherever they appear inside a learner folder.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")

LEARNER_README = """\
# {title}

The course notebooks are in `notebooks/`, the exercises in `exercises/`.

```bash
python -m venv .venv && .venv/bin/pip install -e ".[lab]"
.venv/bin/jupyter lab
```

Each exercise has self-check cells (`check("02.1", my_asymmetric_huber)`): they run the
public checks and say what is probably wrong.  Your instructor grades the
notebook you hand in with more checks than these.
"""


#: What a course checkout has, at least (``release`` copies the first three and reads the last).
CHECKOUT = ("notebooks", "exercises", "course_lib", "pyproject.toml")


def missing_from_checkout(root: Path) -> list[str]:
    """The parts of a course checkout (:data:`CHECKOUT`) that ``root`` lacks; empty if it is one."""
    return [name for name in CHECKOUT if not (root / name).exists()]


def _toml_list(values: list[str]) -> str:
    return "[\n" + "".join(f"    {json.dumps(value)},\n" for value in values) + "]"  # TOML basic strings


def learner_pyproject(project: dict) -> str:
    """A ``pyproject.toml`` that installs ``course_lib`` alone, with the course's own dependencies."""
    lab = [d for d in project["optional-dependencies"]["dev"] if d.startswith(("jupyterlab", "ipykernel"))]
    return f"""\
[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "{project["name"]}"
version = "{project["version"]}"
description = "{project["description"]}"
requires-python = "{project["requires-python"]}"
dependencies = {_toml_list(project["dependencies"])}

[project.optional-dependencies]
lab = {_toml_list(lab)}

[tool.setuptools.packages.find]
include = ["course_lib*"]

[tool.setuptools.package-data]
course_lib = ["grading/public/*.json"]
"""


def release(out: Path, root: Path | None = None, *, force: bool = False) -> Path:
    """Write the learners' copy of the course in ``root`` (default: the current directory) to ``out``."""
    root = Path.cwd() if root is None else root
    if missing := missing_from_checkout(root):
        raise ValueError(
            f"{root} is not the course's checkout (it has no {', '.join(missing)}): "
            "run course-release from the checkout or pass --course"
        )
    if out.exists():
        if not force:
            raise ValueError(f"out must not exist yet (or pass force=True / --force); {out} does")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for folder in LEARNER_FOLDERS:
        if (root / folder).is_dir():
            shutil.copytree(root / folder, out / folder, ignore=IGNORED)
    for name in LEARNER_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    shutil.copytree(root / "course_lib", out / "course_lib", ignore=IGNORED)
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    (out / "pyproject.toml").write_text(learner_pyproject(project))
    title = project["description"].split(":")[0]
    (out / "README.md").write_text(LEARNER_README.format(title=title))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course-release", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the folder to write (must not exist, unless --force)")
    parser.add_argument(
        "--course", type=Path, default=None, help="the course's checkout (default: the current directory)"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    try:
        out = release(args.out, args.course, force=args.force)
    except ValueError as error:
        print(f"course-release: {error}", file=sys.stderr)
        return 2
    print(f"wrote the learners' copy of the course to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
