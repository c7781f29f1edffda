"""Shared fixtures: the book is built once per test session, as a reader would get it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import epubcheck  # tools/epubcheck.py (pytest's pythonpath)
from book_date import source_date_epoch  # _ext/book_date.py (pytest's pythonpath)

# The HTTP server and headless Chromium used by the browser tests.
pytest_plugins = ["conftest_browser"]

ROOT = Path(__file__).resolve().parents[1]
STRICT = ["-n", "-W", "--keep-going"]
# The book's date, as conf.py and the nox sessions decide it: the last commit's.
SOURCE_DATE_EPOCH = str(source_date_epoch(ROOT))


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


@pytest.fixture(scope="session")
def book_downloads(build_base: Path, book_latex: Path, book_epub: Path) -> Path:
    """The HTML book whose landing page links the PDF and EPUB built by the fixtures above.

    A second HTML build, for the download tests only: the role that links the files runs
    when a page is read, and a changed ``book_pdf_path`` re-writes pages without re-reading
    them. It reuses the notebooks' execution cache.
    """
    return build_book(
        build_base,
        "html",
        "-D",
        f"book_pdf_path={book_latex / PDF_NAME}",
        "-D",
        f"book_epub_path={book_epub}",
        "-D",
        f"book_handout_a4_path={book_latex / 'handout-a4.pdf'}",
        "-D",
        f"book_handout_letter_path={book_latex / 'handout-letter.pdf'}",
        outdir=build_base / "html-downloads",
        doctrees=build_base / "doctrees-html-downloads",
    )


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
