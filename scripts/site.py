"""Build the course site and the slides, both usable offline.

    python scripts/site.py html     # make site:   _build/site/html/index.html
    python scripts/site.py slides   # make slides: _build/slides/NN_name.slides.html

``html`` stages the Sphinx sources into ``_build/site/source`` with the
repository's layout (docs/ pages at the top, then notebooks/, exercises/,
instructor/, badges/ and README.md), so that relative links and images in the
notebooks resolve, appends the navigation in course order to ``index.md`` and
runs Sphinx with myst-nb and sphinx-book-theme.  The notebooks are rendered from
their stored outputs; nothing is executed.  Any Sphinx warning fails the build.

``slides`` exports every notebook with nbconvert's reveal.js exporter, driven by
the cells' ``slideshow.slide_type`` metadata, through the template in
``docs/slides-template``.

MathJax 3 and reveal.js 4 come from npm (``package.json``, pinned by
``package-lock.json``) and are copied next to the pages; ``npm ci`` runs when
``node_modules/`` is missing or older than the lock file.  Neither the site nor
the slides request anything from another host.
"""

from __future__ import annotations

import argparse
import json
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
    build_slides(html / "slides")  # linked from the site's slides page
    return html


def slide_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def build_slides(out: Path = BUILD / "slides", notebooks: Iterable[Path] | None = None) -> list[Path]:
    """Write one reveal.js deck per notebook into ``out`` (emptied first), with the assets next to them."""
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
        mathjax_url="mathjax/tex-chtml.js",
    )
    decks = []
    for notebook in slide_notebooks() if notebooks is None else notebooks:
        body, _ = exporter.from_filename(str(notebook))
        body = body.replace('src="../badges/', 'src="badges/')
        deck = out / f"{Path(notebook).stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
    return decks


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
