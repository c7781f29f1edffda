"""Privacy and accessibility of every page, as Chromium renders it (issue 5).

Each page of the built book is loaded from a local server in a light and in a dark tab.
The light visit records every network request and inspects the DOM; both visits run
axe-core (bundled by the axe-playwright-python package, so nothing is fetched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from conftest_browser import THEMES, BookSite, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.build]

#: axe-core impact levels that fail the build; "minor" and "moderate" are reported only.
BLOCKING = {"serious", "critical"}
#: Schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}

#: Facts about one rendered page, gathered in a single pass over the DOM.
DOM_FACTS = """() => {
  const describe = (el) => {
    const html = el.outerHTML;
    return html.length > 160 ? html.slice(0, 160) + '…' : html;
  };
  const text = (s) => (s || '').trim();
  const facts = {handlers: [], jsUrls: [], noRel: [], unlabelled: [], headings: []};
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) facts.handlers.push(describe(el));
      if (/^(href|src|action|formaction|xlink:href)$/i.test(attr.name)
          && /^[\\s\\x00-\\x1f]*javascript:/i.test(attr.value)) facts.jsUrls.push(describe(el));
    }
  }
  for (const a of document.querySelectorAll('article a[href]')) {
    const url = new URL(a.href, document.baseURI);
    const rel = (a.getAttribute('rel') || '').split(/\\s+/);
    if (/^https?:$/.test(url.protocol) && url.host !== location.host && !rel.includes('noopener'))
      facts.noRel.push(describe(a));
  }
  const labelled = (el) => text(el.getAttribute('aria-label'))
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(
         (id) => id && text(document.getElementById(id)?.textContent));
  for (const img of document.querySelectorAll('img'))
    if (!text(img.getAttribute('alt')) && !labelled(img)) facts.unlabelled.push(describe(img));
  for (const svg of document.querySelectorAll('svg[role="img"]'))
    if (!labelled(svg)) facts.unlabelled.push(describe(svg));
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role="heading"]')) {
    const level = /^H[1-6]$/.test(h.tagName) ? Number(h.tagName[1])
      : Number(h.getAttribute('aria-level') || 2);
    facts.headings.push([level, text(h.textContent).slice(0, 60)]);
  }
  return facts;
}"""


@dataclass
class PageReport:
    """What the browser saw on one page."""

    path: str
    requests: list[str] = field(default_factory=list)
    dom: dict[str, Any] = field(default_factory=dict)
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def every_page(book_build: Path) -> list[str]:
    """Every HTML page of the build, including search, the index and the 404 page."""
    return sorted(
        p.relative_to(book_build).as_posix()
        for p in book_build.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def run_axe(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def load(page: Any, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    # Lazy images and late scripts load when the reader scrolls: scroll to the end.
    # Instantly: the page scrolls smoothly, and Chromium's scrollTo() then returns a
    # promise that evaluate() awaits (0.8 s a scroll, half of this survey's time).
    page.evaluate(
        "() => window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})"
    )
    page.wait_for_load_state("networkidle")
    page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")


@pytest.fixture(scope="module")
def survey(book_build: Path, book_site: BookSite, chromium: Any) -> dict[str, PageReport]:
    """Load every page once per theme; record requests, DOM facts and axe-core results."""
    reports = {path: PageReport(path) for path in every_page(book_build)}
    # The 404 page as a reader meets it: at a missing, nested address.
    reports["(missing page)"] = PageReport("a/b/c/missing.html")
    for theme in THEMES:
        with open_tab(chromium, theme) as tab:
            for report in reports.values():
                tab.requests.clear()
                if report.path == "a/b/c/missing.html":
                    response = tab.page.goto(book_site.url(report.path), wait_until="load")
                    assert response is not None and response.status == 404
                    tab.page.wait_for_load_state("networkidle")
                else:
                    load(tab.page, book_site.url(report.path))
                assert tab.page.evaluate("() => document.body.dataset.theme") == theme
                report.requests += tab.requests
                if theme == "light":
                    report.dom = tab.page.evaluate(DOM_FACTS)
                report.axe[theme] = run_axe(tab.page)
    return reports


def test_every_page_is_surveyed(survey: dict[str, PageReport], book_build: Path) -> None:
    assert {"index.html", "search.html", "404.html", "docs/01-introduction.html"} <= set(survey)
    assert len(survey) == len(every_page(book_build)) + 1


def test_privacy_no_request_leaves_the_machine(
    survey: dict[str, PageReport], book_site: BookSite
) -> None:
    offenders = []
    for name, report in survey.items():
        assert report.requests, f"{name}: no requests recorded"
        for url in report.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname != book_site.host:
                offenders.append(f"{name}: {url}")
    assert not offenders, "requests to other hosts:\n" + "\n".join(sorted(set(offenders)))


def test_privacy_no_inline_script_or_javascript_urls(survey: dict[str, PageReport]) -> None:
    offenders = [
        f"{name}: {element}"
        for name, report in survey.items()
        for element in report.dom["handlers"] + report.dom["jsUrls"]
    ]
    assert not offenders, "inline event handlers or javascript: URLs:\n" + "\n".join(offenders)


def test_privacy_external_links_carry_noopener(survey: dict[str, PageReport]) -> None:
    offenders = [f"{name}: {a}" for name, report in survey.items() for a in report.dom["noRel"]]
    assert not offenders, "external links without rel=noopener:\n" + "\n".join(offenders)


def test_bibliography_links_carry_noreferrer(book_build: Path) -> None:
    """The htmlpolicy extension marks links at build time, not with JavaScript."""
    html = (book_build / "docs" / "bibliography.html").read_text(encoding="utf-8")
    assert 'href="https://doi.org/' in html
    assert 'rel="noopener noreferrer"' in html


@pytest.mark.parametrize("theme", THEMES)
def test_accessibility_axe_core(survey: dict[str, PageReport], theme: str) -> None:
    problems = []
    for name, report in survey.items():
        for violation in report.axe[theme]:
            if violation["impact"] not in BLOCKING:
                continue
            targets = "; ".join(
                f"{' '.join(node['target'])} ({node.get('failureSummary', '').strip()[:200]})"
                for node in violation["nodes"][:5]
            )
            problems.append(
                f"{name} [{theme}] {violation['id']} ({violation['impact']}): "
                f"{violation['help']}: {targets}"
            )
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


def test_accessibility_images_have_text_alternatives(survey: dict[str, PageReport]) -> None:
    offenders = [f"{name}: {el}" for name, r in survey.items() for el in r.dom["unlabelled"]]
    assert not offenders, "images without alt text or aria-label:\n" + "\n".join(offenders)


def test_accessibility_heading_levels_are_not_skipped(
    survey: dict[str, PageReport], html_pages: dict[str, Path]
) -> None:
    problems = []
    for name, report in survey.items():
        levels = [level for level, _ in report.dom["headings"]]
        if name in html_pages and 1 not in levels:
            problems.append(f"{name}: no level-1 heading")
        previous = 1
        for level, text in report.dom["headings"]:
            if level > previous + 1:
                problems.append(f"{name}: h{level} {text!r} follows h{previous}")
            previous = level
    assert not problems, "\n".join(problems)
