"""Import rules of the code base, checked by reading the source (no import, no TensorFlow).

* No module imports another module's underscore name (``from m import _x``), nor reads
  one through an imported module (``m._x``): what is shared is public, and the shared
  maths lives in :mod:`course_lib.losses.numerics`.  A private *module* such as
  ``course_lib.losses._validation`` is fine inside the package: the rule is about names.
* No notebook shows (``show(...)``) an underscore name.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("course_lib", "course_grader")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) ``from ... import`` names."""
    if not node.level:
        return node.module or ""
    base = here.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def violations(path: Path) -> list[str]:
    """``from M import _x`` with ``M`` another module, and ``alias._x`` with ``alias``
    an imported module, in one source file."""
    here = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[str] = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                # ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c``
                module_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, here, is_package)
            for alias in node.names:
                if _private(alias.name) and source != here:
                    found.append(f"{path}:{node.lineno} from {source} import {alias.name}")
                elif not _private(alias.name):
                    # ``from pkg import mod`` may bind a module: track it too
                    module_aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
            and _is_module(node.value.id, tree)
        ):
            found.append(f"{path}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def _is_module(name: str, tree: ast.Module) -> bool:
    """Whether ``name`` is bound to one of our own modules (``course_lib``,
    ``course_grader``), not to a class or function, nor to a standard-library or
    third-party module (``os._exit`` is their business).

    For ``from pkg import name`` the file system decides (a ``name.py`` or
    ``name/__init__.py`` inside ``pkg``).
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) == name:
                    return alias.name.split(".")[0] in PACKAGES
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    folder = ROOT.joinpath(*node.module.split("."))
                    if (folder / f"{alias.name}.py").exists() or (
                        folder / alias.name / "__init__.py"
                    ).exists():
                        return True
    return False


SOURCES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_scan_sees_the_packages():
    assert len(SOURCES) > 50
    assert ROOT / "course_lib" / "losses" / "numerics.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_uses_another_modules_underscore_names(path):
    assert violations(path) == []


def test_the_scan_finds_both_kinds_of_violation(tmp_path, monkeypatch):
    package = tmp_path / "course_lib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "other.py").write_text("def _x():\n    pass\n")
    bad = package / "bad.py"
    bad.write_text(
        "from course_lib.other import _x\n"
        "from course_lib import other\n"
        "import course_lib.other as o\n"
        "other._x()\n"
        "o._x()\n"
        "import os\n"
        "os._exit\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    found = violations(bad)
    assert len(found) == 3, found
    assert "from course_lib.other import _x" in found[0]


def _code_cells(notebook: Path) -> list[tuple[int, str]]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [
        (number, "".join(cell["source"])) for number, cell in enumerate(cells) if cell["cell_type"] == "code"
    ]


def _shown_names(source: str) -> list[str]:
    """The dotted names passed first to ``show(...)`` in a code cell."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    names = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "show"
            and node.args
        ):
            names.append(ast.unparse(node.args[0]))
    return names


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebooks_show_only_public_names(notebook):
    private = [
        f"cell {number}: show({name})"
        for number, source in _code_cells(notebook)
        for name in _shown_names(source)
        if any(_private(part) for part in name.split("."))
    ]
    assert private == []


def _displayed_private_functions(notebook: Path) -> list[str]:
    """``def _name`` in the outputs: a private helper that ``show()`` displayed."""
    found = []
    for number, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            for text in output.get("data", {}).values():
                text = "".join(text) if isinstance(text, list) else str(text)
                for name in re.findall(r"\bdef (\w+)\(", text):
                    if _private(name):
                        found.append(f"cell {number}: {name}")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebooks_display_no_private_helper(notebook):
    assert _displayed_private_functions(notebook) == []


# The losses package in three layers: what each module of course_lib/losses may import
# from the package.  Layer 1 is the shared maths and checking, layer 2 the families,
# layer 3 the package face (__init__).  A family never imports another family.
FOUNDATION = {"numerics", "_validation", "reduction", "_base"}
LOSSES = ROOT / "course_lib" / "losses"


def _layer(module: str) -> int:
    if module == "__init__":
        return 3
    return 1 if module in FOUNDATION else 2


def _losses_imports(path: Path) -> set[str]:
    """The ``course_lib.losses`` modules (by short name) that one source file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["course_lib", "losses"] and len(parts) == 3:
                if (LOSSES / f"{parts[2]}.py").exists():
                    found.add(parts[2])
    return found


LOSS_MODULES = sorted(LOSSES.glob("*.py"))


def test_every_module_of_the_losses_package_has_a_layer():
    families = {path.stem for path in LOSS_MODULES} - FOUNDATION - {"__init__"}
    assert {"regression", "probabilistic", "metric_learning", "sequence"} <= families
    assert FOUNDATION <= {path.stem for path in LOSS_MODULES}


@pytest.mark.parametrize("path", LOSS_MODULES, ids=lambda path: path.name)
def test_the_losses_package_reads_in_three_layers(path):
    here = _layer(path.stem)
    wrong = sorted(
        module
        for module in _losses_imports(path)
        if module != path.stem and (_layer(module) > here or (here == 2 and _layer(module) == 2))
    )
    assert wrong == [], f"{path.name} (layer {here}) imports {wrong}"
    imported = {
        name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    outside = sorted(
        name
        for name in imported
        if name.startswith(("course_lib.gradients", "course_lib.compare", "keras", "tensorflow"))
    )
    assert outside == [], f"{path.name} imports {outside}"


def test_the_layer_scan_sees_a_family_importing_a_family(tmp_path, monkeypatch):
    fake = tmp_path / "course_lib" / "losses"
    fake.mkdir(parents=True)
    for name in ("numerics", "segmentation", "probabilistic"):
        (fake / f"{name}.py").write_text("")
    (fake / "segmentation.py").write_text(
        "from course_lib.losses.probabilistic import x\nfrom course_lib.losses import numerics\n"
    )
    monkeypatch.setitem(globals(), "LOSSES", fake)
    assert _losses_imports(fake / "segmentation.py") == {"probabilistic", "numerics"}
