"""Sphinx configuration for the book "Ketamine for mental health".

The repository root is Sphinx's source directory; the book's own machinery (data
dependencies, generated figures, the bibliography style) lives in the tested package
``ketamine_timelines`` so that nothing here needs a test of its own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).parent.resolve()

# -- Project -----------------------------------------------------------------------------
project = "Ketamine for mental health"
subtitle = "An evidence-based, executable book"
author = "Ketamine for mental health contributors"
# A fixed SOURCE_DATE_EPOCH makes two builds of one commit byte-identical.
_build_time = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
copyright = f"{_build_time.tm_year}, {author}. Text CC BY 4.0, code MIT"
release = time.strftime("%Y-%m-%d", _build_time)
version = release
language = "en"
today_fmt = "%d %B %Y"

extensions = [
    "myst_nb",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinx_design",
    "ketamine_timelines.sphinxext",
]

exclude_patterns = [
    "_build",
    ".nox",
    ".venv",
    ".git",
    ".github",
    ".ci",
    ".pytest_cache",
    ".ruff_cache",
    "**/.ipynb_checkpoints",
    "README.md",
    "CONTRIBUTING.md",
    "LICENSE*",
    "data",
    "requirements",
    "src",
    "tests",
    "**/*.ipynb",
]

# Warnings are errors (-W) and every reference must resolve (-n).
nitpicky = True
suppress_warnings: list[str] = []

# -- MyST and notebooks -----------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline", "attrs_block"]
myst_heading_anchors = 3
myst_footnote_transition = False

nb_execution_mode = os.environ.get("NB_EXECUTION_MODE", "cache")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 180
nb_execution_cache_path = str(ROOT / "_build" / ".jupyter_cache")
nb_render_markdown_format = "myst"
nb_merge_streams = True
# Each builder gets the richest output it can show: inline themed SVG in HTML,
# vector PDF in LaTeX, SVG/PNG in EPUB. Never the "<Figure size ...>" text fallback.
nb_mime_priority_overrides = [
    ("html", "text/html", 10),
    ("latex", "application/pdf", 10),
    ("latex", "image/png", 20),
    ("latex", "text/html", None),
    ("epub", "image/png", 10),
    ("epub", "text/html", None),
    ("epub", "image/svg+xml", None),
    ("linkcheck", "text/plain", 10),
]
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # no widget JS from a CDN

# -- Bibliography ------------------------------------------------------------------------
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "book"  # registered by ketamine_timelines.sphinxext
bibtex_reference_style = "author_year"
bibtex_cite_id = "cite-{key}"
bibtex_bibliography_id = "bibliography-{bibliography_count}"

# -- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = project
html_short_title = "Ketamine for mental health"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_logo = "_static/logo.svg"
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = True
html_show_sphinx = False
html_permalinks_icon = "#"
html_theme_options = {
    "announcement": "Educational resource — not medical advice",
    "sidebar_hide_name": False,
    "navigation_with_keys": True,
    "top_of_page_buttons": ["view"],
    "light_css_variables": {"color-announcement-background": "#574000"},
    "dark_css_variables": {"color-announcement-background": "#574000"},
}
# Pages are offline-safe: no search-engine, font or analytics hosts are contacted.
html_js_files: list[str] = []

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_exclude = ".linenos, .gp, .go"

# -- Link checking -------------------------------------------------------------------------
linkcheck_timeout = 20
linkcheck_retries = 3
linkcheck_rate_limit_timeout = 120
linkcheck_workers = 4
linkcheck_ignore: list[str] = []
linkcheck_allowed_redirects = {
    # doi.org resolves every DOI by redirecting to the publisher: expected.
    r"https://doi\.org/.*": r"https?://.*",
    r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*": r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*",
}

# -- LaTeX / PDF -------------------------------------------------------------------------
latex_engine = "xelatex"
latex_documents = [
    ("index", "ketamine-for-mental-health.tex", project, author, "manual", False),
]
latex_show_urls = "no"
latex_show_pagerefs = False
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "fontpkg": r"""
\setmainfont{TeX Gyre Pagella}
\setsansfont{TeX Gyre Heros}
\setmonofont{DejaVu Sans Mono}[Scale=0.85]
""",
    "preamble": r"""
\usepackage{bookmark}
\hypersetup{bookmarksnumbered=true, pdftitle={Ketamine for mental health},
  pdfsubject={An evidence-based, executable book}}
""",
    "maketitle": r"\input{titlepage.tex}",
    "printindex": "",
    "sphinxsetup": "TitleColor={rgb}{0.1,0.2,0.4}",
}
latex_additional_files = ["_static/latex/titlepage.tex"]

# -- EPUB --------------------------------------------------------------------------------
epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = copyright
epub_language = "en"
epub_identifier = "urn:uuid:5b8f3c62-7d0e-4c43-9a8e-2f8f4ab1c7d1"
epub_scheme = "UUID"
epub_cover = ("_static/cover.png", "")
epub_show_urls = "no"
epub_exclude_files = ["search.html", "404.html"]
