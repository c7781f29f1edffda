"""The printable handout: the patient guide's short answers and question checklist on one or
two pages, in A4 and in US Letter.

The handout is not written twice. When the LaTeX builder finishes, this extension reads the
guide's own doctree (``docs/start-here``) and takes the two lists marked for it, the
short answers (class ``handout-facts``) and the questions for a clinician (class
``handout-questions``), with their numbers already computed from the data set by the
``{answer}`` and ``{approvals}`` roles. It writes ``handout-a4.tex`` and
``handout-letter.tex`` beside the book's ``.tex``; ``nox -s pdf`` compiles them with
XeLaTeX, and the HTML build publishes the PDFs with the book's other downloads
(``book_downloads``). Citations are left out of the handout: it sends readers to the guide,
where every fact is cited.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

GUIDE_DOC = "docs/start-here"
FACTS_CLASS = "handout-facts"
QUESTIONS_CLASS = "handout-questions"
#: Paper sizes, as geometry's options; one .tex (and PDF) each.
PAPERS = {"a4": "a4paper", "letter": "letterpaper"}
TITLE = "Ketamine and esketamine for depression: short answers and questions to ask"


def handout_items(doctree: nodes.Node, cls: str) -> list[nodes.list_item]:
    """The items of the list marked ``cls`` (the guide's short answers or questions)."""
    for element in doctree.findall(nodes.Element):
        if cls in element.get("classes", []):
            found = next(iter(element.findall(nodes.bullet_list)), None)
            if found is not None:
                return [item for item in found.children if isinstance(item, nodes.list_item)]
    return []


def _without_citations(node: nodes.Node) -> nodes.Node:
    node = node.deepcopy()
    for ref in list(node.findall(addnodes.pending_xref)):
        if ref.get("refdomain") == "cite":
            ref.parent.remove(ref)
    for ref in list(node.findall(nodes.citation_reference)):
        ref.parent.remove(ref)
    return node


def _tidy(text: str) -> str:
    """One space between words, none before punctuation (where a citation stood)."""
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(text.split()))


def plain_text(item: nodes.Node) -> str:
    """An item as plain text, without its citations: what the handout says."""
    return _tidy(_without_citations(item).astext())


def latex_text(item: nodes.Node) -> str:
    """An item as LaTeX: its words escaped, bold and italic kept, citations left out."""

    def walk(node: nodes.Node) -> str:
        if isinstance(node, nodes.Text):
            return latex_escape(str(node))
        inner = "".join(walk(child) for child in node.children)
        if isinstance(node, nodes.strong):
            return rf"\textbf{{{inner}}}"
        if isinstance(node, nodes.emphasis):
            return rf"\emph{{{inner}}}"
        if isinstance(node, nodes.paragraph):
            return inner + " "
        return inner

    return _tidy(walk(_without_citations(item)))


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def handout_tex(
    facts: list[str], questions: list[str], paper: str, url: str, notice: str, date: str
) -> str:
    """The handout's LaTeX source (XeLaTeX: the text is Unicode as it stands); ``facts``
    and ``questions`` are LaTeX already (latex_text)."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    pdfdate = time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime(epoch))
    fact_items = "\n".join(rf"  \item {f}" for f in facts)
    question_items = "\n".join(rf"  \item {q}" for q in questions)
    return rf"""% The printable handout, written by _ext/book_handout.py from the patient guide
% (docs/start-here.md). Do not edit: edit the guide.
\documentclass[11pt]{{article}}
\usepackage[{PAPERS[paper]}, margin=14mm, includefoot, footskip=8mm]{{geometry}}
\usepackage{{fontspec}}
\setmainfont{{FreeSans}}
\usepackage{{amssymb}}
\usepackage{{enumitem}}
\usepackage{{multicol}}
\usepackage[hidelinks]{{hyperref}}
\hypersetup{{pdftitle={{{latex_escape(TITLE)}}}, pdfauthor={{Ketamine for mental health}},
  pdfcreationdate={{{pdfdate}}}, pdfmoddate={{{pdfdate}}}}}
\usepackage{{xurl}}
\urlstyle{{same}}
\setlength{{\parindent}}{{0pt}}
\raggedright
\setlength{{\columnsep}}{{7mm}}
\pagestyle{{empty}}
\setlist{{leftmargin=*, itemsep=2pt, topsep=2pt, parsep=0pt}}
\begin{{document}}
{{\Large\bfseries {latex_escape(TITLE)}\par}}
\smallskip
{{\small From the book \emph{{Ketamine for mental health}}, version of {latex_escape(date)}.
The full guide, with a source for every fact and the chapters that hold the evidence:\\
\url{{{url}}}\par}}
\medskip
\fbox{{\parbox{{\dimexpr\linewidth-2\fboxsep-2\fboxrule}}{{\small\textbf{{{latex_escape(notice)}}}}}}}
\medskip
\begin{{multicols}}{{2}}
\section*{{\large Short answers}}
\begin{{itemize}}
{fact_items}
\end{{itemize}}
\columnbreak
\section*{{\large Questions to ask your clinician}}
\begin{{itemize}}[label=$\square$]
{question_items}
\end{{itemize}}
\end{{multicols}}
\end{{document}}
"""


def _date(app: Sphinx) -> str:
    """The book's date (the last commit's, _ext/book_date.py), as the PDF prints it."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    return time.strftime("%d %B %Y", time.gmtime(epoch)).lstrip("0")


def write_handouts(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "latex":
        return
    if GUIDE_DOC not in app.env.found_docs:
        return
    doctree = app.env.get_doctree(GUIDE_DOC)
    facts = [latex_text(item) for item in handout_items(doctree, FACTS_CLASS)]
    questions = [latex_text(item) for item in handout_items(doctree, QUESTIONS_CLASS)]
    if not facts or not questions:
        LOGGER.warning(
            f"handout: the guide has no list marked {FACTS_CLASS!r} or {QUESTIONS_CLASS!r}",
            location=GUIDE_DOC,
        )
        return
    base = app.config.html_baseurl.rstrip("/") + "/"
    url = base + GUIDE_DOC + ".html"
    notice = app.config.book_notice_full
    for paper in PAPERS:
        target = Path(app.outdir) / f"handout-{paper}.tex"
        text = handout_tex(facts, questions, paper, url, notice, _date(app))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    # book_notice_full (the notice with crisis lines) is book_print's configuration value.
    app.setup_extension("book_print")
    app.connect("build-finished", write_handouts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
