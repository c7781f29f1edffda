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
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from .bib import Reference, load_bib
from .data import Point, select
from .style import LINESTYLES, MARKERS, Theme, colour, themed
from .timeaxis import WEEK, apply_time_axis

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


class _Recorder:
    """Collects the Points a figure draws, without duplicates, in drawing order."""

    def __init__(self) -> None:
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
        label="open marker: number read in a secondary source (partly verified)",
    )


def _finish(fig: Figure, rec: _Recorder) -> Figure:
    fig.source_points = tuple(rec.points)  # type: ignore[attr-defined]
    return fig


def _panel_note(ax: Axes, theme: Theme, text: str) -> None:
    """A note in a panel's top right corner: what the panel does not show, and why."""
    ax.text(
        0.99, 0.96, text, transform=ax.transAxes, ha="right", va="top", fontsize=8, color=theme.text
    )


def _zero_line(ax: Axes, theme: Theme) -> None:
    z = ax.axhline(0, color=theme.muted, linewidth=0.9, zorder=1)
    z.kt_reference = True  # type: ignore[attr-defined]


def _legend_below(
    ax: Axes, handles: Sequence[Any], ncol: int = 2, bbox: float = -0.16, **kw: Any
) -> None:
    # Below the axes rather than beside them, so the plotting area keeps the page width.
    ax.legend(
        handles=list(handles),
        loc="upper left",
        bbox_to_anchor=(0.0, bbox),
        ncol=ncol,
        fontsize=7.5,
        borderaxespad=0.0,
        **kw,
    )


def _arm_label(p: Point, refs: Refs, what: str) -> str:
    return f"{_cite(p.study_key, refs)}: {what}"


# ---------------------------------------------------------------- figure 1


