"""Benchmark the book: build speed, page weight, Lighthouse scores and setup time (issue #7).

``nox -s bench`` runs ``python -m ketamine_timelines.bench``; it writes
``_build/bench/results.json`` and ``_build/bench/results.md`` and prints the table.

Every build runs ``python -m sphinx`` with the flags of ``nox -s docs`` on a temporary
*copy* of the sources (the files git would see: tracked and untracked-but-not-ignored),
so the working tree is never touched. The builds import the copy's ``src/`` package
(``PYTHONPATH``), not the editable install of the working tree: the extension's data
digest hashes the package's source, so an edit there during a run would otherwise
re-execute every notebook. Each timed case is the median of ``--runs`` runs after one
warm-up run. Page weights are uncompressed bytes (and, for reference, gzip bytes on the
wire from the bench's local gzip-compressing server). Cases:

floor       ``python -c "import sphinx.application, myst_nb.sphinx_ext, furo"``
cold        HTML from an empty build directory and an empty execution cache
noop        a rebuild with nothing changed
prose       a rebuild after one chapter's text changed (no notebook may execute)
data        a rebuild after one row of the data set changed (exactly the notebooks that
            read the data may execute)
pdf         LaTeX + latexmk/XeLaTeX from a warm execution cache (skipped without TeX)
weight      bytes a browser fetches for three pages, and the largest figure
lighthouse  Lighthouse category scores for the same three pages
setup       a fresh docs environment with uv and with pip; the ratio uv/pip

Which notebooks executed in a build is read from MyST-NB's execution data in the pickled
Sphinx environment (``env.nb_metadata[docname]["exec_data"]["mtime"]``: the execution time
for a notebook that ran, the cache record's creation time for one taken from the cache,
unchanged for one not read at all) and cross-checked with the jupyter-cache records
created during the build. No seconds are asserted anywhere: the targets are reported.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import fnmatch
import functools
import gzip
import http.server
import io
import json
import os
import pickle
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

SCHEMA = 1
CASES = ("floor", "cold", "noop", "prose", "data", "pdf", "weight", "lighthouse", "setup")
BUILD_CASES = ("cold", "noop", "prose", "data", "pdf")
FLOOR_CODE = "import sphinx.application, myst_nb.sphinx_ext, furo"
SPHINX_STRICT = ["-n", "-W", "--keep-going", "-j", "1"]  # as sphinx_build() in noxfile.py
DEFAULT_EPOCH = "1764028800"
KB = 1000  # page-weight targets are in kilobytes of 1000 bytes (the stricter reading)

DEFAULT_PAGES = {
    "landing": "index.html",
    "chapter": "docs/03-depression-and-anxiety.html",
    "notebook": "notebooks/onset-timelines.html",
}
DEFAULT_PROSE_FILE = "docs/03-depression-and-anxiety.md"
DEFAULT_DATA_FILE = "data/onset_timelines.csv"
LATEX_DOC = "ketamine-for-mental-health.tex"

# Targets of issue #7.
NOOP_MAX = 1.3
PROSE_MAX = 1.5
SETUP_MAX = 0.2
PAGE_MAX_KB = {"chapter": 120, "notebook": 250}
FIGURE_MAX_KB = 100
LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LIGHTHOUSE_MIN = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}
CHROME = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
ALWAYS_IGNORED = (".git", ".nox", ".venv", "_build", "node_modules", "__pycache__")


class CaseError(RuntimeError):
    """A case could not be measured (a build failed, a tool is missing...)."""


# ------------------------------------------------------------------------------ options


@dataclass
class Options:
    source: Path
    out: Path
    runs: int = 5
    only: tuple[str, ...] = CASES
    quick: bool = False
    prose_file: str = DEFAULT_PROSE_FILE
    data_file: str = DEFAULT_DATA_FILE
    pages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PAGES))
    keep_copy: bool = False


def default_source() -> Path:
    """The repository: the current directory if it holds the book, else the package's."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "conf.py").is_file():
            return candidate.resolve()
    return Path.cwd().resolve()


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m ketamine_timelines.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="runs=1, no setup and no lighthouse (for tests)"
    )
    parser.add_argument("--only", default="", help=f"comma-separated cases of {','.join(CASES)}")
    parser.add_argument("--out", type=Path, default=None, help="default: SOURCE/_build/bench")
    parser.add_argument("--source", type=Path, default=None, help="the book (default: this repo)")
    parser.add_argument("--prose-file", default=DEFAULT_PROSE_FILE)
    parser.add_argument("--data-file", default=DEFAULT_DATA_FILE)
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a page to weigh and audit (repeatable; default: landing, chapter, notebook)",
    )
    parser.add_argument("--keep-copy", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)

    only = tuple(c.strip() for c in args.only.split(",") if c.strip()) or CASES
    unknown = [c for c in only if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if args.quick:
        only = tuple(c for c in only if c not in ("setup", "lighthouse"))
    runs = 1 if args.quick else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    pages = dict(DEFAULT_PAGES)
    if args.page:
        pages = {}
        for item in args.page:
            name, sep, path = item.partition("=")
            if not sep:
                parser.error(f"--page takes NAME=PATH, not {item!r}")
            pages[name] = path
    source = (args.source or default_source()).resolve()
    out = (args.out or source / "_build" / "bench").resolve()
    return Options(
        source=source,
        out=out,
        runs=runs,
        only=only,
        quick=args.quick,
        prose_file=args.prose_file,
        data_file=args.data_file,
        pages=pages,
        keep_copy=args.keep_copy,
    )


# ------------------------------------------------------------------------------ helpers


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def gitignore_patterns(source: Path) -> list[str]:
    patterns = list(ALWAYS_IGNORED)
    gitignore = source / ".gitignore"
    if gitignore.is_file():
        for line in gitignore.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "!")):
                patterns.append(line.strip("/"))
    return patterns


