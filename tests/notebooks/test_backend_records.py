"""The notebooks on JAX and PyTorch print what their records say.

TensorFlow is the reference: each notebook stores TensorFlow's outputs, which nbval
compares strictly (``make test``).  What a notebook prints on JAX and on PyTorch is
recorded in ``notebooks/outputs/<backend>/<notebook>.json`` by
``scripts/notebooks.py execute --backend <backend>``: each code cell's text and a
fingerprint of its source.

On every run this file checks that each notebook has a record per backend and that
no record is stale (every code cell's source is the one recorded).  With
``KERAS_BACKEND=jax`` or ``torch`` (``make test-backends``) it also runs each
notebook on that backend in a fresh kernel and compares every cell's text with the
record, after nbval's own sanitising; cells marked ``NBVAL_IGNORE_OUTPUT`` are not
compared, as under nbval.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

import notebooks as notebook_tools  # scripts/notebooks.py

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
OTHER_BACKENDS = ("jax", "torch")
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def sanitised(text: str) -> str:
    """``text`` with nbval's replacements (``tests/nbval_sanitize.cfg``) applied."""
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def ignored_cells(notebook: nbformat.NotebookNode) -> set[str]:
    """Indices of the code cells whose output nbval does not compare."""
    return {
        str(index)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" in cell.source
    }


def differences(record: dict, fresh: dict, ignored: set[str]) -> list[str]:
    """One readable entry per compared cell whose text differs."""
    found = []
    for index in sorted(set(record) | set(fresh), key=int):
        if index in ignored:
            continue
        expected = sanitised(record.get(index, {}).get("text", "<no such cell>"))
        got = sanitised(fresh.get(index, {}).get("text", "<no such cell>"))
        if expected != got:
            found.append(f"code cell {index}:\n--- recorded\n{expected}\n--- now\n{got}")
    return found


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_notebook_has_a_fresh_record_per_backend(path, backend):
    record_file = notebook_tools.record_path(path, backend)
    assert record_file.exists(), (
        f"no {backend} record: run scripts/notebooks.py execute --backend {backend} {path}"
    )
    record = json.loads(record_file.read_text())
    notebook = nbformat.read(path, as_version=4)
    current = {
        str(index): notebook_tools.source_digest(cell.source)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
    }
    assert {index: entry["source"] for index, entry in record.items()} == current, (
        f"the {backend} record of {path.name} is stale: re-run "
        f"scripts/notebooks.py execute --backend {backend} {path.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_cells_run_on_each_backend_print_the_same_everywhere(path, backend):
    """An ``%%on_each_backend`` cell prints all backends' results, whatever the kernel's."""
    notebook = nbformat.read(path, as_version=4)
    record = json.loads(notebook_tools.record_path(path, backend).read_text())
    tensorflow = notebook_tools.text_outputs(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.startswith("%%on_each_backend"):
            assert record[str(index)]["text"] == tensorflow[str(index)], f"code cell {index}"


@pytest.mark.skipif(
    BACKEND not in OTHER_BACKENDS,
    reason="runs with KERAS_BACKEND=jax or torch (make test-backends); "
    "on TensorFlow nbval compares the notebooks' own outputs",
)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_prints_its_record_on_this_backend(path):
    record = json.loads(notebook_tools.record_path(path, BACKEND).read_text())
    executed, _ = notebook_tools.run(path, BACKEND, timeout=900)
    fresh = notebook_tools.backend_record(executed)
    found = differences(record, fresh, ignored_cells(executed))
    assert found == [], f"{path.name} on {BACKEND}:\n" + "\n\n".join(found)


def test_the_comparison_sanitises_and_ignores_like_nbval():
    record = {"1": {"text": "at 0x7f00aabbcc\n"}, "2": {"text": "3.0\n"}, "3": {"text": "a\n"}}
    fresh = {"1": {"text": "at 0x7f11223344\n"}, "2": {"text": "3.1\n"}, "3": {"text": "b\n"}}
    found = differences(record, fresh, ignored={"3"})
    assert len(found) == 1 and found[0].startswith("code cell 2:")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("NBVAL_IGNORE_OUTPUT in prose"),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
    ]
    assert ignored_cells(notebook) == {"1"}
