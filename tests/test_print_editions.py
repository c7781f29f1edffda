"""The print and e-reader editions as a reader holds them: a book's structure, tables that
fit, the commit's date, the notice, and an EPUB that validates build after build.

Everything here is measured on a PDF made with XeLaTeX and an EPUB built in this test run.
"""

from __future__ import annotations

import re
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

import epubcheck
from conftest import EPUB_NAME, HAVE_EPUBCHECK, PDF_NAME, SOURCE_DATE_EPOCH, build_book

pytestmark = [pytest.mark.build]
#: The most a line may stick out into the margin (TeX reports every overfull box).
OVERFULL_LIMIT_PT = 5.0
COMMIT_TIME = time.gmtime(int(SOURCE_DATE_EPOCH))


@pytest.fixture(scope="session")
def pdf_reader(book_latex: Path) -> PdfReader:
    return PdfReader(book_latex / PDF_NAME)


@pytest.fixture(scope="session")
def pdf_pages_text(pdf_reader: PdfReader) -> list[str]:
    return [page.extract_text() or "" for page in pdf_reader.pages]


def squash(text: str) -> str:
    """Letters and digits only: line breaks, hyphenation and spacing do not count."""
    text = text.replace("\u2019", "'").replace("\u00ad", "")
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


# -- PDF ---------------------------------------------------------------------------------------


