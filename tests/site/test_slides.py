"""The reveal.js decks (``make slides``): structure, fit, speaker notes, offline use.

All 14 decks are built once, with the same code as ``make slides``, together with
a small synthetic notebook whose figure carries its description in the output's
metadata (``image/png`` -> ``alt``), which nbconvert ignores.

From the HTML, for every deck:

- the structure follows the cells' ``slideshow.slide_type``: one top-level
  ``<section>`` per ``slide`` cell; every ``slide`` and ``subslide`` cell starts a
  page (a vertical ``<section>``) with its heading; the later pages of a section
  that did not fit one slide repeat its heading as "continued";
- every cell is shown (each piece of a cell carries its id) except the ``skip``
  and ``remove-cell`` ones, which leave no trace;
- the title slide shows the title, not the objectives, which follow it;
- every section has speaker notes (``<aside class="notes">``);
- nothing is loaded from another host, and figures have their stored alt text.

In Debian's Chromium at 1280x720, one browser and one script per deck visit every
page (horizontal and vertical, in its final fragment state) and fail, naming the
deck, the page and the element, when anything ends below or right of the slide,
a code block or formula is wider than its box, or text is set smaller than
``MIN_FONT_PX`` (no shrinking to fit).  MathJax must typeset without errors, the
arrows must step through every page, the speaker view (``s``) must show the notes,
and no page may make a request to another host or log an error.
"""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import build_site as site_script  # scripts/build_site.py
import nbformat
import pytest
from browser import (
    ROOT,
    OfflineWatch,
    artifacts_dir,
    chromium,
    is_blank_png,
    missing,
    serve,
    tex_formulas,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SYNTHETIC = "99_synthetic_figure"
ALT = "A red square on white: the synthetic test figure."
NOTES = "Say that the red square is the test figure."
VIEWPORT = {"width": 1280, "height": 720}
# The smallest text on a slide, in CSS pixels of the 1280x720 slide: the decks set
# prose at 22 px and code at 18 px (SLIDE_STYLE), formulas at no less than 80 % of the prose.
MIN_FONT_PX = 17
HIDDEN_TAGS = {"remove-cell"}


def synthetic_notebook(path: Path) -> Path:
    """A title, then a section with two figures: one with a stored description, one without,
    and a cell tagged ``notes``: the section's speaker notes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 1), dpi=100)
    axes.add_patch(plt.Rectangle((0.25, 0.25), 0.5, 0.5, color="red"))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    png = base64.b64encode(buffer.getvalue()).decode()
    described = nbformat.v4.new_output(
        "display_data",
        data={"image/png": png, "text/plain": "<Figure>"},
        metadata={"image/png": {"alt": ALT}},
    )
    plain = nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})
    cells = [
        nbformat.v4.new_markdown_cell("# 99 · Synthetic\n\n*A test deck*"),
        nbformat.v4.new_markdown_cell("## Figures\n\nTwo figures follow."),
        nbformat.v4.new_code_cell("draw()", outputs=[described, plain]),
        nbformat.v4.new_markdown_cell(NOTES),
    ]
    cells[3].metadata["tags"] = ["notes"]
    cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    cells[1].metadata["slideshow"] = {"slide_type": "slide"}
    notebook = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("slides")
    synthetic = synthetic_notebook(tmp_path_factory.mktemp("notebook") / f"{SYNTHETIC}.ipynb")
    try:
        built = site_script.build_slides(out, [*NOTEBOOKS, synthetic])
    except site_script.MissingTool as error:
        missing(str(error))
    return {deck.name.removesuffix(".slides.html"): deck for deck in built}


def slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type") or "-"


def hidden(cell) -> bool:
    return slide_type(cell) == "skip" or bool(HIDDEN_TAGS & set(cell.metadata.get("tags", [])))


def is_notes(cell) -> bool:
    return slide_type(cell) == "notes" or "notes" in cell.metadata.get("tags", [])


def plain(markdown: str) -> str:
    """A heading's text as the deck shows it: no #, no markup, single spaces."""
    text = re.sub(r"[`*]", "", markdown.lstrip("#"))
    return " ".join(text.split())


class Page:
    def __init__(self) -> None:
        self.cell_ids: list[str] = []
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self.continued = False  # starts with its section's heading repeated
        self.notes = ""
        self.lists = 0
        self.text = ""
        self.alts: list[str | None] = []


class Deck(HTMLParser):
    """A deck's sections and pages, and the remote resources it names."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[list[Page]] = []  # top-level sections, each a list of pages
        self.remote: list[str] = []
        self.depth = 0
        self.page: Page | None = None
        self.in_notes = 0
        self.heading: list | None = None
        self.skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        url = attributes.get("src") if tag in ("script", "img") else attributes.get("href")
        if tag in ("script", "img", "link") and url and urlsplit(url).scheme in ("http", "https"):
            self.remote.append(url)
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "section":
            self.depth += 1
            if self.depth == 1:
                self.sections.append([])
            self.page = Page()
            self.sections[-1].append(self.page)
            if self.depth == 2 and len(self.sections[-1]) == 2 and not self.sections[-1][0].cell_ids:
                self.sections[-1].pop(0)  # a stack: its pages are the nested sections
            return
        if self.page is None:
            return
        if tag == "aside" and "notes" in classes:
            self.in_notes += 1
        elif self.in_notes:
            return
        elif tag == "div" and (attributes.get("id") or "").startswith("cell-id="):
            self.page.cell_ids.append(attributes["id"].removeprefix("cell-id="))
        elif tag == "div" and "celltag_slides-continued" in classes and not self.page.headings:
            self.page.continued = True
        elif tag in ("ul", "ol"):
            self.page.lists += 1
        elif tag in ("h1", "h2", "h3", "h4"):
            self.heading = [tag, ""]
        elif tag == "img":
            self.page.alts.append(attributes.get("alt"))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        elif tag == "section":
            self.depth -= 1
        elif tag == "aside" and self.in_notes:
            self.in_notes -= 1
        elif self.heading and tag == self.heading[0] and self.page is not None:
            self.page.headings.append((tag, " ".join(self.heading[1].split())))
            self.heading = None

    def handle_data(self, data):
        if self.page is None or self.skip:
            return
        if self.in_notes:
            self.page.notes += data
            return
        self.page.text += data
        if self.heading is not None:
            self.heading[1] += data

    @property
    def pages(self) -> list[Page]:
        return [page for section in self.sections for page in section]


_parsed: dict[Path, Deck] = {}


def parse(deck: Path) -> Deck:
    if deck not in _parsed:
        parser = Deck()
        parser.feed(deck.read_text(encoding="utf-8"))
        _parsed[deck] = parser
    return _parsed[deck]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_deck_follows_the_slide_metadata(decks, notebook):
    deck = parse(decks[notebook.stem])
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells if not hidden(cell)]
    shown = [cell for cell in cells if not is_notes(cell)]
    # One top-level section per slide cell (the first shown cell always opens one).
    starts = [shown[0], *(cell for cell in shown[1:] if slide_type(cell) in ("slide", "subslide"))]
    assert len(deck.sections) == 1 + sum(slide_type(cell) == "slide" for cell in shown[1:])
    # Every slide and subslide cell opens a page, in order, with its heading; the other
    # pages repeat the heading of the section they continue (or open with a heading).
    opening = {f"{cell.id}-0": cell for cell in starts}
    opened = []
    for page in deck.pages:
        assert page.cell_ids, "an empty page"
        first = next(cell_id for cell_id in page.cell_ids if not cell_id.startswith("slides-"))
        if first in opening:
            opened.append(opening[first])
            cell = opening[first]
            if cell.cell_type == "markdown" and cell.source.startswith("#"):
                assert not page.continued
                assert page.headings[0][1] == plain(cell.source.split("\n")[0]), page.headings
        else:
            assert page.headings and (page.continued or not page.cell_ids[0].startswith("slides-"))
    assert opened == starts
    # Every shown cell is on a page, pieces in order; hidden cells leave no trace.
    ids = [cell_id for page in deck.pages for cell_id in page.cell_ids if not cell_id.startswith("slides-")]
    origins = [re.sub(r"-\d+$", "", cell_id) for cell_id in ids]
    assert list(dict.fromkeys(origins)) == [cell.id for cell in shown]
    html = decks[notebook.stem].read_text(encoding="utf-8")
    for cell in nbformat.read(notebook, as_version=4).cells:
        if hidden(cell):
            assert f'id="cell-id={cell.id}-' not in html
            assert cell.source.split("\n")[0] not in html


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_title_slide_notes_and_no_web(decks, notebook):
    deck = parse(decks[notebook.stem])
    title, *rest = deck.sections[0]
    first = nbformat.read(notebook, as_version=4).cells[0].source
    assert title.headings == [("h1", plain(first.split("\n")[0]))]
    assert title.lists == 0 and "objectives" not in title.text.lower()
    if "objectives" in first.lower():  # they follow the title
        assert any("objectives" in page.text.lower() and page.lists for page in rest)
    # Speaker notes in every section (the prose of its pages, or its notes cells), with
    # the instructor's cues: each cell to live-code, each section to pause at.
    for number, section in enumerate(deck.sections):
        assert any(page.notes.strip() for page in section), f"no speaker notes in section {number}"
        assert not any("<p>" in page.notes for page in section), "notes shown as HTML source"
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells if not hidden(cell)]
    notes = " ".join(page.notes for page in deck.pages)
    assert notes.count("Live-code") == sum("live-code" in cell.metadata.get("tags", []) for cell in cells)
    assert notes.count("Pause.") == sum("pause" in cell.metadata.get("tags", []) for cell in cells)
    assert not deck.remote
    folder = decks[notebook.stem].parent
    assert (folder / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (folder / "reveal.js" / "plugin" / "notes" / "notes.js").is_file()
    assert (folder / "mathjax" / "tex-chtml.js").is_file()


def test_figures_carry_their_stored_alt_text_and_notes_cells_are_notes(decks):
    deck = parse(decks[SYNTHETIC])
    # A cell tagged notes is the section's speaker notes (instead of its prose), not on a slide.
    section = deck.sections[1]
    assert " ".join("".join(page.notes for page in section).split()) == NOTES
    assert all(NOTES not in page.text for page in deck.pages)
    alts = [alt for page in deck.pages for alt in page.alts]
    assert alts[0] == ALT
    assert alts[1] and alts[1] != ALT  # a figure without one says so, in our words
    html = decks[SYNTHETIC].read_text(encoding="utf-8")
    assert "No description has been provided" not in html
    for notebook in NOTEBOOKS:  # and so do the course's own figures until they carry one
        assert "No description has been provided" not in decks[notebook.stem].read_text(encoding="utf-8")


# Visits every page (horizontal and vertical, last fragment shown) and reports
# what does not fit.  Lengths are in CSS pixels of the slide (divided by the scale).
MEASURE = """async (minFont) => {
    Reveal.configure({transition: "none", backgroundTransition: "none"});
    await MathJax.startup.promise;
    await Promise.all([...document.images].map((image) => image.decode().catch(() => null)));
    const frame = document.querySelector(".reveal .slides").getBoundingClientRect();
    const scale = Reveal.getScale();
    const describe = (el) => {
        const classes = [...el.classList].slice(0, 2).map((c) => "." + c).join("");
        const name = el.tagName.toLowerCase() + classes;
        const text = (el.textContent || el.getAttribute("alt") || "").trim().replace(/\\s+/g, " ");
        return `${name} "${text.slice(0, 50)}"`;
    };
    const outside = (box) => ({
        below: (box.bottom - frame.bottom) / scale, right: (box.right - frame.right) / scale,
        above: (frame.top - box.top) / scale, left: (frame.left - box.left) / scale,
    });
    const pages = [];
    Reveal.getHorizontalSlides().forEach((top, h) => {
        const stack = top.classList.contains("stack");
        const column = stack ? [...top.querySelectorAll(":scope > section")] : [top];
        column.forEach((_, v) => {
            Reveal.slide(h, v);
            const slide = Reveal.getCurrentSlide();
            const fragments = slide.querySelectorAll(".fragment").length;
            if (fragments) Reveal.slide(h, v, fragments - 1);
            const problems = [];
            for (const el of slide.querySelectorAll("*")) {
                if (el.closest("aside.notes, mjx-assistive-mml")) continue;
                const box = el.getBoundingClientRect();
                if (box.width === 0 || box.height === 0) continue;
                const name = el.tagName.toLowerCase();
                // Anything outside the slide (reported once: where its parent is still inside).
                const out = outside(box);
                const parent = outside(el.parentElement.getBoundingClientRect());
                const parentOut = el.parentElement !== slide && Math.max(...Object.values(parent)) > 1;
                const worst = Object.entries(out).sort((a, b) => b[1] - a[1])[0];
                if (worst[1] > 1 && !parentOut) {
                    problems.push(`${describe(el)} ends ${Math.round(worst[1])} px ${worst[0]} the slide`);
                }
                // Cut at the right edge: a box that clips or scrolls, a code block or a
                // formula whose content is wider than the box (MathJax's inner parts clip by design).
                const internal = name.startsWith("mjx-") && name !== "mjx-container";
                const clips = getComputedStyle(el).overflowX !== "visible";
                if (!internal && (clips || name === "pre" || name === "mjx-container")
                    && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
                    const widths = `${el.scrollWidth} px in ${el.clientWidth} px`;
                    problems.push(`${describe(el)} is cut at the right edge (${widths})`);
                }
                // Text too small to read when projected.
                const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
                const prose = text && !internal && !el.closest("mjx-container");
                const size = parseFloat(getComputedStyle(el).fontSize);
                if ((name === "mjx-container" || prose) && size < minFont) {
                    problems.push(`${describe(el)} is set at ${size.toFixed(1)} px`);
                }
            }
            const code = slide.querySelector(".jp-CodeCell .jp-InputArea") !== null;
            const math = slide.querySelector("mjx-container[display='true']") !== null;
            pages.push({h, v, problems, code, math});
        });
    });
    return {
        scale, pages,
        width: Reveal.getConfig().width, height: Reveal.getConfig().height,
        total: Reveal.getTotalSlides(),
        typeset: document.querySelectorAll(".slides mjx-container").length,
        mathErrors: document.querySelectorAll("mjx-merror").length,
    };
}"""
WHERE = "() => { const at = Reveal.getIndices(); return `${at.h}/${at.v || 0}`; }"


def formulas(notebook: Path) -> int:
    """The TeX formulas in the markdown cells that the deck shows."""
    cells = nbformat.read(notebook, as_version=4).cells
    shown = [cell for cell in cells if not hidden(cell) and not is_notes(cell)]
    return sum(tex_formulas(cell.source) for cell in shown if cell.cell_type == "markdown")


def test_every_page_of_every_deck_fits_a_1280x720_slide(decks):
    failures, blocked, errors = [], [], []
    with serve(decks[NOTEBOOKS[0].stem].parent) as base_url, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        watch = OfflineWatch(page)
        for notebook in NOTEBOOKS:
            name = notebook.stem
            page.goto(f"{base_url}{name}.slides.html", wait_until="load")
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=15_000)
            result = page.evaluate(MEASURE, MIN_FONT_PX)
            assert (result["width"], result["height"]) == (1280, 720)
            assert result["scale"] >= 0.95, f"{name}: the slide is shrunk to {result['scale']:.2f}"
            assert result["total"] == len(result["pages"]) == len(parse(decks[name]).pages)
            assert result["typeset"] >= formulas(notebook) and result["mathErrors"] == 0, name
            for found in result["pages"]:
                for problem in found["problems"][:5]:
                    failures.append(f"{name} page {found['h']}/{found['v']}: {problem}")
            if name.startswith("02"):  # the right arrow key, from a fresh start, visits every page
                page.goto("about:blank")
                page.goto(f"{base_url}{name}.slides.html", wait_until="load")
                page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=15_000)
                visited = [page.evaluate(WHERE)]
                while not page.evaluate("() => Reveal.isLastSlide()") and len(visited) <= result["total"]:
                    page.keyboard.press("ArrowRight")
                    visited.append(page.evaluate(WHERE))
                assert len(set(visited)) == len(visited) == result["total"]
            if name.startswith("03"):  # a page with code and a formula, for the record
                shown = next(p for p in result["pages"] if p["code"] and p["math"] and not p["problems"])
                page.evaluate(f"() => Reveal.slide({shown['h']}, {shown['v']})")
                shot = artifacts_dir() / "slides-03-code-and-math.png"
                page.screenshot(path=shot)
                assert not is_blank_png(shot)
            found_blocked, found_errors = watch.take()
            blocked += found_blocked
            errors += [f"{name}: {error}" for error in found_errors]
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not errors
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])


def test_speaker_view_shows_the_notes_offline(decks):
    name = NOTEBOOKS[3].stem  # 03
    with serve(decks[name].parent) as base_url, chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT)
        watch = OfflineWatch(context)  # the popup and its frames too
        page = context.new_page()
        page.goto(f"{base_url}{name}.slides.html#/1", wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=15_000)
        expected = page.evaluate(
            "() => Reveal.getCurrentSlide().querySelector('aside.notes').textContent.trim()"
        )
        with page.expect_popup() as opened:
            page.keyboard.press("s")
        speaker = opened.value
        notes = speaker.locator(".speaker-controls-notes .value")
        notes.wait_for(timeout=15_000)
        speaker.wait_for_function(
            "() => document.querySelector('.speaker-controls-notes .value').textContent.trim().length > 0",
            timeout=15_000,
        )
        shown = " ".join(notes.inner_text().split())
        speaker.wait_for_timeout(1_000)  # its two previews load the deck: let them finish
        speaker.screenshot(path=artifacts_dir() / "slides-03-speaker-view.png")
        blocked, errors = watch.take()
        context.close()
    assert expected and shown[:60] == " ".join(expected.split())[:60]
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not errors
