"""Build the course site and the slides, both usable offline.

    python scripts/build_site.py html     # make site:   _build/site/html/index.html
    python scripts/build_site.py slides   # make slides: _build/slides/NN_name.slides.html

``html`` stages the Sphinx sources into ``_build/site/source`` with the
repository's layout (docs/ pages at the top, then notebooks/, exercises/,
instructor/, badges/ and README.md), so that relative links and images in the
notebooks resolve, appends the navigation in course order to ``index.md`` and
runs Sphinx with myst-nb and sphinx-book-theme.  The notebooks are rendered from
their stored outputs; nothing is executed.  Any Sphinx warning fails the build.

``slides`` exports every notebook with nbconvert's reveal.js exporter, driven by
the cells' ``slideshow.slide_type`` metadata, through the template in
``docs/slides-template``.  A section too long for one 1280x720 slide continues on
vertical subslides, and every page gets speaker notes (``slide_pages``).

MathJax 3 and reveal.js 4 come from npm (``package.json``, pinned by
``package-lock.json``) and are copied next to the pages; ``npm ci`` runs when
``node_modules/`` is missing or older than the lock file.  Neither the site nor
the slides request anything from another host.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD = ROOT / "_build"
NODE_MODULES = ROOT / "node_modules"
SLIDES_TEMPLATE = DOCS / "slides-template"

# Repository folders copied into the site's sources, keeping their relative paths.
STAGED_FOLDERS = ("notebooks", "exercises", "instructor", "badges")
# answers.md holds the answers to the recall questions: for instructors, not on the site.
IGNORED = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "answers.md")
# The parts of MathJax's es5 build that tex-chtml.js loads, or may load later
# (TeX extensions on demand, CHTML fonts, the menu and its accessibility options).
MATHJAX_PARTS = ("tex-chtml.js", "input/tex", "output/chtml", "ui", "a11y", "sre")
# What nbconvert's reveal template needs from reveal.js.
REVEAL_PARTS = ("dist", "plugin/notes")


class MissingTool(RuntimeError):
    """A program the build needs (npm) is not installed."""


def _installed() -> bool:
    lock = ROOT / "package-lock.json"
    stamp = NODE_MODULES / ".package-lock.json"  # written by npm after every install
    needed = [
        NODE_MODULES / "mathjax" / "es5" / "tex-chtml.js",
        NODE_MODULES / "reveal.js" / "dist" / "reveal.js",
    ]
    return (
        all(path.exists() for path in needed)
        and stamp.exists()
        and stamp.stat().st_mtime >= lock.stat().st_mtime
    )


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (on POSIX), e.g. so that parallel test workers run npm once."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def node_modules() -> Path:
    """``node_modules/`` as pinned by package-lock.json, running ``npm ci`` when missing or stale."""
    if _installed():
        return NODE_MODULES
    with _exclusive(BUILD / ".npm-ci.lock"):
        if _installed():  # another process installed it while we waited
            return NODE_MODULES
        npm = shutil.which("npm")
        if npm is None:
            raise MissingTool(
                "npm is not installed (Debian: apt-get install npm); the site needs MathJax from npm"
            )
        print("npm ci (MathJax, reveal.js) ...", flush=True)
        command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        subprocess.run(command, cwd=ROOT, check=True)
    return NODE_MODULES


def copy_parts(source: Path, parts: Iterable[str], destination: Path) -> None:
    """Copy ``source/part`` to ``destination/part`` for every part (a file or a folder)."""
    for part in parts:
        target = destination / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():
            shutil.copytree(source / part, target, ignore=shutil.ignore_patterns("*.map"), dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, target)


def copy_mathjax(destination: Path) -> None:
    copy_parts(node_modules() / "mathjax" / "es5", MATHJAX_PARTS, destination)


def toctree(caption: str, docnames: list[str]) -> str:
    if not docnames:
        return ""
    lines = "\n".join(docnames)
    return f"\n```{{toctree}}\n:hidden:\n:titlesonly:\n:caption: {caption}\n\n{lines}\n```\n"


def docnames(folder: Path, pattern: str, first: str | None = None) -> list[str]:
    """Documents of a staged folder in file-name order (course order), ``first`` first."""
    paths = sorted(folder.glob(pattern))
    names = [f"{folder.name}/{path.stem}" for path in paths if path.stem != first]
    if first is not None and (folder / f"{first}{Path(pattern).suffix}").exists():
        names.insert(0, f"{folder.name}/{first}")
    return names


def repository_url() -> str:
    """The course's repository address: ``[project.urls] Repository`` in pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["urls"]["Repository"]


def source_files(docname: str) -> list[Path]:
    """The repository files a page of the site is made from."""
    folder = docname.split("/")[0]
    if folder in STAGED_FOLDERS:
        return [path for path in ROOT.glob(f"{docname}.*") if path.suffix in (".md", ".ipynb")]
    files = [DOCS / f"{docname}.md"]
    return files + [ROOT / "README.md"] if docname == "index" else files  # index shows the course map


