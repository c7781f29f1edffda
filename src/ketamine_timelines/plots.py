"""Figures for the book. Each function returns a matplotlib Figure and draws only rows
of the data set.

Traceability contract (tests rely on it):

* ``fig.source_points`` is a tuple of every :class:`~ketamine_timelines.data.Point`
  drawn, in drawing order, so a sources table can be built from exactly these rows;
* every data artist (series line or event marker) carries ``artist.kt_points``, the
  Points it draws; reference artists (zero line) carry ``artist.kt_reference = True``.

Lines join visits of one trial arm only: joining different studies would invent a curve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter
from matplotlib.transforms import offset_copy

from .bib import Reference, load_bib
from .data import Point, select
from .legend import summarise
from .style import (
    LINESTYLES,
    MARKERS,
    MIN_FONT_PT,
    NARROW_WIDTH_IN,
    WIDE_WIDTH_IN,
    Theme,
    colour,
    themed,
)
from .timeaxis import MAJOR_TICKS, WEEK, apply_time_axis

SMALL = MIN_FONT_PT
Refs = Mapping[str, Reference]

#: The plots stop at 16 weeks: no row lies later, and the 12-week tick stays visible.
XMAX_PLOT = 16 * WEEK


# ---------------------------------------------------------------- helpers


def _refs(refs: Refs | None) -> Refs:
    if refs is not None:
        return refs
    try:
        return load_bib()
    except (FileNotFoundError, OSError):
        # Labels fall back to keys; plotting must not depend on the bib being present.
        return {}


def _cite(key: str, refs: Refs) -> str:
    ref = refs.get(key)
    return ref.short if ref is not None else key


def _fmt(x: float) -> str:
    return f"{x:g}"


def point_title(p: Point, refs: Refs, *, extra: str = "") -> str:
    """Tooltip of one plotted number: study, arm, n, time, value and where it stands."""
    n = f", n = {p.n}" if p.n else ""
    unit = {"%": "%", "pp": " percentage points", "points": " points", "mmHg": " mmHg"}.get(
        p.unit, f" {p.unit}"
    )
    partly = " (read in a secondary source)" if p.is_partly else ""
    return (
        f"{_cite(p.study_key, refs)}: {p.treatment}{n}. {p.timepoint_label}: "
        f"{_fmt(p.value)}{unit}{extra}. Source: {p.source_location}{partly}."
    )


def _link(ax: Axes, art: Any, pts: Sequence[Point], refs: Refs, title: str) -> None:
    """Make a drawn marker a link to its study (DOI, else PubMed) with a tooltip; display.render
    writes the tooltip into the SVG as the link's <title>."""
    ref = refs.get(pts[0].study_key)
    url = ref.url if ref is not None else None
    if not url:
        return
    fig = ax.figure
    titles = fig.__dict__.setdefault("kt_titles", {})
    gid = f"ktpt{len(titles)}"
    titles[gid] = title
    art.set_gid(gid)
    art.set_url(url)


def _linked_markers(
    ax: Axes, pts: Sequence[Point], xs: Sequence[float], refs: Refs, *, transform=None, **style
) -> None:
    """A clickable copy of each marker over the series line (open markers of partly verified
    rows stay on top, and link too)."""
    for p, x in zip(pts, xs, strict=True):
        (m,) = ax.plot(
            [x],
            [p.value],
            linestyle="none",
            zorder=3.5,
            transform=transform or ax.transData,
            **style,
        )
        m.kt_points = (p,)  # type: ignore[attr-defined]
        _link(ax, m, [p], refs, point_title(p, refs))


class _Recorder:
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


