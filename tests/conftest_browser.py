"""Browser fixtures: the built book served over HTTP as a host would, and headless Chromium.

Loaded from tests/conftest.py with ``pytest_plugins``. The server answers under the URL
path the book is built for (``/en/latest/`` by default, from ``html_baseurl``) and answers
unknown paths with the book's own 404 page, as Read the Docs and GitHub Pages do. The
browser is Debian's Chromium driven by Playwright: nothing is downloaded, and the profile
is a fresh, empty directory that Playwright creates (and passes as ``--user-data-dir``)
for each launch.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

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


class BookRequestHandler(SimpleHTTPRequestHandler):
    """Serves the build directory under ``prefix``; anything else gets the book's 404 page."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        if not url_path.startswith(self.prefix):
            return str(Path(self.directory) / ".not-in-the-book" / "missing")
        return super().translate_path("/" + url_path[len(self.prefix) :])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest's output readable


@dataclass
class BookSite:
    """The running server: ``site.url("docs/01-introduction.html")`` gives a page's URL."""

    root: Path
    host: str
    port: int
    prefix: str

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "") -> str:
        return f"{self.origin}{self.prefix}{path}"


@pytest.fixture(scope="session")
def book_site(book_build: Path) -> Iterator[BookSite]:
    """The built book on http://127.0.0.1:PORT/en/latest/, in a thread, for the session."""
    prefix = url_prefix()
    handler = type("Handler", (BookRequestHandler,), {"prefix": prefix})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(book_build)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield BookSite(book_build, "127.0.0.1", server.server_address[1], prefix)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


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