def last_commit_dates(docnames: Iterable[str]) -> dict[str, str]:
    """``docname -> YYYY-MM-DD`` of the last commit that changed the page's files (none outside git)."""
    dates = {}
    for docname in docnames:
        files = [str(path.relative_to(ROOT)) for path in source_files(docname) if path.exists()]
        if not files:
            continue
        try:
            found = subprocess.run(
                ["git", "log", "-1", "--format=%cs", "--", *files],
                cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
        except (OSError, subprocess.CalledProcessError):  # not a git checkout
            return {}
        if found:
            dates[docname] = found
    return dates


def carry_alt_text(notebook_path: Path) -> None:
    """Give each figure on the site the description stored with its PNG.

    ``course_lib.plotting.describe`` stores a figure's description in the output's
    metadata (``image/png`` -> ``alt``); myst-nb takes a figure's ``alt`` only from
    the cell's metadata (``mystnb.image.alt``), so the staged copy gets it there.
    A cell whose figures carry different descriptions is an error: myst-nb would
    give them all the same one.
    """
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        alts = {
            output.get("metadata", {}).get("image/png", {}).get("alt")
            for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})
        } - {None}
        if len(alts) > 1:
            raise ValueError(f"{notebook_path.name}: a cell has figures with different descriptions: {alts}")
        if alts:
            cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alts.pop()
    nbformat.write(notebook, notebook_path)


def notebook_title(path: Path) -> str:
    """The notebook's first heading, without its ``#``: "03 · Binary classification"."""
    import nbformat

    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    return first.lstrip("#").strip()


def slides_page(chapters: list[str]) -> str:
    """The site's page that links every notebook's reveal.js deck (built into ``slides/``)."""
    items = []
    for docname in chapters:
        stem = Path(docname).name
        title = notebook_title(ROOT / f"{docname}.ipynb")
        items.append(f'<li><a href="slides/{stem}.slides.html">{title}</a></li>')
    rows = "\n".join(items)
    return f"""# Slides

One reveal.js deck per notebook, made from the same notebooks and their stored
outputs. In a deck, press `f` for full screen, `s` for the speaker notes and `Esc`
for an overview. The decks work offline.

<ul>
{rows}
</ul>
"""


def stage(source: Path) -> Path:
    """Write the Sphinx project to ``source`` (emptied first) and return it."""
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    pages = []
    for path in sorted(DOCS.iterdir()):
        if path.is_file():
            shutil.copy2(path, source / path.name)
            if path.suffix == ".md" and path.stem != "index":
                pages.append(path.stem)
    for folder in ("_static", "_templates"):
        if (DOCS / folder).is_dir():
            shutil.copytree(DOCS / folder, source / folder, ignore=IGNORED)
    shutil.copy2(ROOT / "README.md", source / "README.md")  # index.md includes its course map
    for folder in STAGED_FOLDERS:
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, source / folder, ignore=IGNORED)
    copy_mathjax(source / "_static" / "mathjax")
    for notebook in source.glob("*/*.ipynb"):
        carry_alt_text(notebook)
    chapters = docnames(source / "notebooks", "[0-9]*.ipynb")
    (source / "slides.md").write_text(slides_page(chapters), encoding="utf-8")
    pages.append("slides")
    navigation = [
        toctree("Start here", pages),
        toctree("Course", chapters),
        toctree("Exercises", docnames(source / "exercises", "[0-9]*.ipynb")),
        toctree("For instructors", docnames(source / "instructor", "*.md", first="README")),
    ]
    with open(source / "index.md", "a", encoding="utf-8") as index:
        index.write("".join(navigation))
    everything = ["index", *pages, *chapters, *docnames(source / "exercises", "[0-9]*.ipynb")]
    everything += docnames(source / "instructor", "*.md")
    site = {"repository": repository_url(), "last_updated": last_commit_dates(everything)}
    (source / "_site.json").write_text(json.dumps(site, indent=1), encoding="utf-8")
    return source


def build_html(site: Path = BUILD / "site") -> Path:
    """Build the site under ``site`` (source/, doctrees/, html/) and return the html folder."""
    source = stage(site / "source")
    html = site / "html"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q"]
    command += ["-d", str(site / "doctrees"), str(source), str(html)]
    subprocess.run(command, check=True)
    build_slides(html / "slides", in_site=True)  # linked from the site's slides page
    return html


def slide_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# A link from a notebook to a course notebook: "01_x.ipynb" (a chapter, from another
# chapter) or "../exercises/01_x.ipynb" / "../notebooks/01_x.ipynb".
NOTEBOOK_LINK = re.compile(r'href="(?:\.\./(notebooks|exercises)/)?(\d\d_[\w-]+)\.ipynb"')