def _series(
    ax: Axes,
    pts: Sequence[Point],
    theme: Theme,
    rec: _Recorder,
    label: str,
    *,
    drug_class: str | None = None,
    line: bool = True,
    marker: str | None = None,
    markersize: float = 6.0,
    x_of=lambda p: p.timepoint_hours,
    dodge_points: float = 0.0,
) -> Line2D | None:
    """Plot one trial arm; partly-verified rows get open markers, reported uncertainty
    gets error bars.

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
    _linked_markers(
        ax,
        pts,
        xs,
        rec.refs,
        transform=tf,
        marker=mk,
        markersize=markersize,
        markerfacecolor=col,
        markeredgecolor=col,
    )
    for p, x in zip(pts, xs, strict=False):
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
            # Open marker on top: "read in a secondary source" at a glance.
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
            _link(ax, o, [p], rec.refs, point_title(p, rec.refs))
    rec.add(pts)
    return ln


def _event_markers(
    axes: Sequence[Axes], events: Sequence[Point], theme: Theme, rec: _Recorder, refs: Refs
) -> list[Any]:
    """Vertical lines (single times) or spans (ranges) for time-to-event rows."""
    styles = {
        "time_to_superiority": ":",
        "time_to_peak_effect": "-",
        "time_to_onset_of_improvement": "--",
        "time_to_response": "-.",
        "time_to_adverse_event_resolution": (0, (1, 1)),
    }
    words = {
        "time_to_superiority": "first better than placebo",
        "time_to_peak_effect": "peak effect",
        "time_to_loss_of_superiority": "no longer better than placebo",
        "time_to_onset_of_improvement": "mean onset of improvement",
        "time_to_response": "mean time to response",
        "time_to_adverse_event_resolution": "side effects resolved",
    }
    who = {
        "ketamine_iv": "Ketamine",
        "esketamine_in": "Esketamine",
        "antidepressant_pooled": "Antidepressants",
        "drug_and_placebo_pooled": "Improvers on a drug or placebo",
    }
    handles = []
    for p in events:
        v, lo, hi = p.event_hours()
        col = colour(theme, p.drug_class)
        label = (
            f"{who.get(p.drug_class, p.drug_class)}: {words[p.measure]}, "
            f"{p.timepoint_label} ({_cite(p.study_key, refs)})"
        )
        for ax in axes:
            if lo != hi:
                art = ax.axvspan(lo, hi, color=col, alpha=0.18, linewidth=0, zorder=1)
            else:
                # Thin and faded: a reference, not data, and must not read as an error bar.
                art = ax.axvline(
                    v, color=col, linestyle=styles[p.measure], linewidth=1.0, alpha=0.7, zorder=1
                )
            art.kt_points = (p,)  # type: ignore[attr-defined]
            _link(ax, art, [p], refs, point_title(p, refs))
        handles.append(
            Patch(color=col, alpha=0.3, label=label)
            if lo != hi
            else Line2D([], [], color=col, linestyle=styles[p.measure], label=label)
        )
    rec.add(events)
    return handles


def _partly_handle(theme: Theme) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markerfacecolor=theme.background,
        markeredgecolor=theme.text,
        label="open marker: number read in a secondary source",
    )


def _finish(fig: Figure, rec: _Recorder) -> Figure:
    fig.source_points = tuple(rec.points)  # type: ignore[attr-defined]
    return fig


def _panel_note(ax: Axes, theme: Theme, text: str) -> None:
    """A note in a panel's top right corner: what the panel does not show, and why."""
    ax.text(
        0.99,
        0.96,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=SMALL,
        color=theme.text,
    )


def _zero_line(ax: Axes, theme: Theme) -> None:
    z = ax.axhline(0, color=theme.muted, linewidth=0.9, zorder=1)
    z.kt_reference = True  # type: ignore[attr-defined]


def _wrap(label: str, narrow: bool) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, 40 if narrow else 42)) or label


def _legend_below(
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
        labels=[_wrap(h.get_label(), narrow) for h in handles],
        ncol=1 if narrow else ncol,
        loc="upper left",
        bbox_to_anchor=(0.0, bbox),
        fontsize=SMALL,
        borderaxespad=0.0,
        **kw,
    )


def _narrow_time_axis(ax: Axes) -> None:
    """On a phone, "4 wk" and "12 wk" would touch: the last label goes."""
    labels = [label for _, label in MAJOR_TICKS]
    ax.xaxis.set_major_formatter(FixedFormatter([*labels[:-1], ""]))


def _arm_label(p: Point, refs: Refs, what: str) -> str:
    return f"{_cite(p.study_key, refs)}: {what}"


# ---------------------------------------------------------------- figure 1


