"""One build at a time per build directory: a second build waits for the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


#: How long a build waits for another one in the same checkout before it gives up.
LOCK_TIMEOUT = 1800


class ConcurrentBuildError(ExtensionError):
    category = "Another build is running"


def lock_build_directory(app: Sphinx, config: Any) -> None:
    """One build at a time per build directory (``_build``): two builds at once wrote
    the same files and shared one execution cache (``misc.copy_overwrite`` failures).

    The second build waits for the first, saying so; the operating system releases the
    lock when a build ends, even a killed one.
    """
    from filelock import FileLock, Timeout

    build_dir = Path(app.outdir).parent
    build_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(build_dir / ".build.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        LOGGER.info("another build is running in %s: waiting for it to finish", build_dir)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise ConcurrentBuildError(
                f"another build has held {lock.lock_file} for {LOCK_TIMEOUT} s; "
                "stop it, or build into another directory"
            ) from None
    app.book_build_lock = lock  # held until this process ends


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", lock_build_directory)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
