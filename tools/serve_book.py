"""Serve a built book over HTTP as a host does: the one local server of the tests and bench.

The book answers under a URL path (``/en/latest/`` on Read the Docs); any other path gets
the book's own 404 page, as Read the Docs and GitHub Pages do. Text files go out gzipped
when the client accepts it, as every host sends them, so a browser's transferred bytes
are the ones a reader pays for. ``python tools/serve_book.py _build/html`` serves one.
"""

from __future__ import annotations

import gzip
import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

COMPRESSIBLE = {".html", ".css", ".js", ".svg", ".json", ".txt", ".xml", ".ipynb"}


class BookRequestHandler(SimpleHTTPRequestHandler):
    """Serves the build directory under ``prefix``; anything else gets the book's 404 page."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        if not url_path.startswith(self.prefix):
            return str(Path(self.directory) / ".not-in-the-book" / "missing")
        return super().translate_path("/" + url_path[len(self.prefix) :])

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not urlsplit(self.path).path.endswith("/"):
                return super().send_head()  # the redirect to the URL with a slash
            path = path / "index.html"
        gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (gzip_ok and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

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
        pass  # keep pytest's and nox's output readable


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


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser hung up early
            super().handle_error(request, client_address)


@contextmanager
def serve_book(
    directory: Path, prefix: str = "/", requests: list[str] | None = None
) -> Iterator[BookSite]:
    """Serve ``directory`` on http://127.0.0.1:PORT{prefix} from a thread; each request's
    path is appended to ``requests`` when a list is given."""
    attributes: dict[str, Any] = {"prefix": prefix}
    if requests is not None:
        attributes["log_message"] = lambda self, format, *args: requests.append(self.path)
    handler = type("Handler", (BookRequestHandler,), attributes)
    server = QuietServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield BookSite(Path(directory), "127.0.0.1", server.server_address[1], prefix)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


if __name__ == "__main__":
    with serve_book(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")) as site:
        print(site.url("index.html"), flush=True)
        threading.Event().wait()
