"""Sphinx configuration for the book "Ketamine for mental health".

The repository root is Sphinx's source directory; the book's own machinery (data
dependencies, generated figures, the bibliography style) lives in the tested package
``ketamine_timelines`` so that nothing here needs a test of its own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

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
    # First: a performance measure, not a feature (see its docstring).
    "ketamine_timelines.gcfreeze",
    "myst_nb",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinx_design",
    "ketamine_timelines.sphinxext",
    "ketamine_timelines.htmlpolicy",
    "ketamine_timelines.sitemap",
    "notfound.extension",
    # Last: trims the stylesheets to what the built pages use.
    "ketamine_timelines.csspurge",
]
# "Last updated" dates come from git, so they need a git checkout (a clean clone has one;
# a copy of the sources outside git simply has no dates).
if (ROOT / ".git").exists():
    extensions.append("sphinx_last_updated_by_git")

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
    # The PDF's own root document (see _configure_for_builder below).
    "docs/print",
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
# No hover tooltips: they repeat the whole reference on every citation (a third of a
# chapter's HTML) and cost a second formatting pass over the bibliography on every build.
bibtex_tooltips = False
bibtex_bibliography_id = "bibliography-{bibliography_count}"

# -- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = project
html_short_title = "Ketamine for mental health"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_logo = "_static/logo.svg"
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = "%d %B %Y"
# Where the book is hosted. Read the Docs sets READTHEDOCS_CANONICAL_URL; GitHub Pages
# sets BOOK_BASE_URL in its workflow. Canonical links, the sitemap, social cards and the
# 404 page's absolute links are derived from it.
html_baseurl = os.environ.get(
    "READTHEDOCS_CANONICAL_URL",
    os.environ.get("BOOK_BASE_URL", "https://ketamine-for-mental-health.readthedocs.io/en/latest/"),
)
sitemap_excludes = ["search.html", "genindex.html", "404.html"]
notfound_urls_prefix = urlsplit(html_baseurl).path or "/"
notfound_context = {
    "title": "Page not found",
    "body": "<h1>Page not found</h1><p>This page does not exist (any more). "
    'Start again from the <a href="' + notfound_urls_prefix + '">first page of the book</a> '
    "or use the search box.</p>",
}
# Social-media cards (OpenGraph), written by ketamine_timelines.sphinxext.
book_social_image = "_static/social.png"
book_social_image_alt = "Ketamine for mental health: an evidence-based, executable book"
html_copy_source = True
html_show_sourcelink = True
html_show_sphinx = False
# The book has a glossary and a bibliography, no index entries: no empty genindex page.
html_use_index = False
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
# The linkcheck settings (timeouts, retries, expected redirects, ignored publisher bot
# walls, each with its reason) live in the tested package, so that tests/test_linkcheck.py
# checks a tiny book against exactly this configuration.
from ketamine_timelines.linkcheck import SETTINGS as _LINKCHECK  # noqa: E402

globals().update(_LINKCHECK)

# -- LaTeX / PDF -------------------------------------------------------------------------
latex_engine = "xelatex"
latex_documents = [
    ("docs/print/book", "ketamine-for-mental-health.tex", project, author, "manual", False),
]
latex_show_urls = "no"
latex_use_xindy = False
latex_domain_indices = False
latex_show_pagerefs = False
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "preamble": r"""
\usepackage{bookmark}
\hypersetup{bookmarksnumbered=true, pdftitle={Ketamine for mental health},
  pdfsubject={An evidence-based, executable book}}
""",
    "maketitle": r"\input{titlepage.tex}",
    # The book has a glossary instead of an index: no .idx file, no xindy run.
    "makeindex": "",
    "printindex": "",
    "sphinxsetup": "TitleColor={rgb}{0.1,0.2,0.4}",
}
latex_additional_files = ["docs/print/titlepage.tex"]
latex_toplevel_sectioning = "chapter"

# Downloads linked from the landing page, when they have been built (nox -s pdf / epub).
book_pdf_path = str(ROOT / "_build" / "latex" / "ketamine-for-mental-health.pdf")
book_epub_path = str(ROOT / "_build" / "epub" / "ketamine-for-mental-health.epub")

# -- EPUB --------------------------------------------------------------------------------
epub_basename = "ketamine-for-mental-health"
epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = copyright
epub_language = "en"
# Sphinx writes epub_uid both as the OPF identifier's XML id and as the NCX uid, which
# epubcheck requires to equal the identifier's value: one NCName serves as both.
epub_identifier = epub_uid = "ketamine-for-mental-health-5b8f3c62"
epub_scheme = "URL"
epub_cover = ("_static/cover.png", "")
epub_show_urls = "no"
epub_exclude_files = ["search.html", "404.html"]


PRINT_BUILDERS = {"latex", "epub"}


def _configure_for_builder(app) -> None:
    """Print and e-reader editions differ from the web book in three ways.

    - The PDF has its own root document, docs/print/book.md: the landing page's sections
      (cards, download links) would otherwise become its first chapters; the title and
      copyright pages carry the notice instead.
    - The EPUB keeps the landing page as its root (Sphinx's EPUB builder needs a root at
      the top level) but shows its toctrees, which the web hides for Furo's sidebar.
    - Neither prints notebook code: readers get the figures and tables; the code is in the
      notebooks and each web page's .ipynb download.

    The builder is known only once it is set up, hence an event rather than a tag test;
    priority 400 runs it before MyST-NB reads its configuration.
    """
    if app.builder.name == "latex":
        app.config.root_doc = "docs/print/book"
        app.config.exclude_patterns = [
            *(p for p in app.config.exclude_patterns if p != "docs/print"),
            "index.md",
        ]
    if app.builder.name in PRINT_BUILDERS:
        app.config.nb_remove_code_source = True


def _show_toctrees_in_epub(app, doctree) -> None:
    if app.builder.name == "epub" and app.env.docname == app.config.root_doc:
        from sphinx import addnodes

        for toctree in doctree.findall(addnodes.toctree):
            toctree["hidden"] = False


def setup(app):
    app.connect("builder-inited", _configure_for_builder, priority=400)
    app.connect("doctree-read", _show_toctrees_in_epub)
