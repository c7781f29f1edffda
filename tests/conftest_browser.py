"""Browser fixtures: the built book served over HTTP as a host would, and headless Chromium.

Loaded from tests/conftest.py with ``pytest_plugins``. The server (tools/serve_book.py,
shared with ``nox -s bench``) answers under the URL path the book is built for
(``/en/latest/`` by default, from ``html_baseurl``) and answers unknown paths with the
book's own 404 page, as Read the Docs and GitHub Pages do. The browser is Debian's
Chromium driven by Playwright: nothing is downloaded, and the profile is a fresh, empty
directory that Playwright creates (and passes as ``--user-data-dir``) for each launch.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from serve_book import BookSite, serve_book  # tools/serve_book.py (pytest's pythonpath)

ROOT = Path(__file__).resolve().parents[1]
#: Names Chromium goes by: Debian's package, Ubuntu's, Google's builds.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> Path | None:
    """The browser named by the CHROMIUM environment variable, else the first of
    CHROMIUM_NAMES on PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        found = shutil.which(named)
        if found is None:
            raise pytest.UsageError(f"CHROMIUM={named}: no such executable")
        return Path(found)
    found = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    return Path(found) if found else None


CHROMIUM = find_chromium()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
THEMES = ("light", "dark")
VIEWPORT = {"width": 1280, "height": 900}


def url_prefix() -> str:
    """The URL path the book is built for: conf.py derives it from ``html_baseurl``."""
    namespace = runpy.run_path(str(ROOT / "conf.py"))
    prefix = namespace["notfound_urls_prefix"]
    return prefix if prefix.endswith("/") else prefix + "/"


@contextmanager
def serve(directory: Path) -> Iterator[BookSite]:
    """The book in ``directory`` served under the URL path it is built for."""
    with serve_book(directory, url_prefix()) as site:
        yield site


@pytest.fixture(scope="session")
def book_site(book_build: Path) -> Iterator[BookSite]:
    """The HTML book served for the whole session."""
    with serve(book_build) as site:
        yield site


@pytest.fixture(scope="session")
def download_site(local_site: Any, book_downloads: Path) -> BookSite:
    """The HTML build that links the PDF and EPUB, served (needs TeX Live)."""
    return local_site.site


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright, shared by every browser test."""
    if CHROMIUM is None:
        pytest.skip(
            f"Chromium not found (looked for {', '.join(CHROMIUM_NAMES)} on PATH; "
            "or set CHROMIUM=/path/to/chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A browser tab with one colour theme, recording every request it makes."""

    page: Any
    theme: str
    requests: list[str] = field(default_factory=list)
    in_flight: int = 0  # requests started and not yet finished or failed

    def settle(self, quiet: float = 0.1, timeout: float = 30.0) -> None:
        """Wait until no request has been in flight for ``quiet`` seconds: Playwright's
        "networkidle" with a 0.1-s window instead of its fixed 0.5 s (a survey of every
        page in two themes waited 18 s for nothing)."""
        import time

        deadline = time.monotonic() + timeout
        calm_since = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            if self.in_flight:
                calm_since = None
            elif calm_since is None:
                calm_since = now
            elif now - calm_since >= quiet:
                return
            self.page.wait_for_timeout(10)  # Playwright delivers its events meanwhile
        raise TimeoutError(f"{self.page.url}: requests still in flight after {timeout} s")


@contextmanager
def open_tab(browser: Any, theme: str = "light") -> Iterator[Visit]:
    """A fresh context in ``theme``: the OS preference and Furo's stored choice agree."""
    context = browser.new_context(
        viewport=VIEWPORT, color_scheme=theme, reduced_motion="reduce", service_workers="block"
    )
    context.add_init_script(f"window.localStorage.setItem('theme', {json.dumps(theme)});")
    visit = Visit(context.new_page(), theme)

    def started(request: Any) -> None:
        visit.requests.append(request.url)
        visit.in_flight += 1

    def ended(request: Any) -> None:
        visit.in_flight -= 1

    context.on("request", started)
    context.on("requestfinished", ended)
    context.on("requestfailed", ended)
    try:
        yield visit
    finally:
        context.close()