def plot_onset(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None, narrow: bool = False
) -> Figure:
    """Detail behind the headline: response rate (MADRS-defined) by trial arm, every arm
    drawn, with the times reported by pooled analyses as vertical markers.

    Differences from control in MADRS points came from five populations with two kinds of
    error bar; they are in the sources table, not on a shared axis.
    """
    refs = _refs(refs)
    rec = _Recorder(refs)
    with themed(theme) as t:
        fig, ax_a = plt.subplots(
            figsize=(NARROW_WIDTH_IN, 12.5) if narrow else (WIDE_WIDTH_IN, 8.8),
            layout="constrained",
        )
        resp = select(
            points, measure="response_rate", scale="MADRS", timepoint_hours=lambda h: h > 0
        )

        def arm(key: str, **kw: object) -> list[Point]:
            return select(resp, study_key=key, **kw)

        # (rows, legend text, marker): the marker tells studies of one class apart,
        # while colour and line style keep encoding the drug class.
        series = [
            (arm("lii2023", arm="drug"), "IV ketamine, masked by anaesthesia (n 20)", "o"),
            (arm("lii2023", arm="control"), "saline, masked by anaesthesia (n 20)", "v"),
            (
                arm("daly2018", treatment=lambda s: s.startswith("esketamine 84")),
                "esketamine 84 mg + current antidepressant (n 12)",
                "s",
            ),
            (arm("daly2018", arm="control"), "placebo spray + current antidepressant (n 33)", "^"),
            (arm("turkoz2021", arm="drug"), "esketamine + new SSRI/SNRI (TRANSFORM-1/2)", "p"),
            (
                arm("turkoz2021", arm="control"),
                "new SSRI/SNRI + placebo spray (TRANSFORM-1/2)",
                "D",
            ),
        ]
        for pts, what, mk in series:
            if pts:
                _series(ax_a, pts, t, rec, _arm_label(pts[0], refs, what), marker=mk)
        # Single day-28 results of the separate TRANSFORM trials: markers, no lines.
        for cls, what in (
            ("esketamine_in", "esketamine + new SSRI/SNRI, day 28"),
            ("ssri_snri", "new SSRI/SNRI + placebo spray, day 28"),
        ):
            pts = select(
                resp, study_key={"popova2019", "fedgchin2019", "ochsross2020"}, drug_class=cls
            )
            if pts:
                who = "; ".join(sorted({_cite(p.study_key, refs) for p in pts}))
                _series(ax_a, pts, t, rec, f"{who}: {what}", line=False, marker="P", markersize=7)
        ax_a.set_ylim(0, 100)
        ax_a.set_ylabel("Response, % of patients\n(MADRS fell by at least 50%)")
        ax_a.grid(True, axis="y")

        events = select(
            points,
            study_key={"kishimoto2016", "stassen2007"},
            measure=lambda m: m.startswith("time_to_"),
        )
        ev_handles = _event_markers([ax_a], events, t, rec, refs)
        apply_time_axis(ax_a, xmax=XMAX_PLOT)
        if narrow:
            _narrow_time_axis(ax_a)
        _legend_below(
            ax_a,
            [*ax_a.get_legend_handles_labels()[0], _partly_handle(t), *ev_handles],
            ncol=2,
            bbox=-0.1 if narrow else -0.12,
            narrow=narrow,
        )
        return _finish(fig, rec)


# ---------------------------------------------------------------- figure 2


