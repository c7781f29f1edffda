"""Whom a notebook's outputs are for: the book's build, or a reader's Jupyter.

The book's build (Sphinx with MyST-NB) renders MyST in outputs: live citations, captions
in containers, numbered tables, and a figure as inline SVG that follows the site's
theme. Any other Jupyter (JupyterLab, VS Code, Colab, Binder, nbconvert) shows none of
that: it shows CommonMark, and a PNG figure (an untrusted notebook's HTML is sanitised,
which strips inline SVG). So the outputs are plain unless the environment says
``KETAMINE_TIMELINES_OUTPUT=book``, which the book's Sphinx extension
(``_ext/book_notebooks.py``) sets for the kernels its build starts.

The CommonMark citations here are also what the book's build writes into the reader's
edition of each ``.ipynb`` download (``_ext/book_reader_edition.py``), so a downloaded
notebook reads the same before and after the reader runs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from .bib import Reference, load_bib

OUTPUT_ENV = "KETAMINE_TIMELINES_OUTPUT"


def for_the_book() -> bool:
    """True in a kernel started by the book's build (which renders MyST in outputs)."""
    return os.environ.get(OUTPUT_ENV) == "book"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _who(ref: Reference) -> str:
    """'Daly et al.' from 'Daly et al. 2018' (the label the book's figure notes use)."""
    short = ref.short
    return short[: -len(ref.year)].strip() if ref.year and short.endswith(ref.year) else short


def markdown_citation(
    keys: Iterable[str], *, textual: bool = True, refs: Mapping[str, Reference] | None = None
) -> str:
    """CommonMark citations linked to the paper (DOI, else PubMed, else the regulator's page).

    ``textual``: "Daly et al. (2018)", as MyST's ``{cite:t}``; otherwise parenthetical,
    "(Daly et al., 2018; Lii et al., 2023)", as ``{cite:p}``.
    """
    refs = load_bib() if refs is None else refs
    parts = []
    for key in keys:
        ref = refs.get(key)
        if ref is None:
            raise KeyError(f"no entry {key!r} in references.bib")
        label = f"{_who(ref)} ({ref.year})" if textual else f"{_who(ref)}, {ref.year}"
        parts.append(f"[{_escape(label)}]({ref.url})" if ref.url else _escape(label))
    return "; ".join(parts) if textual else f"({'; '.join(parts)})"


def cite(keys: Iterable[str], refs: Mapping[str, Reference] | None = None) -> str:
    """Textual citations of ``keys``, joined by "; ": MyST roles for the book's build,
    CommonMark links anywhere else."""
    keys = list(keys)
    if for_the_book():
        return "; ".join(f"{{cite:t}}`{key}`" for key in keys)
    return markdown_citation(keys, refs=refs)