def copy_sources(source: Path, dest: Path) -> Path:
    """Copy what git would see (tracked + untracked, not ignored) without running git."""
    patterns = gitignore_patterns(source)

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(source)
        ignored = set()
        for name in names:
            relname = (rel / name).as_posix()
            for pattern in patterns:
                if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(relname, pattern):
                    ignored.add(name)
                    break
        return ignored

    shutil.copytree(source, dest, ignore=ignore, symlinks=True)
    return dest


def package_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for dist in ("sphinx", "myst-nb", "furo", "jupyter-cache", "matplotlib", "playwright"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    return versions


@dataclass
class Run:
    seconds: float
    returncode: int
    output: str


def timed(
    cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 3600
) -> Run:
    start = time.perf_counter()
    proc = subprocess.run(
        list(cmd),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - start
    return Run(seconds, proc.returncode, proc.stdout + proc.stderr)


# ------------------------------------------------------------------------------ the copy


class BookCopy:
    """A temporary copy of the book, built like ``nox -s docs`` builds the original."""

    def __init__(self, source: Path, workdir: Path, opts: Options) -> None:
        self.opts = opts
        self.root = copy_sources(source, workdir / "book")
        self.build = self.root / "_build"
        self.html = self.build / "html"
        self.cache = self.build / ".jupyter_cache"
        self.logdir = opts.out / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.html_built = False
        self.env = {
            **os.environ,
            "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH),
        }
        if (self.root / "src").is_dir():
            # The package is installed editable from the working tree, where others keep
            # editing it: import the copy's package instead (PYTHONPATH precedes the .pth
            # entry), so the copy's data, bibliography and data digest are the ones used.
            paths = [str(self.root / "src"), os.environ.get("PYTHONPATH", "")]
            self.env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        self.env.pop("NB_EXECUTION_MODE", None)  # conf.py's default ("cache"), as nox has

    def sphinx_cmd(self, builder: str, outdir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            builder,
            *SPHINX_STRICT,
            "-D",
            f"nb_execution_cache_path={self.cache}",
            str(self.root),
            str(outdir),
        ]

    def run(self, name: str, cmd: Sequence[str], cwd: Path | None = None) -> Run:
        result = timed(cmd, self.env, cwd=cwd)
        (self.logdir / f"{name}.log").write_text(
            f"$ {' '.join(cmd)}\n(exit {result.returncode}, {result.seconds:.2f} s)\n\n"
            + result.output,
            encoding="utf-8",
        )
        if result.returncode != 0:
            tail = "\n".join(result.output.strip().splitlines()[-25:])
            raise CaseError(
                f"{name}: exit {result.returncode} (log: {self.logdir / name}.log)\n{tail}"
            )
        return result

    def html_build(self, name: str) -> tuple[Run, list[str]]:
        """One HTML build; returns its run and the notebooks that executed in it."""
        started = time.time()
        result = self.run(name, self.sphinx_cmd("html", self.html))
        self.html_built = True
        return result, self.executed_since(started)

    def clean(self) -> None:
        shutil.rmtree(self.build, ignore_errors=True)
        self.html_built = False

    def ensure_html(self) -> None:
        if not (self.html_built and (self.html / "index.html").exists()):
            self.html_build("prepare-html")

    # -- MyST-NB's execution data

    def environment(self) -> Any:
        pickled = self.html / ".doctrees" / "environment.pickle"
        with pickled.open("rb") as f:
            return pickle.load(f)

    def executed_since(self, started: float) -> list[str]:
        """Notebooks that executed after ``started``, from MyST-NB and from jupyter-cache."""
        env = self.environment()
        executed = set()
        for docname, meta in getattr(env, "nb_metadata", {}).items():
            data = meta.get("exec_data") or {}
            if data.get("mtime") is not None and data["mtime"] >= started:
                executed.add(docname)
        executed |= self.cache_records_since(env, started)
        return sorted(executed)

    def cache_records_since(self, env: Any, started: float) -> set[str]:
        if not self.cache.exists():
            return set()
        from jupyter_cache import get_cache

        by_path = {str(Path(env.doc2path(d)).resolve()): d for d in env.found_docs}
        found = set()
        for record in get_cache(str(self.cache)).list_cache_records():
            created = record.created
            if created.tzinfo is None:  # SQLite returns jupyter-cache's UTC times naive
                created = created.replace(tzinfo=dt.UTC)
            if created.timestamp() >= started:
                found.add(by_path.get(str(Path(record.uri).resolve()), record.uri))
        return found

    def data_notebooks(self) -> list[str]:
        """The notebooks the book's extension re-executes when the data change."""
        from .sphinxext import notebooks_reading_data

        return notebooks_reading_data(self.environment())

    def notebooks(self) -> list[str]:
        env = self.environment()
        return sorted(d for d, m in getattr(env, "nb_metadata", {}).items() if m.get("exec_data"))


# ------------------------------------------------------------------------------ edits


def edit_prose(path: Path, run: int) -> None:
    text = path.read_text(encoding="utf-8").rstrip("\n")
    text = re.sub(r"\n\nThis paragraph was changed by the benchmark \(edit \d+\)\.$", "", text)
    path.write_text(
        f"{text}\n\nThis paragraph was changed by the benchmark (edit {run}).\n", encoding="utf-8"
    )


def edit_data_row(path: Path, run: int) -> str:
    """Change the last column of the first data row; returns its row id. Other lines stay."""
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    lines = raw.split(newline)
    header = next(csv.reader([lines[0]]))
    fields = next(csv.reader([lines[1]]))
    if len(fields) != len(header):
        raise CaseError(f"{path}: cannot edit row 2 on its own line")
    last = re.sub(r" \(benchmark edit \d+\)$", "", fields[-1])
    fields[-1] = f"{last} (benchmark edit {run})"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    lines[1] = buffer.getvalue()
    path.write_bytes(newline.join(lines).encode("utf-8"))
    return fields[0]


# ------------------------------------------------------------------------------ cases


def case_result(samples: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "status": "ok",
        "seconds": median(samples),
        "samples": samples,
        "runs": len(samples),
        **extra,
    }


def bench_floor(opts: Options) -> dict[str, Any]:
    cmd = [sys.executable, "-c", FLOOR_CODE]
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)}
    samples = []
    for i in range(opts.runs + 1):
        result = timed(cmd, env)
        if result.returncode != 0:
            raise CaseError(f"floor: exit {result.returncode}\n{result.output[-2000:]}")
        if i:
            samples.append(result.seconds)
    return case_result(samples, command=" ".join(cmd))


