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


@pytest.mark.latex
def test_pdf_declares_its_language_title_and_metadata(pdf_reader: PdfReader) -> None:
    """What a screen reader and a PDF viewer read before the text: /Lang, the title in the
    window, the author, and an XMP packet that says the same (no tagging: see README)."""
    root = pdf_reader.trailer["/Root"]
    assert root.get("/Lang") == "en", root.get("/Lang")
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    info = pdf_reader.metadata
    assert info["/Title"] == "Ketamine for mental health"
    assert info["/Author"] == "Ketamine for mental health contributors"
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    for element in ("dc:title", "dc:creator", "dc:language", "dc:rights"):
        assert f"<{element}>" in xmp, element
    assert re.search(r"<dc:language>\s*<rdf:Bag>\s*<rdf:li>en</rdf:li>", xmp)
    created = time.strftime("%Y-%m-%dT%H:%M:%S", COMMIT_TIME)
    assert f"<xmp:CreateDate>{created}" in xmp and f"<xmp:MetadataDate>{created}" in xmp
    assert "pdfuaid:part>" not in xmp, "the PDF claims PDF/UA, which an untagged PDF is not"


@pytest.mark.latex
def test_pdf_headers_fit_their_space(book_latex: Path) -> None:
    log = (book_latex / PDF_NAME.replace(".pdf", ".log")).read_text(errors="replace")
    assert "headheight is too small" not in log


def cited_as(book_build: Path) -> dict[str, tuple[str, str]]:
    """(surname, year) under which the text cites each bibliography entry, from the
    citations a reader sees ("Taylor et al., 2006"), keyed by the entry's id."""
    labels: dict[str, tuple[str, str]] = {}
    for page in sorted(book_build.rglob("*.html")):
        if "_static" in page.parts:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        for link in soup.select('a[href*="#cite-"]'):
            text = " ".join(link.get_text(" ").split())
            match = re.fullmatch(r"(.+?)(?: et al\. ?| and .+?)?, (\d{4})", text)
            if match:
                labels.setdefault(link["href"].split("#", 1)[1], (match[1], match[2]))
    return labels


def bibliography_order(book_build: Path) -> list[tuple[str, str]]:
    soup = BeautifulSoup((book_build / "docs" / "bibliography.html").read_text("utf-8"), "lxml")
    return [
        (entry["id"], " ".join(entry.get_text(" ").split()))
        for entry in soup.select('[id^="cite-"]')
    ]


def test_bibliography_is_in_the_order_a_reader_looks_it_up(book_build: Path) -> None:
    """A reader looking up "Taylor et al., 2006" finds the list sorted by first author's
    surname, then year; each entry starts with that surname."""
    labels = cited_as(book_build)
    entries = bibliography_order(book_build)
    keyed = [(squash(labels[i][0]), labels[i][1], i) for i, _ in entries if i in labels]
    assert len(keyed) >= 0.8 * len(entries) >= 50, (len(keyed), len(entries))
    assert [k[:2] for k in keyed] == sorted(k[:2] for k in keyed), keyed
    for entry_id, text in entries:
        if entry_id in labels:
            surname = labels[entry_id][0]
            start = re.sub(r"^\[ ?\d+ ?\] ", "", text)
            assert squash(start).startswith(squash(surname)), (surname, start[:60])


@pytest.mark.latex
def test_pdf_bibliography_has_the_html_order(pdf_pages_text: list[str], book_build: Path) -> None:
    start = next(i for i, t in enumerate(pdf_pages_text) if re.match(r"\s*BIBLIOGRAPHY", t.upper()))
    pdf = squash(" ".join(pdf_pages_text[start:]))
    positions = []
    for _, text in bibliography_order(book_build):
        entry = squash(re.sub(r"^\[ ?\d+ ?\] ", "", text))[:40]
        assert entry in pdf, entry
        positions.append(pdf.index(entry))
    assert positions == sorted(positions), "the PDF lists the bibliography in another order"


