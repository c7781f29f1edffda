"""Drawing helpers shared by the book's figures (one module per figure: ``figure_*.py``).

Traceability contract (tests rely on it):

* ``fig.source_points`` is a tuple of every :class:`~ketamine_timelines.data.Point`
  drawn, in drawing order, so a sources table can be built from exactly these rows;
* every data artist carries ``artist.kt_points``, the Points it draws, and, where it draws
  a number that is not a row's own value (a difference of two rows), ``artist.kt_values``;
  reference artists (zero line, "not measured" areas) carry ``artist.kt_reference = True``;
* every panel (Axes) that draws data carries ``ax.kt_panel``, the words the alt text uses
  for it.

Links: each series (or event) is one link to its study, with one tooltip listing its
numbers, drawn as an invisible hit area over the visible marks (:func:`link_group`): one
tab stop per series, and a target of at least 24 CSS px on a phone (WCAG 2.2, 2.5.8).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from .bib import Reference, load_bib
from .computed import PARTLY_WORDS, fmt
from .data import Point
from .legend import summarise
from .style import LINESTYLES, MARKERS, MIN_FONT_PT, NARROW_WIDTH_IN, WIDE_WIDTH_IN, Theme, colour

SMALL = MIN_FONT_PT
NARROW_WIDTH, WIDE_WIDTH = NARROW_WIDTH_IN, WIDE_WIDTH_IN
Refs = Mapping[str, Reference]

#: Diameter of a link's invisible hit area, in points: 24 pt is 27.8 CSS px in the phone
#: layout (1.16 px/pt) and 29.5 px in the wide one, above WCAG 2.2's 24 px target size.
HIT_PT = 24.0


def refs_or_bib(refs: Refs | None) -> Refs:
    if refs is not None:
        return refs
    try:
        return load_bib()
    except (FileNotFoundError, OSError):
        # Labels fall back to keys; plotting must not depend on the bib being present.
        return {}


def cite(key: str, refs: Refs) -> str:
    ref = refs.get(key)
    return ref.short if ref is not None else key


def unit_words(p: Point) -> str:
    return {"%": "%", "pp": " per 100", "points": " points", "mmHg": " mmHg"}.get(
        p.unit, f" {p.unit}"
    )


def point_words(p: Point) -> str:
    """One drawn number in words: arm, n, time, value."""
    n = f", n = {p.n}" if p.n else ""
    return f"{p.treatment}{n}, {p.timepoint_label}: {fmt(p.value)}{unit_words(p)}"


def source_words(pts: Sequence[Point]) -> str:
    """'Source: Table 1; Abstract (read in a secondary summary).' for a tooltip."""
    where = "; ".join(dict.fromkeys(p.source_location for p in pts))
    partly = f" ({PARTLY_WORDS})" if any(p.is_partly for p in pts) else ""
    return f"Source: {where}{partly}."


class Recorder:
    """Collects the Points a figure draws, without duplicates, in drawing order."""

    def __init__(self, refs: Refs | None = None) -> None:
        self.refs: Refs = refs or {}
        self.points: list[Point] = []
        self._ids: set[str] = set()

    def add(self, pts: Iterable[Point]) -> None:
        for p in pts:
            if p.row_id not in self._ids:
                self._ids.add(p.row_id)
                self.points.append(p)


def finish(fig: Figure, rec: Recorder) -> Figure:
    fig.source_points = tuple(rec.points)  # type: ignore[attr-defined]
    return fig


def link_group(
    ax: Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    pts: Sequence[Point],
    refs: Refs,
    title: str,
    *,
    transform: Any = None,
    join: bool = True,
) -> Line2D | None:
    """One invisible artist over a series: a link to the study of ``pts`` whose tooltip is
    ``title``. Its markers (and, with ``join``, its line) are HIT_PT wide and fully
    transparent; display.link_titles turns it into one ``<a>`` with a ``<title>``."""
    ref = refs.get(pts[0].study_key) if pts else None
    url = ref.url if ref is not None else None
    if not url:
        return None
    (hit,) = ax.plot(
        list(xs),
        list(ys),
        transform=transform or ax.transData,
        linestyle="-" if join and len(xs) > 1 else "none",
        linewidth=HIT_PT,
        solid_capstyle="round",
        solid_joinstyle="round",
        marker="o",
        markersize=HIT_PT,
        color="#000000",
        alpha=0.0,
        zorder=6,
        clip_on=False,
    )
    hit.kt_reference = True  # type: ignore[attr-defined]  (a hit area, not data)
    hit.kt_hit = True  # type: ignore[attr-defined]
    fig = ax.figure
    titles = fig.__dict__.setdefault("kt_titles", {})
    gid = f"ktpt{len(titles)}"
    titles[gid] = title
    hit.set_gid(gid)
    hit.set_url(url)
    return hit


def series(
    ax: Axes,
    pts: Sequence[Point],
    theme: Theme,
    rec: Recorder,
    label: str,
    *,
    drug_class: str | None = None,
    line: bool = True,
    marker: str | None = None,
    markersize: float = 6.0,
    x_of=lambda p: p.timepoint_hours,
    dodge_points: float = 0.0,
) -> Line2D | None:
    """Plot one trial arm as one linked series; partly-verified rows get open markers,
    reported uncertainty gets error bars.

    dodge_points shifts the drawing sideways on the page (data x is untouched, so the
    artist still holds the true time) when two series share a time point.
    """
    pts = sorted(pts, key=lambda p: p.timepoint_hours)
    if not pts:
        return None
    cls = drug_class or pts[0].drug_class
    col = colour(theme, cls)
    mk = marker or MARKERS[cls]
    xs = [x_of(p) for p in pts]
    ys = [p.value for p in pts]
    tf = (
        offset_copy(ax.transData, fig=ax.figure, x=dodge_points, y=0, units="points")
        if dodge_points
        else ax.transData
    )
    (ln,) = ax.plot(
        xs,
        ys,
        transform=tf,
        color=col,
        linestyle=LINESTYLES[cls] if line else "none",
        linewidth=1.6,
        marker=mk,
        markersize=markersize,
        markerfacecolor=col,
        markeredgecolor=col,
        label=label,
        zorder=3,
    )
    ln.kt_points = tuple(pts)  # type: ignore[attr-defined]
    for p, x in zip(pts, xs, strict=True):
        iv = p.interval()
        if iv is not None:
            (bar,) = ax.plot(
                [x, x],
                list(iv),
                color=col,
                linewidth=1.1,
                zorder=2,
                solid_capstyle="butt",
                transform=tf,
            )
            bar.kt_points = (p,)  # type: ignore[attr-defined]
        if p.is_partly:
            # Open marker on top: "read in a secondary summary" at a glance.
            o = ax.plot(
                [x],
                [p.value],
                linestyle="none",
                marker=mk,
                markersize=markersize,
                markerfacecolor=theme.background,
                markeredgecolor=col,
                zorder=4,
                transform=tf,
            )[0]
            o.kt_points = (p,)  # type: ignore[attr-defined]
    title = (
        f"{cite(pts[0].study_key, rec.refs)}: "
        + "; ".join(point_words(p) for p in pts)
        + ". "
        + source_words(pts)
    )
    link_group(ax, xs, ys, pts, rec.refs, title, transform=tf, join=line)
    rec.add(pts)
    return ln


def partly_handle(theme: Theme) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markerfacecolor=theme.background,
        markeredgecolor=theme.text,
        label=f"open marker: {PARTLY_WORDS}",
    )


def zero_line(ax: Axes, theme: Theme) -> None:
    z = ax.axhline(0, color=theme.muted, linewidth=0.9, zorder=1)
    z.kt_reference = True  # type: ignore[attr-defined]


def wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def panel_title(ax: Axes, text: str, theme: Theme, width: int, *, bold: bool = True) -> None:
    """A panel's heading, at its top left, wrapped to ``width`` characters."""
    ax.set_title(
        wrap(text, width),
        loc="left",
        fontsize=SMALL + 0.5,
        fontweight="bold" if bold else "normal",
        color=theme.text,
        pad=4,
        linespacing=1.1,
    )


