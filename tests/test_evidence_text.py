"""The book's evidence text as readers get it: current, readable, safe, and free of the
compilers' working notes.

Every check reads the built HTML (issue 11). The HTML is built once per session, without
the PDF or EPUB, so these tests need neither TeX nor epubcheck. Run them alone with

    python3 -m nox -s tests -- tests/test_evidence_text.py -p no:cacheprovider

Reading grades use textstat 0.7.4, which counts syllables from its bundled pyphen
dictionaries; later releases download a dictionary at run time and fail offline.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import textstat  # 0.7.4: later releases download a dictionary at run time
from bs4 import BeautifulSoup, Tag

from conftest import ROOT

CHAPTERS = [
    f"docs/{name}.html"
    for name in (
        "01-introduction",
        "02-mechanisms",
        "03-depression-and-anxiety",
        "04-evidence",
        "05-clinics",
        "06-comparisons",
        "07-future",
        "08-conclusion",
    )
]

#: Reading grades the issue sets: the "In brief" box for a general reader, the body a
#: little above it (NIH and AMA aim patient material at grades 6 to 8).
IN_BRIEF_MAX_GRADE = 8.0
BODY_MAX_GRADE = 10.0

#: Words that only a compiler's note would use; none belongs in the book. The evidence
#: brief's tags are matched in capitals: "partly" is also a verdict of the claims table.
COMPILER_NOTES = re.compile(
    r"(?i:recollection|not confirmed|scraped|reproduced on|unverified|partly (?:verified|read))"
    r"|PARTLY"
)
REVIEW_DATE = re.compile(
    r"Evidence reviewed:\s*(January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\s+20\d\d\."
)
SUICIDE_TALK = re.compile(r"suicid", re.IGNORECASE)
CRISIS_LINES = ("988", "116 123")


# -- The build ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def html_book(book_build: Path) -> Path:
    """The session's HTML book (tests/conftest.py), built strictly as `nox -s docs` does."""
    return book_build


def main_article(page: Path) -> Tag:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    article = soup.select_one("article[role=main]") or soup.body
    assert article is not None, page
    return article


# -- Reading grade ----------------------------------------------------------------------------


def plain_text(element: Tag) -> str:
    """Readable prose: one paragraph or list item a line, each ending as a sentence."""
    lines = []
    for block in element.find_all(["p", "li"]):
        if block.find(["p", "li"]):  # a list item holding paragraphs: read the paragraphs
            continue
        text = " ".join(block.get_text(" ").split())
        if text:
            lines.append(text if text[-1] in ".!?:;" else text + ".")
    return "\n".join(lines)


def in_brief_box(article: Tag) -> Tag | None:
    return article.select_one("div.admonition.in-brief")


def body_text(article: Tag) -> str:
    """The chapter's running text: without the "In brief" box, citations, tables,
    figures, the key points and the headings."""
    article = BeautifulSoup(str(article), "lxml")
    for selector in (
        "div.admonition.in-brief",
        "span.bibtex-citation",
        "table",
        "figure",
        "div.figure",
        "section#key-points",
        "h1, h2, h3, h4, h5, h6",
        "a.headerlink",
        "div.highlight, pre",
    ):
        for node in article.select(selector):
            node.decompose()
    return plain_text(article)


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def brief_text(article: Tag) -> str:
    box = in_brief_box(article)
    assert box is not None
    for node in box.select("p.admonition-title, span.bibtex-citation"):
        node.decompose()
    return plain_text(box)


