"""The book's link checking: Sphinx's linkcheck with SETTINGS, the preflight and the summary.

No test needs the internet: links are checked against a small HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_sphinx

from ketamine_timelines.linkcheck import SETTINGS

PUBLISHER_URL = "https://onlinelibrary.wiley.com/doi/10.1002/example"
SERVER_LIFETIME = 120  # seconds; the server shuts itself down even if a test hangs


class _Handler(BaseHTTPRequestHandler):
    """/good answers 200, /redirect answers 302 to /good, anything else 404.

    /doi behaves like doi.org for a Wiley DOI: a 302 to a publisher that SETTINGS ignores.
    """

    def _answer(self, with_body: bool) -> None:
        if self.path == "/good":
            body = b"<!doctype html><title>good</title><p>good</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        elif self.path == "/redirect":
            body = b""
            self.send_response(302)
            self.send_header("Location", "/good")
        elif self.path == "/doi":
            body = b""
            self.send_response(302)
            self.send_header("Location", PUBLISHER_URL)
        else:
            body = b"<!doctype html><title>missing</title>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """The base URL of a server on a free port of 127.0.0.1, running in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    deadline = threading.Timer(SERVER_LIFETIME, server.shutdown)
    deadline.daemon = True
    deadline.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        deadline.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketamine_timelines.linkcheck", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def counts_in(report: str) -> dict[str, int]:
    """The "label  number" lines at the top of the summary."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^  (\w+) +(\d+)$", report, re.MULTILINE)}


def test_settings_use_real_sphinx_options() -> None:
    """A misspelt option would be silently ignored by Sphinx: check every name."""
    from sphinx.builders import linkcheck as sphinx_linkcheck
    from sphinx.config import Config

    registered: set[str] = set(Config.config_values)

    class _App:
        def add_config_value(self, name: str, *args: object, **kwargs: object) -> None:
            registered.add(name)

        def __getattr__(self, name: str):
            return lambda *args, **kwargs: None

    sphinx_linkcheck.setup(_App())  # type: ignore[arg-type]
    assert set(SETTINGS) <= registered, set(SETTINGS) - registered
    assert SETTINGS["linkcheck_retries"] == 3
    for pattern in SETTINGS["linkcheck_ignore"]:
        re.compile(pattern)


def test_linkcheck_reports_working_broken_and_redirected(tmp_path: Path, local_server: str):
    # SETTINGS ignores no loopback address (only publisher redirect targets), so the tiny
    # book can use it unchanged; guard that, or the statuses below would be "ignored".
    urls = {
        "good": f"{local_server}/good",
        "missing": f"{local_server}/missing",
        "redirect": f"{local_server}/redirect",
    }
    for url in urls.values():
        assert not any(re.match(p, url) for p in SETTINGS["linkcheck_ignore"]), url

    book = tmp_path / "book"
    book.mkdir()
    (book / "conf.py").write_text(
        "from ketamine_timelines.linkcheck import SETTINGS\n"
        'project = "linkcheck test"\n'
        'extensions = ["myst_parser"]\n'
        "globals().update(SETTINGS)\n",
        encoding="utf-8",
    )
    (book / "index.md").write_text(
        "# Links\n\n"
        f"A [good page]({urls['good']}).\n\n"
        f"A [missing page]({urls['missing']}).\n\n"
        f"A [moved page]({urls['redirect']}).\n\n"
        f"A [DOI]({local_server}/doi).\n",
        encoding="utf-8",
    )
    outdir = tmp_path / "linkcheck"
    no_proxy = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    result = run_sphinx(book, outdir, "linkcheck", env=no_proxy)
    # Broken links and the unexpected redirect (a warning under -W) make Sphinx exit 1.
    assert result.returncode == 1, result.stdout + result.stderr

    records = [json.loads(line) for line in (outdir / "output.json").read_text().splitlines()]
    by_uri = {record["uri"]: record for record in records}
    assert set(by_uri) == {*urls.values(), f"{local_server}/doi"}
    assert by_uri[urls["good"]]["status"] == "working"
    assert by_uri[urls["missing"]]["status"] == "broken"
    assert "404" in by_uri[urls["missing"]]["info"]
    assert by_uri[urls["missing"]]["lineno"] == 5
    assert by_uri[urls["redirect"]]["status"] == "redirected"
    assert by_uri[urls["redirect"]]["code"] == 302
    assert by_uri[urls["redirect"]]["info"] == urls["good"]
    # The redirect to a bot-blocking publisher stops there (nothing is fetched from it):
    # the DOI answered, the publisher's 403 wall is not held against the book.
    assert by_uri[f"{local_server}/doi"]["status"] == "ignored"
    assert by_uri[f"{local_server}/doi"]["info"] == f"ignored redirect: {PUBLISHER_URL}"

    summary = run_cli("--summary", str(outdir / "output.json"))
    assert summary.returncode == 1, summary.stdout + summary.stderr
    assert counts_in(summary.stdout) == {
        "broken": 1,
        "redirected": 1,
        "ok": 1,
        "ignored": 1,
        "timeout": 0,
        "unchecked": 0,
    }
    assert f"index.md:5: {urls['missing']} - 404 Client Error" in summary.stdout
    assert f"index.md:7: {urls['redirect']} -> {urls['good']} (302)" in summary.stdout
    assert "1 broken link" in summary.stdout


def test_summary_of_a_hand_written_report(tmp_path: Path) -> None:
    def record(status: str, uri: str, line: int, info: str = "", code: int = 0) -> str:
        entry = {"filename": "docs/04-evidence.md", "lineno": line, "status": status}
        return json.dumps({**entry, "code": code, "uri": uri, "info": info})

    report = tmp_path / "output.json"
    report.write_text(
        "\n".join(
            [
                record("working", "https://doi.org/10.1/a", 3),
                record("working", "https://pubmed.ncbi.nlm.nih.gov/1/", 4),
                record("ignored", "https://doi.org/10.2/b", 5, "ignored redirect: x", 302),
                record("rate-limited", "https://pubmed.ncbi.nlm.nih.gov/2/", 6),
                record("redirected", "https://example.org/old", 7, "https://example.org/new", 301),
                record("unchecked", "mailto:someone@example.org", 8),
                record("timeout", "https://slow.example.org/", 9, "read timed out"),
                record("broken", "https://doi.org/10.3/gone", 12, "404 Client Error: Not Found"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run_cli("--summary", str(report))
    assert result.returncode == 1
    assert counts_in(result.stdout) == {
        "broken": 1,
        "redirected": 1,
        "ok": 2,
        "ignored": 1,
        "timeout": 1,
        "unchecked": 1,
    }
    assert "7 links" in result.stdout  # the rate-limited interim record is not a link
    assert (
        "docs/04-evidence.md:12: https://doi.org/10.3/gone - 404 Client Error: Not Found"
        in result.stdout
    )
    assert "docs/04-evidence.md:9: https://slow.example.org/ - read timed out" in result.stdout

    # Without a broken link the exit status is 0, even with a timeout and a redirect.
    lines = report.read_text().splitlines()
    report.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    result = run_cli("--summary", str(report))
    assert result.returncode == 0, result.stdout
    assert counts_in(result.stdout)["broken"] == 0
    assert "Broken:" not in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("not json\n", "not a JSON line")],
)
def test_summary_without_a_usable_report(tmp_path: Path, content: str | None, message: str):
    report = tmp_path / "output.json"
    if content is not None:
        report.write_text(content, encoding="utf-8")
    result = run_cli("--summary", str(report))
    assert result.returncode == 2
    assert message in result.stderr


def test_preflight_without_name_resolution() -> None:
    result = run_cli(
        "--preflight", "--timeout", "5", env={"KETAMINE_LINKCHECK_PREFLIGHT_HOST": "x.invalid"}
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "linkcheck: no network (cannot resolve x.invalid); external links were not checked"
    ]


def test_preflight_with_a_reachable_host_is_not_fooled_by_http_errors(monkeypatch) -> None:
    # Any HTTP answer proves the network works, even a 404 from the host's root page.
    from ketamine_timelines import linkcheck

    monkeypatch.setattr(linkcheck, "_resolve", lambda host, timeout: None)

    def answer_404(request, timeout):
        raise linkcheck.urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, None)

    monkeypatch.setattr(linkcheck.urllib.request, "urlopen", answer_404)
    assert linkcheck.preflight("doi.org") == 0