def legend_below(
    ax: Axes,
    handles: Sequence[Any],
    ncol: int = 2,
    bbox: float = -0.16,
    *,
    narrow: bool = False,
    **kw: Any,
) -> None:
    # Below the axes rather than beside them, so the plotting area keeps the page width.
    handles = summarise(handles)  # each entry once, at most MAX_ENTRIES (legend.py)
    ax.legend(
        handles=handles,
        labels=[wrap(h.get_label(), 40 if narrow else 42) for h in handles],
        ncol=1 if narrow else ncol,
        loc="upper left",
        bbox_to_anchor=(0.0, bbox),
        fontsize=SMALL,
        borderaxespad=0.0,
        **kw,
    )


def figure_title(fig: Figure, text: str, theme: Theme, *, narrow: bool, subtitle: str = "") -> None:
    """The figure's own title line: its takeaway, in words, at the top left; a phone's
    title is a little smaller, so that it stays within three lines. A subtitle (what the
    vertical axis measures, in plain words) stands under it, above the first panel."""
    fig.suptitle(
        wrap(text, 47 if narrow else 88),
        x=0.01,
        ha="left",
        fontsize=SMALL + (1.5 if narrow else 2),
        fontweight="bold",
        color=theme.text,
        linespacing=1.2,
    )
    if subtitle:
        # Under the title, exactly (anchored to its box when drawn); the top panel's
        # heading starts with as many empty lines, so that the layout keeps room for it.
        lines = [
            line
            for part in subtitle.split("\n")
            for line in wrap(part, 54 if narrow else 104).splitlines()
        ]
        # The topmost panel (the leftmost of a row), by where the layout will put it.
        top = max(fig.axes, key=lambda a: (a.get_position().y1, -a.get_position().x0))
        heading = next(
            (x for x in (top.title, top._left_title, top._right_title) if x.get_text()),
            top._left_title,
        )
        heading.set_text("\n" * (len(lines) + 1) + heading.get_text())
        note = top.annotate(
            "\n".join(lines),
            (0.0, 0.0),
            xycoords=fig._suptitle,
            xytext=(0, -5),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=SMALL + 0.5,
            color=theme.text,
            linespacing=1.15,
            annotation_clip=False,
        )
        note.set_in_layout(False)