def bench_cold(book: BookCopy, opts: Options) -> dict[str, Any]:
    samples, executed = [], []
    for i in range(opts.runs + 1):
        book.clean()  # empty build directory and empty execution cache (it lives inside)
        result, ran = book.html_build(f"cold-{i}")
        if i:
            samples.append(result.seconds)
            executed.append(ran)
    return case_result(samples, executed=executed)


def bench_noop(book: BookCopy, opts: Options) -> dict[str, Any]:
    book.ensure_html()
    samples, executed = [], []
    for i in range(opts.runs + 1):
        result, ran = book.html_build(f"noop-{i}")
        if i:
            samples.append(result.seconds)
            executed.append(ran)
    return case_result(
        samples, executed=executed, notebooks_executed=max(map(len, executed), default=0)
    )


def bench_prose(book: BookCopy, opts: Options) -> dict[str, Any]:
    target = book.root / opts.prose_file
    if not target.is_file():
        raise CaseError(f"prose: {opts.prose_file} does not exist")
    book.ensure_html()
    samples, executed = [], []
    for i in range(opts.runs + 1):
        edit_prose(target, i)
        result, ran = book.html_build(f"prose-{i}")
        if i:
            samples.append(result.seconds)
            executed.append(ran)
    return case_result(
        samples,
        edited=opts.prose_file,
        executed=executed,
        notebooks_executed=max(map(len, executed), default=0),
    )


def bench_data(book: BookCopy, opts: Options) -> dict[str, Any]:
    target = book.root / opts.data_file
    if not target.is_file():
        raise CaseError(f"data: {opts.data_file} does not exist")
    book.ensure_html()
    expected = book.data_notebooks()
    samples, executed, row = [], [], ""
    for i in range(opts.runs + 1):
        row = edit_data_row(target, i)
        result, ran = book.html_build(f"data-{i}")
        if i:
            samples.append(result.seconds)
            executed.append(ran)
    exact = all(ran == expected for ran in executed)
    return case_result(
        samples,
        edited=f"{opts.data_file} row {row}",
        expected=expected,
        executed=executed,
        exact=exact,
    )


