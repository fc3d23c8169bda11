"""The course site (``make site``) in a real, offline browser.

The site is built once, from the committed notebooks, into a temporary folder
with the same code as ``make site`` (Sphinx fails on any warning), then served
from a loopback HTTP server and read in Debian's Chromium.  Every request to
another host is blocked and reported.  Starting at the landing page, the test
follows the "next" link through the whole course and checks each page on the
way: no console error, failed request or outside request; every image
decoded; every math element typeset by MathJax and no TeX left in the text.
The pages the chain does not reach are then opened directly.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

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

# A chapter with plots and formulas, and one of the shorter ones (for a full-page screenshot).
SCREENSHOT_PAGE = "notebooks/10_add_loss_and_regularisation"
RAW_TEX = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\frac")


def course_order() -> list[str]:
    """The pages in reading order, as the repository's files say it should be (not as site.py does)."""
    pages = ["index"] + sorted(path.stem for path in (ROOT / "docs").glob("*.md") if path.stem != "index")
    pages += [f"notebooks/{path.stem}" for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    pages += [f"exercises/{path.stem}" for path in sorted((ROOT / "exercises").glob("[0-9]*.ipynb"))]
    instructor = sorted(
        (ROOT / "instructor").glob("*.md"), key=lambda path: (path.stem != "README", path.name)
    )
    return pages + [f"instructor/{path.stem}" for path in instructor]


def markdown_sources(page: str) -> str:
    """The markdown text of a page's source (markdown cells only, for a notebook)."""
    source = ROOT / "docs" / f"{page}.md" if "/" not in page else ROOT / f"{page}.md"
    if source.exists():
        text = source.read_text(encoding="utf-8")
    else:
        notebook = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        text = "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return text


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site's html folder."""
    try:
        return site_script.build_html(tmp_path_factory.mktemp("site"))
    except site_script.MissingTool as error:
        missing(str(error))
    except subprocess.CalledProcessError:
        pytest.fail("the site did not build without warnings (Sphinx's messages are in the captured output)")


@pytest.fixture(scope="module")
def base_url(site) -> str:
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@dataclass
class Visit:
    """What one page looked like in the browser."""

    url: str
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    math_elements: int = 0
    untypeset_math: int = 0
    typeset: int = 0
    raw_tex: list[str] = field(default_factory=list)
    math_errors: list[str] = field(default_factory=list)


INSPECT = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    const article = document.querySelector('article') || document.body;
    const maths = [...article.querySelectorAll('.math')];
    const text = article.cloneNode(true);
    text.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .output')
        .forEach(node => node.remove());
    return {
        images: document.images.length,
        brokenImages: [...document.images].filter(img => !img.complete || img.naturalWidth === 0)
            .map(img => img.getAttribute('src')),
        mathElements: maths.length,
        untypesetMath: maths.filter(node => !node.querySelector('mjx-container')).length,
        typeset: document.querySelectorAll('mjx-container').length,
        // MathJax typesets a formula it cannot parse as an error box (mjx-merror) carrying the message
        mathErrors: [...document.querySelectorAll('mjx-merror')]
            .map(node => node.getAttribute('data-mjx-error') || node.textContent),
        text: text.textContent,
    };
}"""


def inspect(page, watch: OfflineWatch) -> Visit:
    found = page.evaluate(INSPECT)
    blocked, errors = watch.take()
    return Visit(
        url=page.url,
        blocked=blocked,
        errors=errors,
        images=found["images"],
        broken_images=found["brokenImages"],
        math_elements=found["mathElements"],
        untypeset_math=found["untypesetMath"],
        typeset=found["typeset"],
        raw_tex=[tex for tex in RAW_TEX if tex in found["text"]],
        math_errors=found["mathErrors"],
    )


def page_name(url: str, base_url: str) -> str:
    path = unquote(urlsplit(url).path)[len(urlsplit(base_url).path) :]
    return path.removesuffix(".html") or "index"


@pytest.fixture(scope="module")
def tour(site, base_url, browser) -> dict:
    """Follow "next" from the landing page to the end, then open every other page directly."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = OfflineWatch(page)
    visits: dict[str, Visit] = {}
    chain: list[str] = []

    def visit(name: str) -> None:
        visits[name] = inspect(page, watch)
        if name == SCREENSHOT_PAGE:
            page.screenshot(path=artifacts_dir() / "site-chapter.png", full_page=True)

    page.goto(base_url + "index.html", wait_until="load")
    sidebar = page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference", "links => links.map(link => link.href)"
    )
    while True:
        name = page_name(page.url, base_url)
        chain.append(name)
        if name in visits:  # a loop in the "next" links
            break
        visit(name)
        following = page.locator("a.right-next")
        if following.count() == 0:
            break
        with page.expect_navigation(wait_until="load"):
            following.first.click()
    for path in sorted(site.rglob("*.html")):
        name = path.relative_to(site).with_suffix("").as_posix()
        if name not in visits and not name.startswith("_"):
            page.goto(base_url + path.relative_to(site).as_posix(), wait_until="load")
            visit(name)
    page.close()
    return {"visits": visits, "chain": chain, "sidebar": [page_name(url, base_url) for url in sidebar]}