@pytest.mark.latex
def test_appendix_figures_are_numbered(pdf_pages_text: list[str]) -> None:
    labels = [i for i, t in enumerate(pdf_pages_text) if "Appendices: data and figures" in t]
    appendix = " ".join(pdf_pages_text[max(labels) + 1 :])
    numbers = re.findall(r"\bFig\. ([A-C])\.(\d+):", appendix)
    assert {letter for letter, _ in numbers} == {"A", "B", "C"}, numbers
    assert not re.search(r"(^|\s)Figure\. ", appendix), "an appendix figure is captioned 'Figure.'"


@pytest.mark.latex
def test_no_page_holds_only_a_repeated_table_header(
    pdf_pages_text: list[str], book_build: Path
) -> None:
    """Every page where a table continues shows at least one of its rows."""
    rows = set()
    for page in [*book_build.glob("docs/*.html"), *book_build.glob("notebooks/*.html")]:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        for cell in soup.select("article table tbody td"):
            text = squash(cell.get_text(" "))
            if len(text) >= 12:
                rows.add(text[:30])
    assert len(rows) > 50, len(rows)
    continued = [t for t in pdf_pages_text if "continued from previous page" in t]
    assert continued, "no table continues over a page: the check checks nothing"
    for text in continued:
        after = squash(text.split("continued from previous page", 1)[1])
        assert any(row in after for row in rows), f"a page with only a table header: {text[:200]}"


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
        for path in pages:  # the bibliography's long addresses too
            page.goto(path.as_uri())
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 600, f"{path.relative_to(tmp_path)} is {width} px wide"
    finally:
        context.close()


def epub_pages(book: Path) -> dict[str, BeautifulSoup]:
    with zipfile.ZipFile(book) as epub:
        return {
            name: BeautifulSoup(epub.read(name), "xml")
            for name in epub.namelist()
            if name.endswith(".xhtml")
        }


def test_epub_pages_declare_their_language(book_epub: Path) -> None:
    pages = epub_pages(book_epub)
    assert len(pages) >= 15, sorted(pages)
    for name, page in pages.items():
        html = page.find("html")
        assert html.get("lang") == "en", f"{name}: lang={html.get('lang')!r}"
        assert html.get("xml:lang") == "en", f"{name}: xml:lang={html.get('xml:lang')!r}"


def test_epub_navigation_and_lists_have_their_roles(book_epub: Path) -> None:
    """The roles assistive technology needs: the table of contents is doc-toc, the landing
    page's toctree captions are level-2 headings, bibliography entries are list items."""
    pages = epub_pages(book_epub)
    nav = pages["nav.xhtml"].find("nav")
    assert nav.get("epub:type") == "toc" and nav.get("role") == "doc-toc", nav.attrs
    headings = [t for page in pages.values() for t in page.find_all(attrs={"role": "heading"})]
    assert headings, "no toctree captions in the EPUB"
    assert all(h.get("aria-level") == "2" for h in headings), headings
    bibliography = pages["docs/bibliography.xhtml"]
    assert not bibliography.find(attrs={"role": "doc-biblioentry"})
    lists = bibliography.find_all(attrs={"role": "list"})
    assert lists and all(
        child.get("role") == "listitem" for lst in lists for child in lst.find_all(recursive=False)
    )


def test_epub_accessibility_metadata(book_epub: Path) -> None:
    with zipfile.ZipFile(book_epub) as epub:
        opf = BeautifulSoup(epub.read("content.opf"), "xml")
    meta: dict[str, list[str]] = {}
    for tag in opf.find_all("meta", attrs={"property": True}):
        meta.setdefault(tag["property"], []).append(" ".join(tag.get_text().split()))
    assert set(meta["schema:accessMode"]) == {"textual", "visual"}
    assert "textual" in meta["schema:accessModeSufficient"]
    assert {"tableOfContents", "structuralNavigation", "alternativeText"} <= set(
        meta["schema:accessibilityFeature"]
    )
    assert meta["schema:accessibilityHazard"] == ["none"]
    (summary,) = meta["schema:accessibilitySummary"]
    assert "text alternative" in summary and "DAISY Ace" in summary, summary
    assert meta["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert meta["a11y:certifiedBy"]
