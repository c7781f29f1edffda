"""What a reader meets in the browser: cards, themes, search, downloads, 404 (issue 6).

Browser tests share the session's Chromium and local server with tests/test_privacy_a11y.py.
Screenshots of the landing page and the onset figure, in both themes, are written to
_build/screenshots/ for people to look at.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup

from conftest import SOURCE_DATE_EPOCH
from conftest_browser import ROOT, THEMES, BookSite, open_tab

pytestmark = pytest.mark.build

CARD_TITLES = ["Chapters", "Notebooks", "Downloads", "Reference"]
FIGURE_PAGE = "docs/03-depression-and-anxiety.html"
ONSET_NOTEBOOK = "notebooks/onset-timelines.html"
#: Where each search term must be found (any one of the pages listed).
SEARCH_TERMS = {
    "esketamine": {"docs/06-comparisons", "docs/03-depression-and-anxiety"},
    "NMDA": {"docs/02-mechanisms"},
    "SSRI": {"docs/06-comparisons"},
}
DOWNLOAD_MAGIC = {".pdf": b"%PDF-", ".epub": b"PK\x03\x04"}


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def notebook_pages(book_build: Path) -> list[str]:
    """Pages built from notebooks: they carry the .ipynb download link."""
    return sorted(
        page.relative_to(book_build).as_posix()
        for page in (book_build / "notebooks").glob("**/*.html")
        if soup(page).select_one("a.notebook-download-link")
    )


def themed_figure_pages(book_build: Path) -> list[str]:
    """Pages with two themed variants of a figure (only-light/only-dark). The chapters'
    and notebooks' figures are one inline SVG that follows the theme (test_figures_browser)."""
    pages = []
    for name in [FIGURE_PAGE, *notebook_pages(book_build)]:
        if soup(book_build / name).select_one("article .only-dark"):
            pages.append(name)
    return pages


def adaptive_figure_pages(book_build: Path) -> list[str]:
    """Notebook pages whose figures are one inline SVG that follows the theme."""
    return [
        name
        for name in notebook_pages(book_build)
        if soup(book_build / name).select_one("article svg.kt-adaptive")
    ]


def switch_theme(page: Any, theme: str) -> None:
    """Click Furo's theme toggle, as a reader does, until the page is in ``theme``."""
    toggle = page.locator("button.theme-toggle:visible").first
    for _ in range(3):
        if page.evaluate("() => document.body.dataset.theme") == theme:
            return
        toggle.click()
    assert page.evaluate("() => document.body.dataset.theme") == theme


def shown(locator: Any) -> bool:
    """Visible and taking up space on the page."""
    if not locator.is_visible():
        return False
    box = locator.bounding_box()
    return box is not None and box["width"] > 0 and box["height"] > 0


# -- Browser tests --------------------------------------------------------------------------


@pytest.mark.browser
def test_landing_page_shows_the_four_cards(book_site: BookSite, chromium: Any) -> None:
    with open_tab(chromium) as tab:
        tab.page.goto(book_site.url("index.html"))
        cards = tab.page.locator("article .sd-card")
        assert cards.count() == len(CARD_TITLES)
        titles = [t.strip() for t in cards.locator(".sd-card-title").all_inner_texts()]
        assert titles == CARD_TITLES
        boxes = []
        for index in range(cards.count()):
            card = cards.nth(index)
            assert shown(card), f"card {titles[index]} is not visible"
            # sphinx-design's stylesheet is loaded: cards are flex boxes with a border.
            style = card.evaluate(
                "(el) => { const s = getComputedStyle(el); return [s.display, s.borderTopStyle]; }"
            )
            assert style == ["flex", "solid"], f"card {titles[index]} is unstyled: {style}"
            boxes.append(card.bounding_box())
        # Two columns on a desktop screen: the first two cards share a row.
        assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[1]["x"] > boxes[0]["x"]
        # Linked cards lead where they say.
        for title, target in [("Chapters", "docs/01-introduction.html")]:
            link = tab.page.locator(".sd-card", has_text=title).locator("a.sd-stretched-link")
            assert link.get_attribute("href").endswith(target)


@pytest.mark.browser
def test_theme_toggle_swaps_light_and_dark_figures(
    book_build: Path, book_site: BookSite, chromium: Any
) -> None:
    pages = themed_figure_pages(book_build)
    with open_tab(chromium, "light") as tab:
        for name in pages:
            tab.page.goto(book_site.url(name))
            selector = "figure.timeline-figure" if name == FIGURE_PAGE else "article"
            container = tab.page.locator(selector).first
            assert container.count(), f"{name}: no {selector}"
            # Sized images are wrapped in a link to the full SVG, which carries the class too.
            light = container.locator("img.only-light, div.only-light").first
            dark = container.locator("img.only-dark, div.only-dark").first
            assert light.count() and dark.count(), f"{name}: no light and dark variants"
            light.scroll_into_view_if_needed()
            for theme in ("dark", "light", "dark"):
                switch_theme(tab.page, theme)
                wanted, unwanted = (dark, light) if theme == "dark" else (light, dark)
                assert shown(wanted), f"{name}: the {theme} figure is hidden in {theme} mode"
                assert not shown(unwanted), f"{name}: the other figure shows in {theme} mode"
            if name == FIGURE_PAGE:  # the figure's images really loaded (lazily)
                for image in (light, dark):
                    assert image.evaluate("(img) => img.decode().then(() => img.naturalWidth)")


