"""Sources tables: the studies behind a figure, as MyST Markdown with live citations for
the book's build, and as CommonMark with a GFM table for a reader's Jupyter (outputs.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from IPython.display import Markdown

from .bib import Reference, load_bib
from .data import Point
from .outputs import for_the_book, markdown_citation
from .studies import STUDIES
from .vocab import SCALE_NAMES

_POPULATION_WORDS = {
    "TRD": "treatment-resistant depression",
    "TRD_older": "TRD, aged 65+",
    "MDD": "major depression",
    "MDD_surgical": "major depression, having surgery",
    "MDD_suicidal": "depression with suicidal ideation",
    "MDD_inpatient": "depression, inpatients",
    "clinical_depression": "depression, clinic",
    "mixed": "pooled populations",
    "PTSD": "PTSD",
    "OCD": "OCD",
    "SAD": "social anxiety disorder",
    "GAD_SAD": "generalised or social anxiety",
}


#: ASCII punctuation that means something in MyST Markdown (CommonMark, GFM tables, roles,
#: directives, raw HTML, entities, math): each is escaped with a backslash, which
#: CommonMark allows before any ASCII punctuation, so that it reaches the page as itself.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|$&~:^])")


def markdown_text(text: str) -> str:
    """Plain text (from the data set, say) as MyST Markdown that shows exactly that text:
    no link, tag, role, math or table cell can start inside it, in HTML, LaTeX or EPUB."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _cell(text: str) -> str:
    # Cells are one line each (the parts from the data are escaped by markdown_text).
    return text.replace("\n", " ")


def sources_table(
    points: Iterable[Point],
    *,
    caption: str = "Studies behind this figure",
    refs: Mapping[str, Reference] | None = None,
    name: str | None = None,
) -> Markdown:
    """One line per study used by a figure, with where in the source each number sits.

    Rows marked 'partly' were read in a secondary source; the table says so.
    """
    pts = list(points)
    if refs is None:
        refs = load_bib()
    order: list[str] = []
    for p in pts:
        if p.study_key not in order:
            order.append(p.study_key)
    order.sort(key=lambda k: (refs[k].year if k in refs else "", k))

    book = for_the_book()
    if book:  # a numbered table with a caption, in the HTML, PDF and EPUB
        head = [f"```{{table}} {caption}", ":class: kt-sources"]
        head += [f":name: {name}"] if name else []
    else:
        head = [f"**Table.** {caption}"]
    lines = [
        *head,
        "",
        "| Study | Design, size and people | Where in the source | Link |",
        "|---|---|---|---|",
    ]
    for key in order:
        rows = [p for p in pts if p.study_key == key]
        study = STUDIES.get(key)
        design = study.design if study else "see the paper"
        size = study.size if study else "not recorded"
        pops = sorted({_POPULATION_WORDS.get(p.population, p.population) for p in rows})
        scales = sorted({SCALE_NAMES[p.scale] for p in rows if SCALE_NAMES[p.scale]})
        where = sorted({p.source_location for p in rows})
        partly = sum(p.is_partly for p in rows)
        if partly:
            where.append(f"{partly} of {len(rows)} numbers read in a secondary source")
        ref = refs.get(key)
        link = (
            f"[{'DOI' if ref.doi else 'PubMed' if ref.pmid else 'label'}](<{ref.url}>)"
            if ref and ref.url
            else "no link recorded"
        )
        scale_words = ", ".join(scales)
        what = f"{design}; {size}; {'; '.join(pops)}" + (f"; {scale_words}" if scale_words else "")
        what, where = markdown_text(what), [markdown_text(w) for w in where]
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"{{cite:t}}`{key}`" if book else markdown_citation([key], refs=refs),
                    what,
                    "; ".join(where),
                    link,
                )
            )
            + " |"
        )
    if book:
        lines.append("```")
    return Markdown("\n".join(lines))