def plot_single_dose_course(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None, narrow: bool = False
) -> Figure:
    """What happens after one dose (24 h to day 14), with results after repeated doses
    drawn as end markers for comparison."""
    refs = _refs(refs)
    rec = _Recorder(refs)
    with themed(theme) as t:
        fig, ax = plt.subplots(
            figsize=(NARROW_WIDTH_IN, 10.5) if narrow else (WIDE_WIDTH_IN, 8.4),
            layout="constrained",
        )
        resp = select(points, measure="response_rate", timepoint_hours=lambda h: h > 0)
        _series(
            ax,
            select(resp, study_key="lii2023", arm="drug"),
            t,
            rec,
            f"{_cite('lii2023', refs)}: IV ketamine, masked by anaesthesia",
        )
        _series(
            ax,
            select(resp, study_key="lii2023", arm="control"),
            t,
            rec,
            f"{_cite('lii2023', refs)}: saline, masked by anaesthesia",
        )
        han = select(resp, study_key="han2016")
        _series(
            ax,
            han,
            t,
            rec,
            f"{_cite('han2016', refs)}: IV ketamine arms of 9 RCTs (pooled; scales mixed)",
            marker="H",
        )
        dose_markers = {"28": "<", "56": ">", "84": "s"}
        for dose, mk in dose_markers.items():
            pts = select(
                resp,
                study_key="daly2018",
                treatment=lambda s, d=dose: s.startswith(f"esketamine {d} mg"),
            )
            _series(
                ax,
                pts,
                t,
                rec,
                f"{_cite('daly2018', refs)}: esketamine {dose} mg (twice weekly)",
                marker=mk,
                markersize=5 + int(dose) / 28,
            )
        _series(
            ax,
            select(resp, study_key="daly2018", arm="control"),
            t,
            rec,
            f"{_cite('daly2018', refs)}: placebo spray",
        )
        # Repeated-dosing results: one end-of-course point per arm, never joined; each
        # trial's comparison arm (diamond) beside its drug arm (star).
        ends = select(
            resp,
            study_key={"anand2023", "popova2019", "fedgchin2019", "ochsross2020"},
        )
        trial = {
            "anand2023": "ELEKT-D",
            "popova2019": "TRANSFORM-2",
            "fedgchin2019": "TRANSFORM-1",
            "ochsross2020": "TRANSFORM-3, 65+",
        }
        for p in sorted(ends, key=lambda p: (p.study_key, p.arm != "drug", p.treatment)):
            scale = "" if p.scale == "MADRS" else f", {p.scale.replace('_', '-')}"
            if p.drug_class == "ketamine_iv":
                what = "IV ketamine x6 over 3 wk"
            elif p.arm == "control":
                what = "ECT" if p.drug_class == "other" else "new antidepressant + placebo"
            else:
                what = p.treatment.split(" + ")[0].replace(" intranasal", "")
            _series(
                ax,
                [p],
                t,
                rec,
                f"{_cite(p.study_key, refs)} ({trial[p.study_key]}): {what}{scale}",
                line=False,
                marker="*" if p.arm == "drug" else "D",
                markersize=11 if p.arm == "drug" else 7,
                dodge_points=0.0 if p.arm == "drug" else 7.0,
            )
        ax.axvspan(
            24, 14 * 24, color=t.muted, alpha=0.08, zorder=0, linewidth=0
        ).kt_reference = True  # type: ignore[attr-defined]
        ax.text(26, 97, "24 h to day 14 after one dose", fontsize=SMALL, color=t.text, va="top")
        apply_time_axis(ax, xmax=XMAX_PLOT)
        ax.set_ylim(0, 100)
        ax.set_ylabel(
            "Response, % of patients\n(score fell by at least 50%"
            + (")" if narrow else "; MADRS unless marked)")
        )
        if narrow:
            _narrow_time_axis(ax)
        ax.grid(True, axis="y")
        _legend_below(
            ax,
            [*ax.get_legend_handles_labels()[0], _partly_handle(t)],
            ncol=2,
            bbox=-0.1,
            narrow=narrow,
        )
        return _finish(fig, rec)


# ---------------------------------------------------------------- figure 3


def plot_side_effect_window(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None
) -> Figure:
    """Blood pressure and dissociation after a dose, set against the weeks-long onset
    window of conventional antidepressants. Points only: no source gives a curve."""
    refs = _refs(refs)
    rec = _Recorder(refs)
    with themed(theme) as t:
        fig, (ax_a, ax_b) = plt.subplots(
            2, 1, figsize=(8.4, 9.6), layout="constrained", height_ratios=(1.5, 1)
        )
        bp = select(points, measure="mean_change", scale={"SBP", "DBP"})
        for key, what in (
            ("yale_bp2024", "IV ketamine, 2342 infusions"),
            ("glue2018", "subcutaneous ketamine, about 10 mmHg"),
        ):
            for sc, mk, dodge in (("SBP", "^", -4.0), ("DBP", "v", 4.0)):
                pts = select(bp, study_key=key, scale=sc)
                if pts:
                    name = "systolic" if sc == "SBP" else "diastolic"
                    _series(
                        ax_a,
                        pts,
                        t,
                        rec,
                        f"{_cite(key, refs)}: {name} BP, {what}",
                        line=False,
                        marker=mk,
                        markersize=8,
                        dodge_points=dodge,
                    )
        events = select(points, measure={"time_to_adverse_event_resolution"})
        handles = _event_markers([ax_a], events, t, rec, refs)
        onset = select(
            points,
            study_key="stassen2007",
            measure={"time_to_onset_of_improvement", "time_to_response"},
        )
        if onset:
            lo = min(p.event_hours()[0] for p in onset)
            hi = max(p.event_hours()[0] for p in onset)
            span = ax_a.axvspan(
                lo, hi, color=colour(t, "antidepressant_pooled"), alpha=0.2, linewidth=0, zorder=1
            )
            span.kt_points = tuple(onset)  # type: ignore[attr-defined]
            rec.add(onset)
            handles.append(
                Patch(
                    color=colour(t, "antidepressant_pooled"),
                    alpha=0.3,
                    label=(
                        "Antidepressants: mean onset of improvement to mean "
                        f"response, days 13-19 ({_cite('stassen2007', refs)})"
                    ),
                )
            )
        _zero_line(ax_a, t)
        apply_time_axis(ax_a, label="Time after a dose (log scale)", xmax=XMAX_PLOT)
        ax_a.set_ylim(-2, 32)
        ax_a.set_ylabel("Rise in blood pressure\nfrom before the dose (mmHg)")
        ax_a.set_title("A  Blood pressure after a dose (bars: ±1 SD)", loc="left", fontsize=11)
        ax_a.grid(True, axis="y")
        _panel_note(
            ax_a,
            t,
            "Points only: the sources report the peak rise,\n"
            "not a curve over time, so no line is drawn.\n"
            "SBP and DBP are drawn slightly apart to stay legible.",
        )
        _legend_below(
            ax_a,
            [*ax_a.get_legend_handles_labels()[0], *handles, _partly_handle(t)],
            ncol=1,
            bbox=-0.17,
        )

        cadss = select(points, scale="CADSS", measure="mean_total")
        week = lambda p: p.timepoint_hours / WEEK + 1  # noqa: E731  (week 1 starts at 0 h)
        _series(
            ax_b,
            cadss,
            t,
            rec,
            f"{_cite('glue2018', refs)}: subcutaneous ketamine, weekly doses",
            line=False,
            markersize=8,
            x_of=week,
        )
        ax_b.set_xlim(0, 16)
        ax_b.set_xticks([1, 4, 8, 12, 14])
        ax_b.set_xlabel("Treatment week (one dose a week; linear scale)")
        ax_b.set_ylim(0, 30)
        ax_b.set_ylabel("Dissociation after the dose\n(CADSS total, points)")
        ax_b.set_title("B  Dissociation with repeated weekly doses", loc="left", fontsize=11)
        ax_b.grid(True, axis="y")
        _panel_note(
            ax_b,
            t,
            "Two points only: no verified source gives dissociation\n"
            "minute by minute after a dose.",
        )
        _legend_below(
            ax_b, [*ax_b.get_legend_handles_labels()[0], _partly_handle(t)], ncol=1, bbox=-0.22
        )
        return _finish(fig, rec)


