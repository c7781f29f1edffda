"""Sphinx configuration for the book "Ketamine for mental health".

The repository root is Sphinx's source directory; the book's own machinery (data
dependencies, generated figures, the bibliography style) lives in the tested package
``ketamine_timelines`` so that nothing here needs a test of its own.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).parent.resolve()
# The book's own Sphinx extensions live beside this file, in _ext/ (the content library
# that notebooks import is src/ketamine_timelines, which imports no Sphinx).
sys.path.insert(0, str(ROOT / "_ext"))

# -- Project -----------------------------------------------------------------------------
project = "Ketamine for mental health"
subtitle = "An evidence-based, executable book"
author = "Ketamine for mental health contributors"
# The book is dated by its last commit (_ext/book_date.py): footer, running headers, PDF
# title page and EPUB metadata agree, and two builds of one commit are byte-identical.
from book_date import export_source_date_epoch  # noqa: E402

_build_time = time.gmtime(export_source_date_epoch(ROOT))
copyright = f"{_build_time.tm_year}, {author}. Text CC BY 4.0, code MIT"
release = time.strftime("%Y-%m-%d", _build_time)
version = release
language = "en"
today_fmt = "%d %B %Y"

extensions = [
    # First: a performance measure, not a feature (see its docstring).
    "book_gcfreeze",
    # Bad input or an unwritable _build: one line each, before anything is built.
    "book_inputs",
    "myst_nb",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinx_design",
    # The book's own extensions (_ext/), one room each:
    "book_bibstyle",  # bibliography entries linked to doi.org and PubMed
    "book_bibcache",  # the bibliography formatted only when it or its style changed
    "book_lock",  # one build at a time per checkout
    "book_execution",  # data-aware notebook cache, clear notebook errors
    "book_figures",  # the timeline-figure directive
    "book_downloads",  # PDF/EPUB/.ipynb downloads
    "book_assets",  # per-page stylesheets and scripts
    "book_meta",  # social-media cards
    "book_notebooks",
    "book_approvals",  # Table 5.1 and the guide's country list, from data/approvals.csv
    "book_guide",  # the patient guide's numbers, computed from the data set
    "book_handout",  # the printable handout, from the guide (LaTeX builder)
    "book_htmlpolicy",
    "book_print",
    "book_epub",  # EPUB accessibility: page language, nav role, metadata
    "book_csp",
    "book_sitemap",
    "book_outputs",  # the site holds what this build made; a whole search index
    "book_parallel",  # notebooks run side by side; parallel only where it pays
    "book_templates",  # Jinja's compiled templates kept between builds
    "notfound.extension",
]
# "Last updated" is the book's build date, which is the last commit's (_ext/book_date.py,
# through SOURCE_DATE_EPOCH): every date a reader sees, on the web, in the PDF and in the
# EPUB, is the same one. (sphinx-last-updated-by-git dated each page by its own commit,
# which disagreed with the rest and failed on shallow clones.)

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
    "_ext",
    "tools",
    "tests",
    "**/*.ipynb",
    # The PDF's own root document (see _configure_for_builder below).
    "docs/print",
]

# Templates that replace Sphinx's own: _templates/longtable.tex.jinja (a long table
# never ends on a page of its own with only its header; see the file).
templates_path = ["_templates"]

# Figures and tables numbered by chapter ("Fig. 3.1", "Table 4.2"; appendix "Table A.1"
# in the PDF), so that no two share a number.
numfig = True
numfig_secnum_depth = 1

# Warnings are errors (-W) and every reference must resolve (-n).
nitpicky = True
suppress_warnings: list[str] = []

# -- MyST and notebooks -----------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline", "attrs_block"]
myst_heading_anchors = 3
myst_footnote_transition = False

nb_execution_mode = os.environ.get("NB_EXECUTION_MODE", "cache")
# A failing cell is reported as one error naming the notebook's file and the cell's line
# (_ext/book_execution.py: report_failed_execution), not as a Sphinx crash.
nb_execution_raise_on_error = False
nb_execution_show_tb = False
suppress_warnings.append("mystnb.exec")  # its two lines say less than that one error
# A cell that writes to stderr (a Python warning, a log line) fails the build: its text
# would carry the kernel's temporary file path into the page and the .ipynb download.
# The error names the cell's line and quotes the warning (book_execution), in place of
# MyST-NB's "stderr was found in the cell outputs of cell N".
nb_output_stderr = "error"
suppress_warnings.append("mystnb.stderr")
# Seconds a cell may run: BOOK_CELL_TIMEOUT=600 nox -s docs (or -D nb_execution_timeout=600).
nb_execution_timeout = int(os.environ.get("BOOK_CELL_TIMEOUT") or 180)
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
    # The EPUB shows a figure's phone layout (ThemedFigure.epub_svg): text of 12 px on a
    # 600-px page, where the wide PNG's would be under 9 px.
    ("epub", "image/svg+xml", 5),
    ("epub", "image/png", 10),
    ("epub", "text/html", None),
    ("linkcheck", "text/plain", 10),
]
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # no widget JS from a CDN

# -- Bibliography ------------------------------------------------------------------------
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "book"  # registered by _ext/book_bibstyle.py
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
# One trailing slash, whatever the host gave: without it the 404 page's links ran the
# path into the page's name (https://x.github.io/bookdocs/...).
html_baseurl = html_baseurl.rstrip("/") + "/"
# The book's sources: the "Run this notebook" panel links them (and Binder runs them).
book_repository_url = os.environ.get(
    "BOOK_REPOSITORY_URL",
    "https://github.com/ketamine-for-mental-health/ketamine-for-mental-health",
)
# The branch of that repository with the reader's editions of the notebooks (.ipynb), which
# the GitHub Pages workflow publishes: the panel's "Colab" link opens them. Empty: no link.
book_colab_branch = os.environ.get("BOOK_COLAB_BRANCH", "ipynb")
sitemap_excludes = ["search.html", "genindex.html", "404.html"]
notfound_urls_prefix = urlsplit(html_baseurl).path or "/"
notfound_context = {
    "title": "Page not found",
    "body": "<h1>Page not found</h1><p>This page does not exist (any more). "
    'Start again from the <a href="' + notfound_urls_prefix + '">first page of the book</a> '
    "or use the search box.</p>",
}
# Social-media cards (OpenGraph), written by _ext/book_meta.py.
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
# `nox -s linkcheck` runs Sphinx's linkcheck builder with these settings; its own report
# (_build/linkcheck/output.txt and output.json) lists every broken link with file:line.
import sphinx  # noqa: E402

# Publishers that answer automated clients with 403 (or a bot challenge) even for valid
# articles. Each one publishes works the book cites. The links in the book go to
# https://doi.org/..., which redirects to these hosts; Sphinx stops at a redirect whose
# destination matches ``linkcheck_ignore`` and reports the link as "ignored" without
# contacting the publisher. So the DOI itself is still checked (doi.org answers 404
# for a DOI that does not exist), only the publisher's bot wall is not. Add a host
# here only after a linkcheck run has shown its 403, and say where that was seen.
_BOT_BLOCKING_PUBLISHERS = [
    # Elsevier (10.1016): doi.org -> linkinghub.elsevier.com -> www.sciencedirect.com;
    # ScienceDirect 403s automated clients (the-turing-way/the-turing-way#3116).
    r"https://linkinghub\.elsevier\.com/",
    r"https://(www\.)?sciencedirect\.com/",
    # Wiley (10.1002, 10.1111): "403 Client Error: Forbidden" for every article
    # (hyperspy/hyperspy#3108, spinalcordtoolbox/spinalcordtoolbox#4649).
    r"https://onlinelibrary\.wiley\.com/",
    # SAGE (10.1177): Cloudflare bot protection, 403/503 (bids-standard/bids-website#223).
    r"https://journals\.sagepub\.com/",
    # Oxford University Press (10.1093): 403 to link checkers
    # (neurodesk/neurodesk.github.io-hugo#638).
    r"https://academic\.oup\.com/",
    # Science / AAAS (10.1126): 403 to link checkers (the-turing-way/the-turing-way#3116).
    r"https://(www\.)?science\.org/",
    # NEJM (10.1056): 403 to link checkers (FreeGym/FreeGym-Wiki#117).
    r"https://(www\.)?nejm\.org/",
    # Cambridge University Press (10.1017, 10.1192, e.g. BJPsych): 403 to link checkers
    # (buddhist-uni/buddhist-uni.github.io#398).
    r"https://(www\.)?cambridge\.org/",
]

_LINKCHECK = {
    # Publisher sites are slow; 20 s per request is generous but bounded.
    "linkcheck_timeout": 20,
    # A failing link is tried three times before it is reported: one network hiccup or
    # a server restart should not fail the check.
    "linkcheck_retries": 3,
    # NCBI (PubMed) answers bursts with 429 and a Retry-After; Sphinx waits and retries,
    # but gives up on a host after two minutes of back-off rather than the default five.
    "linkcheck_rate_limit_timeout": 120,
    # Few workers: most links go to two hosts (doi.org, PubMed), which rate-limit.
    "linkcheck_workers": 4,
    # Redirects that are expected, so they count as "working", not "redirected".
    "linkcheck_allowed_redirects": {
        # doi.org resolves every DOI by redirecting to the publisher's landing page.
        r"https://doi\.org/.*": r"https?://.*",
        # PubMed normalises its own addresses (trailing slash, legacy ids).
        r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*": r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*",
    },
    # Anchors stay checked: a "#section" link that no longer exists is broken for a
    # reader, and Sphinx only downloads a page (GET instead of HEAD) when its link has an
    # anchor. The exception is DOI links: the fragment is passed on to the publisher,
    # whose pages build their section ids with JavaScript, so it cannot be found in the
    # HTML and would be reported as "Anchor not found" although the page is fine.
    "linkcheck_anchors": True,
    "linkcheck_anchors_ignore_for_url": [r"https://doi\.org/.*"],
    # Nothing the book links to is ignored outright. The only ignored addresses are the
    # redirect destinations above (see _BOT_BLOCKING_PUBLISHERS). Deliberately *not*
    # here: localhost/127.0.0.1 (the preview address appears only in README.md, which
    # is in conf.py's exclude_patterns and never read by Sphinx).
    "linkcheck_ignore": list(_BOT_BLOCKING_PUBLISHERS),
    # A timeout counts as broken. This is also what makes Sphinx retry it: only
    # "broken" results are retried (linkcheck_retries), "timeout" ones are not. A link
    # that does not answer 3 x 20 s is unreachable for a reader, too.
    "linkcheck_report_timeouts_as_broken": True,
    # Say who is asking (Sphinx's default claims to be Firefox 100). NCBI asks automated
    # clients to identify themselves; doi.org does not mind either way.
    "user_agent": (
        f"Mozilla/5.0 (compatible; ketamine-for-mental-health-linkcheck/1.0; "
        f"Sphinx/{sphinx.__version__})"
    ),
}
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
# The one-line notice printed at the foot of every chapter's first page (and in the
# EPUB's landing page); the copyright page carries it in full, with the crisis lines.
book_notice = (
    "Educational resource, not medical advice. In crisis: 988 (US), 116 123 (UK, Ireland)."
)
book_notice_full = (
    "Educational resource, not medical advice. Talk to a qualified clinician about your own "
    "treatment. If you are in crisis, contact local emergency services or a crisis line "
    "(988 in the US, 116 123 Samaritans in the UK and Ireland)."
)
# A book, not a report: \appendix for the notebooks, \backmatter for glossary,
# bibliography and about (unnumbered chapters). openany: no blank pages in a screen PDF.
latex_docclass = {"manual": "book"}
_pdf_date = time.strftime("D:%Y%m%d%H%M%SZ", _build_time)
latex_table_style = ["booktabs", "colorrows"]
latex_elements = {
    # A figure stays where the text puts it, above its "Data behind Figure N" table (the
    # book's only floating figures are the timeline figures: _ext/book_figures.py).
    "figure_align": "H",
    "papersize": "a4paper",
    "pointsize": "11pt",
    "extraclassoptions": "openany,oneside",
    # fancyhdr needs 13.6 pt for the running header's line (it warned at LaTeX's 12 pt);
    # geometry keeps the text block where it was.
    "geometry": r"\usepackage[headheight=14pt]{geometry}",
    "preamble": r"""