@pytest.mark.latex
def test_no_line_runs_into_the_margin(book_latex: Path) -> None:
    log = (book_latex / PDF_NAME.replace(".pdf", ".log")).read_text(errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too", log)]
    over = [w for w in widths if w > OVERFULL_LIMIT_PT]
    assert not over, f"{len(over)} overfull boxes over {OVERFULL_LIMIT_PT} pt, worst {max(over)} pt"


@pytest.mark.latex
def test_contents_have_chapters_appendices_and_unnumbered_back_matter(
    pdf_reader: PdfReader, pdf_pages_text: list[str]
) -> None:
    labels = list(pdf_reader.page_labels)
    lines = [
        " ".join(line.split())
        for label, text in zip(labels, pdf_pages_text, strict=True)
        if re.fullmatch(r"[ivx]+", label)
        for line in text.splitlines()
        if line.strip()
    ]
    contents = " ".join(lines)
    assert "Contents" in contents or "CONTENTS" in contents
    for number in range(1, 9):
        assert any(re.match(rf"{number} [A-Z]", line) for line in lines), f"no chapter {number}"
    assert any(line.startswith("A Onset timelines") for line in lines), lines
    assert "Appendices: data and figures" in contents
    for name in ("Glossary", "Bibliography", "About this book"):
        listed = [line for line in lines if name in line]
        assert len(listed) == 1, f"{name} is listed {len(listed)} times: {listed}"
        assert re.match(rf"{name}\b", listed[0]), f"{name} is numbered: {listed[0]!r}"
    # The back matter follows the appendices, in this order.
    order = [contents.index(n) for n in ("A Onset", "Glossary", "Bibliography", "About this")]
    assert order == sorted(order), contents


@pytest.mark.latex
def test_one_bibliography_with_the_entries(pdf_pages_text: list[str]) -> None:
    headings = [
        i for i, text in enumerate(pdf_pages_text) if re.match(r"\s*BIBLIOGRAPHY", text.upper())
    ]
    assert len(headings) == 1, f"bibliography headings on pages {headings}"
    page = pdf_pages_text[headings[0]]
    assert "[1]" in page and "doi" in page.casefold(), page[:500]


@pytest.mark.latex
def test_figure_and_table_numbers_are_unique(pdf_pages_text: list[str], book_build: Path) -> None:
    text = " ".join(pdf_pages_text)
    captions = re.findall(r"\b(Fig\.|Table) ([A-Z0-9]+\.\d+):", text)
    assert len(captions) >= 6, captions
    assert len(set(captions)) == len(captions), sorted(captions)
    numbers = []
    for page in sorted(book_build.rglob("*.html")):
        if "_static" in page.parts:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        for span in soup.select(".caption-number"):
            numbers.append(" ".join(span.get_text(" ").split()))
    assert numbers, "the HTML numbers no figure or table"
    assert len(set(numbers)) == len(numbers), sorted(numbers)


@pytest.mark.latex
def test_every_table_row_of_the_html_is_in_the_pdf(
    pdf_pages_text: list[str], book_build: Path
) -> None:
    pdf = squash(" ".join(pdf_pages_text))
    checked, missing = 0, []
    for page in sorted([*book_build.glob("docs/*.html"), *book_build.glob("notebooks/*.html")]):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        for table in soup.select("article table"):
            for row in table.select("tr"):
                for cell in row.select("td, th"):
                    text = squash(cell.get_text(" "))
                    if not text:
                        continue
                    checked += 1
                    if text not in pdf:
                        missing.append(f"{page.name}: {cell.get_text(' ').strip()[:80]}")
    assert checked > 100, checked
    assert not missing, f"{len(missing)} table cells are not in the PDF: {missing[:10]}"


@pytest.mark.latex
def test_pdf_is_dated_by_the_commit(pdf_reader: PdfReader, pdf_pages_text: list[str]) -> None:
    created = pdf_reader.metadata.get("/CreationDate", "")
    assert created.startswith("D:" + time.strftime("%Y%m%d%H%M%S", COMMIT_TIME)), created
    day = time.strftime("%d %B %Y", COMMIT_TIME).lstrip("0")
    title = re.sub(r"\s+", " ", pdf_pages_text[0])
    assert day in title or time.strftime("%d %B %Y", COMMIT_TIME) in title, title
    release = time.strftime("%Y-%m-%d", COMMIT_TIME)
    body = " ".join(pdf_pages_text[5:])
    # pypdf guesses word spaces from the header font's widths, and the guess moves with
    # what else the font sets elsewhere in the book: compare letters and digits only.
    assert squash(f"Release {release}") in squash(body), "the running headers carry another date"


@pytest.mark.latex
def test_copyright_page_and_chapter_openings_carry_the_notice(
    pdf_pages_text: list[str],
) -> None:
    front = re.sub(r"\s+", " ", " ".join(pdf_pages_text[:2]))
    assert "Educational resource, not medical advice." in front
    assert "988" in front and "116 123" in front
    openings = [t for t in pdf_pages_text if re.search(r"^\s*CHAPTER\b", t)]
    assert len(openings) >= 8, len(openings)
    for text in openings:  # letters only: pypdf's word spaces in the footer font vary
        assert squash("not medical advice") in squash(text), text[:200]


# -- EPUB --------------------------------------------------------------------------------------


def epub_text(book: Path) -> str:
    with zipfile.ZipFile(book) as epub:
        pages = [n for n in epub.namelist() if n.endswith(".xhtml") and n != "nav.xhtml"]
        return " ".join(BeautifulSoup(epub.read(n), "xml").get_text(" ") for n in sorted(pages))


def test_epub_validates_again_when_rebuilt(book_epub: Path) -> None:
    """A second build into the same directory, without rm -rf, still validates, and gives
    the same bytes: one commit, one EPUB."""
    if not HAVE_EPUBCHECK:
        pytest.skip("epubcheck is not installed (see README: System packages)")
    first = book_epub.read_bytes()
    rebuilt = build_book(book_epub.parent.parent, "epub") / EPUB_NAME
    for book in (book_epub, rebuilt):
        result = subprocess.run(
            [*epubcheck.command(), str(book)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert rebuilt.read_bytes() == first, "a rebuild of one commit gave another EPUB"


def test_epub_speaks_to_readers(book_epub: Path) -> None:
    text = re.sub(r"\s+", " ", epub_text(book_epub))
    assert "nox -s" not in text, "the EPUB gives developer instructions"
    assert "not medical advice" in text
    assert re.search(r"web edition, https://", text), "the EPUB does not say where the web is"


def test_epub_metadata_is_complete(book_epub: Path) -> None:
    with zipfile.ZipFile(book_epub) as epub:
        opf = BeautifulSoup(epub.read("content.opf"), "xml")
        names = set(epub.namelist())
    meta = {tag.name: " ".join(tag.get_text().split()) for tag in opf.find_all(True)}
    for field in ("title", "language", "date", "description", "rights", "creator"):
        assert meta.get(field), f"dc:{field} is missing"
        assert meta[field] != "unknown", f"dc:{field} is 'unknown'"
    assert "unknown" not in opf.get_text(), "a metadata field says 'unknown'"
    assert meta["date"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", COMMIT_TIME)), meta["date"]
    assert str(COMMIT_TIME.tm_year) in meta["rights"]
    cover = opf.find("meta", attrs={"name": "cover"})
    assert cover is not None, "no cover"
    item = opf.find("item", attrs={"id": cover["content"]})
    assert item is not None and item["href"] in names


def test_epub_images_carry_their_description(book_epub: Path) -> None:
    with zipfile.ZipFile(book_epub) as epub:
        pages = [n for n in epub.namelist() if n.endswith(".xhtml")]
        images = [
            img
            for n in pages
            for img in BeautifulSoup(epub.read(n), "xml").select("article img, div.body img, img")
        ]
    described = [img for img in images if "cover" not in img.get("src", "")]
    assert len(described) >= 5, len(described)
    for img in described:
        alt = img.get("alt", "")
        assert len(alt.split()) >= 5, f"{img.get('src')}: alt {alt!r}"
        assert not re.search(r"\.(png|svg|pdf|jpe?g)\b|[0-9a-f]{32}", alt), alt


@pytest.mark.browser
def test_epub_tables_fit_a_small_e_reader(book_epub: Path, chromium: Any, tmp_path: Path) -> None:
    """On a 600 px e-reader screen, no page of the EPUB scrolls sideways."""
    with zipfile.ZipFile(book_epub) as epub:
        epub.extractall(tmp_path)
    pages = sorted(tmp_path.rglob("*.xhtml"))
    with_tables = [p for p in pages if "<table" in p.read_text(encoding="utf-8")]
    assert len(with_tables) >= 4, with_tables
    context = chromium.new_context(viewport={"width": 600, "height": 900})
    try:
        page = context.new_page()
        for path in with_tables:
            page.goto(path.as_uri())
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 600, f"{path.relative_to(tmp_path)} is {width} px wide"
    finally:
        context.close()
