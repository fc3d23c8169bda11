"""Sphinx configuration of the course site (built by ``make site``, i.e. ``scripts/site.py html``).

``scripts/site.py`` copies this file, the pages next to it and the course sources
(notebooks/, exercises/, instructor/, badges/, README.md) into a staging folder
with the repository's layout, copies MathJax into its ``_static/``, appends the
navigation (toctrees in course order) to ``index.md`` and runs Sphinx there.
"""

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
myst_heading_anchors = 3

# MathJax 3 from our own _static (copied there from node_modules by scripts/site.py),
# never from a CDN: the site must work offline.
mathjax_path = "mathjax/tex-chtml.js"

root_doc = "index"
# README.md is staged only for the course map that index.md includes from it.
exclude_patterns = ["README.md", "**/.ipynb_checkpoints"]
include_patterns = ["*.md", "notebooks/*.ipynb", "exercises/*.ipynb", "instructor/*.md"]

html_theme = "sphinx_book_theme"
html_title = "Loss functions in Keras"
html_static_path = ["_static"]
html_last_updated_fmt = None
# Without a default mode the theme logs a console error ("Got invalid theme mode").
html_context = {"default_mode": "light"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "footer_content_items": ["copyright.html"],
}
