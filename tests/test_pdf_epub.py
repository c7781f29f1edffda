"""The PDF and EPUB books: what a reader of the printed or e-reader edition gets."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

import epubcheck  # tools/epubcheck.py
from conftest import HAVE_EPUBCHECK, PDF_NAME
from test_book import CHAPTER_TITLES, norm

pytestmark = [pytest.mark.build]
ONSET_CAPTION_START = "ketamine"  # the onset figure's caption, checked below in full


@pytest.fixture(scope="session")
def pdf_path(book_latex: Path) -> Path:
    return book_latex / PDF_NAME


@pytest.fixture(scope="session")
def pdf_text(pdf_path: Path) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(pdf_path).pages)
    return re.sub(r"\s+", " ", text.replace("\u2019", "'"))


def flat(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", norm(text)).strip()


@pytest.mark.latex
def test_latex_log_is_clean(book_latex: Path) -> None:
    log = (book_latex / PDF_NAME.replace(".pdf", ".log")).read_text(errors="replace")
    assert "undefined references" not in log
    assert not re.search(r"Citation .* undefined", log)
    assert not re.search(r"Reference .* undefined", log)
    assert "Missing character" not in log


@pytest.mark.latex
def test_pdf_has_every_chapter_title_and_a_contents(pdf_text: str) -> None:
    text = flat(pdf_text)
    for title in CHAPTER_TITLES:
        assert flat(title) in text, title
    assert "contents" in text


@pytest.mark.latex
def test_pdf_has_bookmarks_for_chapters(pdf_path: Path) -> None:
    reader = PdfReader(pdf_path)

    def titles(outline) -> list[str]:
        out = []
        for item in outline:
            out += titles(item) if isinstance(item, list) else [item.title]
        return out

    bookmarks = [flat(t) for t in titles(reader.outline)]
    for title in CHAPTER_TITLES:
        assert any(flat(title) in b for b in bookmarks), title


@pytest.mark.latex
def test_pdf_has_the_safety_notice_up_front(pdf_path: Path) -> None:
    front = " ".join(p.extract_text() or "" for p in PdfReader(pdf_path).pages[:3])
    assert "not medical advice" in front.casefold()
    assert "988" in front and "116" in front


@pytest.mark.latex
def test_pdf_has_the_onset_figure_caption_and_bibliography(pdf_text: str, book_build: Path) -> None:
    html = BeautifulSoup(
        (book_build / "docs" / "03-depression-and-anxiety.html").read_text(), "lxml"
    )
    caption = html.select_one("figure.timeline-figure figcaption")
    assert caption is not None, "the chapter shows no onset figure"
    caption_text = flat(caption.get_text(" ").split(":", 1)[-1])[:60]
    assert caption_text in flat(pdf_text)
    bib = BeautifulSoup((book_build / "docs" / "bibliography.html").read_text(), "lxml")
    entries = bib.select('[id^="cite-"]')
    first = flat(entries[0].find_parent().get_text(" "))
    last = flat(entries[-1].find_parent().get_text(" "))
    for entry in (first, last):
        words = [w for w in entry.split() if len(w) > 4][:6]
        assert all(w in flat(pdf_text) for w in words), words


@pytest.mark.latex
def test_pdf_embeds_the_figures_as_vector_graphics(pdf_path: Path, pdf_text: str) -> None:
    reader = PdfReader(pdf_path)
    forms = 0
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for obj in xobjects.values():
            obj = obj.get_object()
            if obj.get("/Subtype") == "/Form":
                forms += 1
    # Chapter 3, chapter 6 and the three notebooks each draw at least one figure.
    assert forms >= 5, f"only {forms} vector figures in the PDF"
    assert "<Figure size" not in pdf_text
    assert "matplotlib.figure" not in pdf_text.casefold()


@pytest.mark.latex
def test_pdf_first_page_renders(pdf_path: Path, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    from PIL import Image

    image = Image.open(png).convert("L")
    lo, hi = image.getextrema()
    assert hi - lo > 100, "page 1 is blank"


def test_epub_validates_with_epubcheck(book_epub: Path) -> None:
    if not HAVE_EPUBCHECK:
        pytest.skip("epubcheck is not installed (see README: System packages)")
    result = subprocess.run(
        [*epubcheck.command(), str(book_epub)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_epub_contents_list_every_chapter(book_epub: Path) -> None:
    with zipfile.ZipFile(book_epub) as epub:
        nav_name = next(n for n in epub.namelist() if n.endswith("nav.xhtml"))
        nav = BeautifulSoup(epub.read(nav_name), "xml")
        images = [n for n in epub.namelist() if n.endswith((".png", ".svg"))]
    listed = [flat(a.get_text(" ")) for a in nav.select("nav a")]
    for title in CHAPTER_TITLES:
        assert any(flat(title) in entry for entry in listed), title
    assert len(images) >= 5, images
