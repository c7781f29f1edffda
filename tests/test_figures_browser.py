"""Figures as a reader sees them in Chromium, on a phone (390x844) and a laptop (1280x900).

On the chapters that show a figure and on every notebook page: the smallest figure text is
at least 10 CSS px, no figure is taller than 850 px on the laptop, a caption is visible
under each figure and equals the registry's (computed from the rows drawn), every plotted
series is a keyboard-reachable link to doi.org or PubMed with a tooltip and a tap target of
at least 24 CSS px on a phone, "Data behind this figure" opens under each figure, the
figure follows the theme, and axe-core finds no serious violation. The EPUB's figures,
opened in Chromium 600 px wide, have no text under 9 px.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from conftest_browser import BookSite

pytestmark = [pytest.mark.browser, pytest.mark.build]

ROOT = Path(__file__).resolve().parents[1]
VIEWPORTS = {"phone": (390, 844), "laptop": (1280, 900)}
#: Page -> figures of the registry it shows (chapters through the directive).
PAGES = {
    "docs/03-depression-and-anxiety.html": ["onset"],
    "docs/06-comparisons.html": ["onset"],
    "notebooks/onset-timelines.html": ["onset", "onset-detail"],
    "notebooks/side-effects-over-time.html": ["treatment-day"],
    "notebooks/single-infusion-duration.html": ["single-dose"],
}
MIN_TEXT_PX = 10.0
MAX_HEIGHT_PX = 850

#: For each visible figure SVG: size, smallest text in CSS px, links and their tooltips.
FIGURE_FACTS = """() => Array.from(document.querySelectorAll('article svg.kt-adaptive'))
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .map((svg) => {
    const box = svg.getBoundingClientRect();
    const m = svg.getScreenCTM();
    const scale = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    const sizes = Array.from(svg.querySelectorAll('text'))
      .filter((t) => t.textContent.trim())
      .map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
    const links = Array.from(svg.querySelectorAll('a')).map((a) => {
      const r = a.getBoundingClientRect();
      return {href: a.getAttribute('href') || '', width: r.width, height: r.height,
              title: (a.querySelector(':scope > title') || {}).textContent || ''};
    });
    const family = getComputedStyle(svg.querySelector('text')).fontFamily;
    const holder = svg.closest('figure, .cell_output');
    const caption = holder && (holder.querySelector('figcaption')
      || holder.parentElement.querySelector('.kt-caption'));
    const capBox = caption ? caption.getBoundingClientRect() : null;
    return {width: box.width, height: box.height, minText: Math.min(...sizes), links, family,
            caption: caption ? caption.textContent.replace(/\\s+/g, ' ').trim() : '',
            captionVisible: !!capBox && capBox.height > 0 && capBox.top >= box.bottom - 1};
  })"""


@contextmanager
def tab(browser: Any, viewport: str, theme: str = "light") -> Iterator[Any]:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=theme, service_workers="block"
    )
    context.add_init_script(f"window.localStorage.setItem('theme', {json.dumps(theme)});")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def seen(book_build: Path, book_site: BookSite, chromium: Any) -> dict[tuple[str, str], Any]:
    facts = {}
    for viewport in VIEWPORTS:
        with tab(chromium, viewport) as page:
            for name in PAGES:
                page.goto(book_site.url(name), wait_until="load")
                facts[viewport, name] = page.evaluate(FIGURE_FACTS)
    return facts


@pytest.fixture(scope="module")
def registry() -> dict[str, str]:
    from ketamine_timelines import load_points
    from ketamine_timelines.figures import FIGURES

    points = load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")
    return {name: spec.caption(points) for name, spec in FIGURES.items()}


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_figure_text_size_and_height(seen: dict, viewport: str) -> None:
    problems = []
    for name in PAGES:
        figures = seen[viewport, name]
        if len(figures) != len(PAGES[name]):
            problems.append(f"{name}: {len(figures)} visible figures, expected {PAGES[name]}")
        for fig in figures:
            if fig["minText"] < MIN_TEXT_PX:
                problems.append(f"{name} @{viewport}: text at {fig['minText']:.1f} px")
            if viewport == "laptop" and fig["height"] > MAX_HEIGHT_PX:
                problems.append(f"{name} @{viewport}: figure {fig['height']:.0f} px tall")
            if "sans-serif" not in fig["family"]:
                problems.append(f"{name}: font family without a generic fallback")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_captions_are_visible_and_computed_from_the_data(
    seen: dict, registry: dict[str, str], viewport: str
) -> None:
    for name, expected in PAGES.items():
        for fig, figure_name in zip(seen[viewport, name], expected, strict=True):
            assert fig["captionVisible"], f"{name} @{viewport}: no visible caption"
            shown = fig["caption"].replace("\u2019", "'")
            assert registry[figure_name] in shown, (name, fig["caption"])


def test_every_point_links_to_its_source(seen: dict) -> None:
    for name in PAGES:
        for fig in seen["laptop", name]:
            assert fig["links"], f"{name}: no linked points"
            for link in fig["links"]:
                assert link["href"].startswith(
                    ("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/", "https://dailymed.")
                ), (name, link)
                assert "Source:" in link["title"], (name, link)


def test_points_are_reachable_by_keyboard(book_site: BookSite, chromium: Any) -> None:
    with tab(chromium, "laptop") as page:
        page.goto(book_site.url("docs/03-depression-and-anxiety.html"))
        page.locator("figure.timeline-figure").scroll_into_view_if_needed()
        for _ in range(200):
            page.keyboard.press("Tab")
            inside = page.evaluate(
                "() => !!document.activeElement.closest('svg.kt-adaptive')"
                " && document.activeElement.tagName.toLowerCase() === 'a'"
            )
            if inside:
                break
        assert inside, "Tab never reached a point of the figure"
        tooltip = page.evaluate("() => document.activeElement.querySelector('title').textContent")
        assert "Source:" in tooltip


def test_tap_targets_are_24_px_on_a_phone(seen: dict) -> None:
    """WCAG 2.2 target size (2.5.8): each linked series' hit area is at least 24 x 24 CSS
    px at 390 px; so is the "Data behind this figure" summary under each figure."""
    problems = []
    for name in PAGES:
        for fig in seen["phone", name]:
            for link in fig["links"]:
                if min(link["width"], link["height"]) < 24:
                    problems.append(
                        f"{name}: {link['width']:.0f}x{link['height']:.0f} px: {link['title'][:60]}"
                    )
    assert not problems, "\n".join(problems)


def test_data_behind_each_figure_opens_on_a_phone(book_site: BookSite, chromium: Any) -> None:
    with tab(chromium, "phone") as page:
        for name, figures in PAGES.items():
            page.goto(book_site.url(name), wait_until="load")
            summaries = page.locator("details.kt-data > summary")
            assert summaries.count() == len(figures), name
            for i in range(summaries.count()):
                summary = summaries.nth(i)
                box = summary.bounding_box()
                assert box and box["height"] >= 24 and box["width"] >= 24, (name, box)
                summary.scroll_into_view_if_needed()
                summary.click()
                table = page.locator("details.kt-data").nth(i).locator("table")
                assert table.is_visible(), name
                # Reflowed: nothing scrolls sideways on a phone.
                assert page.evaluate(
                    "(t) => t.scrollWidth <= t.parentElement.clientWidth + 1",
                    table.element_handle(),
                ), name
                assert table.locator("a[href^='https://doi.org/']").count() > 0, name


def test_epub_figure_text_is_9_px_on_a_600_px_page(
    book_epub: Path, chromium: Any, tmp_path: Path
) -> None:
    """Each EPUB page with a figure, opened at 600 px: the smallest text of each figure
    image (its font size in the SVG times the image's rendered scale) is at least 9 px."""
    import re
    import zipfile

    with zipfile.ZipFile(book_epub) as epub:
        epub.extractall(tmp_path)
    pages = [p for p in tmp_path.rglob("*.xhtml") if re.search(r'<img[^>]+\.svg"', p.read_text())]
    assert len(pages) >= 5, pages  # chapters 3 and 6 and the three notebooks
    context = chromium.new_context(viewport={"width": 600, "height": 900})
    problems = []
    try:
        page = context.new_page()
        for xhtml in pages:
            page.goto(xhtml.as_uri(), wait_until="load")
            images = page.evaluate(
                """() => Array.from(document.querySelectorAll('img'))
                  .filter((i) => i.src.endsWith('.svg'))
                  .map((i) => ({src: i.getAttribute('src'),
                                width: i.getBoundingClientRect().width}))"""
            )
            for image in images:
                svg = (xhtml.parent / image["src"]).read_text()
                units = float(re.search(r'<svg[^>]*viewBox="0 0 ([\d.]+)', svg).group(1))
                sizes = [float(x) for x in re.findall(r"font-size: ([\d.]+)px", svg)]
                smallest = min(sizes) * image["width"] / units
                if smallest < 9:
                    problems.append(f"{xhtml.name}: {image['src']}: text at {smallest:.1f} px")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_figures_follow_the_theme(book_site: BookSite, chromium: Any, viewport: str) -> None:
    fills = {}
    for theme in ("light", "dark"):
        with tab(chromium, viewport, theme) as page:
            page.goto(book_site.url("docs/03-depression-and-anxiety.html"))
            fills[theme] = page.evaluate(
                "() => { const s = Array.from(document.querySelectorAll('svg.kt-adaptive'))"
                ".find((svg) => svg.getBoundingClientRect().width > 0);"
                " return getComputedStyle(s.querySelector('text')).fill; }"
            )
    assert fills["light"] != fills["dark"], fills


# The phone only: at the laptop's 1280x900, the session's survey of every page
# (conftest_browser.page_survey) runs axe-core on these pages in both themes.
@pytest.mark.parametrize("viewport", ["phone"])
def test_axe_finds_no_serious_violation(book_site: BookSite, chromium: Any, viewport: str) -> None:
    problems = []
    for theme in ("light", "dark"):
        with tab(chromium, viewport, theme) as page:
            for name in PAGES:
                page.goto(book_site.url(name), wait_until="load")
                page.evaluate(AXE_SCRIPT)
                # The article only: the site banner's own phone-width issue (the
                # announcement bar scrolls) belongs to the page chrome, not the figures.
                result = page.evaluate("() => axe.run('article', {resultTypes: ['violations']})")
                problems += [
                    f"{name} [{theme}, {viewport}] {v['id']}: {v['help']}"
                    for v in result["violations"]
                    if v["impact"] in {"serious", "critical"}
                ]
    assert not problems, "\n".join(problems)
