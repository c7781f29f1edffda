"""Shared fixtures: each edition is built once per test session, as a reader gets it.

The suite's time goes into whole-book builds, notebook kernels, virtual environments
and browser page loads. A new test reuses these instead of making its own:

Builds (all in one ``build_base`` directory, sharing one execution cache, so each
notebook runs once per session however many builds read it):

- ``book_build``: the HTML book, strict (``-n -W``), ``-j auto`` as ``nox -s docs``;
  ``html_pages`` lists its reader-facing pages.
- ``book_latex`` (LaTeX sources and the PDF, needs TeX Live), ``book_epub``.
- ``local_site``: the one other HTML build, made for and served at
  ``http://127.0.0.1:PORT/en/latest/``: the wheel address in each ``.ipynb`` download
  names it, and its landing page links the session's PDF and EPUB when the session runs
  ``latex`` tests. Its ``requests`` list records what the server was asked for.
  (``book_downloads`` and the browser's ``download_site`` are this build.)
- ``make_project_copy``: a small project with the real ``conf.py``, extensions,
  bibliography and data, for a test that must break or edit its input. Put several
  bad inputs in one project and one build where their errors do not interfere
  (tests/test_build_errors.py builds every bad-line page, and every failing notebook,
  once), and pass ``-D nb_execution_mode=off`` when no notebook is involved.

Environments: ``student_venv`` is the one student environment (what the notebook panel
tells readers to ``pip install``), created once with uv from its cache; ``make_venv``
makes another from requirements/constraints.txt.

Browser (tests/conftest_browser.py): ``chromium`` (one headless Chromium for the
session), ``book_site`` (``book_build`` served as a host serves it), ``open_tab`` (a
fresh context in a theme) and ``page_survey``: every page of ``book_build`` loaded once
per theme, with its requests, DOM facts, axe-core violations and Content-Security-Policy
violations. A gate that looks at every page reads the survey rather than loading the
pages again; a test that needs an interaction (a click, a viewport) opens one tab.

Speed is measured by ``nox -s bench`` (its last section is this suite's time and its
ten slowest steps), never by a timed test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import epubcheck  # tools/epubcheck.py (pytest's pythonpath)
from book_date import source_date_epoch  # _ext/book_date.py (pytest's pythonpath)

# The HTTP server and headless Chromium used by the browser tests.
pytest_plugins = ["conftest_browser"]

ROOT = Path(__file__).resolve().parents[1]
STRICT = ["-n", "-W", "--keep-going"]
# The book's date, as conf.py and the nox sessions decide it: the last commit's.
SOURCE_DATE_EPOCH = str(source_date_epoch(ROOT))
# Tests read build logs as text. Sphinx 9 colours its output whenever CI=true, even into
# a pipe (sphinx.util.console.terminal_supports_colour), so a log line would start with an
# escape code; NO_COLOR turns that off for every build and nox run this suite starts.
os.environ["NO_COLOR"] = "1"


def run_sphinx(
    srcdir: Path, outdir: Path, builder: str = "html", *extra: str, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """Run sphinx-build in a subprocess, so each build starts as `nox -s docs` does."""
    full_env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, **(env or {})}
    # A tiny test project's conf.py may name the book's extensions without adding _ext/.
    paths = [str(ROOT / "_ext"), *filter(None, [full_env.get("PYTHONPATH")])]
    full_env["PYTHONPATH"] = os.pathsep.join(paths)
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, *STRICT, *extra, str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )


HAVE_TEX = all(shutil.which(tool) for tool in ("latexmk", "xelatex"))
HAVE_EPUBCHECK = epubcheck.command() is not None
PDF_NAME = "ketamine-for-mental-health.pdf"
EPUB_NAME = "ketamine-for-mental-health.epub"
#: The printable handout (A4, US Letter), built with the PDF (noxfile.py: HANDOUT_TEX).
HANDOUT_TEX = ("handout-a4.tex", "handout-letter.tex")


@pytest.fixture(scope="session")
def build_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every build of the session, sharing one execution cache.

    The first build executes each notebook from a fresh kernel; later builders reuse the
    cached outputs, as `nox -s pdf epub docs` does.
    """
    return tmp_path_factory.mktemp("book")


