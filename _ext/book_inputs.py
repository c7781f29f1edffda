"""Bad input, or nowhere to write, stops the build at once with one line per problem.

Before anything is read or written:

* an output or doctree directory that cannot be written (a file where ``_build`` should
  be, a read-only disk) is one line naming it;
* a chapter that is not UTF-8 is one line naming its file and line. Sphinx itself fails
  on it while reading, in its crash banner, and under ``-j auto`` the banner of a parallel
  worker does not even name the file;
* the bibliography (a malformed DOI or PubMed id, a syntax error) and the data set (a
  bad cell, markup in free text) are checked with the content library's own readers, so
  a problem is one line at ``references.bib:LINE`` or ``data/onset_timelines.csv:LINE``
  instead of one error per figure and notebook that reads them.

And while building: a disk that fills up, or a file that cannot be written, is one line
naming the file, instead of Sphinx's crash banner.

Each of these ends the build with exit status 1 (``SystemExit``: Sphinx prints its crash
banner for every exception, ``SphinxError`` included), before any page of the failed
build is written, so the site of the last good build is never mixed with a broken one.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: Errors that mean "the build cannot write its output here", not a bug.
OUTPUT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR}
)


def _stop(lines: list[str]) -> None:
    """Print each line as Sphinx prints an error (``path: ERROR: ...``), then exit 1."""
    print(flush=True)  # ends a status line such as "pickling environment... "
    for line in lines:
        print(line, file=sys.stderr, flush=True)
    raise SystemExit(1)


# -- The output directories ---------------------------------------------------------------
def _blocking_path(directory: Path) -> Path:
    """The part of ``directory`` that is in the way: the first ancestor that exists."""
    for path in (directory, *directory.parents):
        if path.exists():
            return path
    return directory


def check_output_directories(app: Sphinx) -> None:
    """Create the output and doctree directories and write a file into each."""
    for directory in dict.fromkeys((Path(app.outdir), Path(app.doctreedir))):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=directory):
                pass
        except OSError as exc:
            where = _blocking_path(directory)
            why = "is a file, not a folder" if where.is_file() else exc.strerror
            _stop(
                [
                    f"{where}: ERROR: cannot write the build output to {directory}: {why}; "
                    "move it away or build into another directory"
                ]
            )


# -- Chapters, bibliography and data --------------------------------------------------------
def undecodable(path: Path, encoding: str = "utf-8-sig") -> tuple[int, str] | None:
    """(line, reason) where ``path`` stops being UTF-8, or None."""
    raw = path.read_bytes()
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return line, (
            f"not UTF-8: byte 0x{raw[exc.start]:02x} at character {column} of this line; "
            "save the file as UTF-8"
        )
    return None


def _input_problems(app: Sphinx, env: BuildEnvironment) -> list[tuple[str, int, str]]:
    problems = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        found = undecodable(path) if path.is_file() else None
        if found:
            problems.append((str(path), *found))
    return problems + _data_problems(app, env)


def _data_problems(app: Sphinx, env: BuildEnvironment) -> list[tuple[str, int, str]]:
    """The bibliography and the data set, as the content library reads them; checked again
    only when they (or the library) changed since the last build that found them sound."""
    from book_execution import DATA_FILES, data_digest

    srcdir = Path(app.srcdir)
    data, bib = (srcdir / name for name in DATA_FILES)
    digest = data_digest(srcdir)
    if not bib.is_file() or getattr(env, "book_inputs_digest", None) == digest:
        return []
    from ketamine_timelines.bib import BibError, parse_bibtex

    try:
        parse_bibtex(bib.read_text(encoding="utf-8"), str(bib))
    except BibError as exc:
        return [(str(bib), exc.line, exc.message)]
    except UnicodeDecodeError:
        return [(str(bib), *(undecodable(bib) or (1, "not UTF-8")))]
    if data.is_file():
        from ketamine_timelines.data import DataError, load_points

        try:
            load_points(data, bib_path=bib)
        except DataError as exc:
            column = f"column '{exc.column}': " if exc.column else ""
            return [(str(data), exc.line, column + exc.message)]
    env.book_inputs_digest = digest
    return []


def check_inputs(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Stop before reading when a chapter, the bibliography or the data set is bad."""
    problems = _input_problems(app, env)
    if problems:
        LOGGER.info("")  # ends Sphinx's "updating environment: " status line
        for path, line, message in problems:
            LOGGER.error(message, location=f"{path}:{line}", type="book", subtype="input")
        raise SystemExit(1)
    return []


# -- Writing ------------------------------------------------------------------------------
def _oserror(exception: BaseException | None) -> tuple[int, str, str | None] | None:
    """(errno, reason, file) of an error writing the output, however Sphinx wrapped it."""
    while exception is not None:
        if isinstance(exception, OSError) and exception.errno in OUTPUT_ERRNOS:
            return exception.errno, exception.strerror or str(exception), _written(exception)
        message = getattr(exception, "message", None)  # SphinxParallelError: a worker's
        if isinstance(message, str):
            m = re.match(r"\w*Error: \[Errno (\d+)\] ([^:]+)(?:: '(.+)')?$", message)
            if m and int(m.group(1)) in OUTPUT_ERRNOS:
                return int(m.group(1)), m.group(2), m.group(3)
        exception = getattr(exception, "orig_exc", None) or exception.__cause__
    return None


def _written(exception: OSError) -> str | None:
    """The file being written: the error's own, else an open file of the failing code."""
    if exception.filename:
        return os.fsdecode(exception.filename)
    names = []
    tb = exception.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            name, mode = getattr(value, "name", None), getattr(value, "mode", None)
            if isinstance(name, str) and isinstance(mode, str) and set(mode) & set("wax+"):
                names.append(name)
        tb = tb.tb_next
    return names[-1] if names else None


def stop_on_output_errors(app: Sphinx, exception: BaseException | None) -> None:
    """A full disk or a file that cannot be written, during the build: one line."""
    found = _oserror(exception)
    if found is None:
        return
    code, reason, path = found
    advice = "free some space" if code in (errno.ENOSPC, errno.EDQUOT) else "check its permissions"
    _stop(
        [
            f"{path or app.outdir}: ERROR: cannot write the build output: {reason} "
            f"(errno {errno.errorcode.get(code, code)}); {advice}, then build again"
        ]
    )


def setup(app: Sphinx) -> dict[str, Any]:
    check_output_directories(app)
    app.connect("env-get-outdated", check_inputs, priority=100)
    app.connect("build-finished", stop_on_output_errors, priority=1)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
