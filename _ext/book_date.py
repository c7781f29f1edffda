"""The book's one date: when its sources last changed (no Sphinx import).

Every date a reader sees (the footer's copyright year, the release in the PDF's running
headers, the PDF title page and /CreationDate, the EPUB's dc:date) and every timestamp
written into a file (Matplotlib metadata, the EPUB's zip entries) comes from
``SOURCE_DATE_EPOCH`` (https://reproducible-builds.org/specs/source-date-epoch/), so two
builds of one commit are byte-identical. Its value is decided here, once, and used by
conf.py, the nox sessions and the tests:

1. ``SOURCE_DATE_EPOCH`` when it is set (a packager, or a CI that sets it, decides);
2. else the last commit's date, ``git log -1 --format=%ct`` (also in a shallow clone,
   which has that commit);
3. else, in a copy of the sources outside git (a tarball), the newest modification time
   of the book's sources.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: Where the book's text and code live; the newest of these dates a copy outside git.
SOURCE_GLOBS = (
    "*.md",
    "*.py",
    "*.bib",
    "docs/**/*",
    "notebooks/*.md",
    "data/*",
    "src/**/*.py",
    "_ext/*.py",
    "_static/*",
)


def _from_git(root: Path) -> int | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = result.stdout.strip()
    return int(value) if result.returncode == 0 and value.isdigit() else None


def _from_files(root: Path) -> int | None:
    times = [
        path.stat().st_mtime
        for pattern in SOURCE_GLOBS
        for path in root.glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    ]
    return int(max(times)) if times else None


def source_date_epoch(root: Path | str) -> int:
    """Seconds since 1970 (UTC) that date the book built from ``root``."""
    explicit = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if explicit:
        if not explicit.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds, not {explicit!r}")
        return int(explicit)
    root = Path(root)
    # Only the book's own repository dates it, not one it happens to be copied into.
    if (root / ".git").exists():
        found = _from_git(root)
        if found is not None:
            return found
    found = _from_files(root)
    if found is None:
        raise RuntimeError(f"{root}: no git history and no source files to date the book by")
    return found


def export_source_date_epoch(root: Path | str) -> int:
    """Decide the date and put it in the environment, for Sphinx, Matplotlib and TeX."""
    epoch = source_date_epoch(root)
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    return epoch