def bench_pdf(book: BookCopy, opts: Options) -> dict[str, Any]:
    missing = [tool for tool in ("latexmk", "xelatex") if shutil.which(tool) is None]
    if missing:
        return {"status": "skipped", "reason": f"skipped: no TeX ({', '.join(missing)} not found)"}
    book.ensure_html()  # a warm execution cache
    latex = book.build / "latex"
    samples, sphinx_s, tex_s = [], [], []
    for i in range(opts.runs + 1):
        shutil.rmtree(latex, ignore_errors=True)
        first = book.run(f"pdf-sphinx-{i}", book.sphinx_cmd("latex", latex))
        tex = [path.name for path in latex.glob("*.tex") if path.name != "titlepage.tex"]
        name = LATEX_DOC if LATEX_DOC in tex else (tex[0] if tex else LATEX_DOC)
        second = book.run(
            f"pdf-latexmk-{i}",
            ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-quiet", name],
            cwd=latex,
        )
        if i:
            samples.append(first.seconds + second.seconds)
            sphinx_s.append(first.seconds)
            tex_s.append(second.seconds)
    pdfs = sorted(latex.glob("*.pdf"))
    return case_result(
        samples,
        sphinx_seconds=median(sphinx_s),
        latexmk_seconds=median(tex_s),
        pdf_bytes=pdfs[0].stat().st_size if pdfs else None,
    )