# ---------------------------------------------------------------- headline figure


@dataclass(frozen=True)
class Gap:
    """Drug arm minus its own comparison arm, in responders per 100 people, at one time."""

    hours: float
    value: float
    rows: tuple[Point, ...]  # (drug, comparator), or one row that is itself a difference
    n: int | None  # people in both arms, when the source gives both

    @property
    def label(self) -> str:
        return self.rows[0].timepoint_label


@dataclass(frozen=True)
class Comparison:
    """One drug against its own comparator, in one trial or one pooled analysis."""

    name: str  # direct label on the line
    short: str  # the same on a phone
    who: str  # trials and people, under the label
    drug_class: str
    gaps: tuple[Gap, ...]


def _pair_gaps(drug: Sequence[Point], control: Sequence[Point]) -> tuple[Gap, ...]:
    ctl = {p.timepoint_hours: p for p in control}
    gaps = []
    for d in sorted(drug, key=lambda p: p.timepoint_hours):
        c = ctl.get(d.timepoint_hours)
        if c is None:
            continue
        n = d.n + c.n if d.n and c.n else None
        gaps.append(Gap(d.timepoint_hours, round(d.value - c.value, 1), (d, c), n))
    return tuple(gaps)


def onset_comparisons(points: Sequence[Point]) -> list[Comparison]:
    """The headline figure's data: each drug against its own comparator, from the rows.

    Kept apart from the drawing so that captions and alt text (figures.py) compute their
    numbers from exactly what is drawn.
    """
    resp = select(points, measure="response_rate")
    out = []
    dean_k = select(resp, study_key="dean2021", drug_class="ketamine_iv", n=185)
    dean_p = select(resp, study_key="dean2021", drug_class="placebo")
    if dean_k and dean_p:
        d, c = dean_k[0], dean_p[0]
        out.append(
            Comparison(
                "IV ketamine vs placebo",
                "IV ketamine\nvs placebo",
                "7 trials, 185 people",
                "ketamine_iv",
                (Gap(d.timepoint_hours, round(d.value - c.value, 1), (d, c), d.n),),
            )
        )
    esk = select(resp, study_key="daly2018", treatment=lambda s: s.startswith("esketamine 84"))
    pbo = select(resp, study_key="daly2018", arm="control")
    if esk and pbo:
        gaps = _pair_gaps(esk, pbo)
        out.append(
            Comparison(
                "Esketamine vs placebo spray",
                "Esketamine\nvs placebo",
                f"1 small trial, {gaps[0].n} people",
                "esketamine_in",
                gaps,
            )
        )
    tk = select(resp, study_key="turkoz2021")
    gaps = _pair_gaps(select(tk, arm="drug"), select(tk, arm="control"))
    if gaps:
        out.append(
            Comparison(
                "Esketamine + new antidepressant vs new antidepressant",
                "Esketamine + new AD\nvs new AD",
                f"2 trials, {max(g.n or 0 for g in gaps)} people",
                "esketamine_in",
                gaps,
            )
        )
    ssri = select(
        points, study_key="taylor2006", measure="rate_difference_vs_control", scale="HDRS"
    )
    if ssri:
        gaps = tuple(
            Gap(p.timepoint_hours, p.value, (p,), p.n)
            for p in sorted(ssri, key=lambda p: p.timepoint_hours)
        )
        out.append(Comparison("SSRI vs placebo", "SSRI vs placebo", "5 trials", "ssri_snri", gaps))
    return out


