"""A wheelhouse for rooms with poor Wi-Fi: download once, install the course offline.

On a machine with a network (the instructor's, the day before)::

    python scripts/wheelhouse.py build WHEELHOUSE               # what `make lab` installs
    python scripts/wheelhouse.py build WHEELHOUSE --project OUT # from `course-release OUT` (graded class)

then copy ``WHEELHOUSE`` and the course folder to a USB stick.  On each learner's
machine, without a network, from the course folder::

    python scripts/wheelhouse.py install WHEELHOUSE

which creates ``.venv`` and runs exactly what ``make lab`` runs, with the index
switched off::

    python -m venv .venv
    .venv/bin/python -m pip install --no-index --find-links WHEELHOUSE -e ".[lab]"

(``.venv\\Scripts\\python`` on Windows.)  Learners who have the released course,
which has no ``scripts/``, type those two commands themselves; ``build`` writes
them into ``WHEELHOUSE/README.txt``.

``build`` runs ``pip download`` for the project and its ``lab`` extra, plus the
project's build requirements (``[build-system] requires``), so that the editable
install can build ``course_lib`` offline.  pip picks the wheels for the Python
that runs ``build`` (its version, operating system and CPU); pip evaluates
environment markers such as ``sys_platform`` for that interpreter even when it
is given ``--platform`` (pypa/pip#6117), so this script offers no ``--platform``:
build one wheelhouse on each kind of machine your learners bring (macOS arm64,
Windows x86-64, ...) with the Python they use.  ``WHEELHOUSE/wheelhouse.json``
records which, and ``install`` refuses a wheelhouse built for another kind.

``install`` ignores pip's configuration files and ``PIP_*`` variables, so that
nothing but ``WHEELHOUSE`` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "wheelhouse.json"
INSTRUCTIONS = "README.txt"
DEFAULT_EXTRAS = "lab"


def target() -> dict[str, str]:
    """What a wheelhouse built or installed by this interpreter is for."""
    return {
        "implementation": sys.implementation.name,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "sys_platform": sys.platform,
        "machine": platform.machine().lower(),
    }


def describe(where: dict[str, str]) -> str:
    return f"{where['implementation']} {where['python']} on {where['sys_platform']} {where['machine']}"


def build_requirements(project: Path) -> list[str]:
    """``[build-system] requires`` of ``project``'s ``pyproject.toml``."""
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is not None:
        return list(tomllib.loads(text).get("build-system", {}).get("requires", []))
    block = re.search(r"^\[build-system\](.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    requires = re.search(r"^requires\s*=\s*\[(.*?)\]", block[1] if block else "", re.MULTILINE | re.DOTALL)
    return re.findall(r"[\"']([^\"']+)[\"']", requires[1]) if requires else []


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirement(project: Path, extras: str) -> str:
    return f"{project}[{extras}]" if extras else str(project)


def install_commands(wheelhouse: str, extras: str) -> list[str]:
    """The two commands a learner types in the course folder (POSIX spelling)."""
    spec = f'-e ".[{extras}]"' if extras else "-e ."
    return [
        "python -m venv .venv",
        f'.venv/bin/python -m pip install --no-index --find-links "{wheelhouse}" {spec}',
    ]


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("+ " + " ".join(str(part) for part in command), flush=True)
    subprocess.run(command, check=True, env=env)


def build(wheelhouse: Path, project: Path, extras: str = DEFAULT_EXTRAS) -> dict:
    """Download ``project[extras]``'s dependencies and its build requirements into ``wheelhouse``."""
    project = project.resolve()
    if not (project / "pyproject.toml").is_file():
        raise SystemExit(f"{project} has no pyproject.toml: pass --project the course folder")
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--dest", str(wheelhouse), "--prefer-binary"]
    # pip saves the dependencies, not the local project itself: learners install that
    # from their copy of the course folder.
    run([*pip, requirement(project, extras)])
    requires = build_requirements(project)
    if requires:
        run([*pip, *requires])
    files = sorted(path.name for path in wheelhouse.iterdir() if path.name not in (MANIFEST, INSTRUCTIONS))
    sdists = [name for name in files if not name.endswith(".whl")]
    manifest = {
        "target": target(),
        "project": project.name,
        "extras": extras,
        "build_requires": requires,
        "pip": subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[1],
        "files": files,
    }
    (wheelhouse / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    beside = f"../{wheelhouse.name}"  # the folder copied next to the course folder
    lines = [
        f"Packages for the course, for {describe(manifest['target'])} only.",
        "",
        "Copy this folder next to the course folder, then, in the course folder:",
        "",
        *[f"    {command}" for command in install_commands(beside, extras)],
        "",
        "(on Windows: .venv\\Scripts\\python instead of .venv/bin/python).",
        f"In a checkout of the course, the same: python scripts/wheelhouse.py install {beside}",
        "",
    ]
    (wheelhouse / INSTRUCTIONS).write_text("\n".join(lines), encoding="utf-8")
    size = sum(path.stat().st_size for path in wheelhouse.iterdir())
    print(f"{wheelhouse}: {len(files)} files, {size / 2**20:.0f} MiB, for {describe(manifest['target'])}")
    if sdists:
        print(f"note: {len(sdists)} source distributions, built while installing: {', '.join(sdists)}")
    return manifest


def hermetic_environment() -> dict[str, str]:
    """This environment without pip's configuration files and ``PIP_*`` variables."""
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no configuration file at all
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"  # no attempt to reach PyPI
    return env


def install(wheelhouse: Path, project: Path, venv: Path | None = None, editable: bool = True) -> Path:
    """Create ``venv`` (default ``project/.venv``) and install ``project`` from ``wheelhouse`` alone."""
    wheelhouse, project = wheelhouse.resolve(), project.resolve()
    venv = project / ".venv" if venv is None else venv
    manifest_path = wheelhouse / MANIFEST
    if not manifest_path.is_file():
        raise SystemExit(f"{wheelhouse} has no {MANIFEST}: build it with scripts/wheelhouse.py build")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest["target"] != target():
        raise SystemExit(
            f"{wheelhouse} was built for {describe(manifest['target'])}, but this is "
            f"{describe(target())}: build a wheelhouse on a machine like this one, with this Python"
        )
    if not venv_python(venv).exists():
        run([sys.executable, "-m", "venv", str(venv)])
    spec = requirement(project, manifest["extras"])
    run(
        [
            str(venv_python(venv)),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            *(["-e", spec] if editable else [spec]),
        ],
        env=hermetic_environment(),
    )
    print(f"installed {project.name} into {venv} from {wheelhouse} alone")
    return venv_python(venv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="download the packages into a folder (needs a network)")
    build_parser.add_argument("wheelhouse", type=Path)
    install_parser = commands.add_parser("install", help="install the course from that folder alone")
    install_parser.add_argument("wheelhouse", type=Path)
    install_parser.add_argument("--venv", type=Path, help="environment to create (default: PROJECT/.venv)")
    install_parser.add_argument(
        "--no-editable", action="store_true", help="copy the course into the environment instead of -e"
    )
    for sub in (build_parser, install_parser):
        sub.add_argument(
            "--project", type=Path, default=ROOT, help="the course folder (default: this checkout)"
        )
    build_parser.add_argument(
        "--extras", default=DEFAULT_EXTRAS, help=f"extras to include (default: {DEFAULT_EXTRAS}; '' for none)"
    )
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.wheelhouse, args.project, args.extras)
    else:
        install(args.wheelhouse, args.project, args.venv, editable=not args.no_editable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
