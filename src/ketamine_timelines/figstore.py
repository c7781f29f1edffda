"""Figure files shared by the book's build and its notebooks, so that each is drawn once.

A chapter's ``timeline-figure`` and a notebook's :func:`~ketamine_timelines.figures.figure`
draw the same figure of the same data (the onset figure is in chapters 3 and 6 and in the
onset notebook), and rendering is what costs: about a second per file. The book's build
(``_ext/book_figures.py``) keeps a chapter's figure files in one folder, named by the
figure, the digest of the inputs they are drawn from, the variant and the format, and
tells the notebook kernels it starts where that folder is and what the digest is
(``STORE_ENV`` and ``DIGEST_ENV``). A notebook showing a figure of the whole data set
then takes a file that is already there instead of rendering it, and leaves the ones it
renders for the chapters.

Nothing is shared unless the kernel's own inputs, hashed the same way, give the build's
digest (a kernel that reads other data or other plotting code shares nothing), and only
figures of the whole data set are shared. Outside a build (a reader's Jupyter) nothing is
set and nothing is shared. Files are written whole (a temporary file, then renamed), so
another process never reads half a figure. Matplotlib's output does not depend on the
order or the set of formats rendered (``display.render``), so a shared file has the bytes
the chapter would have drawn itself.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The folder of shared figure files, and the digest of the inputs they were drawn from.
STORE_ENV = "KETAMINE_TIMELINES_FIGURE_STORE"
DIGEST_ENV = "KETAMINE_TIMELINES_FIGURE_DIGEST"
#: Characters of the digest in a figure file's name.
NAME_DIGITS = 12


def library_files() -> list[Path]:
    """The content library's source files: the plotting code is an input of every figure."""
    return sorted(Path(__file__).resolve().parent.glob("*.py"))


def inputs_digest(data: Path, bib: Path, code: Iterable[Path] | None = None) -> str:
    """Hash of the data set, the bibliography and the content library's source code: what
    a figure (and a notebook's output) is computed from."""
    digest = hashlib.sha256()
    for path in [data, bib, *(library_files() if code is None else code)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def file_name(name: str, digest: str, variant: str, fmt: str) -> str:
    return f"{name}-{digest[:NAME_DIGITS]}-{variant}.{fmt}"


@dataclass(frozen=True)
class Slot:
    """Where the files of one figure of this build live."""

    folder: Path
    name: str
    digest: str

    def path(self, variant: str, fmt: str) -> Path:
        return self.folder / file_name(self.name, self.digest, variant, fmt)

    def read(self, variant: str, fmt: str) -> bytes | None:
        try:
            return self.path(variant, fmt).read_bytes()
        except OSError:
            return None

    def write(self, variant: str, fmt: str, data: bytes) -> None:
        target = self.path(variant, fmt)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(partial, target)


@lru_cache(maxsize=1)
def _kernel_digest() -> str:
    from .paths import default_bib_path, default_data_path

    return inputs_digest(default_data_path(), default_bib_path())


def slot(name: str) -> Slot | None:
    """The shared files of figure ``name`` in this build, or None: outside a build, or
    when this process's data, bibliography or plotting code are not the build's."""
    folder, digest = os.environ.get(STORE_ENV), os.environ.get(DIGEST_ENV)
    if not folder or not digest:
        return None
    try:
        if _kernel_digest() != digest:
            return None
    except OSError:
        return None
    return Slot(Path(folder), name, digest)
