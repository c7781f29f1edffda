"""Trial arms, one small panel per trial: shared by the two notebook figures that draw
response rates arm by arm (``figure_onset_detail``, ``figure_single_dose``).

Cold readers of one crowded panel with a 17-entry legend could not pair a drug arm with
its own comparison arm, nor tell two trials apart. So each trial gets its own panel, in
the drug's colour; within it, a drug arm is a filled marker on a solid line and its
comparison arm an open marker on a dotted line, each named at its last point. Results at
the end of a course of repeated doses, one per trial, are drawn in a panel of their own as
a "dumbbell" per trial: the comparison arm (open) joined to the drug arm(s) (filled) on a
shared percentage scale, the trial named above it. The numbers these panels draw are the
rows they are given; the figure modules compute which rows those are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .computed import DataRow, after_words, fmt
from .data import Point


@dataclass(frozen=True)
class Arm:
    """One arm of one trial, over time."""

    label: str  # its name at its last point: "ketamine", "saline", "84 mg"
    rows: tuple[Point, ...]
    drug: bool  # a drug arm (filled, solid) or a comparison arm (open, dotted)
    marker: str = "o"
    joined: bool = True  # visits of one arm are joined; two far-apart results are not

    @property
    def study_key(self) -> str:
        return self.rows[0].study_key


@dataclass(frozen=True)
class TrialPanel:
    """One trial's arms over time (or one pooled analysis' arms)."""

    title: str  # what is compared, in plain words, with the people behind it
    arms: tuple[Arm, ...]
    drug_class: str  # the colour of the panel's marks

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(p for a in self.arms for p in a.rows)

    def words(self) -> str:
        """The panel in the alt text: each arm's numbers, with their times."""
        return "; ".join(
            f"{a.label}: " + ", ".join(f"{fmt(p.value)}% {after_words(p)}" for p in a.rows)
            for a in self.arms
        )


def end_lines(title: str, ends: Sequence[EndResult], *, narrow: bool) -> float:
    """Lines of text the end-of-course panel holds: its heading, and each row's words
    and its marks (the layout sizes the panel by them)."""
    from .drawing import wrap

    rows = sum(len(wrap(e.row or f"{e.trial}: {e.what}", 48).splitlines()) + 1.6 for e in ends)
    return len(wrap(title, 44 if narrow else 40).splitlines()) + rows


@dataclass(frozen=True)
class EndResult:
    """One trial's result at the end of a course: its comparison arm and drug arm(s)."""

    trial: str  # "TRANSFORM-2"
    what: str  # "esketamine + new antidepressant vs placebo spray + new antidepressant"
    control: Point
    drugs: tuple[tuple[str, Point], ...]  # ("56 mg", row), or ("", row) for one arm
    row: str = ""  # the words on its row, where the panel's heading says the rest

    @property
    def rows(self) -> tuple[Point, ...]:
        return (*(p for _, p in self.drugs), self.control)

    @property
    def ahead(self) -> bool:
        return all(p.value > self.control.value for _, p in self.drugs)

    def words(self) -> str:
        drugs = ", ".join(
            f"{fmt(p.value)}%" + (f" ({name})" if name else "") for name, p in self.drugs
        )
        return f"{self.row or f'{self.trial}, {self.what}'}: {drugs} vs {fmt(self.control.value)}%"


#: What the marks mean, in the key under the title (DejaVu Sans draws the two circles).
KEY = (
    "\u25cf filled marker, solid line: a drug arm\n"
    "\u25cb open marker, dotted line: its comparison arm"
)


# ---------------------------------------------------------------------- drawing


