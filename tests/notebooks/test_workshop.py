"""The workshop kit: its generated page is current and every notebook is planned for."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest
import workshop  # scripts/workshop.py

ROOT = Path(__file__).resolve().parents[2]
COURSE = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


#: A live-code cell is typed in front of the room: at most this many statements.
LIVE_CODE_STATEMENTS = 12


def statements(source: str) -> int:
    """Python statements in ``source``; a call wrapped over several lines (88 columns) counts once."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return sum(token.type == tokenize.NEWLINE for token in tokens)


def test_generated_page_is_current():
    result = subprocess.run(
        [sys.executable, "scripts/workshop.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_every_notebook_has_a_measured_run_time():
    times = json.loads((ROOT / "instructor" / "run-times.json").read_text())
    assert sorted(times) == [path.name for path in COURSE]
    assert all(seconds > 0 for seconds in times.values()), times


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_notebook_has_live_code_pauses_and_valid_slides(path):
    notebook = nbformat.read(path, as_version=4)
    tags = [tag for cell in notebook.cells for tag in cell.metadata.get("tags", [])]
    assert tags.count("live-code") >= 1 and tags.count("pause") >= 1
    for cell in notebook.cells:
        if "live-code" in cell.metadata.get("tags", []):
            assert cell.cell_type == "code" and statements(cell.source) <= LIVE_CODE_STATEMENTS, cell.source
    slide_types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    assert set(slide_types) <= SLIDE_TYPES and slide_types[0] == "slide"
    title, objectives, prerequisites = workshop.intro_parts(notebook)
    assert title[:2] == path.name[:2] and objectives.startswith("1.") and prerequisites


def test_statements_count_wrapped_calls_once():
    wrapped = "x = 1\nprint(\n    x,\n    x + 1,\n)  # one call\n\nfor i in range(2):\n    x += i\n"
    assert statements(wrapped) == 4
    too_long = "\n".join(f"x{i} = {i}" for i in range(LIVE_CODE_STATEMENTS + 1))
    assert statements(too_long) > LIVE_CODE_STATEMENTS


def test_intro_without_objectives_is_rejected():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 99 · Nothing here")])
    with pytest.raises(ValueError, match="Learning objectives"):
        workshop.intro_parts(notebook)


# The teaching plan (instructor/teaching-plan.json) and the schedules rendered from it.

PLAN = json.loads((ROOT / "instructor" / "teaching-plan.json").read_text())
EXERCISES = {path.name for path in (ROOT / "exercises").glob("*.ipynb")}


def course_headings() -> dict[str, list[str]]:
    return {path.name: workshop.notebook_headings(nbformat.read(path, as_version=4)) for path in COURSE}


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_every_section_has_planned_minutes(path):
    """A notebook that gains, loses or renames a ## section needs the plan to follow."""
    headings = workshop.notebook_headings(nbformat.read(path, as_version=4))
    assert list(PLAN["minutes"][path.name]) == headings, "update instructor/teaching-plan.json"
    assert all(isinstance(m, int) and m > 0 for m in PLAN["minutes"][path.name].values())


def test_plan_and_schedules_agree():
    assert sorted(PLAN["minutes"]) == [path.name for path in COURSE]
    assert workshop.plan_problems(PLAN, course_headings(), EXERCISES) == []


def test_a_renamed_added_or_removed_section_is_reported():
    headings = course_headings()
    name = COURSE[1].name
    first, second, *rest = headings[name]
    headings[name] = [first + " (renamed)", *rest, "A new section"]  # `second` removed
    problems = "\n".join(workshop.plan_problems(PLAN, headings, EXERCISES))
    assert f"section {first + ' (renamed)'!r} has no planned minutes" in problems
    assert f"planned section {first!r} is not in the notebook" in problems
    assert f"planned section {second!r} is not in the notebook" in problems
    assert "'A new section' has no planned minutes" in problems


def test_a_block_shorter_than_its_plan_is_reported():
    plan = json.loads(json.dumps(PLAN))
    block = next(block for block in plan["one_day"] if block.get("teach"))
    start, end = workshop.block_span(block)
    planned = sum(workshop.minutes_of(plan, item) for item in block["teach"] + block.get("practice", []))
    assert end - start >= planned
    block["teach"][0]["sections"] = "all"
    block["practice"] = [{"what": "more", "exercises": [], "minutes": end - start}]
    problems = workshop.plan_problems(plan, course_headings(), EXERCISES)
    assert any(p.startswith(f"one day, {block['time']}: {end - start} min, but") for p in problems), problems


def test_the_three_days_fit_and_teach_everything_once():
    plan = json.loads(json.dumps(PLAN))
    day3 = plan["three_day"]["days"][2]["morning"]
    dropped = day3["teach"].pop()  # a notebook no longer taught
    day3["practice"] = [{"what": "more", "exercises": [], "minutes": plan["three_day"]["half_day_minutes"]}]
    problems = "\n".join(workshop.plan_problems(plan, course_headings(), EXERCISES))
    assert "three days, day 3 morning:" in problems and "min are planned in 180" in problems
    plan["three_day"]["days"][2]["morning"]["practice"] = []
    problems = "\n".join(workshop.plan_problems(plan, course_headings(), EXERCISES))
    assert f"three days: {dropped['notebook']} sections never taught" in problems


def test_schedule_references_are_checked():
    plan = json.loads(json.dumps(PLAN))
    block = next(block for block in plan["one_day"] if block.get("practice"))
    block["teach"][0]["sections"] = ["No such section"]
    block["practice"][0]["exercises"] = ["99_nothing.ipynb"]
    problems = "\n".join(workshop.plan_problems(plan, course_headings(), EXERCISES))
    assert "has no section 'No such section'" in problems and "no exercises/99_nothing.ipynb" in problems


def test_headings_are_level_two_outside_code_fences():
    cell = nbformat.v4.new_markdown_cell("## One\n### Not a section\n```\n## Not one either\n```\n## Two ##")
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("## a comment")])
    assert workshop.notebook_headings(notebook) == ["One", "Two"]


def test_section_labels():
    assert workshop.section_label("4 · Worked example: one fit, three ways") == "4"
    assert workshop.section_label("6. Binary focal loss") == "6"
    assert workshop.section_label("Part 2 · The Kullback-Leibler divergence") == "Part 2"
    assert workshop.section_label("Huber: a loss from robust statistics") == "Huber"
    plan = {"minutes": {"x.ipynb": {f"{n}. S": 1 for n in range(1, 8)} | {"Summary": 1}}}
    sections = ["1. S", "2. S", "3. S", "5. S", "6. S", "Summary"]
    item = {"notebook": "x.ipynb", "sections": sections}
    assert workshop.describe_item(plan, item) == "`x.` §1–3, 5, 6, Summary (6 min)"


def test_page_links_every_deck_and_states_the_plan():
    page = (ROOT / "instructor" / "notebooks.md").read_text()
    for path in COURSE:
        assert f'<a href="../slides/{path.stem}.slides.html">slides</a>' in page
    assert "`_build/slides/`" in page and "**plan**, not a measurement" in page
    readme = (ROOT / "instructor" / "README.md").read_text()
    assert "Teaching minutes are a **plan**" in readme and "Run times are\n**measured**" in readme
