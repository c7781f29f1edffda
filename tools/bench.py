"""Speed of the book's builds and weight of its pages (``nox -s bench`` runs this).

Every build runs on a throw-away git copy of the sources (the working tree is never
touched), with ``PYTHONPATH`` on the copy's ``src/`` so that its notebooks read the
copy's data. Each case is timed by ``hyperfine`` one run at a time, and the cases of a
comparison alternate run by run (floor, no-op, prose edit, ...; this tree, the baseline,
this tree, ...): on a machine that others share, each run's ratio to the run beside it is
steadier than two medians taken minutes apart. Reported per case: the median wall time,
the median CPU time (user + system of the build and its children) and the median of the
run-by-run ratios.

Comparisons:

* **floor**: importing what every build of this stack imports
  (``sphinx.cmd.build``, ``myst_nb.sphinx_ext``, ``furo``), against a no-op rebuild and a
  one-chapter prose edit as ``nox -s docs`` and ``nox -s serve`` (sphinx-autobuild runs
  ``python -m sphinx build`` with the session's arguments) run them;
* **baseline** (commit d93ee12, before the refactor into ``_ext/``): checked out with
  ``git archive`` into its own copy, with its own environment from its own constraints
  and its own build command (``-j 1``); cold builds, data edits and the PDF alternate;
* **threshold**: N pages outdated, read and written serially (``-j 1``) or in parallel
  (``-j 2``, with the threshold of ``_ext/book_parallel.py`` set to 1), for the
  threshold's value;
* **pages**: the HTML book served gzipped (``tools/serve_book.py``, as the recommended
  hosts serve it) to Lighthouse 12 (simulated mobile, Debian's Chromium): bytes
  transferred, LCP and the four category scores per page.

Lighthouse's Chrome gets a short temporary directory (``short_tmpdir``): its profile and
its singleton socket live under ``TMPDIR``, and a socket path longer than 107 bytes
(a checkout at a deep path, whose nox session sets a deep ``TMPDIR``) made Lighthouse
fail with "Unable to connect to Chrome".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "d93ee12"
FLOOR = "python -c 'import sphinx.cmd.build, myst_nb.sphinx_ext, furo'"
STRICT = "-n -W --keep-going"
# Row 2's note gains a word never seen before: the data digest changes to one no cache has
# seen (toggling between two notes would let the second edit reuse the first's figures).
EDIT_DATA = r"""sed -i "2s/\"$/ $(date +%s%N)\"/" data/onset_timelines.csv"""
PROSE_EDIT = "echo >> docs/03-depression-and-anxiety.md"
LATEX = "latexmk -cd -xelatex -interaction=nonstopmode -halt-on-error -quiet"
TEX = "_build/latex/ketamine-for-mental-health.tex"
PAGES = {
    "landing": "index.html",
    "chapter": "docs/03-depression-and-anxiety.html",
    "notebook": "notebooks/onset-timelines.html",
}
LIGHTHOUSE = "lighthouse@12.8.2"  # Lighthouse 13 needs Node 22; Debian 13 has Node 20
#: npx runs Lighthouse from its cache when it has it, else fetches it from the registry.
NPX_LIGHTHOUSE = ["npx", "--yes", "--prefer-offline", LIGHTHOUSE]
HYPERFINE = ["hyperfine", "--runs", "1", "--style", "none"]
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
#: Longest temporary directory we hand to Chrome: its profile's singleton socket
#: (``SingletonSocket`` in a ``.org.chromium.Chromium.XXXXXX`` folder) must stay within
#: a Unix socket's 107 bytes.
MAX_TMPDIR = 40


# -- Timing -------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    command: str
    prepare: str = "true"
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def run_once(case: Case, scratch: Path) -> None:
    """One hyperfine run of ``case`` (after its preparation), recorded on the case."""
    env = {**os.environ, **case.env}
    subprocess.run(case.prepare, shell=True, cwd=case.cwd, env=env, check=True)
    report = scratch / "hyperfine-run.json"
    subprocess.run(
        [*HYPERFINE, "--export-json", str(report), "--command-name", case.name, case.command],
        cwd=case.cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    result = json.loads(report.read_text())["results"][0]
    if any(result.get("exit_codes", [0])):
        raise SystemExit(f"{case.name}: {case.command} failed in {case.cwd}")
    case.wall.append(result["times"][0])
    case.cpu.append(result["user"] + result["system"])


def alternate(cases: list[Case], rounds: int, scratch: Path, warm_up: bool = True) -> None:
    """Run the cases one after another, ``rounds`` times (after one unrecorded round)."""
    if warm_up:
        for case in cases:
            run_once(case, scratch)
            case.wall.clear()
            case.cpu.clear()
    for number in range(rounds):
        for case in cases:
            run_once(case, scratch)
        print(
            f"  round {number + 1}/{rounds}: "
            + ", ".join(f"{c.name} {c.wall[-1]:.2f} s" for c in cases),
            flush=True,
        )


def ratios(case: Case, reference: Case) -> list[float]:
    return [w / r for w, r in zip(case.wall, reference.wall, strict=True)]


def table(cases: list[Case], reference: Case, label: str) -> list[str]:
    lines = [
        f"| Case | Median | CPU | {label} (median of run-by-run ratios) |",
        "| --- | --- | --- | --- |",
    ]
    for case in cases:
        ratio = statistics.median(ratios(case, reference))
        lines.append(
            f"| {case.name} | {statistics.median(case.wall):.2f} s "
            f"| {statistics.median(case.cpu):.2f} s | {ratio:.2f}x |"
        )
    return lines


# -- Copies of the sources ----------------------------------------------------------------
def git(*args: str, cwd: Path) -> str:
    command = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def copy_tree(target: Path) -> Path:
    """The working tree's files that git would see (tracked and untracked-not-ignored)."""
    shutil.rmtree(target, ignore_errors=True)
    files = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, files.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return commit_copy(target)