def build_book(
    base: Path, builder: str, *extra: str, outdir: Path | None = None, doctrees: Path | None = None
) -> Path:
    outdir = outdir or base / builder
    result = run_sphinx(
        ROOT,
        outdir,
        builder,
        # In parallel (0.67x on a cold build); tests/test_reproducible.py checks that a
        # serial build gives the same bytes.
        "-j",
        "auto",
        "-d",
        str(doctrees or base / f"doctrees-{builder}"),
        "-D",
        f"nb_execution_cache_path={base / 'jupyter_cache'}",
        *extra,
    )
    if result.returncode != 0:
        pytest.fail(
            f"the {builder} book did not build:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return outdir


@pytest.fixture(scope="session")
def book_latex(build_base: Path) -> Path:
    """The LaTeX sources and the PDF made from them with XeLaTeX."""
    if not HAVE_TEX:
        pytest.skip("TeX Live is not installed (see README: System packages)")
    outdir = build_book(build_base, "latex")
    result = subprocess.run(
        [
            "latexmk",
            "-xelatex",
            "-interaction=nonstopmode",
            "-halt-on-error",
            PDF_NAME.replace(".pdf", ".tex"),
        ],
        cwd=outdir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1"},
    )
    if result.returncode != 0:
        pytest.fail(f"latexmk failed:\n{result.stdout[-6000:]}")
    # The printable handout, written beside the book's .tex by _ext/book_handout.py and
    # compiled as `nox -s pdf` compiles it (two one-page documents: a few seconds).
    result = subprocess.run(
        ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", *HANDOUT_TEX],
        cwd=outdir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1"},
    )
    if result.returncode != 0:
        pytest.fail(f"latexmk failed on the handout:\n{result.stdout[-6000:]}")
    return outdir


@pytest.fixture(scope="session")
def book_epub(build_base: Path) -> Path:
    return build_book(build_base, "epub") / EPUB_NAME


@pytest.fixture(scope="session")
def book_build(build_base: Path) -> Path:
    """The HTML book, with warnings as errors; it builds neither the PDF nor the EPUB.

    Its landing page says how to build them; ``book_downloads`` is the one that links them.
    """
    return build_book(build_base, "html")


@dataclass
class LocalSite:
    """The book as built for, and served at, a local address (``local_site``)."""

    root: Path  # the build directory
    base: str  # http://127.0.0.1:PORT/en/latest/, the build's html_baseurl
    requests: list[str]  # the path of every request the server answered
    site: Any  # tools/serve_book.py's BookSite
    old_base: str  # the address book_build was built for (conf.py's html_baseurl)


def session_builds_print_editions(request: pytest.FixtureRequest) -> bool:
    """True when the session runs tests marked ``latex`` (so it builds the PDF and EPUB)."""
    return HAVE_TEX and any(item.get_closest_marker("latex") for item in request.session.items)


@pytest.fixture(scope="session")
def local_site(
    request: pytest.FixtureRequest, build_base: Path, book_build: Path
) -> Iterator[LocalSite]:
    """The HTML book rebuilt, warm, for http://127.0.0.1:PORT/en/latest/ and served there:
    the site a reader's notebook installs from, and whose landing page and guide link the
    PDF, EPUB and handouts (when the session builds them: tests marked ``latex`` are
    selected).

    The one HTML build besides ``book_build``, and an incremental one: a copy of
    ``book_build``'s output and doctrees rebuilt with another ``html_baseurl`` (so the
    wheel's address in each ``.ipynb`` and on its page must follow a base change on a
    warm build) and the print editions' paths. It shares the session's execution cache,
    so no notebook runs again.
    """
    import runpy

    from conftest_browser import url_prefix
    from serve_book import serve_book

    extra: list[str] = []
    if session_builds_print_editions(request):
        latex = request.getfixturevalue("book_latex")
        epub = request.getfixturevalue("book_epub")
        extra += ["-D", f"book_pdf_path={latex / PDF_NAME}", "-D", f"book_epub_path={epub}"]
        for paper in ("a4", "letter"):
            extra += ["-D", f"book_handout_{paper}_path={latex / f'handout-{paper}.pdf'}"]
    outdir, doctrees = build_base / "html-local", build_base / "doctrees-html-local"
    shutil.copytree(book_build, outdir)
    shutil.copytree(build_base / "doctrees-html", doctrees)
    old_base = runpy.run_path(str(ROOT / "conf.py"))["html_baseurl"]
    requests: list[str] = []
    with serve_book(outdir, url_prefix(), requests) as site:
        base = site.url()
        build_book(
            build_base,
            "html",
            "-D",
            f"html_baseurl={base}",
            *extra,
            outdir=outdir,
            doctrees=doctrees,
        )
        yield LocalSite(outdir, base, requests, site, old_base)


@pytest.fixture(scope="session")
def book_downloads(local_site: LocalSite, book_latex: Path, book_epub: Path) -> Path:
    """The HTML book whose landing page links the PDF and EPUB (``local_site``)."""
    return local_site.root


def make_venv(path: Path, *packages: str) -> Path:
    """A fresh virtual environment with pip (the %pip magic needs it) and ``packages``,
    pinned by requirements/constraints.txt; its Python. uv when it is there (it links
    files from its cache), else venv and pip."""
    constraints = ROOT / "requirements" / "constraints.txt"
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv is None:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        python = path / "bin" / "python"
        install = [str(python), "-m", "pip", "install", "-q", "-c", str(constraints)]
        subprocess.run([*install, *packages], check=True)
        return python
    subprocess.run([uv, "venv", "-q", "--seed", str(path)], check=True)
    python = path / "bin" / "python"
    env = {**os.environ, "VIRTUAL_ENV": str(path)}
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "-c", str(constraints), *packages],
        check=True,
        env=env,
    )
    return python