def plot_onset(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None
) -> Figure:
    """Headline figure: how fast response appears with ketamine, esketamine and SSRIs.

    Panel A: response rate (MADRS-defined) by trial arm. Panel B: drug minus control in
    MADRS points. Both carry onset markers taken from time-to-event rows.
    """
    refs = _refs(refs)
    rec = _Recorder()
    with themed(theme) as t:
        fig, (ax_a, ax_b) = plt.subplots(
            2, 1, sharex=True, figsize=(8.4, 11.5), layout="constrained"
        )
        resp = select(
            points, measure="response_rate", scale="MADRS", timepoint_hours=lambda h: h > 0
        )

        def arm(key: str, **kw: object) -> list[Point]:
            return select(resp, study_key=key, **kw)

        # (rows, legend text, marker): the marker tells studies of one class apart,
        # while colour and line style keep encoding the drug class.
        series = [
            (arm("lii2023", arm="drug"), "IV ketamine, masked by anaesthesia", "o"),
            (arm("lii2023", arm="control"), "saline, masked by anaesthesia", "v"),
            (arm("murrough2013", arm="drug"), "IV ketamine", "h"),
            (
                arm("daly2018", treatment=lambda s: s.startswith("esketamine 84")),
                "esketamine 84 mg + current antidepressant",
                "s",
            ),
            (arm("daly2018", arm="control"), "placebo spray + current antidepressant", "^"),
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
        ax_a.set_title("A  Response over time, by trial arm", loc="left", fontsize=11)
        ax_a.grid(True, axis="y")

        diff = select(points, measure="mean_difference_vs_control", scale="MADRS")
        # Last item: sideways offset in points, so error bars at 24 h and 4 wk do not
        # sit on top of each other.
        b_series = [
            (
                select(
                    diff, study_key="daly2018", treatment=lambda s: s.startswith("esketamine 84")
                ),
                "esketamine 84 mg vs placebo spray",
                "s",
                0.0,
            ),
            (select(diff, study_key="an2021"), "intranasal (es)ketamine, meta-analysis", "8", -6.0),
            (select(diff, study_key="canuso2018"), "esketamine, suicidal ideation", "<", 6.0),
            (select(diff, study_key="fu2020"), "esketamine, suicidal ideation", ">", 12.0),
            (select(diff, study_key="popova2019"), "esketamine + new SSRI/SNRI", "p", 0.0),
            (select(diff, study_key="lii2023"), "IV ketamine, masked (days 1-3)", "o", 0.0),
            (select(diff, study_key="jelovac2025"), "IV ketamine x8, inpatients", "X", 6.0),
        ]
        for pts, what, mk, dodge in b_series:
            if pts:
                _series(
                    ax_b,
                    pts,
                    t,
                    rec,
                    _arm_label(pts[0], refs, what),
                    line=len(pts) > 1,
                    marker=mk,
                    dodge_points=dodge,
                )
        _zero_line(ax_b, t)
        ax_b.set_ylabel("Drug minus control, MADRS points\n(below 0 = drug better)")
        ax_b.set_title("B  Difference from the control arm (MADRS only)", loc="left", fontsize=11)
        ax_b.grid(True, axis="y")
        ax_b.text(
            0.01,
            0.03,
            "SSRI-versus-placebo differences were reported in HDRS "
            "points, not MADRS,\nso they are not drawn on this axis.",
            transform=ax_b.transAxes,
            fontsize=8,
            color=t.text,
            va="bottom",
        )

        events = select(
            points,
            study_key={"kishimoto2016", "stassen2007"},
            measure=lambda m: m.startswith("time_to_"),
        )
        ev_handles = _event_markers([ax_a, ax_b], events, t, rec, refs)
        apply_time_axis(ax_b, xmax=XMAX_PLOT)
        ax_a.tick_params(labelbottom=True)
        ax_a.set_xlabel(ax_b.get_xlabel())

        _legend_below(ax_a, [*ax_a.get_legend_handles_labels()[0], _partly_handle(t)], ncol=1)
        _legend_below(ax_b, ax_b.get_legend_handles_labels()[0])
        fig.legend(
            handles=ev_handles,
            loc="outside lower left",
            ncol=1,
            fontsize=7.5,
            title="Onset markers from pooled analyses (shaded = range)",
            title_fontsize=8,
            alignment="left",
        )
        return _finish(fig, rec)


# ---------------------------------------------------------------- figure 2


def plot_single_dose_course(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None
) -> Figure:
    """What happens after one dose (24 h to day 14), with results after repeated doses
    drawn as end markers for comparison."""
    refs = _refs(refs)
    rec = _Recorder()
    with themed(theme) as t:
        fig, ax = plt.subplots(figsize=(8.4, 8.4), layout="constrained")
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
        # Repeated-dosing results: one end-of-course point per trial, never joined.
        ends = select(resp, study_key={"anand2023", "popova2019", "fedgchin2019"}, arm="drug")
        for p in sorted(ends, key=lambda p: (p.study_key, p.treatment)):
            scale = "" if p.scale == "MADRS" else f", {p.scale.replace('_', '-')}"
            what = (
                "IV ketamine x6 over 3 wk"
                if p.drug_class == "ketamine_iv"
                else p.treatment.split(" + ")[0]
            )
            _series(
                ax,
                [p],
                t,
                rec,
                f"{_cite(p.study_key, refs)}: {what}{scale} (after repeated doses)",
                line=False,
                marker="*",
                markersize=11,
            )
        ax.axvspan(
            24, 14 * 24, color=t.muted, alpha=0.08, zorder=0, linewidth=0
        ).kt_reference = True  # type: ignore[attr-defined]
        ax.text(26, 97, "24 h to day 14 after one dose", fontsize=8, color=t.text, va="top")
        apply_time_axis(ax, xmax=XMAX_PLOT)
        ax.set_ylim(0, 100)
        ax.set_ylabel("Response, % of patients\n(score fell by at least 50%; MADRS unless marked)")
        ax.grid(True, axis="y")
        _legend_below(
            ax, [*ax.get_legend_handles_labels()[0], _partly_handle(t)], ncol=1, bbox=-0.1
        )
        return _finish(fig, rec)


# ---------------------------------------------------------------- figure 3


def plot_side_effect_window(
    points: Sequence[Point], theme: str = "light", *, refs: Refs | None = None
) -> Figure:
    """Blood pressure and dissociation after a dose, set against the weeks-long onset
    window of conventional antidepressants. Points only: no source gives a curve."""
    refs = _refs(refs)
    rec = _Recorder()
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
