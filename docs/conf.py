"""Sphinx configuration of the course site (built by ``make site``, i.e. ``scripts/build_site.py html``).

``scripts/build_site.py`` copies this file, the pages next to it and the course sources
(notebooks/, exercises/, instructor/, badges/, README.md) into a staging folder
with the repository's layout, copies MathJax into its ``_static/``, appends the
navigation (toctrees in course order) to ``index.md``, writes ``_site.json``
(the repository's address from pyproject.toml and each page's last commit date)
and runs Sphinx there.
"""

import json
from pathlib import Path

# Written by scripts/build_site.py: {"repository": "https://github.com/owner/name",
# "last_updated": {docname: "YYYY-MM-DD"}}.  The address lives in one place,
# pyproject.toml's [project.urls] Repository, like the notebooks' badges.
SITE = json.loads((Path(__file__).parent / "_site.json").read_text(encoding="utf-8"))

project = "Loss functions in Keras, from first principles"
copyright = "the course authors (MIT licence)"

extensions = ["myst_nb"]

# Render the notebooks from the outputs stored in them: never execute at build time.
nb_execution_mode = "off"
# Interactive widgets cannot run in a static page.  Render the output's static
# form instead (its PNG when it has one, else its text/plain description) and
# never load the widget manager (require.js and @jupyter-widgets/html-manager
# from a CDN).
nb_mime_priority_overrides = [
    (builder, "application/vnd.jupyter.widget-view+json", None)
    for builder in ("html", "dirhtml", "singlehtml")
]
nb_ipywidgets_js = {}

myst_enable_extensions = ["dollarmath", "amsmath"]
# Markdown *outputs* (course_lib.notebook.show displays docstrings with $$ maths) are
# parsed as MyST, with the extensions above; myst-nb's default, CommonMark, leaves the
# dollars as text.
nb_render_markdown_format = "myst"
myst_heading_anchors = 3

# MathJax 3 from our own _static (copied there from node_modules by scripts/build_site.py),
# never from a CDN: the site must work offline.
mathjax_path = "mathjax/tex-chtml.js"
# textmacros: \_ inside \text{...} (e.g. \text{apply\_class\_balancing}) typesets as an
# underscore instead of showing its backslash; the slides load it too.
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}

root_doc = "index"
# README.md is staged only for the course map that index.md includes from it.
exclude_patterns = ["README.md", "**/.ipynb_checkpoints"]
include_patterns = ["*.md", "notebooks/*.ipynb", "exercises/*.ipynb", "instructor/*.md"]

html_theme = "sphinx_book_theme"
html_title = "Loss functions in Keras"
html_static_path = ["_static"]
# _templates/search-button-field.html: the theme's search button, with an accessible name.
templates_path = ["_templates"]
# "Last updated" is each page's last commit (set per page in setup() below), not
# the build date, which would claim every page changed whenever the site is built.
html_last_updated_fmt = None
# The site's search shows text from the article only, with formulas left out
# (Sphinx's own summaries would show raw TeX and the theme's buttons).
html_js_files = ["search-text.js"]
# Without a default mode the theme logs a console error ("Got invalid theme mode").
html_context = {"default_mode": "light"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "footer_content_items": ["copyright.html", "last-updated.html"],
    # Header buttons: the repository, its issues, and Binder/Colab launch buttons on
    # every notebook page (the staged sources keep the repository's layout).
    "repository_url": SITE["repository"],
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_issues_button": True,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
}


def _last_updated(app, pagename, templatename, context, doctree) -> None:
    date = SITE["last_updated"].get(pagename)
    if date:
        context["last_updated"] = date


def setup(app):
    app.connect("html-page-context", _last_updated)