@pytest.fixture(scope="session")
def student_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's environment, as the "Run this notebook" panel tells readers to make it
    (``pip install jupyterlab matplotlib numpy``; JupyterLab brings nbconvert and
    ipykernel): its Python. The book's own package is not in it; a notebook installs it.
    Its JupyterLab uses the book's settings (binder/overrides.json: no news) and renders
    every cell (no windowing), so a test sees them all."""
    import json

    from book_notebooks import READER_PACKAGES

    python = make_venv(tmp_path_factory.mktemp("student") / "venv", *READER_PACKAGES.split())
    settings = python.parent.parent / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text(encoding="utf-8"))
    overrides["@jupyterlab/notebook-extension:tracker"] = {"windowingMode": "none"}
    (settings / "overrides.json").write_text(json.dumps(overrides), encoding="utf-8")
    return python


@pytest.fixture(scope="session")
def html_pages(book_build: Path) -> dict[str, Path]:
    """Every reader-facing HTML page of the build, keyed by its path in the build."""
    skip = {"genindex.html", "search.html"}
    return {
        p.relative_to(book_build).as_posix(): p
        for p in sorted(book_build.rglob("*.html"))
        if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
    }


MYST_NOTEBOOK_HEADER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
"""


def myst_notebook(title: str, *cells: str) -> str:
    """A MyST Markdown notebook with one code cell per argument."""
    body = "".join(f"\n```{{code-cell}} ipython3\n{cell.strip()}\n```\n" for cell in cells)
    return f"{MYST_NOTEBOOK_HEADER}# {title}\n{body}"


def make_project_copy(tmp_path: Path, index_text: str, extra_files: dict[str, str] | None = None):
    """A small copy of the book: the real conf.py, bibliography and static files, one page."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("conf.py", "references.bib"):
        (project / name).write_bytes((ROOT / name).read_bytes())
    shutil.copytree(ROOT / "_ext", project / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "_static").mkdir()
    for path in (ROOT / "_static").rglob("*"):
        if path.is_file():
            target = project / "_static" / path.relative_to(ROOT / "_static")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (project / "data").mkdir()
    (project / "data" / "onset_timelines.csv").write_bytes(
        (ROOT / "data" / "onset_timelines.csv").read_bytes()
    )
    (project / "index.md").write_text(index_text, encoding="utf-8")
    for name, text in (extra_files or {}).items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


# The skipped-gates summary (one line; with CI=true a skipped gate fails the run).
from conftest_gates import (  # noqa: E402, F401
    pytest_collectreport,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_unconfigure,
)
