"""The reveal.js decks (``make slides``): structure from the slide metadata, offline in a browser.

Two decks are built with the same code as ``make slides``: notebook 00 and
notebook 02 (math and plots).  Their structure must follow the cells'
``slideshow.slide_type`` metadata, whatever it is: one top-level ``<section>``
per ``slide`` cell (the first visible cell always opens one), one nested
``<section>`` per slide or subslide, and no trace of ``skip`` cells.  Deck 02
is then opened in Debian's Chromium from a loopback server with every other
host blocked: reveal.js must initialise, MathJax typeset the math, and no
error or outside request may occur while paging through all the slides.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

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
from course_scripts import load_script

site_script = load_script("site")

NOTEBOOKS = [
    ROOT / "notebooks" / "00_welcome_and_conventions.ipynb",
    ROOT / "notebooks" / "02_regression.ipynb",
]
OPENED = NOTEBOOKS[1]
# Press "next" (slides, subslides and fragments) until the end of the deck.
PAGE_THROUGH = """() => {
    let steps = 0;
    while (!(Reveal.isLastSlide() && !Reveal.availableFragments().next) && steps < 10000) {
        Reveal.next();
        steps += 1;
    }
    return steps;
}"""


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("slides")
    try:
        built = site_script.build_slides(out, NOTEBOOKS)
    except site_script.MissingTool as error:
        missing(str(error))
    return {deck.name.removesuffix(".slides.html"): deck for deck in built}


def slide_types(notebook: Path) -> list[str]:
    cells = nbformat.read(notebook, as_version=4).cells
    return [cell.metadata.get("slideshow", {}).get("slide_type") or "-" for cell in cells]


def expected_structure(notebook: Path) -> tuple[int, int]:
    """The (slides, slides + subslides) that nbconvert makes of the notebook's metadata.

    Each slide is a top-level ``<section>`` holding one ``<section>`` per subslide,
    the first of which is the slide's own; reveal.js pages through the inner ones.
    """
    types = slide_types(notebook)
    first = next(index for index, kind in enumerate(types) if kind not in ("skip", "notes"))
    rest = types[first + 1 :]
    return 1 + rest.count("slide"), 1 + rest.count("slide") + rest.count("subslide")


class Deck(HTMLParser):
    """Counts a deck's sections (top-level and all), notebook cells and remote resources."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.top_level = 0
        self.sections = 0
        self.cells = 0
        self.remote: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section":
            self.top_level += self.depth == 0
            self.sections += 1
            self.depth += 1
        if tag == "div" and "jp-Cell" in (attributes.get("class") or "").split():
            self.cells += 1
        url = attributes.get("src") if tag in ("script", "img") else attributes.get("href")
        if tag in ("script", "img", "link") and url and urlsplit(url).scheme in ("http", "https"):
            self.remote.append(url)

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1


def parse(deck: Path) -> Deck:
    parser = Deck()
    parser.feed(deck.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_deck_follows_the_slide_metadata(decks, notebook):
    deck = parse(decks[notebook.stem])
    slides, pages = expected_structure(notebook)
    assert deck.top_level == slides
    assert deck.sections == slides + pages
    assert deck.cells == sum(kind != "skip" for kind in slide_types(notebook))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_deck_loads_nothing_from_the_web(decks, notebook):
    deck = parse(decks[notebook.stem])
    assert not deck.remote
    folder = decks[notebook.stem].parent
    assert (folder / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (folder / "mathjax" / "tex-chtml.js").is_file()


def formulas(notebook: Path) -> int:
    """The TeX formulas in the markdown cells that the deck shows."""
    cells = nbformat.read(notebook, as_version=4).cells
    shown = [cell for cell, kind in zip(cells, slide_types(notebook), strict=True) if kind != "skip"]
    return sum(tex_formulas(cell.source) for cell in shown if cell.cell_type == "markdown")


def test_deck_runs_offline_in_chromium(decks):
    _, pages = expected_structure(OPENED)
    with serve(decks[OPENED.stem].parent) as base_url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watch = OfflineWatch(page)
        page.goto(f"{base_url}{OPENED.stem}.slides.html", wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=15_000)
        page.evaluate("() => MathJax.startup.promise")
        total = page.evaluate("() => Reveal.getTotalSlides()")
        typeset = page.locator("mjx-container").count()
        errors_in_math = page.locator("mjx-merror").count()
        shot = artifacts_dir() / "slides-title.png"
        page.screenshot(path=shot)
        steps = page.evaluate(PAGE_THROUGH)
        last = page.evaluate("() => Reveal.isLastSlide()")
        blocked, errors = watch.take()
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not errors
    assert total == pages
    assert last and steps >= pages - 1
    assert typeset >= formulas(OPENED) > 0 and errors_in_math == 0
    assert not is_blank_png(shot)
