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
def download_site(book_downloads: Path) -> Iterator[BookSite]:
    """The HTML build that links the PDF and EPUB, served (needs TeX Live)."""
    with serve(book_downloads) as site:
        yield site


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


@contextmanager
def open_tab(browser: Any, theme: str = "light") -> Iterator[Visit]:
    """A fresh context in ``theme``: the OS preference and Furo's stored choice agree."""
    context = browser.new_context(
        viewport=VIEWPORT, color_scheme=theme, reduced_motion="reduce", service_workers="block"
    )
    context.add_init_script(f"window.localStorage.setItem('theme', {json.dumps(theme)});")
    visit = Visit(context.new_page(), theme)
    context.on("request", lambda request: visit.requests.append(request.url))
    try:
        yield visit
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Screenshots land in the repository's _build/screenshots for people to look at."""
    path = ROOT / "_build" / "screenshots"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
