"""Answers first (issue 19, items 3 and 4), as a reader gets them in the built book.

- Each chapter's "In brief" box carries at most one citation (its sources follow in the
  chapter), reads at grade 8 or below, and, in the clinical chapters, gives at least one
  concrete number: how many, how fast, how often, how long.
- The claims-checked appendix has one row per main claim of the source article, each with
  a verdict from the allowed set, a cited line of evidence and a working link to the
  section of the book that discusses it; it sits in the Reference part of the navigation
  and in the PDF's back matter.
- The chapters speak in their own voice: the source article is named in place only a
  handful of times, where a reader needs the correction there.

Every check reads the session's HTML build (tests/conftest.py), as
tests/test_evidence_text.py does; the PDF check reads the session's LaTeX build.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader

from conftest import PDF_NAME
from test_evidence_text import (
    CHAPTERS,
    IN_BRIEF_MAX_GRADE,
    brief_text,
    grade,
    in_brief_box,
    main_article,
)

pytestmark = pytest.mark.build

#: Chapters whose box speaks about treatment (benefit, harm, access), so a reader expects
#: a number there. Chapter 1 (history and overview) and chapter 2 (brain mechanisms, in
#: animals) are not clinical.
CLINICAL_CHAPTERS = [c for c in CHAPTERS if not c.startswith(("docs/01-", "docs/02-"))]
#: A concrete number: digits with what they count or how long (a denominator, people, a
#: percentage or a time), e.g. "52 in 100", "2 hours", "158 veterans", "28 days".
CONCRETE_NUMBER = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:%|in 100\b|of \d+|people\b|veterans\b|patients\b|"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?)\b)",
    re.IGNORECASE,
)
#: Where chapters 1-8 name the article itself; the bound is what the book reaches.
ARTICLE_MENTION = re.compile(
    r"\b(?:the|that|this)\s+(?:source\s+|web\s+)?article\b|\bweb\s+article\b", re.IGNORECASE
)
MAX_ARTICLE_MENTIONS = 5
VERDICTS = {"Supported", "Partly", "Not supported", "Out of date"}
MIN_CLAIMS = 15
CLAIMS_PAGE = "docs/claims.html"


def citations(element: Tag) -> list[Tag]:
    """The links to bibliography entries in an element: one per cited source."""
    return element.select('a[href*="bibliography.html#cite-"]')


# -- In brief --------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_in_brief_cites_at_most_one_source(book_build: Path, chapter: str) -> None:
    box = in_brief_box(main_article(book_build / chapter))
    assert box is not None, f"{chapter} has no 'In brief' box"
    cited = [a["href"].rsplit("#", 1)[-1] for a in citations(box)]
    assert len(cited) <= 1, f"{chapter}: 'In brief' cites {len(cited)} sources: {cited}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_in_brief_reads_at_grade_8(book_build: Path, chapter: str) -> None:
    text = brief_text(main_article(book_build / chapter))
    assert grade(text) <= IN_BRIEF_MAX_GRADE, f"{chapter}: grade {grade(text):.1f}\n{text}"


@pytest.mark.parametrize("chapter", CLINICAL_CHAPTERS)
def test_clinical_in_brief_gives_a_number(book_build: Path, chapter: str) -> None:
    text = brief_text(main_article(book_build / chapter))
    assert CONCRETE_NUMBER.search(text), f"{chapter}: no concrete number in 'In brief':\n{text}"


# -- The chapters' own voice -----------------------------------------------------------------


def test_chapters_name_the_source_article_only_a_handful_of_times(book_build: Path) -> None:
    found = []
    for chapter in CHAPTERS:
        text = " ".join(main_article(book_build / chapter).get_text(" ").split())
        for match in ARTICLE_MENTION.finditer(text):
            found.append(f"{chapter}: …{text[max(match.start() - 40, 0) : match.end() + 40]}…")
    assert len(found) <= MAX_ARTICLE_MENTIONS, (
        f"{len(found)} mentions of the article (at most {MAX_ARTICLE_MENTIONS}):\n"
        + "\n".join(found)
    )


# -- Claims checked --------------------------------------------------------------------------


def claims_rows(book_build: Path) -> list[list[Tag]]:
    article = main_article(book_build / CLAIMS_PAGE)
    table = article.select_one("table#tab-claims-checked, #tab-claims-checked table")
    assert table is not None, "the claims page has no table #tab-claims-checked"
    caption = table.find("caption")
    assert caption is not None and caption.get_text(strip=True), "the table has no caption"
    return [row.find_all("td", recursive=False) for row in table.select("tbody > tr")]


def test_claims_table_has_a_verdict_and_cited_evidence_for_each_claim(book_build: Path) -> None:
    rows = claims_rows(book_build)
    assert len(rows) >= MIN_CLAIMS, f"only {len(rows)} claims are checked"
    problems = []
    for cells in rows:
        claim = " ".join(cells[0].get_text(" ").split())
        verdict = " ".join(cells[1].get_text(" ").split())
        if len(cells) != 4:
            problems.append(f"{claim}: {len(cells)} cells")
            continue
        if verdict not in VERDICTS:
            problems.append(f"{claim}: verdict {verdict!r}")
        if not citations(cells[2]):
            problems.append(f"{claim}: the evidence line cites no source")
    assert not problems, "\n".join(problems)
    assert {" ".join(c[1].get_text().split()) for c in rows} >= {"Supported", "Not supported"}


def test_each_claim_links_to_a_section_that_exists(book_build: Path) -> None:
    page = book_build / CLAIMS_PAGE
    broken = []
    for cells in claims_rows(book_build):
        links = cells[3].select("a[href]")
        if not links:
            broken.append(f"{cells[0].get_text(strip=True)}: no link")
            continue
        parts = urlsplit(links[0]["href"])
        target = (page.parent / unquote(parts.path)).resolve()
        if not (target.is_file() and target.is_relative_to(book_build / "docs")):
            broken.append(f"{links[0]['href']}: no such chapter")
            continue
        if parts.fragment:
            soup = BeautifulSoup(target.read_text(encoding="utf-8"), "lxml")
            section = soup.find(id=parts.fragment)
            if section is None or section.name != "section":
                broken.append(f"{links[0]['href']}: no such section")
    assert not broken, "\n".join(broken)


def test_claims_page_is_in_the_reference_part_of_the_navigation(book_build: Path) -> None:
    soup = BeautifulSoup((book_build / "index.html").read_text(encoding="utf-8"), "lxml")
    captions = soup.select(".sidebar-tree p.caption")
    reference = [c for c in captions if "Reference" in c.get_text()]
    assert reference, "the sidebar has no Reference part"
    listing = reference[0].find_next_sibling("ul")
    hrefs = [a["href"] for a in listing.select("a[href]")]
    assert "docs/claims.html" in hrefs, hrefs


def test_about_names_the_source_article(book_build: Path) -> None:
    text = " ".join(main_article(book_build / "docs/about.html").get_text(" ").split())
    assert "The Emergence of Ketamine as a Mental Health Treatment" in text
    assert "claims" in text.casefold()


@pytest.mark.latex
def test_claims_page_is_in_the_pdf_back_matter(book_latex: Path) -> None:
    reader = PdfReader(book_latex / PDF_NAME)
    labels = list(reader.page_labels)
    contents = " ".join(
        " ".join((page.extract_text() or "").split())
        for label, page in zip(labels, reader.pages, strict=True)
        if re.fullmatch(r"[ivx]+", label)
    )
    assert "Claims checked" in contents, "the PDF's contents do not list Claims checked"
    order = [contents.index(name) for name in ("A Onset", "Claims checked", "Bibliography")]
    assert order == sorted(order), "Claims checked is not in the back matter"
