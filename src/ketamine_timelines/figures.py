"""One registry of the book's figures: what each computes, draws, says and lists.

Each figure lives in its own module (``figure_onset``, ``figure_onset_detail``,
``figure_single_dose``, ``figure_treatment_day``) as a function that computes one frozen
object from the data set and a function that draws that object. The caption, the alt text
and the "Data behind this figure" table are methods of the same object, so every number
they state is a number the figure draws. Chapters (through the ``timeline-figure``
directive) and notebooks (through :func:`figure`) both take them from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from .bib import Reference, load_bib
from .computed import PARTLY_WORDS, DataRow
from .data import Point, load_points
from .figure_onset import draw as draw_onset
from .figure_onset import onset_headline
from .figure_onset_detail import draw as draw_onset_detail
from .figure_onset_detail import onset_detail
from .figure_single_dose import draw as draw_single_dose
from .figure_single_dose import single_dose
from .figure_treatment_day import draw as draw_treatment_day
from .figure_treatment_day import treatment_day
from .outputs import cite
from .tables import markdown_text


class FigureData(Protocol):
    """What every figure computes: the rows drawn and the words about them."""

    @property
    def rows(self) -> tuple[Point, ...]: ...

    def title(self) -> str: ...

    def caption(self) -> str: ...

    def alt(self) -> str: ...

    def table(self) -> list[DataRow]: ...

    def numbers(self) -> set[float]: ...


@dataclass(frozen=True)
class FigureSpec:
    name: str
    compute: Callable[[Sequence[Point]], FigureData]
    draw: Callable[..., Any]  # (data, theme, *, refs=None, narrow=False) -> Figure
    narrow: bool = True  # the figure has a phone layout

    def data(self, points: Sequence[Point]) -> FigureData:
        return self.compute(points)

    def plot(self, points: Sequence[Point], theme: str = "light", **kw: Any) -> Any:
        return self.draw(self.compute(points), theme, **kw)

    def caption(self, points: Sequence[Point]) -> str:
        return self.compute(points).caption()

    def alt(self, points: Sequence[Point]) -> str:
        return self.compute(points).alt()


FIGURES: dict[str, FigureSpec] = {
    "onset": FigureSpec("onset", onset_headline, draw_onset),
    "onset-detail": FigureSpec("onset-detail", onset_detail, draw_onset_detail),
    "single-dose": FigureSpec("single-dose", single_dose, draw_single_dose),
    "treatment-day": FigureSpec("treatment-day", treatment_day, draw_treatment_day),
}


def get_spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"no figure {name!r}; the book's figures are {', '.join(FIGURES)}") from None


def drawn_points(name: str, points: Sequence[Point]) -> tuple[Point, ...]:
    """The rows a figure draws (its computed object's rows, in drawing order)."""
    return tuple(get_spec(name).compute(points).rows)


# ---------------------------------------------------------------- data table


def _cell(text: str) -> str:
    # A pipe inside a cell would split the Markdown table.
    return text.replace("|", "/").replace("\n", " ")


def _link(ref: Reference | None) -> str:
    """The source's address, readable on paper too: 'doi:10.1/x', 'PMID 123', the label."""
    if ref is None or not ref.url:
        return ""
    if ref.doi:
        return f"[doi:{ref.doi}]({ref.url})"
    if ref.pmid:
        return f"[PMID {ref.pmid}]({ref.url})"
    return f"[{ref.url.split('//', 1)[-1].split('/', 1)[0]}]({ref.url})"


DATA_TITLE = "Data behind this figure"


def data_table_markdown(
    rows: Sequence[DataRow],
    refs: Mapping[str, Reference] | None = None,
    *,
    title: str = DATA_TITLE,
) -> str:
    """The "Data behind this figure" disclosure as MyST Markdown: a dropdown (``<details>``
    on the web; open, as a heading and a table, in the PDF and the EPUB) holding every
    drawn number, the people behind it and a link to its source. A numbered figure's
    table says "Data behind Figure 3.1" (``title``): in the PDF a figure may float to the
    next page."""
    from .outputs import for_the_book, markdown_citation

    refs = refs if refs is not None else load_bib()
    book = for_the_book()  # MyST for the book's build, CommonMark for a reader's Jupyter
    lines = [f"::::{{dropdown}} {title}", ":class-container: kt-data", ""] if book else []
    if not book:
        lines += [f"**{title}**", ""]
    lines += ["| Shown | When | Number | People | Source |", "|---|---|---|---|---|"]
    for r in rows:
        # Text from the data set (labels, where a number stands) is escaped for MyST: it
        # reaches the page as itself, never as a link, role, tag or table cell (issue 23).
        where = markdown_text(r.where + (f" ({PARTLY_WORDS})" if r.partly else ""))
        link = _link(refs.get(r.study_key))
        who = f"{{cite:t}}`{r.study_key}`" if book else markdown_citation([r.study_key], refs=refs)
        source = f"{who}, {where}" + (f"; {link}" if link else "")
        cells = [markdown_text(c) for c in (r.what, r.when, r.number, r.people)]
        lines.append("| " + " | ".join((*cells, _cell(source))) + " |")
    lines += ["::::", ""] if book else [""]
    return "\n".join(lines)


# ---------------------------------------------------------------- notebooks


def figure(name: str, points: Sequence[Point] | None = None) -> Any:
    """A notebook's figure: both themes, a phone layout, caption, alt text and data table
    from one computed object."""
    from .display import ThemedFigure

    spec = get_spec(name)
    pts = list(points) if points is not None else load_points()
    data = spec.compute(pts)

    def build(theme: str, narrow: bool = False) -> Any:
        return spec.draw(data, theme, narrow=narrow)

    shown = data.rows
    tf = ThemedFigure(
        build,
        alt=data.alt(),
        caption=data.caption(),
        narrow=partial(build, narrow=True) if spec.narrow else None,
        note=cite(_study_keys(shown)),
        data_table=data_table_markdown(data.table()),
    )
    tf.source_points = tuple(shown)
    if points is None or pts == load_points():  # a figure of the whole data set
        from .figstore import slot

        tf.shared = slot(name)
    return tf


def studies_note(pts: Sequence[Point], refs: dict[str, Reference] | None = None) -> str:
    """'Sources: Daly et al. 2018; ...' for the figure note (PDF and EPUB have no links)."""
    refs = refs if refs is not None else load_bib()
    keys = list(dict.fromkeys(p.study_key for p in pts))
    keys.sort(key=lambda k: (refs[k].year if k in refs else "", k))
    return "; ".join(refs[k].short if k in refs else k for k in keys)


def _study_keys(pts: Sequence[Point]) -> list[str]:
    refs = load_bib()
    keys = list(dict.fromkeys(p.study_key for p in pts))
    keys.sort(key=lambda k: (refs[k].year if k in refs else "", k))
    return keys
