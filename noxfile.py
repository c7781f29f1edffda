"""Automation for the book "Ketamine for mental health".

Sessions (``nox -l`` lists them; ``nox -s NAME`` runs one):

- docs       build the HTML book into _build/html (nitpicky, warnings are errors)
- serve      live preview with sphinx-autobuild
- tests      the test suite (pytest): builds the book and checks what a reader sees
- lint       pre-commit: ruff (check and format), codespell and the house rules
- lab        JupyterLab on the notebooks, the package importable in the kernel
- pdf        the PDF book with LaTeX (XeLaTeX + latexmk) into _build/latex
- epub       the EPUB 3 book into _build/epub, validated with epubcheck
- linkcheck  check every external link of the book (needs the network)
- bench      build speed, page weight and Lighthouse scores into _build/bench
- lock       re-resolve requirements/constraints.txt (the pinned stack)

Every session installs the stack pinned in requirements/constraints.txt, so a build next
month equals today's; ``nox -s lock`` is the one place that moves the pins.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent.resolve()
BUILD = ROOT / "_build"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
SPHINX_STRICT = ["-n", "-W", "--keep-going"]
APT_LIST = ROOT / "requirements" / "apt.txt"


def apt_packages(*needed_by: str) -> list[str]:
    """Packages of requirements/apt.txt, all or those whose comment names a need."""
    packages = []
    for line in APT_LIST.read_text(encoding="utf-8").splitlines():
        name, _, comment = line.partition("#")
        if name.strip() and (not needed_by or any(n in comment.split() for n in needed_by)):
            packages.append(name.strip())
    return packages


APT_TEX = "apt-get install --no-install-recommends " + " ".join(apt_packages("pdf"))

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

# Bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, and uv installs without
# compiling, so every Sphinx start-up recompiled the stack from source (2.6x slower).
# Compiling everything at install time (UV_COMPILE_BYTECODE=1) fixes the builds but makes
# creating an environment 4x slower (4,149 files on 2 cores; nox -s bench). Letting
# Python write bytecode as it imports fixes both: the first build compiles only what it
# uses, once.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# Byte-identical builds dated by the last commit (Matplotlib metadata, copyright year,
# PDF and EPUB dates): one rule, in _ext/book_date.py, shared with conf.py and the tests.
sys.path.insert(0, str(ROOT / "_ext"))
from book_date import export_source_date_epoch  # noqa: E402

export_source_date_epoch(ROOT)


def install(session: nox.Session, *extras: str) -> None:
    """Install the package (editable, so notebooks find data/ and references.bib)."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-c", str(CONSTRAINTS), "-e", spec)