def time_panel(ax, panel: TrialPanel, t, rec, refs, *, narrow: bool, ylim: float) -> None:
    """One trial's arms on the time axis, each named at its last point; names that would
    overlap are moved apart, never onto another arm's line."""
    from .drawing import SMALL, cite, link_group, panel_title, source_words
    from .style import colour

    col = colour(t, panel.drug_class)
    ax.kt_panel = panel.title  # type: ignore[attr-defined]
    ax.set_ylim(0, ylim)
    ax.grid(True, axis="y")
    panel_title(ax, panel.title, t, 44 if narrow else 40)
    ends = []
    for a in panel.arms:
        xs = [p.timepoint_hours for p in a.rows]
        ys = [p.value for p in a.rows]
        (ln,) = ax.plot(
            xs,
            ys,
            color=col,
            linestyle=("-" if a.drug else (0, (1.2, 1.6))) if a.joined else "none",
            linewidth=1.8 if a.drug else 1.6,
            marker=a.marker,
            markersize=6.5,
            markerfacecolor=col if a.drug else t.background,
            markeredgecolor=col,
            markeredgewidth=1.4,
            zorder=3 if a.drug else 2.5,
            label=a.label,
        )
        ln.kt_points = a.rows  # type: ignore[attr-defined]
        title = (
            f"{cite(a.study_key, refs)}: {panel.title}, {a.label}: "
            + "; ".join(f"{fmt(p.value)}% {p.timepoint_label}" for p in a.rows)
            + ". "
            + source_words(a.rows)
        )
        link_group(ax, xs, ys, a.rows, refs, title, join=a.joined)
        rec.add(a.rows)
        ends.append((a, xs[-1], ys[-1]))
    # Names at the last points, pushed apart to at least one line of text. The layout
    # has not run yet: the panel will be about 0.6 of its grid cell's height (headings,
    # tick labels), so a line of text is this many units of the vertical axis.
    ax_height_pt = ax.get_position().height * ax.figure.get_figheight() * 72 * 0.6
    gap = SMALL * 1.25 * ylim / max(ax_height_pt, 1.0)
    ends.sort(key=lambda e: e[2])
    for (a, x, y), at in zip(ends, spread([y for _, _, y in ends], gap), strict=True):
        # A name moved off its point's height gets a thin leader to that point, so it
        # cannot be read as the name of the arm it now sits beside.
        moved = abs(at - y) > 0.35 * gap
        ax.annotate(
            a.label,
            (x, y),
            xytext=(14 if moved else 7, at),
            textcoords=("offset points", "data"),
            ha="left",
            va="center",
            fontsize=SMALL,
            color=t.text,
            fontweight="bold" if a.drug else "normal",
            annotation_clip=False,
            arrowprops=(
                {"arrowstyle": "-", "color": col, "linewidth": 0.8, "shrinkA": 1, "shrinkB": 4}
                if moved
                else None
            ),
        )