\usepackage{bookmark}
% What a PDF declares about itself (see README, "The PDF and a screen reader"): its
% language (/Lang, so a screen reader picks an English voice), its title in the window's
% title bar rather than the file name, and XMP metadata (hyperxmp: title, author,
% subject, language, licence; keeppdfinfo keeps the author in the document information
% too, which hyperxmp would move to XMP only). The PDF is not tagged; README says why.
\usepackage{hyperxmp}
\hypersetup{bookmarksnumbered=true, pdftitle={Ketamine for mental health},
  pdfsubject={An evidence-based, executable book},
  pdfauthor={"""
    + author
    + r"""}, keeppdfinfo, pdflang={en}, pdfdisplaydoctitle=true,
  pdfcopyright={Text CC BY 4.0, code MIT},
  pdflicenseurl={https://creativecommons.org/licenses/by/4.0/}}
% The PDF's dates are the commit's, written into the .tex so that latexmk rebuilds the
% PDF when only the commit changed (it does not watch SOURCE_DATE_EPOCH). The XMP packet
% carries them too, and an instance id made from them instead of hyperxmp's clock.
\hypersetup{pdfcreationdate={"""
    + _pdf_date
    + r"""}, pdfmoddate={"""
    + _pdf_date
    + r"""}, pdfdate={"""
    + _pdf_date
    + r"""}, pdfmetadate={"""
    + _pdf_date
    + r"""}, pdfinstanceid={uuid:"""
    + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{html_baseurl}#{_pdf_date}"))
    + r"""}}
% Long addresses and DOIs break at any character rather than run into the margin.
\usepackage{xurl}
\urlstyle{same}
% Table cells (see _ext/book_print.py): ragged right with hyphenation, smaller type and
% narrower gutters, so that seven columns fit the text width.
\usepackage{ragged2e}
\setlength{\tabcolsep}{3.5pt}
\makeatletter
\g@addto@macro\sphinxattablestart{\small}
\g@addto@macro\sphinxatlongtablestart{\small}
% The list of citations goes inside the bibliography chapter (_ext/book_print.py), which
% already has its heading and contents line: the list opens no chapter of its own.
\renewenvironment{sphinxthebibliography}[1]{%
  \let\chapter\@gobbletwo\begin{thebibliography}{#1}}{\end{thebibliography}}
% The first page of every chapter carries the notice in its footer.
\fancypagestyle{plain}{%
  \fancyhf{}%
  \fancyfoot[L]{{\py@HeaderFamily\footnotesize \booknotice}}%
  \fancyfoot[R]{{\py@HeaderFamily\thepage}}%
  \renewcommand{\headrulewidth}{0pt}%
  \renewcommand{\footrulewidth}{0.4pt}%
}
\makeatother
\newcommand{\booknotice}{"""
    + book_notice
    + r"""}
\newcommand{\booknoticefull}{"""
    + book_notice_full
    + r"""}
\newcommand{\bookurl}{\url{"""
    + html_baseurl
    + r"""}}
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
# Relative to this folder: an absolute path would differ between two clones of one
# commit, and with it .buildinfo's hash of the configuration.
book_pdf_path = "_build/latex/ketamine-for-mental-health.pdf"
book_epub_path = "_build/epub/ketamine-for-mental-health.epub"
# The printable handout (_ext/book_handout.py), built with the PDF, linked from the guide.
book_handout_a4_path = "_build/latex/handout-a4.pdf"
book_handout_letter_path = "_build/latex/handout-letter.pdf"

# -- EPUB --------------------------------------------------------------------------------
epub_basename = "ketamine-for-mental-health"
epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = copyright
epub_language = "en"
epub_description = (
    "What research shows, and does not show, about ketamine and esketamine for depression "
    "and anxiety: an evidence-based book for patients, families, students and clinicians. "
    "Educational resource, not medical advice."
)
epub_contributor = author
# Tables and figures fit an e-reader's screen (after the theme's own epub.css).
epub_css_files = ["book-epub.css"]
# Sphinx writes epub_uid both as the OPF identifier's XML id and as the NCX uid, which
# epubcheck requires to equal the identifier's value: one NCName serves as both.
epub_identifier = epub_uid = "ketamine-for-mental-health-5b8f3c62"
epub_scheme = "URL"
epub_cover = ("_static/cover.png", "")
epub_show_urls = "no"
# .buildinfo.bak: Sphinx keeps the previous .buildinfo when the configuration changed;
# it is no part of the book (and its unknown type is a warning, so an error here).
epub_exclude_files = ["search.html", "404.html", ".buildinfo.bak"]
# The EPUB's accessibility metadata (EPUB Accessibility 1.1, written into content.opf by
# _ext/book_epub.py). Every statement must stay true of the built book: the Ace gate
# (tests/test_validators.py) checks the book as a machine can; the summary says what a
# reader gets and who checked it.
book_epub_accessibility = [
    ("schema:accessMode", "textual"),
    ("schema:accessMode", "visual"),
    # Every figure has a text alternative and its studies are listed in a table; with each
    # figure's data as a table in the EPUB (issue 22), text alone gives everything.
    ("schema:accessModeSufficient", "textual"),
    ("schema:accessModeSufficient", "textual,visual"),
    ("schema:accessibilityFeature", "tableOfContents"),
    ("schema:accessibilityFeature", "structuralNavigation"),
    ("schema:accessibilityFeature", "readingOrder"),
    ("schema:accessibilityFeature", "alternativeText"),
    ("schema:accessibilityHazard", "none"),
    (
        "schema:accessibilitySummary",
        "A reflowable EPUB 3 book. A table of contents and headings for every chapter and "
        "section allow navigation by structure, and the reading order follows the printed "
        "book. Every figure has a text alternative that describes what it shows, most with "
        "the values plotted, and the notebook chapters list the studies behind the figures in "
        "tables with header rows. There are no page numbers from a print edition. Nothing "
        "flashes, moves or makes a sound. The book's tests check it with DAISY Ace (no "
        "critical or serious finding) and EPUBCheck; the conformance statement is the "
        "contributors' own assessment, not a third party's certification.",
    ),
    ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"),
    ("a11y:certifiedBy", author),
]


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