# -- page weight ------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed for text types as a real host (GitHub Pages) does."""

    COMPRESSIBLE = (".html", ".css", ".js", ".svg", ".json", ".txt", ".xml", ".map")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in self.COMPRESSIBLE):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _AssetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if {"stylesheet", "icon", "preload", "modulepreload"} & set(rel):
                self.urls.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag in ("img", "source", "input", "video", "audio", "embed", "object"):
            for key in ("src", "poster", "data"):
                if a.get(key):
                    self.urls.append(a[key])
            for part in a.get("srcset", "").split(","):
                if part.strip():
                    self.urls.append(part.strip().split()[0])
        elif tag == "style":
            self._in_style = True
        if a.get("style"):
            self.inline_css.append(a["style"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def static_page_weight(root: Path, page: str) -> dict[str, Any]:
    """Fallback without a browser: the HTML plus every asset it and its CSS reference."""
    base = "http://book.invalid/"
    seen: dict[str, int] = {}

    def local(url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "mailto") or parts.netloc not in ("book.invalid", ""):
            return None
        path = root / unquote(parts.path.lstrip("/"))
        return path if path.is_file() else None

    def visit(url: str) -> None:
        url = url.split("#")[0]
        if url in seen:
            return
        path = local(url)
        if path is None:
            return
        data = path.read_bytes()
        seen[url] = len(data)
        if path.suffix == ".html":
            parser = _AssetParser()
            parser.feed(data.decode("utf-8", "replace"))
            for ref in parser.urls:
                visit(urljoin(url, ref))
            for css in parser.inline_css:
                for m in CSS_URL.finditer(css):
                    visit(urljoin(url, m.group(1) or m.group(2)))
        elif path.suffix == ".css":
            for m in CSS_URL.finditer(data.decode("utf-8", "replace")):
                visit(urljoin(url, m.group(1) or m.group(2)))

    visit(urljoin(base, page))
    return {
        "bytes": sum(seen.values()),
        "requests": len(seen),
        "assets": {urlsplit(u).path.lstrip("/"): n for u, n in seen.items()},
    }


def browser_page_weight(base_url: str, pages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Load each page in headless Chromium and sum the bodies of every response once."""
    from playwright.sync_api import sync_playwright

    weights = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROME if Path(CHROME).exists() else None,
            args=["--no-sandbox", "--disable-gpu"],
        )
        try:
            for name, page_path in pages.items():
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                responses = []
                page.on("response", lambda response, found=responses: found.append(response))
                page.goto(urljoin(base_url, page_path), wait_until="networkidle")
                # Lazy images below the fold load when a reader scrolls: count them too.
                page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)
                assets: dict[str, dict[str, Any]] = {}
                for response in responses:
                    url = response.url.split("#")[0]
                    if url.startswith("data:") or url in assets:
                        continue
                    try:
                        body = response.body()
                        sizes = response.request.sizes()
                    except Exception:  # redirects and aborted requests have no body
                        continue
                    assets[url] = {
                        "bytes": len(body),
                        "transfer": sizes.get("responseBodySize", len(body)),
                        "status": response.status,
                        "type": response.request.resource_type,
                    }
                if assets.get(urljoin(base_url, page_path), {}).get("status") != 200:
                    raise CaseError(f"weight: {page_path} did not load")
                by_type: dict[str, int] = {}
                for info in assets.values():
                    by_type[info["type"]] = by_type.get(info["type"], 0) + info["bytes"]
                weights[name] = {
                    "path": page_path,
                    "bytes": sum(a["bytes"] for a in assets.values()),
                    "transfer_bytes_gzip": sum(a["transfer"] for a in assets.values()),
                    "requests": len(assets),
                    "by_type": by_type,
                    "assets": {urlsplit(u).path.lstrip("/"): a["bytes"] for u, a in assets.items()},
                }
                context.close()
        finally:
            browser.close()
    return weights


def largest_figures(root: Path, top: int = 5) -> list[dict[str, Any]]:
    """Image files under _images and inline SVGs in figures and cell outputs, largest first."""
    from bs4 import BeautifulSoup

    figures = []
    for path in (root / "_images").rglob("*") if (root / "_images").is_dir() else []:
        if path.is_file():
            figures.append(
                {"where": path.relative_to(root).as_posix(), "bytes": path.stat().st_size}
            )
    for page in root.rglob("*.html"):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        containers = soup.select("figure, .cell_output, .output, .timeline-figure")
        svgs = {id(svg): svg for c in containers for svg in c.find_all("svg")}
        for svg in svgs.values():
            if svg.find_parent("svg") is not None:
                continue
            size = len(str(svg).encode("utf-8"))
            figures.append(
                {"where": f"{page.relative_to(root).as_posix()} (inline svg)", "bytes": size}
            )
    figures.sort(key=lambda f: -f["bytes"])
    return figures[:top]


def bench_weight(book: BookCopy, opts: Options) -> dict[str, Any]:
    book.ensure_html()
    missing = [p for p in opts.pages.values() if not (book.html / p).is_file()]
    method, note = "browser", None
    try:
        with serve(book.html) as base:
            pages = browser_page_weight(base, opts.pages)
    except CaseError:
        raise
    except Exception as exc:  # no Playwright or no browser: parse the HTML and CSS
        method, note = "static", f"browser unavailable ({type(exc).__name__}: {exc})"[:300]
        pages = {}
        for name, path in opts.pages.items():
            if (book.html / path).is_file():
                pages[name] = {"path": path, **static_page_weight(book.html, path)}
    figures = largest_figures(book.html)
    result = {
        "status": "ok",
        "method": method,
        "kb": KB,
        "pages": pages,
        "largest_figures": figures,
        "largest_figure": figures[0] if figures else None,
    }
    if missing:
        result["missing_pages"] = missing
    if note:
        result["note"] = note
    return result


# -- Lighthouse -------------------------------------------------------------------------


def lighthouse_bin(out: Path) -> tuple[Path | None, str]:
    prefix = out / "node"
    binary = prefix / "node_modules" / ".bin" / "lighthouse"
    if binary.exists():
        return binary, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm not found"
    prefix.mkdir(parents=True, exist_ok=True)
    log("installing lighthouse with npm ...")
    proc = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "lighthouse"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if proc.returncode != 0 or not binary.exists():
        return None, f"npm install lighthouse failed: {(proc.stdout + proc.stderr)[-500:]}"
    return binary, ""


def failing_audits(report: dict[str, Any], category: str) -> list[dict[str, Any]]:
    audits = report.get("audits", {})
    failing = []
    for ref in report["categories"][category].get("auditRefs", []):
        audit = audits.get(ref["id"], {})
        score = audit.get("score")
        if audit.get("scoreDisplayMode") in ("notApplicable", "manual", "informative"):
            continue
        if score is not None and score < 1 and ref.get("weight", 0) > 0:
            failing.append(
                {
                    "id": ref["id"],
                    "title": audit.get("title", ""),
                    "score": score,
                    "weight": ref.get("weight", 0),
                    "display": audit.get("displayValue", ""),
                }
            )
    return failing


def bench_lighthouse(book: BookCopy, opts: Options) -> dict[str, Any]:
    if not Path(CHROME).exists() and not os.environ.get("CHROME_PATH"):
        return {"status": "unavailable", "reason": f"{CHROME} not found"}
    binary, why = lighthouse_bin(opts.out)
    if binary is None:
        return {"status": "unavailable", "reason": why}
    book.ensure_html()
    reports = opts.out / "lighthouse"
    reports.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", CHROME)}
    pages: dict[str, Any] = {}
    version = ""
    with serve(book.html) as base:
        for name, path in opts.pages.items():
            report_path = reports / f"{name}.report.json"
            cmd = [
                str(binary),
                urljoin(base, path),
                "--output=json",
                f"--output-path={report_path}",
                f"--chrome-flags={CHROME_FLAGS}",
                f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}",
                "--quiet",
            ]
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, check=False, timeout=600
            )
            if proc.returncode != 0 or not report_path.exists():
                pages[name] = {"path": path, "error": (proc.stdout + proc.stderr)[-800:]}
                continue
            report = json.loads(report_path.read_text(encoding="utf-8"))
            version = report.get("lighthouseVersion", version)
            if report.get("runtimeError"):
                pages[name] = {"path": path, "error": report["runtimeError"].get("message")}
                continue
            scores, failing = {}, {}
            for category in LIGHTHOUSE_CATEGORIES:
                score = report["categories"][category]["score"]
                scores[category] = None if score is None else round(score * 100)
                failing[category] = failing_audits(report, category)
            pages[name] = {
                "path": path,
                "scores": scores,
                "failing_audits": failing,
                "report": str(report_path),
            }
    return {"status": "ok", "version": version, "pages": pages}


# -- setup ------------------------------------------------------------------------------


def bench_setup(opts: Options, source: Path) -> dict[str, Any]:
    constraints = source / "requirements" / "constraints.txt"
    if not constraints.is_file():
        raise CaseError(f"setup: {constraints} not found")
    uv = shutil.which("uv")
    spec = f"{source}[docs]"
    # The project's policy (noxfile.py): no compilation at install time; Python writes
    # bytecode lazily, as the first build imports each module.
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_COMPILE_BYTECODE"}}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    base_python = getattr(sys, "_base_executable", sys.executable)
    results: dict[str, Any] = {}

    def run_steps(label: str, *steps: list[str]) -> float:
        results = [timed(step, env) for step in steps]
        for r in results:
            if r.returncode:
                raise CaseError(f"setup ({label}): {r.output[-1500:]}")
        return sum(r.seconds for r in results)

    install = ["-c", str(constraints), "-e", spec]

    def uv_setup(target: Path) -> float:
        if uv is None:
            raise CaseError("setup: uv not found")
        python = str(target / "bin" / "python")
        return run_steps(
            "uv",
            [uv, "venv", "--quiet", "--python", base_python, str(target)],
            [uv, "pip", "install", "--quiet", "--python", python, *install],
        )

    def pip_setup(target: Path) -> float:
        python = str(target / "bin" / "python")
        return run_steps(
            "pip",
            [base_python, "-m", "venv", str(target)],
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install],
        )

    tools: dict[str, Callable[[Path], float]] = {"uv": uv_setup, "pip": pip_setup}
    samples: dict[str, list[float]] = {"uv": [], "pip": []}
    with tempfile.TemporaryDirectory(prefix="ketamine-bench-setup-") as tmp:
        for i in range(opts.runs + 1):  # the warm-up fills uv's and pip's caches
            for tool, make in tools.items():
                target = Path(tmp) / f"{tool}-{i}"
                log(f"setup: {tool} run {i}")
                seconds = make(target)
                shutil.rmtree(target, ignore_errors=True)
                if i:
                    samples[tool].append(seconds)
    for tool in tools:
        results[tool] = {"seconds": median(samples[tool]), "samples": samples[tool]}
    results["ratio_uv_to_pip"] = results["uv"]["seconds"] / results["pip"]["seconds"]
    return {"status": "ok", "runs": opts.runs, "caches": "warm (after one warm-up run)", **results}


# ------------------------------------------------------------------------------ targets


def evaluate_targets(cases: dict[str, Any], opts: Options) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []

    def add(name: str, target: str, value: Any, passed: bool | None) -> None:
        targets.append({"name": name, "target": target, "value": value, "passed": passed})

    def ok(case: str) -> bool:
        return cases.get(case, {}).get("status") == "ok"

    def add_ratio(case: str, name: str, limit: float) -> None:
        ratio = cases[case].get("ratio_to_floor")
        add(name, f"≤ {limit}x floor", ratio, None if ratio is None else ratio <= limit)

    if ok("noop"):
        add_ratio("noop", "no-op rebuild", NOOP_MAX)
    if ok("prose"):
        add_ratio("prose", "prose edit", PROSE_MAX)
        n = cases["prose"]["notebooks_executed"]
        add("prose edit: notebooks executed", "0", n, n == 0)
    if ok("data"):
        data = cases["data"]
        add(
            "data edit: notebooks executed",
            f"exactly {data['expected']}",
            data["executed"],
            data["exact"] and bool(data["expected"]),
        )
    if ok("setup"):
        ratio = cases["setup"]["ratio_uv_to_pip"]
        add("setup with uv", f"≤ {SETUP_MAX}x pip", ratio, ratio <= SETUP_MAX)
    if ok("weight"):
        pages = cases["weight"]["pages"]
        for name, limit in PAGE_MAX_KB.items():
            if name in opts.pages:
                page = pages.get(name, {})
                kb = page["bytes"] / KB if "bytes" in page else None
                add(f"{name} page weight", f"≤ {limit} KB", kb, None if kb is None else kb <= limit)
                gz = page.get("transfer_bytes_gzip")
                kb = gz / KB if gz is not None else None
                add(
                    f"{name} page weight (gzip transfer)",
                    f"≤ {limit} KB",
                    kb,
                    None if kb is None else kb <= limit,
                )
        fig = cases["weight"].get("largest_figure")
        kb = fig["bytes"] / KB if fig else 0.0
        add("largest figure", f"≤ {FIGURE_MAX_KB} KB", kb, kb <= FIGURE_MAX_KB)
    if ok("lighthouse"):
        for name, page in cases["lighthouse"]["pages"].items():
            scores = page.get("scores")
            for category in LIGHTHOUSE_CATEGORIES:
                minimum = LIGHTHOUSE_MIN[category]
                value = scores.get(category) if scores else None
                add(
                    f"lighthouse {name} {category}",
                    f"≥ {minimum}" if minimum < 100 else "100",
                    value,
                    None if value is None else value >= minimum,
                )
    return targets


# ------------------------------------------------------------------------------ report


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: "n/a"}[passed]


def render_markdown(results: dict[str, Any]) -> str:
    cases = results["cases"]
    targets = {t["name"]: t for t in results["targets"]}
    lines = [
        "# Benchmark results",
        "",
        f"{results['created']} · Python {results['versions'].get('python')} · "
        f"Sphinx {results['versions'].get('sphinx', '?')} · "
        f"MyST-NB {results['versions'].get('myst-nb', '?')} · "
        f"median of {results['runs']} run(s) after a warm-up",
        "",
        "| Case | Median (s) | x floor | Notebooks executed | Target | Result |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    rows = {
        "floor": ("floor (import sphinx, myst_nb, furo)", None),
        "cold": ("cold build", None),
        "noop": ("no-op rebuild", "no-op rebuild"),
        "prose": ("prose edit", "prose edit"),
        "data": ("data edit", "data edit: notebooks executed"),
        "pdf": ("PDF (warm cache)", None),
    }
    for case, (label, target_name) in rows.items():
        if case not in cases:
            continue
        c = cases[case]
        if c.get("status") != "ok":
            lines.append(
                f"| {label} | - | - | - | - | {c.get('status')}: "
                f"{c.get('reason', '').splitlines()[0] if c.get('reason') else ''} |"
            )
            continue
        executed = c.get("executed")
        if executed is None:
            ran = ""
        else:
            counts = sorted({len(e) for e in executed})
            ran = "/".join(map(str, counts))
            if case == "data":
                ran = f"{ran} ({', '.join(c['expected']) or 'none expected'})"
        target, result = "", ""
        if target_name and target_name in targets:
            t = targets[target_name]
            target, result = t["target"], verdict(t["passed"])
            if case == "prose":
                z = targets.get("prose edit: notebooks executed")
                target += " and 0 notebooks"
                result = verdict(t["passed"] and z["passed"]) if z else result
        lines.append(
            f"| {label} | {fmt(c['seconds'])} | {fmt(c.get('ratio_to_floor'))} | {ran} | "
            f"{target} | {result} |"
        )
    if "setup" in cases:
        c = cases["setup"]
        if c.get("status") == "ok":
            t = targets.get("setup with uv", {})
            lines += [
                "",
                "| Setup (fresh venv + docs extra) | Median (s) | x pip | Target | Result |",
                "| --- | ---: | ---: | --- | --- |",
                f"| pip | {fmt(c['pip']['seconds'])} | 1.00 | | |",
                f"| uv | {fmt(c['uv']['seconds'])} | {fmt(c['ratio_uv_to_pip'])} | "
                f"{t.get('target', '')} | {verdict(t.get('passed'))} |",
            ]
        else:
            lines += ["", f"Setup: {c.get('status')}: {c.get('reason', '')}"]
    if "weight" in cases:
        c = cases["weight"]
        lines += [""]
        if c.get("status") == "ok":
            lines += [
                f"Page weight ({c['method']}; every asset once; KB = {KB} bytes; "
                "gzip = bytes on the wire from a gzip-compressing server)",
                "",
                "| Page | KB | Result | gzip KB | Result | Requests | Target |",
                "| --- | ---: | --- | ---: | --- | ---: | --- |",
            ]
            for name, page in c["pages"].items():
                t = targets.get(f"{name} page weight", {})
                tz = targets.get(f"{name} page weight (gzip transfer)", {})
                gz = page.get("transfer_bytes_gzip")
                lines.append(
                    f"| {name} ({page['path']}) | {fmt(page['bytes'] / KB, 1)} | "
                    f"{verdict(t.get('passed')) if t else ''} | "
                    f"{fmt(gz / KB if gz is not None else None, 1)} | "
                    f"{verdict(tz.get('passed')) if tz else ''} | {page['requests']} | "
                    f"{t.get('target', '')} |"
                )
            fig = c.get("largest_figure")
            t = targets.get("largest figure", {})
            lines.append(
                f"| largest figure: {fig['where'] if fig else 'none'} | "
                f"{fmt(fig['bytes'] / KB if fig else 0.0, 1)} | {verdict(t.get('passed'))} | "
                f"| | | {t.get('target', '')} |"
            )
        else:
            lines.append(f"Page weight: {c.get('status')}: {c.get('reason', '')}")
    if "lighthouse" in cases:
        c = cases["lighthouse"]
        lines += [""]
        if c.get("status") == "ok":
            lines += [
                f"Lighthouse {c.get('version', '')} (targets: performance ≥ 98, others 100)",
                "",
                "| Page | " + " | ".join(LIGHTHOUSE_CATEGORIES) + " | Result |",
                "| --- |" + " ---: |" * len(LIGHTHOUSE_CATEGORIES) + " --- |",
            ]
            for name, page in c["pages"].items():
                if "scores" not in page:
                    lines.append(f"| {name} | error: {page.get('error', '')[:120]} |")
                    continue
                passed = [
                    targets[f"lighthouse {name} {cat}"]["passed"] for cat in LIGHTHOUSE_CATEGORIES
                ]
                lines.append(
                    f"| {name} | "
                    + " | ".join(fmt(page["scores"][cat]) for cat in LIGHTHOUSE_CATEGORIES)
                    + f" | {verdict(all(passed))} |"
                )
            failing = [
                f"- {name} / {cat}: {a['id']} ({a['title']}; score {a['score']}"
                + (f", {a['display']}" if a["display"] else "")
                + ")"
                for name, page in c["pages"].items()
                for cat, audits in page.get("failing_audits", {}).items()
                for a in audits
            ]
            if failing:
                lines += ["", "Failing Lighthouse audits:", "", *failing]
        else:
            lines.append(f"Lighthouse: {c.get('status')}: {c.get('reason', '')}")
    errors = [
        f"- {name}: {c.get('reason', '')}"
        for name, c in cases.items()
        if c.get("status") == "error"
    ]
    if errors:
        lines += ["", "Errors:", "", *errors]
    lines += ["", "Targets:", "", "| Target | Value | Goal | Result |", "| --- | --- | --- | --- |"]
    for t in results["targets"]:
        value = t["value"]
        if isinstance(value, list):  # executed notebooks per run: show each distinct set once
            sets = {", ".join(run) if isinstance(run, list) else str(run) for run in value}
            shown = "; ".join(sorted(s or "none" for s in sets)) + f" ({len(value)} run(s))"
        else:
            shown = fmt(value)
        lines.append(f"| {t['name']} | {shown} | {t['target']} | {verdict(t['passed'])} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ main


def run_bench(opts: Options) -> dict[str, Any]:
    opts.out.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Any] = {}
    needs_copy = any(c in opts.only for c in CASES if c not in ("floor", "setup"))
    workdir = Path(tempfile.mkdtemp(prefix="ketamine-bench-"))
    book = None
    try:
        if needs_copy:
            log(f"copying {opts.source} to {workdir}")
            book = BookCopy(opts.source, workdir, opts)
        runners: dict[str, Callable[[], dict[str, Any]]] = {
            "floor": lambda: bench_floor(opts),
            "cold": lambda: bench_cold(book, opts),
            "noop": lambda: bench_noop(book, opts),
            "prose": lambda: bench_prose(book, opts),
            "data": lambda: bench_data(book, opts),
            "pdf": lambda: bench_pdf(book, opts),
            "weight": lambda: bench_weight(book, opts),
            "lighthouse": lambda: bench_lighthouse(book, opts),
            "setup": lambda: bench_setup(opts, book.root if book else opts.source),
        }
        for case in CASES:
            if case not in opts.only:
                continue
            log(f"{case} ...")
            start = time.perf_counter()
            try:
                cases[case] = runners[case]()
            except CaseError as exc:
                cases[case] = {"status": "error", "reason": str(exc)}
            except Exception as exc:
                cases[case] = {
                    "status": "error",
                    "reason": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
            log(f"{case}: {cases[case].get('status')} ({time.perf_counter() - start:.0f} s)")
    finally:
        if opts.keep_copy:
            log(f"the copy is kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    floor = (
        cases.get("floor", {}).get("seconds")
        if cases.get("floor", {}).get("status") == "ok"
        else None
    )
    for case in ("floor", *BUILD_CASES):
        c = cases.get(case)
        if c and c.get("status") == "ok":
            c["ratio_to_floor"] = c["seconds"] / floor if floor else None
    results = {
        "schema": SCHEMA,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": str(opts.source),
        "runs": opts.runs,
        "quick": opts.quick,
        "cases_requested": list(opts.only),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": package_versions(),
        "sphinx_command": [sys.executable, "-m", "sphinx", "-b", "html", *SPHINX_STRICT],
        "cases": cases,
    }
    results["targets"] = evaluate_targets(cases, opts)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(results)
    (opts.out / "results.md").write_text(markdown, encoding="utf-8")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    results = run_bench(opts)
    print((opts.out / "results.md").read_text(encoding="utf-8"))
    print(f"Written to {opts.out / 'results.json'} and {opts.out / 'results.md'}")
    errored = [n for n, c in results["cases"].items() if c.get("status") == "error"]
    return 1 if errored else 0


if __name__ == "__main__":
    sys.exit(main())
