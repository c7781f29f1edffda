"""Notebook execution that never publishes stale numbers, and fails with one clear line.

* Data-aware caching: jupyter-cache keys on code cells only, so a change to the data set,
  the bibliography or the content library would otherwise leave stale outputs in the
  cache. The data's digest is recorded in the cache (a stamp file) and in each builder's
  environment; when it moves, the notebooks that read the data run again.
* Cache healing: a deleted executed notebook or an unreadable cache database is repaired
  with one line of output instead of jupyter-cache's ``KeyError`` on every later build.
* Clear failures: a notebook whose cell raised, timed out ("timed out after N s") or
  wrote to stderr (with the warning's text) is one error naming the notebook's file and
  the line, never Sphinx's crash banner; the next build reads it again until it is fixed.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: Files whose content changes what a notebook computes (beyond its own code cells).
DATA_FILES = ("data/onset_timelines.csv", "references.bib")
STAMP_NAME = "ketamine-data.sha256"


def library_dir() -> Path:
    """The content library's source folder, found without importing it (or Matplotlib)."""
    spec = importlib.util.find_spec("ketamine_timelines")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ketamine_timelines package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def data_digest(srcdir: Path) -> str:
    """Hash of the data set, the bibliography and the content library's source code (the
    library's own ``figstore.inputs_digest``, which a notebook kernel computes the same
    way to know that its inputs are the build's)."""
    from ketamine_timelines.figstore import inputs_digest

    return inputs_digest(
        srcdir / DATA_FILES[0], srcdir / DATA_FILES[1], sorted(library_dir().glob("*.py"))
    )


def notebooks_reading_data(env: BuildEnvironment) -> list[str]:
    """Docnames of notebooks whose code imports the package, hence reads the data."""
    found = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix not in {".md", ".ipynb"} or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        if "ketamine_timelines" in text and ("{code-cell}" in text or path.suffix == ".ipynb"):
            found.append(docname)
    return found


def invalidate_stale_executions(
    app: Sphinx,
    env: BuildEnvironment,
    added: set[str],
    changed: set[str],
    removed: set[str],
) -> Iterable[str]:
    """Re-read data-reading notebooks, and drop their cached runs, when the data change.

    Two records of the data's digest, because two things can be stale:

    * the execution cache, shared by every builder: its stamp file says which data its
      runs of data-reading notebooks used. When it differs, those runs are dropped (and the
      stamp moved on at once: whatever is cached after that ran on the new data).
    * each builder's environment (``env.book_data_digest``): which data its pages were
      read with. Sphinx saves the environment only after every document was read, so a
      build killed mid-way leaves the old digest, and the next build reads them again;
      and ``nox -s epub`` refreshing the cache does not make the HTML pages current.

    """
    outdated: set[str] = set()
    # A notebook whose execution failed is read (and run) again, so that the next build
    # reports it again instead of passing with a page without outputs.
    outdated |= {
        docname
        for docname, data in getattr(env, "nb_metadata", {}).items()
        if (data.get("exec_data") or {}).get("succeeded") is False
    }
    outdated |= getattr(env, "book_stderr_docs", set())
    current = data_digest(Path(app.srcdir))
    if app.config.nb_execution_mode == "cache":
        heal_execution_cache(_cache_path(app))
        _drop_stale_cache_records(app, env, current)
    if getattr(env, "book_data_digest", None) != current:
        if getattr(env, "book_data_digest", None) is not None:
            LOGGER.info("data or package changed: re-reading the notebooks that read them")
        env.book_data_digest = current
        outdated |= set(notebooks_reading_data(env))
    return sorted(d for d in outdated if d not in added and d in env.found_docs)


def _cache_path(app: Sphinx) -> Path:
    return Path(app.config.nb_execution_cache_path or Path(app.outdir) / ".jupyter_cache")


def heal_execution_cache(cache_path: Path) -> None:
    """Forget cache records whose executed notebook is gone; start afresh if the database
    cannot be read. jupyter-cache itself raises ``KeyError: 'Notebook file does not exist
    for cache record PK: N'`` on every later build. Read with sqlite3 directly: importing
    jupyter-cache (SQLAlchemy) would slow every no-op build."""
    import shutil
    import sqlite3

    database = cache_path / "global.db"
    if not database.exists():
        return
    try:
        with sqlite3.connect(database) as db:
            records = db.execute("SELECT pk, hashkey FROM nbcache").fetchall()
            lost = [
                (pk, hashkey)
                for pk, hashkey in records
                if not (cache_path / "executed" / hashkey / "base.ipynb").is_file()
            ]
            if lost:
                db.executemany("DELETE FROM nbcache WHERE pk = ?", [(pk,) for pk, _ in lost])
        db.close()
    except sqlite3.Error as exc:
        LOGGER.info("execution cache %s unreadable (%s): rebuilding it", cache_path, exc)
        shutil.rmtree(cache_path)
        return
    for _, hashkey in lost:  # jupyter-cache cannot write into a folder that exists
        shutil.rmtree(cache_path / "executed" / hashkey, ignore_errors=True)
    if lost:
        LOGGER.info(
            "execution cache: %d executed notebook(s) missing from %s; "
            "dropped their records, they will run again",
            len(lost),
            cache_path / "executed",
        )


