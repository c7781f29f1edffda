"""Locate the book's data set and bibliography without hard-coding a checkout path.

In order: the environment variables below, a checkout of the book's repository (walking
up from the package and from the working directory), and the copies that the installed
wheel carries as package data (``ketamine_timelines/_data/``), which is what a notebook
downloaded from the book uses.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "KETAMINE_TIMELINES_DATA"
BIB_ENV = "KETAMINE_TIMELINES_BIB"
DATA_RELPATH = Path("data") / "onset_timelines.csv"


def _candidates() -> list[Path]:
    # Editable installs keep the package inside the repo, so walking up from here
    # finds it; notebooks executed from notebooks/ are covered by the cwd walk.
    here = Path(__file__).resolve()
    return [*here.parents, Path.cwd().resolve(), *Path.cwd().resolve().parents]


def repo_root() -> Path | None:
    """The first ancestor holding references.bib (or, failing that, the data file)."""
    for marker in ("references.bib", str(DATA_RELPATH)):
        for d in _candidates():
            if (d / marker).is_file():
                return d
    return None


def packaged(name: str) -> Path | None:
    """A file the wheel carries in ketamine_timelines/_data (absent in a checkout)."""
    from importlib.resources import files

    resource = files(__package__) / "_data" / name
    # Wheels install as plain files, so the resource is a real path.
    return Path(str(resource)) if resource.is_file() else None


def default_data_path() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        p = Path(env)
        return p / DATA_RELPATH.name if p.is_dir() else p
    root = repo_root()
    if root is None:
        found = packaged(DATA_RELPATH.name)
        if found is not None:
            return found
        raise FileNotFoundError(f"cannot find {DATA_RELPATH}; set {DATA_ENV} to the CSV path")
    return root / DATA_RELPATH


def default_bib_path() -> Path:
    env = os.environ.get(BIB_ENV)
    if env:
        return Path(env)
    env_data = os.environ.get(DATA_ENV)
    if env_data:
        # A data path outside the repo usually sits next to its own bib.
        p = Path(env_data)
        base = p if p.is_dir() else p.parent
        for d in (base, base.parent):
            if (d / "references.bib").is_file():
                return d / "references.bib"
    root = repo_root()
    if root is None or not (root / "references.bib").is_file():
        found = packaged("references.bib")
        if found is not None:
            return found
        raise FileNotFoundError(f"cannot find references.bib; set {BIB_ENV}")
    return root / "references.bib"


def display_path(path: Path) -> str:
    """Path as shown in error messages: repo-relative when inside the repo."""
    path = Path(path).resolve()
    root = repo_root()
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)
