"""Figure files shared by the book's build and its notebooks, so each is drawn once.

A chapter's ``timeline-figure`` and a notebook's ``figure()`` draw the same figure of the
same data (the onset figure is in chapters 3 and 6 and in the onset notebook). The build
(``_ext/book_parallel.py``) keeps the figures it draws in one folder, named by the figure,
the digest of the data and code they are drawn from, the variant and the format, and
tells the notebook kernels it starts where that folder is and what the digest is
(environment variables). A notebook showing a figure of the whole data set then reads a
variant that is already there instead of drawing it, and stores the ones it draws for
the chapters. Outside a build (a reader's JupyterLab) nothing is set and nothing is
shared. Files are written whole (a temporary file, then renamed), so a reader in another
process never sees half a figure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The folder of shared figure files, and the digest of the inputs they were drawn from.
STORE_ENV = "KETAMINE_TIMELINES_FIGURE_STORE"
DIGEST_ENV = "KETAMINE_TIMELINES_FIGURE_DIGEST"


def path(name: str, variant: str, fmt: str) -> Path | None:
    """Where the variant of figure ``name`` lives in this build, or None outside one."""
    store, digest = os.environ.get(STORE_ENV), os.environ.get(DIGEST_ENV)
    if not store or not digest:
        return None
    return Path(store) / f"{name}-{digest}-{variant}.{fmt}"


def read(name: str, variant: str, fmt: str) -> bytes | None:
    found = path(name, variant, fmt)
    return found.read_bytes() if found is not None and found.is_file() else None


def write(name: str, variant: str, fmt: str, data: bytes) -> None:
    target = path(name, variant, fmt)
    if target is None or target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(partial, target)