def _drop_stale_cache_records(app: Sphinx, env: BuildEnvironment, current: str) -> None:
    cache_path = _cache_path(app)
    stamp = cache_path / STAMP_NAME
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous == current:
        return
    docnames = notebooks_reading_data(env)
    if cache_path.exists():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        paths = {str(Path(env.doc2path(d)).resolve()) for d in docnames}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in paths:
                cache.remove_cache(record.pk)
        if previous is not None:
            LOGGER.info("data or package changed: re-executing %s", ", ".join(docnames))
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def report_failed_execution(app: Sphinx, doctree: nodes.document) -> None:
    """One error for a notebook whose execution failed: the file and line of the failing
    cell and the exception's last line (a DataError names the data file's line too).

    conf.py sets ``nb_execution_raise_on_error = False``: raising ends Sphinx in its crash
    banner ("please open an issue at sphinx-doc") with a sphinx-err-*.log, as if Sphinx
    had failed, and ``nb_execution_show_tb = False`` keeps MyST-NB's own warning to one
    line. The build still fails: this is an error, and the HTML is not published.
    """
    env = app.env
    stderr = env.__dict__.setdefault("book_stderr_docs", set())
    stderr.discard(env.docname)
    for node in doctree.findall(nodes.Element):
        if "stderr" in node["classes"]:
            stderr.add(env.docname)  # so that the next build reads it, and says so, again
            LOGGER.error(
                f"a code cell wrote to stderr, which fails the build: {_stderr_text(node)}",
                location=(env.docname, _stderr_line(env, node)),
                type="book",
                subtype="stderr",
            )
    data = getattr(env, "nb_metadata", {}).get(env.docname, {}).get("exec_data") or {}
    if data.get("succeeded", True):
        return
    traceback = _ANSI.sub("", data.get("traceback") or "")
    lines = [line for line in traceback.splitlines() if line.strip()]
    cause = "raised " + (lines[-1].strip() if lines else (data.get("error") or "an error"))
    cell = re.search(r"executing the following cell:\n-+\n(.*?)\n-+\n", traceback, re.S)
    timeout = re.search(r"timed out while it was being executed, after (\d+) seconds", traceback)
    if timeout is not None:
        # nbclient's message: a preview of the cell between dashed lines, its first and
        # last five lines as Python lists when the cell is longer than ten lines.
        cause = (
            f"timed out after {timeout.group(1)} s (the limit per cell: "
            "BOOK_CELL_TIMEOUT=SECONDS, or -D nb_execution_timeout=SECONDS)"
        )
        cell = re.search(r"preview of the cell contents:\n-+\n(.*?)\n", traceback, re.S)
    path = Path(env.doc2path(env.docname))
    line = None
    if cell is not None and path.exists():
        text = path.read_text(encoding="utf-8")
        offset = text.find(_first_code_line(cell.group(1)))
        if offset >= 0:
            line = text.count("\n", 0, offset) + 1
    where = "a code cell" if line is None else "the code cell at this line"
    LOGGER.error(
        f"notebook execution failed: {where} {cause}",
        location=(env.docname, line),
        type="book",
        subtype="execution",
    )


def _first_code_line(preview: str) -> str:
    """The cell's first line, from a preview that may be the repr of a list of lines."""
    preview = preview.strip()
    if preview.startswith("['"):
        import ast

        try:
            return str(ast.literal_eval(preview.splitlines()[0])[0]).strip()
        except (ValueError, SyntaxError, IndexError):
            pass
    return preview


def _stderr_line(env: BuildEnvironment, node: nodes.Element) -> int | None:
    """The line that wrote to stderr: the warning's line within its cell (a warning names
    it, "ipykernel_1/2.py:3:"), counted from the cell's first line in the notebook's file."""
    cell = node.parent
    while cell is not None and "cell" not in cell.get("classes", []):
        cell = cell.parent
    code = (
        [n.astext() for n in cell.findall(nodes.literal_block) if not n["classes"]] if cell else []
    )
    path = Path(env.doc2path(env.docname))
    if not code or not code[0].strip() or not path.exists():
        return node.line
    text = path.read_text(encoding="utf-8")
    offset = text.find(code[0].strip())
    if offset < 0:
        return node.line
    first = text.count("\n", 0, offset) + 1
    within = re.match(r"\S*ipykernel_\d+/\d+\.py:(\d+): ", node.astext().strip())
    return first + int(within.group(1)) - 1 if within else first


def _stderr_text(node: nodes.Element) -> str:
    """A cell's stderr in one line: a Python warning without the kernel's temporary file
    ("/tmp/ipykernel_1/2.py:3: UserWarning: careful" -> "UserWarning: careful")."""
    lines = [line.strip() for line in node.astext().splitlines() if line.strip()]
    first = re.sub(r"^\S*ipykernel_\d+/\d+\.py:\d+: ", "", lines[0]) if lines else "(empty)"
    return first[:300] + (" ..." if len(lines) > 2 or len(first) > 300 else "")


def _purge_stderr_state(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "book_stderr_docs", set()).discard(docname)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", report_failed_execution)
    app.connect("env-get-outdated", invalidate_stale_executions)
    app.connect("env-purge-doc", _purge_stderr_state)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