HEADLINE_TICKS = ((2.0, "2 hours"), (24.0, "1 day"), (WEEK, "1 week"), (4 * WEEK, "4 weeks"))
#: (x offset, y offset) of each direct label from the line's last point, in points.
_LABEL_AT = {
    "IV ketamine vs placebo": ((-8, 10), "right"),
    "Esketamine vs placebo spray": ((10, 2), "left"),
    "Esketamine + new antidepressant vs new antidepressant": ((-6, 12), "right"),
    "SSRI vs placebo": ((8, -14), "left"),
}
_LABEL_AT_NARROW = {
    "IV ketamine vs placebo": ((-9, 4), "right"),
    "Esketamine vs placebo spray": ((0, -10), "center"),
    "Esketamine + new antidepressant vs new antidepressant": ((-22, -46), "center"),
    "SSRI vs placebo": ((8, -74), "right"),
}
#: On a phone, these labels sit at the line's first point (there is no room at its end).
_LABEL_FIRST_NARROW = {"Esketamine + new antidepressant vs new antidepressant"}


def _marker_size(n: int | None) -> float:
    """Marker diameter grows with the square root of the people behind the number."""
    return 6.0 if not n else 4.5 + n**0.5 / 2.4


def plot_onset_headline(
    points: Sequence[Point],
    theme: str = "light",
    *,
    refs: Refs | None = None,
    narrow: bool = False,
) -> Figure:
    """How fast, compared with what: each drug's lead over its own comparator over time.

    One axis, one measure (extra responders per 100 people, drug arm minus its comparison
    arm), lines labelled where they end, marker area by the number of people.
    """
    refs = _refs(refs)
    rec = _Recorder(refs)
    comps = onset_comparisons(points)
    with themed(theme) as t:
        size = (NARROW_WIDTH_IN, 5.6) if narrow else (WIDE_WIDTH_IN, 4.9)
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        fig.kt_comparisons = comps  # type: ignore[attr-defined]
        where = _LABEL_AT_NARROW if narrow else _LABEL_AT
        for comp in comps:
            col = colour(t, comp.drug_class)
            style = {"ssri_snri": "-.", "ketamine_iv": "-"}.get(comp.drug_class, "--")
            if "new antidepressant" in comp.name:
                style = "-"
            xs = [g.hours for g in comp.gaps]
            ys = [g.value for g in comp.gaps]
            (ln,) = ax.plot(xs, ys, color=col, linestyle=style, linewidth=2.0, zorder=3)
            ln.kt_points = tuple(p for g in comp.gaps for p in g.rows)  # type: ignore[attr-defined]
            ln.kt_values = tuple(ys)  # type: ignore[attr-defined]
            ln.set_label(comp.name)
            for g in comp.gaps:
                partly = any(p.is_partly for p in g.rows)
                (m,) = ax.plot(
                    [g.hours],
                    [g.value],
                    linestyle="none",
                    marker="o" if comp.drug_class != "ssri_snri" else "D",
                    markersize=_marker_size(g.n),
                    markerfacecolor=t.background if partly else col,
                    markeredgecolor=col,
                    markeredgewidth=1.6,
                    zorder=4,
                )
                m.kt_points = g.rows  # type: ignore[attr-defined]
                m.kt_values = (g.value, *([g.n] if g.n else []))  # type: ignore[attr-defined]
                _link(ax, m, g.rows, refs, gap_title(comp, g, refs))
                rec.add(g.rows)
            (dx, dy), ha = where.get(comp.name, ((8, 0), "left"))
            last = comp.gaps[0 if narrow and comp.name in _LABEL_FIRST_NARROW else -1]
            name = comp.short if narrow else comp.name
            if not narrow and len(name) > 30:
                name = name.replace(" vs ", "\nvs ")
            ax.annotate(
                f"{name}\n{comp.who}".replace(", ", ",\n")
                if narrow and "," in comp.who
                else f"{name}\n{comp.who}",
                (last.hours, last.value),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va="bottom" if dy >= 0 else "top",
                fontsize=SMALL + 0.5,
                color=col,
                fontweight="bold",
                linespacing=1.15,
            )
        z = ax.axhline(0, color=t.muted, linewidth=1.0, zorder=1)
        z.kt_reference = True  # type: ignore[attr-defined]
        ax.annotate(
            "no difference",
            (10 * WEEK if narrow else 1.0, 0),
            xytext=(-2 if narrow else 0, 3),
            textcoords="offset points",
            ha="right" if narrow else "left",
            fontsize=SMALL,
            color=t.text,
        )
        ax.set_xscale("log")
        ax.set_xlim(0.9, 10 * WEEK)
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in HEADLINE_TICKS]))
        ax.xaxis.set_major_formatter(FixedFormatter([lab for _, lab in HEADLINE_TICKS]))
        ax.xaxis.set_minor_locator(FixedLocator([1, 4, 8, 12, 48, 72, 120, 336, 504, 1008]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(-20 if narrow else -3, 50)
        ax.set_xlabel("Time after the first dose (log scale)")
        ax.set_ylabel(
            "Extra responders per 100 people\n(drug arm minus its comparison arm)"
            if not narrow
            else "Extra responders per 100\n(drug minus comparison)"
        )
        ax.grid(True, axis="y")
        ax.text(
            0.0,
            1.02,
            "Marker area: number of people. Open markers: read in a secondary source.",
            transform=ax.transAxes,
            fontsize=SMALL,
            color=t.text,
            va="bottom",
            wrap=True,
        ) if not narrow else ax.text(
            0.0,
            1.02,
            "Marker area: number of people.\nOpen: read in a secondary source.",
            transform=ax.transAxes,
            fontsize=SMALL,
            color=t.text,
            va="bottom",
        )
        return _finish(fig, rec)


def gap_title(comp: Comparison, g: Gap, refs: Refs) -> str:
    """Tooltip of one headline point: both arms, n, time, the difference, the source."""
    study = "; ".join(dict.fromkeys(_cite(p.study_key, refs) for p in g.rows))
    where = "; ".join(dict.fromkeys(p.source_location for p in g.rows))
    if len(g.rows) == 2:
        d, c = g.rows
        arms = (
            f"{d.treatment} {_fmt(d.value)}% (n = {d.n}) vs {c.treatment} {_fmt(c.value)}% "
            f"(n = {c.n})"
        )
    else:
        arms = g.rows[0].treatment + " vs placebo"
    partly = " (read in a secondary source)" if any(p.is_partly for p in g.rows) else ""
    return (
        f"{study}, {comp.name}: {g.label}: {_fmt(g.value)} more responders per 100 people. "
        f"{arms}. Source: {where}{partly}."
    )


# ---------------------------------------------------------------- treatment day


@dataclass(frozen=True)
class Span:
    """One bar of the treatment-day figure: from start to end hours, a marker at peak."""

    name: str
    who: str
    drug_class: str
    start: float
    end: float | None
    peak: float | None
    rows: tuple[Point, ...]


def treatment_day_spans(points: Sequence[Point]) -> list[Span]:
    """What sources report about timing after a dose, and the SSRI onset window."""
    out = []
    label = select(points, study_key="fda_spravato_label")
    peak = select(label, measure="time_to_peak_effect")
    last = select(label, measure="time_to_adverse_event_resolution")
    if peak and last:
        out.append(
            Span(
                f"Blood pressure up: peaks at {_fmt(peak[0].value)} min, lasts about "
                f"{_fmt(last[0].value)} h",
                "esketamine label",
                "esketamine_in",
                0.0,
                last[0].event_hours()[0],
                peak[0].event_hours()[0],
                (peak[0], last[0]),
            )
        )
    ae = select(points, study_key="popova2019", measure="time_to_adverse_event_resolution")
    if ae:
        out.append(
            Span(
                f"Side effects such as dissociation: mostly gone by {_fmt(ae[0].value)} h",
                "TRANSFORM-2 trial",
                "esketamine_in",
                0.0,
                ae[0].event_hours()[0],
                None,
                (ae[0],),
            )
        )
    bp = select(points, study_key="yale_bp2024", measure="mean_change", scale="SBP")
    if bp:
        p = bp[0]
        out.append(
            Span(
                f"IV ketamine: systolic pressure peaks {_fmt(p.value)} mmHg higher at 40 min",
                f"clinic records, {p.n} patients",
                "ketamine_iv",
                0.0,
                None,
                p.timepoint_hours,
                (p,),
            )
        )
    ssri = sorted(
        select(points, study_key="taylor2006", measure="rate_difference_vs_control"),
        key=lambda p: p.timepoint_hours,
    )
    if ssri:
        out.append(
            Span(
                f"SSRI: ahead of placebo from week {_fmt(ssri[0].timepoint_hours / WEEK)}, "
                f"gap still growing at week {_fmt(ssri[-1].timepoint_hours / WEEK)}",
                "5 trials",
                "ssri_snri",
                ssri[0].timepoint_hours,
                ssri[-1].timepoint_hours,
                None,
                tuple(ssri),
            )
        )
    return out


DAY_TICKS = (
    (10 / 60, "10 min"),
    (40 / 60, "40 min"),
    (4.0, "4 hours"),
    (24.0, "1 day"),
    (WEEK, "1 week"),
    (6 * WEEK, "6 weeks"),
)


def plot_treatment_day(
    points: Sequence[Point],
    theme: str = "light",
    *,
    refs: Refs | None = None,
    narrow: bool = False,
) -> Figure:
    """Side effects last hours; SSRI benefit builds over weeks: one log time axis, one bar
    per reported time course, each bar a link to its source."""
    refs = _refs(refs)
    rec = _Recorder(refs)
    spans = treatment_day_spans(points)
    with themed(theme) as t:
        size = (
            (NARROW_WIDTH_IN, 1.0 + 1.15 * len(spans))
            if narrow
            else (WIDE_WIDTH_IN, 0.9 + 0.8 * len(spans))
        )
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        fig.kt_spans = spans  # type: ignore[attr-defined]
        x0 = 10 / 60
        for i, sp in enumerate(spans):
            y = len(spans) - 1 - i
            col = colour(t, sp.drug_class)
            if sp.end is not None:
                start = max(sp.start, x0)
                (bar,) = ax.plot(
                    [start, sp.end], [y, y], color=col, linewidth=9, solid_capstyle="butt", zorder=2
                )
                bar.kt_points = sp.rows  # type: ignore[attr-defined]
                _link(ax, bar, sp.rows, refs, span_title(sp, refs))
            if sp.peak is not None:
                (m,) = ax.plot(
                    [sp.peak],
                    [y],
                    linestyle="none",
                    marker="v",
                    markersize=12,
                    color=col,
                    markeredgecolor=t.text,
                    zorder=3,
                )
                m.kt_points = sp.rows  # type: ignore[attr-defined]
                _link(ax, m, sp.rows, refs, span_title(sp, refs))
            ax.annotate(
                f"{sp.name} ({sp.who})" if not narrow else f"{sp.name}\n({sp.who})",
                (x0, y),
                xytext=(0, 9),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=SMALL + 0.5,
                color=t.text,
                wrap=narrow,
            )
            rec.add(sp.rows)
        ax.set_xscale("log")
        ax.set_xlim(x0 * 0.9, 8 * WEEK)
        ax.set_ylim(-0.6, len(spans) - 0.1 + (0.5 if narrow else 0.2))
        ticks = DAY_TICKS if not narrow else tuple(DAY_TICKS[i] for i in (1, 2, 3, 4, 5))
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in ticks]))
        ax.xaxis.set_major_formatter(FixedFormatter([lab for _, lab in ticks]))
        ax.xaxis.set_minor_locator(FixedLocator([]))
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("Time after a dose (log scale)")
        ax.grid(True, axis="x")
        return _finish(fig, rec)


def span_title(sp: Span, refs: Refs) -> str:
    study = _cite(sp.rows[0].study_key, refs)
    values = "; ".join(f"{p.timepoint_label}: {_fmt(p.value)} {p.unit}" for p in sp.rows)
    where = "; ".join(dict.fromkeys(p.source_location for p in sp.rows))
    partly = " (read in a secondary source)" if any(p.is_partly for p in sp.rows) else ""
    return f"{study}: {sp.name}. {values}. Source: {where}{partly}."