def retarget_notebook_links(body: str, in_site: bool) -> str:
    """Point a deck's links to course notebooks where they resolve.

    A deck sits in ``slides/``, not next to the notebooks, so the notebooks'
    relative links break.  Inside the site (``html/slides/``) they go to the
    site's page of that notebook; a stand-alone deck links the notebook in the
    repository (the address in pyproject.toml).
    """

    def target(match: re.Match) -> str:
        folder, stem = match.group(1) or "notebooks", match.group(2)
        if in_site:
            return f'href="../{folder}/{stem}.html"'
        return f'href="{repository_url()}/blob/main/{folder}/{stem}.ipynb"'

    return NOTEBOOK_LINK.sub(target, body)


def build_slides(
    out: Path = BUILD / "slides", notebooks: Iterable[Path] | None = None, *, in_site: bool = False
) -> list[Path]:
    """Write one reveal.js deck per notebook into ``out`` (emptied first), with the assets next to them.

    ``in_site``: the decks go into the site's ``slides/`` folder and link its pages.
    """
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.filters.widgetsdatatypefilter import WIDGET_VIEW_MIMETYPE
    from traitlets.config import Config

    modules = node_modules()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_parts(modules / "reveal.js", REVEAL_PARTS, out / "reveal.js")
    copy_mathjax(out / "mathjax")
    # The notebooks show the Colab/Binder badges as ../badges/*.svg; the decks sit one
    # folder level higher than that path expects, so the badges go next to them.
    shutil.copytree(ROOT / "badges", out / "badges")
    # nbconvert's own output priority without the ipywidgets view: a static deck shows
    # a widget's static form (its PNG or its text/plain) instead of loading a widget
    # manager from a CDN.
    priority = SlidesExporter().default_config.NbConvertBase.display_data_priority
    config = Config()
    config.NbConvertBase.display_data_priority = [m for m in priority if m != WIDGET_VIEW_MIMETYPE]
    exporter = SlidesExporter(
        config=config,
        extra_template_basedirs=[str(SLIDES_TEMPLATE.parent)],
        template_name=SLIDES_TEMPLATE.name,
        reveal_url_prefix="reveal.js",
        # nbconvert's default theme, "simple", imports Google Fonts; "white" ships its font.
        reveal_theme="white",
        reveal_width=str(SLIDE_STYLE["width"]),
        reveal_height=str(SLIDE_STYLE["height"]),
        mathjax_url="mathjax/tex-chtml.js",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    decks = []
    for notebook in slide_notebooks() if notebooks is None else notebooks:
        notebook = Path(notebook)
        pages = slide_pages(nbformat.read(notebook, as_version=4))
        resources = {
            "metadata": {"name": notebook.stem, "path": str(notebook.parent)},
            "slide_style": SLIDE_STYLE,
        }
        body, _ = exporter.from_notebook_node(pages, resources=resources)
        body = body.replace('src="../badges/', 'src="badges/')
        body = retarget_notebook_links(body, in_site)
        deck = out / f"{Path(notebook).stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
    return decks


# ---------------------------------------------------------------------------
# Slides that fit.  build_slides rewrites each notebook into pages before
# nbconvert sees it: every `slide` / `subslide` cell of the notebook starts a
# section, and a section whose content does not fit one 1280x720 slide is cut
# into several vertical subslides (pages), each under the section's heading.
# What fits is estimated from the text, the code, the outputs and the PNG sizes
# with the same type sizes that the template's style sheet uses (SLIDE_STYLE);
# tests/site/test_slides.py measures every page of every deck in Chromium.
#
# What a page shows, driven by the cells' metadata:
# - cells of Slide Type `skip` and cells tagged `remove-cell` are left out;
# - the title slide shows the notebook's `#` heading, its badges and subtitle;
#   the rest of the first cell (introduction, objectives) follows on the next pages;
# - code cells show their input (no `In [n]:` prompts) and their stored outputs;
#   an input longer than SLIDE_CODE_LINES lines is replaced by its first line and
#   its length, unless the cell is tagged `live-code` (the instructor types it);
#   tags `remove-input` / `remove-output` hide the one or the other;
# - long outputs, lists and tables continue on the next page;
# - a section tagged `pause` ends its first page after its first cell, so that
#   the room sees the question before the answer.
# Speaker notes (`s` in a deck): the cells of Slide Type `notes`, or tagged
# `notes`, are a page's notes and appear only there.  A section without such
# cells gets the prose of each page as its notes, plus the instructor's cues
# (live-code, pause, code left off the slide).
# ---------------------------------------------------------------------------

# In CSS pixels of the slide; docs/slides-template/index.html.j2 styles the decks from these.
SLIDE_STYLE = {
    "width": 1280,
    "height": 720,
    "pad_x": 40,  # left and right padding of a page
    "pad_top": 20,
    "text_px": 22,  # prose
    "text_line": 1.35,
    "code_px": 18,  # code inputs and text outputs
    "code_line": 1.3,
    "h1_px": 52,
    "h2_px": 36,
    "h3_px": 30,
    "continued_px": 26,  # the section's heading repeated on its later pages
    "image_max_height": 420,
}
# The height that a page's estimated content may take: the slide less its top
# padding, room at the bottom for reveal's controls, and a margin for the estimate.
SLIDE_PAGE_BUDGET = 600
SLIDE_CODE_LINES = 18  # longer inputs are left off the slide (not `live-code` ones)
SLIDE_TAG_NOTES = "notes"
SLIDE_TAG_LIVE = "live-code"
SLIDE_TAG_PAUSE = "pause"
SLIDE_HIDDEN = {"remove-cell"}
SLIDE_PAUSE_NOTE = (
    "**Pause.** Ask the room before you explain: a prediction before an experiment, "
    "who has made which mistake at the pitfalls, the recall questions at the summary."
)
_SLIDE_WIDTH = SLIDE_STYLE["width"] - 2 * SLIDE_STYLE["pad_x"]
# Average advance of a character, in ems: prose (Source Sans Pro, shipped with reveal.js;
# bold and digits are wider than average text) and code (any monospace font).
_PROSE_EM, _CODE_EM = 0.52, 0.61


def _tex_width(tex: str) -> float:
    """A formula's width in prose characters (rough, on the safe side)."""
    text = re.sub(r"\\(?:left|right|[bB]igg?[lr]?)\b", "", tex)
    text = re.sub(r"\\q?quad\b", "   ", text)
    text = re.sub(r"\\[,;:! ]", " ", text)
    text = re.sub(r"\\(?:text|math[a-z]+|operatorname|boxed)\s*\{([^{}]*)\}", r"\1", text)
    fraction = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
    while fraction.search(text):
        text = fraction.sub(lambda m: max(m.group(1), m.group(2), key=len), text)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    text = re.sub(r"[{}^_&]|\\\\", "", text)
    return 1.15 * len(text.strip())


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _words(markdown: str) -> list[float]:
    """The widths (in prose characters) of a paragraph's unbreakable pieces."""
    widths: list[float] = []
    pieces = re.split(r"(`[^`]*`|(?<![\\$])\$(?!\$).+?(?<!\\)\$)", markdown)
    for piece in pieces:
        if not piece:
            continue
        if piece.startswith("`"):
            widths += [1.1 * (len(word) + 1) for word in piece.strip("`").split()]
        elif piece.startswith("$"):
            widths.append(_tex_width(piece.strip("$")) + 1)
        else:
            plain = _LINK.sub(r"\1", _IMAGE.sub("", piece))
            plain = re.sub(r"<[^>]+>|\*\*|__|[*_~]", "", plain)
            widths += [len(word) + 1 for word in plain.split()]
    return widths


def _wrapped_lines(widths: list[float], capacity: float) -> int:
    lines, used = 1, 0.0
    for width in widths:
        if used and used + width > capacity:
            lines += 1
            used = 0.0
        used += width
        while used > capacity:  # a piece wider than the line (long code, long formula)
            lines += 1
            used -= capacity
    return lines


def _display_math_height(tex: str, px: float) -> float:
    """A display formula's height (plus its margins) in pixels."""
    rows = re.split(r"\\\\|\\cr\b", tex)
    height = 0.0
    for row in rows:
        em = 1.4
        if re.search(r"\\(?:d?frac|binom|dbinom)\b", row):
            em = 2.5
        if re.search(r"\\(?:sum|prod|int|lim|max|min|arg)\w*\s*(?:\\limits)?\s*_", row):
            em = max(em, 2.9)
        if re.search(r"\\(?:underbrace|overbrace|underset|overset|stackrel)", row):
            em += 1.0
        if "\\boxed" in row:
            em += 0.5
        height += em * px
    return height + 0.9 * px


def _prose_height(markdown: str, px: float, indent: float = 0.0) -> float:
    """The height of a paragraph (any `$$` display formulas inside included)."""
    height = 0.0
    parts = re.split(r"\$\$(.+?)\$\$", markdown, flags=re.DOTALL)
    capacity = (_SLIDE_WIDTH - indent) / (_PROSE_EM * px)
    for index, part in enumerate(parts):
        if index % 2:
            height += _display_math_height(part, px)
        elif part.strip():
            lines = _wrapped_lines(_words(part), capacity)
            tall = len(re.findall(r"\\(?:frac|dfrac|sum|prod|int|binom|sqrt)", part))
            height += lines * px * SLIDE_STYLE["text_line"] + 0.25 * px * tall
    return height


def _code_height(text: str, px: float | None = None) -> float:
    """The height of code or text output in a <pre> that wraps long lines."""
    px = px or SLIDE_STYLE["code_px"]
    capacity = (_SLIDE_WIDTH - 24) / (_CODE_EM * px)
    lines = sum(-(-max(1, len(line.expandtabs())) // int(capacity)) for line in text.rstrip("\n").split("\n"))
    return lines * px * SLIDE_STYLE["code_line"] + 16


def _markdown_blocks(source: str) -> list[tuple[str, str, bool]]:
    """Split markdown into blocks: ``(kind, text, tight)``.

    ``kind`` is heading, item (of a list), table, math, fence or paragraph; ``tight``
    says that no blank line separated the block from the one before (list items).
    """
    blocks: list[tuple[str, str, bool]] = []
    current: list[str] = []
    kind, tight, blank_before = "paragraph", False, True
    closing = None  # what ends the fence or the $$ formula we are in

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append((kind, "\n".join(current), tight))
        current = []

    for line in source.split("\n"):
        stripped = line.strip()
        if closing:
            current.append(line)
            if closing in stripped:
                closing = None
                if kind == "math":
                    flush()
            continue
        if not stripped:
            flush()
            blank_before = True
            continue
        if not current and blank_before and line[:1] in (" ", "\t") and blocks and blocks[-1][0] == "item":
            # An indented paragraph after a blank line continues the list item before it.
            kind, text, tight = blocks.pop()
            current = [text, ""]
        starts = None
        if re.match(r"#{1,6}\s", line):
            starts = "heading"
        elif stripped.startswith(("```", "~~~")):
            starts, closing = "fence", stripped[:3]
        elif re.match(r"(?:[-*+]|\d+[.)])\s", line):
            starts = "item"
        elif line.startswith("|") and not (current and kind == "table"):
            starts = "table"
        elif stripped.startswith("$$") and not (current and kind == "paragraph"):
            starts = "math"
            closing = "$$" if stripped.count("$$") == 1 else None
        if starts or (current and kind in ("heading", "math", "fence")):
            flush()
            kind = starts or "paragraph"
            tight = not blank_before
        elif not current:
            kind, tight = "paragraph", False
        current.append(line)
        blank_before = False
        if starts == "heading" or (starts == "math" and not closing):
            flush()
    flush()
    return blocks


def _table_rows(text: str) -> tuple[list[str], list[str]]:
    lines = text.split("\n")
    return lines[:2], lines[2:]


def _table_height(header: list[str], rows: list[str]) -> float:
    """A table's height, its column widths shared out as a browser's automatic layout does."""
    px = SLIDE_STYLE["text_px"] * 0.9
    padding = 14 / (_PROSE_EM * px)  # a cell's padding, in characters
    table = [[_words(cell) for cell in row.strip().strip("|").split("|")] for row in [header[0], *rows]]
    columns = max(len(row) for row in table)
    table = [row + [[]] * (columns - len(row)) for row in table]
    narrowest = [
        max(max(cell, default=0.0) for cell in column) + padding for column in zip(*table, strict=True)
    ]
    widest = [max(sum(cell) for cell in column) + padding for column in zip(*table, strict=True)]
    room = _SLIDE_WIDTH / (_PROSE_EM * px)
    if sum(widest) <= room:
        widths = widest
    elif sum(narrowest) >= room:
        widths = narrowest
    else:
        spare = (room - sum(narrowest)) / (sum(widest) - sum(narrowest))
        widths = [low + spare * (high - low) for low, high in zip(narrowest, widest, strict=True)]
    height = 0.0
    for row in table:
        lines = max(_wrapped_lines(cell, width - padding) for cell, width in zip(row, widths, strict=True))
        height += lines * px * 1.3 + 7  # padding and border
    return height + 4


def _heading_height(text: str) -> float:
    level = len(text) - len(text.lstrip("#"))
    px = {1: SLIDE_STYLE["h1_px"], 2: SLIDE_STYLE["h2_px"]}.get(level, SLIDE_STYLE["h3_px"])
    lines = _wrapped_lines(_words(text.lstrip("#").strip()), _SLIDE_WIDTH / (0.55 * px))
    return lines * px * 1.2 + 0.6 * px


def _markdown_height(kind: str, text: str) -> float:
    px = SLIDE_STYLE["text_px"]
    if kind == "heading":
        return _heading_height(text)
    if kind == "table":
        return _table_height(*_table_rows(text))
    if kind == "fence":
        return _code_height("\n".join(text.split("\n")[1:-1]))
    if kind == "item":
        return _prose_height(text, px, indent=1.6 * px) + 0.3 * px
    if kind == "math":
        math = text.strip().strip("$")
        return _display_math_height(math, px)
    if re.fullmatch(r"(?:\s*\[?!\[[^\]]*\]\([^)]*\)\]?(?:\([^)]*\))?\s*)+", text):
        return 40.0  # a line of badges
    return _prose_height(text, px) + 0.5 * px


def _png_size(data: str) -> tuple[int, int]:
    import base64
    import struct

    head = base64.b64decode(data[:44])
    return struct.unpack(">II", head[16:24])


# nbconvert's choice among an output's formats (its display_data_priority, less the widget view).
_SHOWN_FIRST = (
    "text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg",
    "text/markdown", "text/plain",
)  # fmt: skip


def _shown(output) -> str | None:
    """The format of an output that the deck shows: "stream", "error" or a MIME type."""
    if output.get("output_type") in ("stream", "error"):
        return output["output_type"]
    data = output.get("data", {})
    return next((mime for mime in _SHOWN_FIRST if mime in data), None)


def _output_height(output) -> float:
    shown = _shown(output)
    data = output.get("data", {})
    if shown == "stream":
        return _code_height(output.get("text", ""))
    if shown == "error":
        return _code_height(re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", []))))
    if shown == "image/png":
        width, height = _png_size(data["image/png"])
        scale = min(1.0, _SLIDE_WIDTH / width, SLIDE_STYLE["image_max_height"] / height)
        return height * scale + 8
    if shown == "text/markdown":
        return sum(height for _, height, *_ in _markdown_pieces(data["text/markdown"], SLIDE_PAGE_BUDGET))
    if shown not in (None, "text/plain"):  # HTML, SVG, ...: none in the course today; a page each
        return SLIDE_PAGE_BUDGET
    return _code_height(data.get("text/plain", "")) if shown else 0.0


def _line_chunks(lines: list[str], first_budget: float, budget: float, measure) -> list[list[str]]:
    """Consecutive lines grouped so that ``measure(group)`` fits: the first group in
    ``first_budget``, the others in ``budget``."""
    chunks: list[list[str]] = [[]]
    limit = first_budget
    for line in lines:
        if chunks[-1] and measure([*chunks[-1], line]) > limit:
            chunks.append([])
            limit = budget
        chunks[-1].append(line)
    return chunks


def _markdown_pieces(source: str, budget: float, first_budget: float | None = None) -> list[tuple]:
    """Markdown cut into pieces that fit: ``(text, height, kind, glue, joiner)``.

    Blocks are the pieces, except that a table or a fenced code block taller than
    the page is cut by rows or lines (the table keeps its header on every piece).
    """
    pieces = []
    for kind, text, tight in _markdown_blocks(source):
        joiner = "\n" if tight and kind == "item" else "\n\n"
        limit = budget if pieces or first_budget is None else first_budget
        if kind == "table":
            header, rows = _table_rows(text)
            chunks = _line_chunks(
                rows, limit, budget, lambda rows, header=header: _table_height(header, rows)
            )
            for chunk in chunks:
                block = "\n".join([*header, *chunk])
                pieces.append((block, _table_height(header, chunk), kind, False, joiner))
                joiner = "\n\n"
            continue
        if kind == "fence":
            lines = text.split("\n")
            opening, body = lines[0], lines[1:-1] if len(lines) > 1 else []
            closing = lines[-1] if len(lines) > 1 else "```"
            chunks = _line_chunks(body, limit, budget, lambda lines: _code_height("\n".join(lines)) + 8)
            for chunk in chunks:
                block = "\n".join([opening, *chunk, closing])
                pieces.append((block, _code_height("\n".join(chunk)) + 8, kind, False, joiner))
                joiner = "\n\n"
            continue
        glue = kind == "heading" or (kind in ("paragraph", "item") and text.rstrip().endswith(":"))
        pieces.append((text, _markdown_height(kind, text), kind, glue, joiner))
    return pieces


def _output_pieces(output, first_budget: float, budget: float) -> list[tuple]:
    """An output cut into pieces that fit: ``(output, height, joiner)``.

    Text (a stream, text/plain) is cut by lines, Markdown (``show``'s docstring and
    source) into its blocks; a figure stays whole.
    """
    import copy

    shown = _shown(output)
    if shown == "text/markdown":
        pieces = []
        markdown = output.data["text/markdown"]
        for text, height, _, _, joiner in _markdown_pieces(markdown, budget, first_budget):
            piece = copy.deepcopy(output)
            piece["data"] = {"text/markdown": text}
            pieces.append((piece, height, joiner))
        return pieces
    if shown == "stream":
        text = output.get("text", "")
    elif shown == "text/plain":
        text = output.data["text/plain"]
    else:
        return [(output, _output_height(output), "")]
    lines = text.rstrip("\n").split("\n")
    pieces = []
    for chunk in _line_chunks(lines, first_budget, budget, lambda lines: _code_height("\n".join(lines))):
        piece = copy.deepcopy(output)
        if shown == "stream":
            piece["text"] = "\n".join(chunk) + "\n"
        else:
            piece["data"] = {"text/plain": "\n".join(chunk)}
        pieces.append((piece, _code_height("\n".join(chunk)), "\n"))
    return pieces


class _Atom:
    """What goes on one page whole: a markdown block, a code input, (a piece of) an output."""

    def __init__(self, part, cell, height: float, *, glue=False, notes="", joiner="\n\n") -> None:
        self.part = part  # the notebook cell (or output) it is a piece of
        self.cell = cell  # a markdown or code cell holding just this piece
        self.height = height
        self.glue = glue  # keep on the same page as the next atom
        self.notes = notes  # what it adds to the page's speaker notes
        self.joiner = joiner  # how it joins the piece of the same part before it


def _piece(cell, **changes):
    """A copy of ``cell`` with ``changes``, without its slide type (pages set their own)."""
    import copy

    piece = copy.deepcopy(cell)
    piece.update(changes)
    piece.metadata.pop("slideshow", None)
    piece.metadata.setdefault("slides_from", cell.get("id"))  # the deck's HTML ids name it
    return piece


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type") or "-"


def _is_notes(cell) -> bool:
    return _slide_type(cell) == "notes" or SLIDE_TAG_NOTES in _tags(cell)


def _markdown_atoms(cell, prose_notes: bool) -> list[_Atom]:
    atoms = []
    for text, height, kind, glue, joiner in _markdown_pieces(cell.source, SLIDE_PAGE_BUDGET - _CONTINUED):
        notes = text if prose_notes and kind in ("paragraph", "item") else ""
        piece = _piece(cell, source=text)
        atoms.append(_Atom(id(cell), piece, height, glue=glue, notes=notes, joiner=joiner))
    return atoms


def _code_atoms(cell) -> list[_Atom]:
    import html

    tags = _tags(cell)
    atoms = []
    lines = cell.source.rstrip().split("\n")
    show_input = cell.source.strip() and "remove-input" not in tags
    outputs = [] if "remove-output" in tags else list(cell.get("outputs", []))
    notes = []
    if SLIDE_TAG_LIVE in tags:
        notes.append(f"**Live-code** this cell with the room: `{lines[0]}` ({len(lines)} lines).")
    if show_input and (len(lines) <= SLIDE_CODE_LINES or SLIDE_TAG_LIVE in tags):
        piece = _piece(cell, outputs=[])
        height = _code_height(cell.source) + 4
        atoms.append(_Atom((id(cell), -1), piece, height, glue=bool(outputs), notes="\n".join(notes)))
    elif show_input:
        first = lines[0] if not lines[0].endswith(("(", "[", "{")) else f"{lines[0]}{lines[1].strip()}"
        first = html.escape(first if len(first) <= 90 else first[:88] + "…")
        caption = f'<p class="slides-code-left-off"><code>{first}</code> … ({len(lines)} lines of code)</p>'
        hidden = _piece(cell, cell_type="markdown", source=caption)
        for key in ("outputs", "execution_count"):
            hidden.pop(key, None)
        notes.append(f"Code left off the slide ({len(lines)} lines), starting `{lines[0]}`.")
        atoms.append(_Atom(id(hidden), hidden, 36.0, glue=bool(outputs), notes="\n".join(notes)))
    budget = SLIDE_PAGE_BUDGET - _CONTINUED
    # The first piece of output fits on one page with the input before it.
    first_budget = budget - (atoms[0].height if atoms else 0.0)
    for position, output in enumerate(outputs):
        for part, height, joiner in _output_pieces(output, first_budget, budget):
            piece = _piece(cell, outputs=[part])
            piece.metadata.setdefault("transient", {})["remove_source"] = True
            atoms.append(_Atom((id(cell), position), piece, height + 4, joiner=joiner))
            first_budget = budget
    return atoms


_CONTINUED = SLIDE_STYLE["continued_px"] * 1.2 + 16  # the heading repeated on a section's later pages


def _heading_of(cell) -> str | None:
    if cell.cell_type != "markdown":
        return None
    first = cell.source.lstrip().split("\n")[0]
    return first.lstrip("#").strip() if first.startswith("#") else None


def _paginate(atoms: list[_Atom], first_budget: float, budget: float) -> list[list[_Atom]]:
    """Fill pages with atoms in order; atoms glued to the next move with it."""
    pages: list[list[_Atom]] = [[]]
    used, limit = 0.0, first_budget
    index = 0
    while index < len(atoms):
        group = [atoms[index]]
        while group[-1].glue and index + len(group) < len(atoms):
            group.append(atoms[index + len(group)])
        height = sum(atom.height for atom in group)
        if height > budget:  # a glued group that cannot fit anywhere: only its first atom moves
            group, height = group[:1], group[0].height
        if pages[-1] and used + height > limit and group[0].cell is not None:
            pages.append([])
            used, limit = 0.0, budget
        pages[-1].extend(group)
        used += height
        index += len(group)
    return pages


def _merge(atoms: list[_Atom]) -> list:
    """The cells of one page: consecutive pieces of the same notebook cell joined again.

    A markdown atom's ``part`` is its cell's id; a code atom's is ``(cell id, n)``,
    ``n`` the output it is a piece of (-1: the input).
    """
    cells: list = []
    parts: list = []
    for atom in atoms:
        cell, part = atom.cell, atom.part
        if cell is None:  # speaker notes only
            continue
        last_part = parts[-1] if parts else None
        same_code_cell = isinstance(part, tuple) and isinstance(last_part, tuple) and part[0] == last_part[0]
        if cells and part == last_part and cell.cell_type == "markdown":
            cells[-1].source = cells[-1].source + atom.joiner + cell.source
        elif cells and same_code_cell and part == last_part:  # the next piece of the same output
            output, previous = cell.outputs[0], cells[-1].outputs[-1]
            if _shown(output) == "stream":
                previous["text"] = previous["text"] + output["text"]
            else:
                mime = _shown(output)
                previous["data"][mime] = previous["data"][mime] + atom.joiner + output["data"][mime]
        elif cells and same_code_cell:  # the next output of the same cell
            cells[-1].outputs.append(cell.outputs[0])
            parts[-1] = part
        else:
            cells.append(cell)
            parts.append(part)
    return cells


def _notes_cell(text: str):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["slideshow"] = {"slide_type": "notes"}
    return cell


def _title_split(cell) -> tuple[str, str]:
    """The first cell's title part (heading, badges, a one-line subtitle) and the rest."""
    blocks = _markdown_blocks(cell.source)
    title = []
    for position, (kind, text, _) in enumerate(blocks):
        short = "\n" not in text.strip() and len(_LINK.sub(r"\1", _IMAGE.sub("", text))) <= 120
        if kind == "heading" if position == 0 else kind == "paragraph" and short and position == len(title):
            title.append(text)
        else:
            break
    rest = "".join(("\n" if tight else "\n\n") + text for _, text, tight in blocks[len(title) :])
    return "\n\n".join(title), rest.strip("\n")


def slide_pages(notebook):
    """The notebook rewritten into pages that fit a slide (see the comment above SLIDE_STYLE)."""
    import copy

    import nbformat

    source = copy.deepcopy(notebook)
    cells = [
        cell for cell in source.cells if _slide_type(cell) != "skip" and not (_tags(cell) & SLIDE_HIDDEN)
    ]
    sections: list[list] = []
    for cell in cells:
        if not sections or _slide_type(cell) in ("slide", "subslide"):
            sections.append([])
        sections[-1].append(cell)
    out = []
    heading = None
    for number, section in enumerate(sections):
        kind = "slide" if number == 0 or _slide_type(section[0]) == "slide" else "subslide"
        heading = _heading_of(section[0]) or heading  # a section without one continues the last
        explicit_notes = any(_is_notes(cell) for cell in section)
        body = list(section)
        title_page = None
        if number == 0 and body and body[0].cell_type == "markdown":
            title, rest = _title_split(body[0])
            title_page = [_piece(body[0], source=title)]
            body = ([_piece(body[0], source=rest)] if rest.strip() else []) + body[1:]
        atoms: list[_Atom] = []
        breaks: set[int] = set()
        for position, cell in enumerate(body):
            begins = len(atoms)
            if _is_notes(cell):  # on the page of what comes before it
                glue = bool(atoms) and atoms[-1].glue  # keeps what was glued together
                atoms.append(_Atom(id(cell), None, 0.0, glue=glue, notes=cell.source))
            elif cell.cell_type == "markdown":
                atoms += _markdown_atoms(cell, prose_notes=not explicit_notes)
            elif cell.cell_type == "code":
                atoms += _code_atoms(cell)
            if SLIDE_TAG_PAUSE in _tags(cell) and len(atoms) > begins:  # on the cell's first page
                glue = atoms[begins].glue
                atoms.insert(begins + 1, _Atom(id(cell), None, 0.0, glue=glue, notes=SLIDE_PAUSE_NOTE))
                if position == 0:
                    breaks.add(len(atoms))
        groups, start = [], 0
        for end in [*sorted(breaks), len(atoms)]:
            if atoms[start:end]:
                groups.append(atoms[start:end])
            start = end
        pages: list[list[_Atom]] = []
        budget = SLIDE_PAGE_BUDGET - _CONTINUED
        for group in groups:
            opens = not pages and group[0].cell is not None and _heading_of(group[0].cell) is not None
            pages += _paginate(group, SLIDE_PAGE_BUDGET if opens else budget, budget)
        rendered = [(title_page, [])] if title_page is not None else []
        for page in pages:
            rendered.append((_merge(page), [atom.notes for atom in page if atom.notes]))
        rendered = [(cells, notes) for cells, notes in rendered if cells]
        if not rendered:
            continue
        for page_number, (page_cells, notes) in enumerate(rendered):
            if heading and _heading_of(page_cells[0]) is None:
                label = nbformat.v4.new_markdown_cell(f"### {heading}")
                label.metadata["tags"] = ["slides-continued"]
                page_cells = [label, *page_cells]
            page_cells[0].metadata["slideshow"] = {"slide_type": kind if page_number == 0 else "subslide"}
            out += page_cells
            if notes:
                out.append(_notes_cell("\n\n".join(notes)))
    # Each piece of a notebook cell is "<cell id>-<n>"; what the slides add is "slides-<n>".
    pieces: dict[str, int] = {}
    for index, cell in enumerate(out):
        origin = cell.metadata.pop("slides_from", None)
        if origin is None:
            cell["id"] = f"slides-{index}"
        else:
            pieces[origin] = pieces.get(origin, -1) + 1
            cell["id"] = f"{origin}-{pieces[origin]}"
    result = copy.copy(source)
    result.cells = out
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["html", "slides"])
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        if args.command == "html":
            where = build_html() / "index.html"
        else:
            where = BUILD / "slides"
            build_slides(where)
    except MissingTool as error:
        print(error, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"failed: {' '.join(map(str, error.cmd))}", file=sys.stderr)
        return 1
    print(f"{where.relative_to(ROOT)} built in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