@pytest.mark.browser
def test_notebook_figures_follow_the_theme(
    book_build: Path, book_site: BookSite, chromium: Any
) -> None:
    """A notebook figure is one inline SVG whose colours switch with the theme."""
    pages = adaptive_figure_pages(book_build)
    assert len(pages) == 3, pages
    script = """(svg) => {
        const text = svg.querySelector('text');
        const bg = getComputedStyle(document.body).backgroundColor;
        return [getComputedStyle(text).fill, bg];
    }"""
    with open_tab(chromium, "light") as tab:
        for name in pages:
            tab.page.goto(book_site.url(name))
            figure = tab.page.locator("article svg.kt-adaptive").first
            figure.scroll_into_view_if_needed()
            seen = {}
            for theme in ("light", "dark"):
                switch_theme(tab.page, theme)
                assert shown(figure), f"{name}: the figure is hidden in {theme} mode"
                seen[theme] = figure.evaluate(script)
            assert seen["light"][0] != seen["dark"][0], f"{name}: text colour did not switch"
            for theme, (text, background) in seen.items():
                assert text != background, f"{name}: text is invisible in {theme} mode"


@pytest.mark.browser
def test_search_finds_esketamine_chapters(book_site: BookSite, chromium: Any) -> None:
    with open_tab(chromium) as tab:
        tab.page.goto(book_site.url("search.html?q=esketamine"))
        tab.page.wait_for_selector("#search-results .search-summary", timeout=15_000)
        results = tab.page.locator("#search-results ul.search li a")
        assert results.count() > 0, tab.page.inner_text("#search-results")
        hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
        wanted = SEARCH_TERMS["esketamine"]
        assert any(doc in href for href in hrefs for doc in wanted), hrefs


@pytest.mark.browser
def test_notebook_pages_offer_their_ipynb(
    book_build: Path, book_site: BookSite, chromium: Any
) -> None:
    pages = notebook_pages(book_build)
    assert pages, "no notebook page has a .ipynb download link"
    with open_tab(chromium) as tab:
        for name in pages:
            tab.page.goto(book_site.url(name))
            link = tab.page.locator("a.notebook-download-link")
            assert link.count() == 1 and shown(link), name
            url = urljoin(tab.page.url, link.get_attribute("href"))
            response = tab.page.request.get(url)
            assert response.status == 200, f"{name}: {url} gives {response.status}"
            notebook = json.loads(response.body())
            assert notebook["cells"] and notebook["nbformat"] == 4, url
            assert any(c.get("outputs") for c in notebook["cells"]), f"{url} has no outputs"


@pytest.mark.browser
@pytest.mark.latex
def test_landing_page_pdf_and_epub_downloads(download_site: BookSite, chromium: Any) -> None:
    with open_tab(chromium) as tab:
        tab.page.goto(download_site.url("index.html"))
        missing = tab.page.locator("article .book-download-missing").all_inner_texts()
        assert not missing, f"the landing page has no download links: {missing}"
        links = tab.page.locator("article a.book-download")
        assert links.count() == 2
        for index in range(links.count()):
            href = links.nth(index).get_attribute("href")
            response = tab.page.request.get(urljoin(tab.page.url, href))
            assert response.status == 200, f"{href} gives {response.status}"
            magic = DOWNLOAD_MAGIC[Path(href).suffix]
            assert response.body().startswith(magic), f"{href} is not a {Path(href).suffix}"


@pytest.mark.browser
def test_404_page_is_styled_at_a_nested_path(book_site: BookSite, chromium: Any) -> None:
    with open_tab(chromium) as tab:
        response = tab.page.goto(book_site.url("a/b/c/missing.html"))
        assert response is not None and response.status == 404
        page = tab.page
        assert "Page not found" in page.inner_text("article")
        furo_css = page.evaluate(
            "() => [...document.styleSheets].some(s => /styles\\/furo/.test(s.href || '')"
            " && s.cssRules.length > 100)"
        )
        assert furo_css, "Furo's stylesheet did not load on the 404 page"
        font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert "Times New Roman" not in font and font.strip('"') != "serif", font
        assert shown(page.locator(".sidebar-drawer")), "the sidebar is not visible"
        assert page.locator(".sidebar-logo").evaluate("(img) => img.naturalWidth") > 0
        home = page.locator("article a", has_text="first page of the book")
        assert home.get_attribute("href") == book_site.prefix