def sentence_count(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


# -- Tests --------------------------------------------------------------------------------------


def test_no_compiler_notes_in_any_page(html_pages: dict[str, Path]) -> None:
    offenders = []
    for name, page in html_pages.items():
        text = main_article(page).get_text(" ")
        for match in COMPILER_NOTES.finditer(text):
            start = max(match.start() - 60, 0)
            offenders.append(f"{name}: …{' '.join(text[start : match.end() + 60].split())}…")
    assert not offenders, "compilers' notes are visible to readers:\n" + "\n".join(offenders)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_states_when_its_evidence_was_reviewed(html_book: Path, chapter: str) -> None:
    text = " ".join(main_article(html_book / chapter).get_text(" ").split())
    assert REVIEW_DATE.search(text), f"{chapter} does not say when its evidence was reviewed"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_with_a_plain_in_brief_box(html_book: Path, chapter: str) -> None:
    article = main_article(html_book / chapter)
    box = in_brief_box(article)
    assert box is not None, f"{chapter} has no 'In brief' box"
    # It opens the chapter: the first block after the title.
    first = article.select_one("section > h1").find_next_sibling(True)
    assert first is box, f"{chapter}: the 'In brief' box is not right after the title"
    text = brief_text(article)
    sentences = sentence_count(text)
    assert 3 <= sentences <= 5, f"{chapter}: 'In brief' has {sentences} sentences"
    assert grade(text) <= IN_BRIEF_MAX_GRADE, f"{chapter}: 'In brief' grade {grade(text):.1f}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_body_reading_grade(html_book: Path, chapter: str) -> None:
    text = body_text(main_article(html_book / chapter))
    assert len(text.split()) > 300, f"{chapter}: too little body text was found to measure"
    assert grade(text) <= BODY_MAX_GRADE, f"{chapter}: body grade {grade(text):.1f}"


def test_crisis_line_wherever_suicidal_thoughts_are_discussed(
    html_pages: dict[str, Path],
) -> None:
    missing = []
    for name, page in html_pages.items():
        if name == "docs/bibliography.html":  # paper titles, not a discussion
            continue
        article = main_article(page)
        for cite in article.select("span.bibtex-citation"):
            cite.decompose()
        text = " ".join(article.get_text(" ").split())
        if SUICIDE_TALK.search(text) and not all(line in text for line in CRISIS_LINES):
            missing.append(name)
    assert not missing, "pages mention suicidal thoughts without a crisis line:\n" + "\n".join(
        missing
    )


def regulatory_table(html_book: Path) -> Tag:
    article = main_article(html_book / "docs/05-clinics.html")
    table = article.select_one("#tab-esketamine-approvals table, table#tab-esketamine-approvals")
    assert table is not None, "chapter 5 has no regulatory table (tab-esketamine-approvals)"
    return table


def test_regulatory_table_has_the_required_rows(html_book: Path) -> None:
    table = regulatory_table(html_book)
    caption = table.find("caption")
    assert caption is not None and caption.get_text(strip=True), "the table has no caption"
    rows = [" ".join(tr.get_text(" ").split()) for tr in table.select("tbody tr")]
    required = {
        "US, March 2019, with an oral antidepressant": ("March 2019", "oral antidepressant"),
        "US, August 2020, suicidal ideation or behaviour": ("August 2020", "suicidal"),
        "US, January 2025, on its own": ("January 2025", "on its own"),
        "US REMS monitoring until effects resolve": ("REMS", "pulse oximetry"),
        "US Schedule III": ("Schedule III",),
        "EU, December 2019, with an SSRI or SNRI": ("December 2019", "SSRI or SNRI"),
        "EU, 2021, psychiatric emergency": ("2021", "psychiatric emergency"),
    }
    absent = [
        label
        for label, words in required.items()
        if not any(all(w in row for w in words) for row in rows)
    ]
    assert not absent, "regulatory table lacks rows: " + "; ".join(absent)
    cited = table.select('a[href*="bibliography.html#cite-"]')
    assert len(cited) >= len(required), "each row of the regulatory table cites its source"


APPROVED_ONLY_WITH = re.compile(
    r"esketamine[^.]{0,160}\bapproved\b[^.]{0,120}\b(alongside|with|together with|in "
    r"conjunction with)\b[^.]{0,40}\boral antidepressant",
    re.IGNORECASE,
)
#: What makes such a sentence true today: it dates the condition as the first approval, or
#: gives the 2025 change, or points to the table of approvals.
TABLE_CONTEXT = re.compile(
    r"\bfirst\b|2025|on its own|monotherapy|table of approvals", re.IGNORECASE
)


def test_no_page_says_esketamine_needs_an_oral_antidepressant_without_context(
    html_pages: dict[str, Path],
) -> None:
    """ "Approved with an oral antidepressant" was the whole story only until January 2025,
    when the US also approved esketamine on its own; a sentence saying it must present it
    as the first approval or point to the table."""
    offenders = []
    for name, page in html_pages.items():
        if name == "docs/bibliography.html":
            continue
        article = main_article(page)
        for table in article.select("table"):
            table.decompose()
        text = " ".join(article.get_text(" ").split())
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if APPROVED_ONLY_WITH.search(sentence) and not TABLE_CONTEXT.search(sentence):
                offenders.append(f"{name}: {sentence}")
    assert not offenders, "undated 'approved with an oral antidepressant':\n" + "\n".join(offenders)


def measure(root: Path) -> None:
    """Print the grades of a built book: python tests/test_evidence_text.py _build/html"""
    for chapter in CHAPTERS:
        article = main_article(root / chapter)
        brief = grade(brief_text(article)) if in_brief_box(article) else float("nan")
        print(f"{chapter:40} body {grade(body_text(article)):5.1f}   in brief {brief:5.1f}")


if __name__ == "__main__":
    measure(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html"))