def spread(ys: Sequence[float], gap: float) -> list[float]:
    """Label heights for points at ``ys`` (ascending): in the same order, at least ``gap``
    apart, each group of crowded labels centred on its points, none below half a gap."""
    groups: list[list[float]] = []  # [mean of the points, number of labels]
    for y in ys:
        groups.append([y, 1])
        while len(groups) > 1:
            (m1, n1), (m2, n2) = groups[-2], groups[-1]
            if (m2 - (n2 - 1) * gap / 2) - (m1 + (n1 - 1) * gap / 2) >= gap:
                break
            groups[-2:] = [[(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2]]
    out: list[float] = []
    for mean, n in groups:
        start = max(mean - (n - 1) * gap / 2, out[-1] + gap if out else gap / 2)
        out += [start + i * gap for i in range(int(n))]
    return out


def between(ax, arm: Arm, panel: TrialPanel, t) -> None:
    """Words between two results that no line joins: there are no data between them
    (once per panel, halfway up between its results)."""
    from .drawing import SMALL

    if arm.joined or len(arm.rows) < 2:
        return
    a, b = arm.rows[0].timepoint_hours, arm.rows[-1].timepoint_hours
    ax.text(
        (a * b) ** 0.5,
        (min(p.value for p in panel.rows) + max(p.value for p in panel.rows)) / 2,
        "no data\nbetween",
        ha="center",
        va="center",
        linespacing=1.1,
        fontsize=SMALL,
        color=t.text,
    )


def end_panel(ax, title: str, ends: Sequence[EndResult], t, rec, refs, *, narrow: bool) -> None:
    """End-of-course results, one row per trial: the comparison arm (open) joined to its
    drug arm(s) (filled), on a 0-100% scale, with the trial and the numbers beside."""
    from .drawing import SMALL, cite, link_group, panel_title, source_words, wrap
    from .style import colour

    ax.kt_panel = title  # type: ignore[attr-defined]
    panel_title(ax, title, t, 44 if narrow else 40)
    labels = [wrap(e.row or f"{e.trial}: {e.what}", 48) for e in ends]
    # Each row: its words, then its marks just under them, then a wider gap before the
    # next row's words, so each name sits with its own row (in lines of text).
    sizes = [len(label.splitlines()) + 2.2 for label in labels]
    total = sum(sizes)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, total)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.grid(True, axis="x")
    ax.set_xlabel("Response, % of patients", fontsize=SMALL)
    top = total
    for e, label, size in zip(ends, labels, sizes, strict=True):
        y = top - 0.7 - len(label.splitlines())
        col = colour(t, e.drugs[0][1].drug_class)
        values = [p.value for _, p in e.drugs]
        (bar,) = ax.plot([e.control.value, max(values)], [y, y], color=col, linewidth=1.6, zorder=2)
        bar.kt_points = e.rows  # type: ignore[attr-defined]
        (c,) = ax.plot(
            [e.control.value],
            [y],
            linestyle="none",
            marker="o",
            markersize=7,
            markerfacecolor=t.background,
            markeredgecolor=col,
            markeredgewidth=1.5,
            zorder=3,
        )
        c.kt_points = (e.control,)  # type: ignore[attr-defined]
        (d,) = ax.plot(
            values,
            [y] * len(values),
            linestyle="none",
            marker="o",
            markersize=7,
            markerfacecolor=col,
            markeredgecolor=col,
            zorder=3,
        )
        d.kt_points = tuple(p for _, p in e.drugs)  # type: ignore[attr-defined]
        ax.text(
            1,
            top - 0.15,
            label,
            ha="left",
            va="top",
            fontsize=SMALL,
            color=t.text,
            linespacing=1.1,
        )
        ax.annotate(
            f"{fmt(e.control.value)}%",
            (e.control.value, y),
            xytext=(-7, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=SMALL,
            color=t.text,
        )
        sep = "\n" if len(e.drugs) > 1 else ", "
        drugs = sep.join(f"{fmt(p.value)}%" + (f" ({name})" if name else "") for name, p in e.drugs)
        ax.annotate(
            drugs,
            (max(values), y),
            xytext=(7, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=SMALL,
            color=t.text,
            fontweight="bold",
            linespacing=1.1,
        )
        xs = sorted([e.control.value, *values])
        link_group(
            ax,
            xs,
            [y] * len(xs),
            e.rows,
            refs,
            f"{cite(e.control.study_key, refs)}: {e.words()}. {source_words(e.rows)}",
            join=True,
        )
        rec.add(e.rows)
        top -= size


def arm_table_rows(panels: Sequence[TrialPanel], ends: Sequence[EndResult]) -> list[DataRow]:
    """The data table's rows for trial panels and end-of-course results: one per number
    drawn, in drawing order."""

    def row(shown: str, p: Point) -> DataRow:
        return DataRow(
            shown,
            after_words(p).removeprefix("at "),
            f"{fmt(p.value)}% responded",
            str(p.n or "not stated"),
            p.study_key,
            p.source_location,
            p.is_partly,
        )

    out = [row(f"{tp.title}: {a.label}", p) for tp in panels for a in tp.arms for p in a.rows]
    for e in ends:
        for name, p in (*e.drugs, ("comparison arm", e.control)):
            out.append(row(f"{e.trial}: {e.what}" + (f" ({name})" if name else ""), p))
    return out
