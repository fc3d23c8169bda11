"""The workshop kit: its generated page is current and every notebook is planned for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from course_scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}

workshop = load_script("workshop")


def test_generated_page_is_current():
    result = subprocess.run(
        [sys.executable, "scripts/workshop.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_every_notebook_has_a_measured_run_time():
    times = json.loads((ROOT / "instructor" / "run-times.json").read_text())
    assert sorted(times) == [path.name for path in COURSE]
    assert all(0 < seconds < 90 for seconds in times.values()), times  # nbval's budget per notebook


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_notebook_has_live_code_pauses_and_valid_slides(path):
    notebook = nbformat.read(path, as_version=4)
    tags = [tag for cell in notebook.cells for tag in cell.metadata.get("tags", [])]
    assert tags.count("live-code") >= 1 and tags.count("pause") >= 1
    for cell in notebook.cells:
        if "live-code" in cell.metadata.get("tags", []):
            assert cell.cell_type == "code" and len(cell.source.splitlines()) <= 12, cell.source
    slide_types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    assert set(slide_types) <= SLIDE_TYPES and slide_types[0] == "slide"
    title, objectives, prerequisites = workshop.intro_parts(notebook)
    assert title[:2] == path.name[:2] and objectives.startswith("1.") and prerequisites


def test_intro_without_objectives_is_rejected():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 99 · Nothing here")])
    with pytest.raises(ValueError, match="Learning objectives"):
        workshop.intro_parts(notebook)