def sphinx_build(session: nox.Session, builder: str, outdir: Path, *extra: str) -> None:
    # Doctrees live outside the output: an EPUB would otherwise try to package them.
    doctrees = BUILD / "doctrees" / builder
    session.run(
        "sphinx-build",
        "-b",
        builder,
        *SPHINX_STRICT,
        # Parallel reading and writing where enough pages are outdated, notebooks executed
        # side by side (_ext/book_parallel.py); the same bytes as -j 1.
        "-j",
        "auto",
        "-d",
        str(doctrees),
        *extra,
        str(ROOT),
        str(outdir),
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML book into _build/html. Pass --open to open it in a browser."""
    install(session, "docs")
    open_it = "--open" in session.posargs
    extra = [arg for arg in session.posargs if arg != "--open"]
    sphinx_build(session, "html", BUILD / "html", *extra)
    index = BUILD / "html" / "index.html"
    session.log(f"The book is at {index}")
    if open_it:
        import webbrowser

        webbrowser.open(index.as_uri())


SERVE_PORT = 8000


def serve_port(posargs: list[str]) -> tuple[int, list[str]]:
    """The preview's port (``-- --port N``, else 8000) and the other arguments."""
    args, port = list(posargs), SERVE_PORT
    for i, arg in enumerate(args):
        if arg == "--port" and i + 1 < len(args):
            port = int(args[i + 1])
            del args[i : i + 2]
            break
        if arg.startswith("--port="):
            port = int(arg.removeprefix("--port="))
            del args[i]
            break
    return port, args


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@nox.session
def serve(session: nox.Session) -> None:
    """Live preview at http://127.0.0.1:8000 (-- --port N for another), rebuilt on save."""
    port, args = serve_port(session.posargs)
    # Before installing or building: sphinx-autobuild would build first, print "Serving
    # on", and only then fail on a port that another preview holds.
    if not port_is_free(port):
        session.error(
            f"port {port} is busy (another nox -s serve?): stop that one, "
            f"or use another port: nox -s serve -- --port {port + 1}"
        )
    install(session, "docs", "serve")
    session.run(
        "sphinx-autobuild",
        *SPHINX_STRICT,
        # Each rebuild is `python -m sphinx build` with these arguments: in parallel when
        # enough pages changed (a data edit), serially for one chapter (_ext/book_parallel.py).
        "-j",
        "auto",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--watch",
        "src",
        "--watch",
        "data",
        "--ignore",
        str(BUILD),
        *args,
        str(ROOT),
        str(BUILD / "serve"),
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite. Extra arguments go to pytest (e.g. -k bibliography)."""
    install(session, "docs", "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """One pre-commit run over every file: ruff, codespell and the house rules."""
    session.install("-c", str(CONSTRAINTS), "ruff", "codespell", "pre-commit")
    session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure", *session.posargs)


# JupyterLab's settings for the notebooks, shared with Binder (binder/postBuild): MyST
# Markdown notebooks open as notebooks on double click (jupytext's viewer), and no news or
# update checks (JupyterLab would ask jupyter.org on start-up).
LAB_OVERRIDES = ROOT / "binder" / "overrides.json"


@nox.session
def lab(session: nox.Session) -> None:
    """JupyterLab on notebooks/: MyST notebooks open as notebooks and render MyST
    (jupyterlab-myst); saving leaves them unchanged; the package is importable."""
    install(session, "lab")
    session.run(
        "python", "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3", silent=True
    )
    settings = Path(session.virtualenv.location) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LAB_OVERRIDES, settings / "overrides.json")
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    session.run("jupyter", "lab", "--notebook-dir", str(ROOT), *as_root, *session.posargs)


#: The printable handout, one per paper size (A4, US Letter), built with the PDF.
HANDOUT_TEX = ("handout-a4.tex", "handout-letter.tex")
HANDOUT_PDF = tuple(name.replace(".tex", ".pdf") for name in HANDOUT_TEX)


@nox.session
def pdf(session: nox.Session) -> None:
    """Build the PDF book with XeLaTeX into _build/latex/ketamine-for-mental-health.pdf, and
    the printable handout into _build/latex/handout-a4.pdf and handout-letter.pdf."""
    missing = [tool for tool in ("latexmk", "xelatex") if shutil.which(tool) is None]
    if missing:
        session.error(f"{', '.join(missing)} not found. Install TeX Live with: sudo {APT_TEX}")
    install(session, "docs")
    sphinx_build(session, "latex", BUILD / "latex", *session.posargs)
    with session.chdir(BUILD / "latex"):
        session.run(
            "latexmk",
            "-xelatex",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-quiet",
            "ketamine-for-mental-health.tex",
            external=True,
        )
        # The printable handout (_ext/book_handout.py wrote its .tex from the guide).
        session.run(
            "latexmk",
            "-xelatex",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-quiet",
            *HANDOUT_TEX,
            external=True,
        )
    session.log(f"The PDF is at {BUILD / 'latex' / 'ketamine-for-mental-health.pdf'}")
    session.log(f"The handouts are {', '.join(str(BUILD / 'latex' / n) for n in HANDOUT_PDF)}")


@nox.session
def epub(session: nox.Session) -> None:
    """Build the EPUB 3 book into _build/epub and validate it with epubcheck."""
    install(session, "docs")
    sphinx_build(session, "epub", BUILD / "epub", *session.posargs)
    books = sorted((BUILD / "epub").glob("*.epub"))
    session.run("python", str(ROOT / "tools" / "epubcheck.py"), *map(str, books))


@nox.session
def linkcheck(session: nox.Session) -> None:
    """Check every external link (DOIs, PubMed) with Sphinx's linkcheck builder.

    Needs the network. Notebooks are not executed: linkcheck needs their links, not fresh
    outputs. Sphinx's report is _build/linkcheck/output.txt (and output.json).
    """
    install(session, "docs")
    sphinx_build(session, "linkcheck", BUILD / "linkcheck", "-D", "nb_execution_mode=off")


@nox.session
def bench(session: nox.Session) -> None:
    """Time the builds, weigh the pages, time the suite: _build/bench/results.md.

    tools/bench.py does the measuring on throw-away copies (see its docstring); arguments
    go to it (``-- --runs 10``, ``-- --skip baseline,threshold``); ``--skip suite`` leaves
    out the test suite's run.
    """
    import itertools
    import re
    import time

    missing = [tool for tool in ("hyperfine", "npx", "latexmk") if shutil.which(tool) is None]
    if missing:
        session.error(
            f"{', '.join(missing)} not found: sudo apt-get install hyperfine npm, {APT_TEX}"
        )
    install(session, "docs")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    scratch = Path(session.create_tmp()) / "bench"
    out = BUILD / "bench"
    session.run(
        "python",
        str(ROOT / "tools" / "bench.py"),
        "--scratch",
        str(scratch),
        "--out",
        str(out),
        "--uv",
        uv,
        *session.posargs,
    )
    skip = " ".join(session.posargs)
    if "suite" in skip.split("--skip", 1)[-1] and "--skip" in skip:
        return
    # The suite as `nox -s tests` runs it, once; its ten slowest steps.
    start = time.perf_counter()
    output = session.run(
        sys.executable,
        "-m",
        "nox",
        "-f",
        str(ROOT / "noxfile.py"),
        "-s",
        "tests",
        "--",
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=10",
        external=True,
        silent=True,
        # As `nox -s tests` runs it: create_tmp() pointed this session's TMPDIR into the
        # checkout (.nox/bench/tmp), where the suite's temporary projects would sit inside
        # the book's own tree and its messages would name relative paths.
        env={"TMPDIR": os.environ.get("TMPDIR") or "/tmp"},
    )
    minutes, seconds = divmod(time.perf_counter() - start, 60)
    # The lines under pytest's "slowest 10 durations" header ("12.34s call  tests/..."):
    # with -q and every test passed, no "=" line or blank line follows them.
    after = (output or "").split("slowest 10 durations", 1)[-1].splitlines()[1:]
    slowest = list(itertools.takewhile(lambda line: re.match(r"\d+\.\d+s ", line), after))
    # pytest's own last line ("385 passed in 963.66s"), not nox's.
    ends = re.findall(r"^=*\s*(\d+ (?:passed|failed).*? in [\d.]+s.*?)\s*=*$", output or "", re.M)
    summary = ends[-1] if ends else (output or "").strip().splitlines()[-1]
    lines = [
        "## The test suite (`nox -s tests`, reused environment)",
        "",
        f"{int(minutes)} min {seconds:.0f} s: {summary.strip('= ')}",
        "",
        "Slowest 10 (pytest --durations=10):",
        "",
        "```",
        *(slowest or ["(not found in pytest's output)"]),
        "```",
        "",
    ]
    with (out / "results.md").open("a", encoding="utf-8") as results:
        results.write("\n".join(lines) + "\n")
    session.log("\n".join(lines))


@nox.session(venv_backend="none")
def lock(session: nox.Session) -> None:
    """Re-resolve requirements/constraints.txt from pyproject.toml (needs uv)."""
    session.run(
        "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--universal",
        "--python-version",
        "3.11",
        "--extra",
        "docs",
        "--extra",
        "test",
        "--extra",
        "lint",
        "--extra",
        "serve",
        "--extra",
        "lab",
        "-o",
        str(CONSTRAINTS),
        *session.posargs,
        external=True,
    )


if __name__ == "__main__":  # pragma: no cover - convenience for `python noxfile.py`
    sys.exit("Run this file with nox: python -m nox -s docs")