def test_next_links_walk_the_course_in_order(tour):
    assert tour["chain"] == course_order()


def test_sidebar_lists_the_course_in_order(tour):
    assert tour["sidebar"] == course_order()


def test_every_page_stays_offline(tour):
    blocked = {name: visit.blocked for name, visit in tour["visits"].items() if visit.blocked}
    assert not blocked, f"requests to other hosts: {blocked}"


def test_every_page_loads_without_errors(tour):
    assert len(tour["visits"]) >= len(course_order()) + 2  # + genindex and search
    errors = {name: visit.errors for name, visit in tour["visits"].items() if visit.errors}
    assert not errors


def test_every_image_renders(tour):
    broken = {name: visit.broken_images for name, visit in tour["visits"].items() if visit.broken_images}
    assert not broken
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        plots = sum(
            "image/png" in output.get("data", {})
            for cell in nbformat.read(path, as_version=4).cells
            for output in cell.get("outputs", [])
        )
        assert tour["visits"][f"notebooks/{path.stem}"].images >= plots, f"{path.name}: plots missing"


def test_math_is_typeset(tour):
    problems = {}
    for name, visit in tour["visits"].items():
        expected = tex_formulas(markdown_sources(name)) if name in course_order() else 0
        if visit.typeset < expected:
            problems[name] = f"{visit.typeset} typeset formulas for {expected} in the source"
        elif visit.untypeset_math:
            problems[name] = f"{visit.untypeset_math} of {visit.math_elements} math elements not typeset"
        elif visit.raw_tex:
            problems[name] = f"TeX left in the text: {visit.raw_tex}"
        elif visit.math_errors:
            problems[name] = f"MathJax errors: {visit.math_errors}"
    assert not problems


def test_screenshot_of_a_chapter_is_not_blank(tour):
    shot = artifacts_dir() / "site-chapter.png"
    assert shot.exists() and not is_blank_png(shot)


class Links(HTMLParser):
    """The URLs of a page's links and resources, and its element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for attribute in ("href", "src"):
            if attributes.get(attribute):
                self.urls.append((tag, attributes[attribute]))


def test_internal_links_resolve_and_resources_are_local(site):
    pages = {path: Links() for path in site.rglob("*.html") if not path.name.endswith("macros.html")}
    for path, links in pages.items():
        links.feed(path.read_text(encoding="utf-8"))
    broken, remote = [], []
    for path, links in pages.items():
        page_url = path.relative_to(site).as_posix()
        for tag, url in links.urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                if tag != "a":  # a link is fine; loading a script, style or image from the web is not
                    remote.append(f"{page_url}: <{tag}> {url}")
                continue
            if parts.scheme:  # mailto:, data:, javascript:
                continue
            target = site / unquote(urlsplit(urljoin(page_url, url)).path) if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page_url}: {url}")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{page_url}: {url} (no such anchor)")
    assert not remote
    assert not broken


def test_exercise_links_from_the_notebooks_work(site):
    """Where a notebook links to its exercise notebook, the site links to the exercise page."""
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        html = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        for target in re.findall(r"\]\((\.\./exercises/[^)#]+\.ipynb)\)", path.read_text(encoding="utf-8")):
            page = Path(target).with_suffix(".html").as_posix()
            assert f'href="{page}' in html, f"{path.name}: link to {target} is not a site link"