def copy_commit(commit: str, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return commit_copy(target)


def commit_copy(target: Path) -> Path:
    git("init", "-q", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-qm", "bench", "--no-gpg-sign", cwd=target)
    return target


def baseline_env(copy: Path, venv: Path, uv: str) -> dict[str, str]:
    """The baseline's own environment, from its own constraints (kept between runs of the
    bench: its packages do not change); PATH for its commands."""
    if not (venv / "bin" / "sphinx-build").exists():
        subprocess.run([uv, "venv", "-q", str(venv)], check=True)
        constraints = copy / "requirements" / "constraints.txt"
        pip = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
        subprocess.run(
            [*pip, "-c", str(constraints), "-e", f"{copy}[docs]"],
            check=True,
        )
    return {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}


# -- Lighthouse ---------------------------------------------------------------------------
def short_tmpdir(candidates: tuple[str, ...] = ("/tmp", "/var/tmp")) -> Path:
    """A new, short temporary directory for Chrome, whatever ``TMPDIR`` says."""
    for base in (*candidates, tempfile.gettempdir()):
        if os.path.isdir(base) and os.access(base, os.W_OK) and len(base) <= MAX_TMPDIR - 10:
            return Path(tempfile.mkdtemp(prefix="lh", dir=base))
    raise RuntimeError(f"no writable temporary directory of {MAX_TMPDIR} characters or fewer")


@contextmanager
def chrome_tmpdir() -> Iterator[dict[str, str]]:
    """The environment for Lighthouse: Chrome's profile and sockets in a short directory."""
    directory = short_tmpdir()
    try:
        yield {"TMPDIR": str(directory), "CHROME_PATH": chrome_path()}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def chrome_path() -> str:
    return os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def lighthouse_options(report: Path) -> list[str]:
    return ["--quiet", "--output=json", f"--output-path={report}", f"--chrome-flags={CHROME_FLAGS}"]


def lighthouse(url: str, report: Path) -> dict:
    """One Lighthouse run (simulated mobile, Lighthouse's default) of ``url``."""
    with chrome_tmpdir() as env:
        subprocess.run(
            # The address first: --output takes several values and would swallow it.
            [*NPX_LIGHTHOUSE, url, *lighthouse_options(report)],
            env={**os.environ, **env},
            check=True,
        )
    return json.loads(report.read_text())


def page_facts(report: dict) -> dict[str, float]:
    audits = report["audits"]
    facts = {
        "bytes": audits["total-byte-weight"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "fcp": audits["first-contentful-paint"]["numericValue"] / 1000,
        "dom": audits["dom-size"]["numericValue"] if "dom-size" in audits else float("nan"),
    }
    facts.update({key: round(c["score"] * 100) for key, c in report["categories"].items()})
    return facts


def measure_pages(site_dir: Path, out: Path, runs: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    from serve_book import serve_book

    lines = [
        "| Page | Transferred (gzip, every request) | LCP, simulated mobile | FCP "
        "| Performance / Accessibility / Best practices / SEO |",
        "| --- | --- | --- | --- | --- |",
    ]
    with serve_book(site_dir) as site:
        for name, page in PAGES.items():
            facts = [
                page_facts(lighthouse(site.url(page), out / f"lighthouse-{name}-{n}.json"))
                for n in range(runs)
            ]
            lcp = statistics.median(f["lcp"] for f in facts)
            fcp = statistics.median(f["fcp"] for f in facts)
            last = facts[-1]
            scores = " / ".join(
                str(min(f[k] for f in facts))
                for k in ("performance", "accessibility", "best-practices", "seo")
            )
            lines.append(
                f"| {name} (`{page}`) | {last['bytes'] / 1000:.1f} KB | {lcp:.2f} s "
                f"| {fcp:.2f} s | {scores} |"
            )
    return lines


# -- The cases ----------------------------------------------------------------------------
def docs_command(jobs: str = "auto", extra: str = "") -> str:
    """The build of ``nox -s docs`` (noxfile.py: sphinx_build)."""
    return (
        f"sphinx-build -b html {STRICT} -j {jobs} -d _build/doctrees/html {extra} . _build/html"
    ).replace("  ", " ")


def serve_command() -> str:
    """The rebuild that ``nox -s serve`` makes on each save: sphinx-autobuild runs
    ``python -m sphinx build`` with the session's Sphinx arguments."""
    return f"python -m sphinx build {STRICT} -j auto . _build/serve"


def no_freeze(command: str) -> str:
    """The same build with ``gc.freeze`` switched off (``_ext/book_gcfreeze.py``)."""
    code = (
        'import gc, sys; gc.freeze = lambda: None; sys.argv[0] = "sphinx-build"; '
        "from sphinx.cmd.build import main; sys.exit(main(sys.argv[1:]))"
    )
    return command.replace("sphinx-build ", f"python -c '{code}' ", 1)


def pdf_command(jobs: str = "auto") -> str:
    """``nox -s pdf``: the LaTeX build, then latexmk with XeLaTeX."""
    return (
        f"sphinx-build -b latex {STRICT} -j {jobs} -d _build/doctrees/latex . _build/latex"
        f" && {LATEX} {TEX}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (5)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bench")
    parser.add_argument("--scratch", type=Path, required=True, help="where the copies go")
    parser.add_argument("--uv", default=shutil.which("uv") or "uv")
    parser.add_argument("--skip", default="", help="comma-separated: floor,baseline,...")
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = args.scratch.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    report: list[str] = []

    here = copy_tree(scratch / "book")
    here_env = {"PYTHONPATH": str(here / "src")}
    docs = docs_command()

    def now(name: str, command: str, prepare: str = "true") -> Case:
        return Case(name, command, prepare, here, dict(here_env))

    print("bench: first build of the copy", flush=True)
    quiet = docs.replace("sphinx-build ", "sphinx-build -q ", 1)
    subprocess.run(quiet, shell=True, cwd=here, env={**os.environ, **here_env}, check=True)
    subprocess.run(
        serve_command(),
        shell=True,
        cwd=here,
        env={**os.environ, **here_env},
        check=True,
        stdout=subprocess.DEVNULL,
    )

    if "floor" not in skip:
        # Two groups, each with its own floor runs: a prose edit for one output directory
        # would make the other's next "no-op" a rebuild of the edited chapter.
        for session, command in (("nox -s docs", docs), ("nox -s serve", serve_command())):
            print(f"bench: floor, no-op and prose edit as {session} builds", flush=True)
            floor = now("floor: import sphinx.cmd.build, myst_nb.sphinx_ext, furo", FLOOR)
            cases = [
                floor,
                now(f"no-op rebuild ({session})", command),
                now(f"prose edit, chapter 3 ({session})", command, PROSE_EDIT),
            ]
            if session == "nox -s docs":  # what _ext/book_gcfreeze.py is worth
                cases += [
                    now("no-op rebuild, no heap freeze", no_freeze(command)),
                    now("prose edit, no heap freeze", no_freeze(command), PROSE_EDIT),
                ]
            alternate(cases, args.runs, scratch)
            report += [
                f"## Edit and look as {session} builds, against the import floor",
                "",
                *table(cases, floor, "ratio to the floor"),
                "",
            ]

    if "baseline" not in skip:
        print(f"bench: {BASELINE} in its own copy and environment", flush=True)
        old = copy_commit(BASELINE, scratch / BASELINE)
        old_env = {**baseline_env(old, scratch / f"{BASELINE}-venv", args.uv), "PYTHONPATH": ""}
        old_docs = docs_command(jobs="1")

        def then(name: str, command: str, prepare: str = "true") -> Case:
            return Case(name, command, prepare, old, dict(old_env))

        pairs = [
            (
                now("cold build (this tree)", docs, "rm -rf _build"),
                then(f"cold build ({BASELINE})", old_docs, "rm -rf _build"),
            ),
            (
                now("data edit, one row (this tree)", docs, EDIT_DATA),
                then(f"data edit, one row ({BASELINE})", old_docs, EDIT_DATA),
            ),
            (
                now(
                    "PDF from a warm cache (this tree)",
                    pdf_command(),
                    "rm -rf _build/latex _build/doctrees/latex",
                ),
                then(
                    f"PDF from a warm cache ({BASELINE})",
                    pdf_command(jobs="1"),
                    "rm -rf _build/latex _build/doctrees/latex",
                ),
            ),
        ]
        report += [
            f"## This tree against {BASELINE}",
            "",
            f"| Case | This tree | CPU | {BASELINE} | CPU | ratio (median of run-by-run ratios) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for mine, theirs in pairs:
            alternate([mine, theirs], args.runs, scratch)
            name = mine.name.removesuffix(" (this tree)")
            report.append(
                f"| {name} | {statistics.median(mine.wall):.2f} s "
                f"| {statistics.median(mine.cpu):.2f} s | {statistics.median(theirs.wall):.2f} s "
                f"| {statistics.median(theirs.cpu):.2f} s "
                f"| {statistics.median(ratios(mine, theirs)):.2f}x |"
            )
        report.append("")
        # Leave this tree's copy built for the pages.
        subprocess.run(quiet, shell=True, cwd=here, env={**os.environ, **here_env}, check=True)

    if "threshold" not in skip:
        print("bench: parallel threshold", flush=True)
        pages = [*(here / "docs").glob("*.md"), *(here / "notebooks").glob("*.md")]
        sources = ["index.md", *sorted(str(p.relative_to(here)) for p in pages)]
        lines = ["| Pages read | -j 1 | -j 2 | -j 2 / -j 1 |", "| --- | --- | --- | --- |"]
        for count in (1, 2, 4, 6, 10, len(sources)):
            touch = "touch " + " ".join(shlex.quote(s) for s in sources[:count])
            serial = now(f"{count} pages -j 1", docs_command("1"), touch)
            parallel = now(
                f"{count} pages -j 2", docs_command("2", "-D book_parallel_min_docs=1"), touch
            )
            alternate([serial, parallel], args.runs, scratch)
            lines.append(
                f"| {count} | {statistics.median(serial.wall):.2f} s "
                f"| {statistics.median(parallel.wall):.2f} s "
                f"| {statistics.median(ratios(parallel, serial)):.2f}x |"
            )
        report += ["## Parallel reading and writing by pages outdated", "", *lines, ""]

    if "pages" not in skip:
        print("bench: pages with Lighthouse", flush=True)
        report += [
            "## Pages, served gzipped, Lighthouse simulated mobile",
            "",
            *measure_pages(here / "_build" / "html", args.out, args.lighthouse_runs),
            "",
        ]

    text = "\n".join(report) + "\n"
    (args.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
