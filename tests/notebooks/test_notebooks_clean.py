"""Every committed notebook is clean, freshly executed top to bottom, and quiet.

nbval (run on the notebooks themselves by ``make test``) checks that the
outputs reproduce; this test checks what nbval cannot: no volatile metadata,
execution counts 1..N from a single fresh run, no stderr and no errors.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import notebooks as notebook_tools  # scripts/notebooks.py

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_freshly_executed(path):
    assert notebook_tools.problems(nbformat.read(path, as_version=4), path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_objectives_summary_and_exercise_pointer(path):
    notebook = nbformat.read(path, as_version=4)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "Learning objectives" in markdown and "Prerequisites" in markdown, path.name
    assert "Summary" in markdown
    if path.parent.name == "notebooks" and not path.name.startswith("00_"):
        assert f"exercises/{path.name}" in markdown  # pointer to the matching exercise notebook


def test_a_dirty_notebook_is_reported():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(1)  # " + "x" * 80, execution_count=3)]
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    found = notebook_tools.problems(notebook)
    assert any("volatile metadata" in problem for problem in found)
    assert any("execution counts" in problem for problem in found)
    # 89 characters: the site and the slides would need to scroll sideways
    assert "code cell 1 has lines longer than 88 characters: [1]" in found


def test_text_outputs_keeps_what_nbval_compares_per_code_cell():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell(
            "print(1); x",
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text="1\n"),
                nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1),
            ],
        ),
        nbformat.v4.new_code_cell(
            "plot()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": "AAAA", "text/plain": "a plot of x"}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "1/0",
            outputs=[nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero")],
        ),
    ]
    assert notebook_tools.text_outputs(notebook) == {
        "1": "1\n2",
        "2": "a plot of x",
        "3": "ZeroDivisionError: division by zero",
    }
    assert notebook_tools.backend_record(notebook)["1"] == {
        "source": notebook_tools.source_digest("print(1); x"),
        "text": "1\n2",
    }
    assert notebook_tools.source_digest("print(1); x") != notebook_tools.source_digest("print(2); x")
    record = notebook_tools.record_path(ROOT / "notebooks" / "02_regression.ipynb", "jax")
    assert record == ROOT / "notebooks" / "outputs" / "jax" / "02_regression.json"