def note_below(ax: Axes, text: str, theme: Theme, *, narrow: bool, pad: float = -40) -> None:
    """A note under the bottom panel, below its axis label, in the figure's smallest text;
    wrapped so that no word stands alone on its last line."""
    width = 54 if narrow else 104
    lines = textwrap.wrap(text, width)
    if len(lines) > 1 and len(lines[-1]) < 12:
        lines = textwrap.wrap(text, width - 8)
    note = ax.annotate(
        "\n".join(lines),
        (0, 0),
        xycoords="axes fraction",
        xytext=(0, pad),
        textcoords="offset points",
        fontsize=SMALL,
        color=theme.text,
        ha="left",
        va="top",
        linespacing=1.15,
    )
    note.set_in_layout(True)


def time_axes_grid(
    n_time: int,
    end: bool,
    *,
    narrow: bool,
    xlim: tuple[float, float],
    ticks: Sequence[tuple[float, str]],
    strip: bool = False,
    end_lines: float = 12.0,
) -> tuple[Figure, list[Axes], Axes | None] | tuple[Figure, list[Axes], Axes | None, Axes]:
    """A figure of small panels: ``n_time`` panels on one logarithmic time axis (each with
    its own tick labels, so that each reads on its own), then, with ``end``, a panel for
    end-of-course results, tall enough for ``end_lines`` lines of text (its heading, its
    rows' words and marks); with ``strip``, a strip above all of them. Two columns on a
    laptop, one on a phone."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    n = n_time + (1 if end else 0)
    if narrow:
        end_h = 0.19 * end_lines + 0.55
        heights = ([2.0] if strip else []) + [1.7] * n_time + ([end_h] if end else [])
        fig = plt.figure(
            figsize=(NARROW_WIDTH, sum(heights) + 0.75 * n + 1.6), layout="constrained"
        )
        gs = fig.add_gridspec(len(heights), 1, height_ratios=heights)
        cells = [gs[i, 0] for i in range(len(heights))]
        strip_cell = cells.pop(0) if strip else None
    else:
        rows = (n + 1) // 2
        heights = ([1.75] if strip else []) + [2.3] * rows
        if end:  # the end panel's row: as tall as its words need
            heights[-1] = max(heights[-1], 0.17 * end_lines + 0.55)
        fig = plt.figure(
            figsize=(WIDE_WIDTH, sum(heights) + 0.3 * rows + 1.3), layout="constrained"
        )
        # The strip has a row of its own and the panels a grid nested under it: a strip
        # spanning both columns of the panels' grid gave the layout last-bit float
        # differences from run to run, and so SVG clip ids that changed.
        outer = fig.add_gridspec(
            2 if strip else 1, 1, height_ratios=[heights[0], sum(heights[1:])] if strip else None
        )
        gs = outer[-1].subgridspec(rows, 2)
        cells = [gs[i // 2, i % 2] for i in range(n)]
        strip_cell = outer[0] if strip else None
    axes = [fig.add_subplot(cells[i]) for i in range(n_time)]
    end_ax = fig.add_subplot(cells[n_time]) if end else None
    # Small panels: tick labels on two lines, so that "1 week" and "4 weeks" both fit.
    labels = [lab.replace(" ", "\n") for _, lab in ticks]
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlim(*xlim)
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in ticks]))
        ax.xaxis.set_major_formatter(FixedFormatter(labels))
        ax.xaxis.set_minor_locator(FixedLocator([2, 4, 8, 12, 48, 72, 120, 336, 504]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_xlabel("Time after the first dose", fontsize=SMALL)
    if strip_cell is not None:
        strip_ax = fig.add_subplot(strip_cell)
        strip_ax.set_xscale("log")
        strip_ax.set_xlim(*xlim)
        strip_ax.tick_params(axis="x", which="both", labelbottom=False, length=0)
        return fig, axes, end_ax, strip_ax
    return fig, axes, end_ax