# -- One survey of every page -----------------------------------------------------------
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

#: Records every violation of the page's Content-Security-Policy, from before its first
#: script runs (an init script: the browser injects it, so the policy does not apply).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} ${e.sample || ''}`));
"""
#: Survey entries that are not files of the build: the 404 page as a reader meets it (at a
#: missing, nested address) and the search page with a query (its script runs the search).
SURVEY_ADDRESSES = {
    "(missing page)": "a/b/c/missing.html",
    "(search results)": "search.html?q=esketamine",
}


@dataclass
class PageReport:
    """What the browser saw on one page, in each theme."""

    path: str
    requests: list[str] = field(default_factory=list)  # both themes
    dom: dict[str, Any] = field(default_factory=dict)  # the light theme's DOM facts
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # theme -> violations
    csp: dict[str, list[str]] = field(default_factory=dict)  # theme -> policy violations
    theme: dict[str, str] = field(default_factory=dict)  # theme asked -> body's data-theme
    status: int = 0


def every_page(book_build: Path) -> list[str]:
    """Every HTML page of the build, including search and the 404 page."""
    return sorted(
        p.relative_to(book_build).as_posix()
        for p in book_build.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and lesser violations on the page (bundled: nothing is fetched)."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]


def load(page: Any, url: str, visit: Visit | None = None) -> int:
    """Load a page as a reader does, to the end of its lazy content; its HTTP status.

    With the ``visit`` (the tab) the wait for the network is ``Visit.settle``; without
    it, Playwright's "networkidle"."""
    response = page.goto(url, wait_until="load")
    assert response is not None, url
    # Lazy images and late scripts load when the reader scrolls: scroll to the end.
    # Instantly: the page scrolls smoothly, and Chromium's scrollTo() then returns a
    # promise that evaluate() awaits (0.8 s a scroll, half of this survey's time).
    page.evaluate(
        "() => window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})"
    )
    # Two frames: what the scroll brought into view has asked for its files.
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    if visit is None:
        page.wait_for_load_state("networkidle")
    else:
        visit.settle()
    page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
    return response.status


@pytest.fixture(scope="session")
def page_survey(book_build: Path, book_site: BookSite, chromium: Any) -> dict[str, PageReport]:
    """Every page of the session's book loaded once per theme, for every gate that reads
    a rendered page: the requests it made (privacy), the DOM facts (privacy, images,
    headings), axe-core's violations (accessibility) and the Content-Security-Policy
    violations Chromium reported (CSP). Keyed by the page's path in the build, plus
    SURVEY_ADDRESSES."""
    reports = {path: PageReport(path) for path in every_page(book_build)}
    reports.update({name: PageReport(address) for name, address in SURVEY_ADDRESSES.items()})
    for theme in THEMES:
        with open_tab(browser=chromium, theme=theme) as tab:
            tab.page.add_init_script(CSP_LISTENER)
            for report in reports.values():
                tab.requests.clear()
                # The search page fetches result summaries one after another (timers
                # between them): it gets Playwright's longer "networkidle" window.
                settle = None if report.path.startswith("search.html") else tab
                report.status = load(tab.page, book_site.url(report.path), settle)
                report.theme[theme] = tab.page.evaluate("() => document.body.dataset.theme")
                report.csp[theme] = tab.page.evaluate("() => window.__cspViolations")
                report.requests += tab.requests
                if theme == "light":
                    report.dom = tab.page.evaluate(DOM_FACTS)
                report.axe[theme] = run_axe(tab.page)
    return reports


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Screenshots land in the repository's _build/screenshots for people to look at."""
    path = ROOT / "_build" / "screenshots"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