@pytest.mark.browser
def test_screenshots(
    book_build: Path, book_site: BookSite, chromium: Any, screenshot_dir: Path
) -> None:
    """Landing page and onset figure in both themes, for a person to look at."""
    shots = {"landing": ("index.html", None), "onset-figure": (FIGURE_PAGE, "figure")}
    if ONSET_NOTEBOOK in adaptive_figure_pages(book_build):
        shots["onset-notebook"] = (ONSET_NOTEBOOK, "article svg.kt-adaptive")
    for theme in THEMES:
        with open_tab(chromium, theme) as tab:
            for label, (name, selector) in shots.items():
                tab.page.goto(book_site.url(name))
                if selector:
                    # Furo scrolls smoothly: jump instead, so the shot shows the figure.
                    tab.page.locator(f"{selector} >> visible=true").first.evaluate(
                        "(el) => window.scrollTo({top: el.getBoundingClientRect().top"
                        " + window.scrollY - 80, behavior: 'instant'})"
                    )
                path = screenshot_dir / f"{label}-{theme}.png"
                tab.page.screenshot(path=str(path), full_page=selector is None)
                assert path.stat().st_size > 10_000, path
    assert screenshot_dir == ROOT / "_build" / "screenshots"


@pytest.mark.browser
def test_a_chapter_prints_like_a_page_of_the_book(
    book_site: BookSite, chromium: Any, screenshot_dir: Path
) -> None:
    """Printed from the browser (even in dark mode), a chapter is text and its figure on
    white paper: no sidebar or theme toggle; the light figure only; and the
    not-medical-advice notice (Furo's announcement) travels with the printed text."""
    with open_tab(chromium, "dark") as tab:
        page = tab.page
        page.goto(book_site.url(FIGURE_PAGE))
        page.emulate_media(media="print")
        hidden = [".sidebar-drawer", ".toc-drawer", ".theme-toggle-container"]
        for selector in hidden:
            for element in page.locator(selector).all():
                assert not element.is_visible(), f"{selector} is printed"
        notice = page.locator(".announcement")
        assert notice.is_visible(), "the printed chapter has no notice"
        assert "not medical advice" in notice.inner_text().casefold()
        assert page.locator("article h1").is_visible()
        figure = page.locator("figure.timeline-figure svg.kt-adaptive >> visible=true").first
        assert shown(figure)
        fill = figure.evaluate("(svg) => getComputedStyle(svg.querySelector('text')).fill")
        assert fill == "rgb(26, 26, 26)", f"printed figure text is {fill}, not the light theme's"
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background in {"rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"}, background
        pdf = screenshot_dir / "chapter-print.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert pdf.stat().st_size > 20_000


# -- Without a browser ------------------------------------------------------------------------


def load_search_index(book_build: Path) -> dict[str, Any]:
    text = (book_build / "searchindex.js").read_text(encoding="utf-8")
    match = re.fullmatch(r"\s*Search\.setIndex\((.*)\)\s*;?\s*", text, re.DOTALL)
    assert match, "searchindex.js is not a Search.setIndex(...) call"
    return json.loads(match.group(1))


@pytest.mark.parametrize("word", sorted(SEARCH_TERMS))
def test_search_index_has_the_term(book_build: Path, word: str) -> None:
    """Sphinx lower-cases and stems each word (Snowball, English) before indexing it."""
    from sphinx.search.en import SearchEnglish

    index = load_search_index(book_build)
    stem = SearchEnglish({}).stem(word.lower())
    found = set()
    # Words of the text are in "terms", words of section titles in "titleterms".
    for table in ("terms", "titleterms"):
        documents = index[table].get(stem, [])
        documents = [documents] if isinstance(documents, int) else documents
        found |= {index["docnames"][number] for number in documents}
    assert found, f"{word!r} (indexed as {stem!r}) is not in the search index"
    assert found & SEARCH_TERMS[word], f"{word!r} is indexed for {sorted(found)}"


def test_every_page_is_dated_by_the_last_commit(html_pages: dict[str, Path]) -> None:
    """One date for the whole book: the last commit's, as the PDF and EPUB carry it."""
    stamp = time.strftime("%d %B %Y", time.gmtime(int(SOURCE_DATE_EPOCH)))
    year = time.gmtime(int(SOURCE_DATE_EPOCH)).tm_year
    chapters = [name for name in html_pages if re.match(r"docs/\d\d-", name)]
    assert len(chapters) == 8
    for name, page in html_pages.items():
        if name == "404.html":
            continue
        page_soup = soup(page)
        updated = page_soup.select_one(".last-updated")
        assert updated is not None, f"{name} has no 'Last updated'"
        assert f"Last updated on {stamp}" in " ".join(updated.get_text(" ").split()), name
        assert f"{year}" in page_soup.select_one(".copyright").get_text(), name
