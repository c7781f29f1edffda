"""A treatment day (``treatment-day``, notebook "Side effects over time"): when the
short-term side effects of a dose come and go, harms only.

One row per reported time course, on a plain (linear) clock of the first hours after a
dose: a bar from the dose until the effect had passed, a diamond at its peak, and hatching
where the source reports nothing. Benefit is not drawn here (the onset figure compares
benefit with benefit); SSRIs' own early side effects are not drawn because no row of the
data set times them, and the figure says so. Every mark, the caption, the alt text and
the data table come from :class:`TreatmentDay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .computed import DataRow, fmt, row_numbers
from .data import Point, select
from .timeaxis import format_hours

#: The clock ends here: every reported time course has ended or peaked before it.
XMAX_HOURS = 6.0
#: The panel, as the alt text names it.
PANEL = f"a timeline of the first {XMAX_HOURS:g} hours after a dose"
NOT_DRAWN = (
    "Not drawn: side effects of SSRIs, whose timing no source in the data set gives, and "
    "harms of repeated or heavy use."
)


@dataclass(frozen=True)
class Span:
    """One row: what happens, who reports it, when it peaks and when it has passed."""

    name: str  # what happens
    who: str  # the source, in words
    drug_class: str
    end: float | None  # hours after the dose when it had passed; None: not reported
    peak: float | None  # hours after the dose of its peak; None: not reported
    rows: tuple[Point, ...]
    peak_words: str = ""
    end_words: str = ""


@dataclass(frozen=True)
class TreatmentDay:
    spans: tuple[Span, ...]

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(dict.fromkeys(p for s in self.spans for p in s.rows))

    def title(self) -> str:
        ended = [s for s in self.spans if s.end is not None]
        if not ended:
            return "Side effects on the day of a dose"
        drugs = " and ".join(dict.fromkeys(s.name.split(":")[0] for s in ended))
        last = max(s.end or 0 for s in ended)
        return (
            f"With {drugs.lower()}, the short-term side effects of a dose had passed within "
            f"about {format_hours(last).replace(' h', ' hours')}"
        )

    def caption(self) -> str:
        s = []
        label = next((x for x in self.spans if x.rows[0].study_key == "fda_spravato_label"), None)
        trial = next((x for x in self.spans if x.rows[0].study_key == "popova2019"), None)
        clinic = next((x for x in self.spans if x.rows[0].study_key == "yale_bp2024"), None)
        if label:
            s.append(
                f"With esketamine, blood pressure rose to a peak about {label.peak_words} "
                f"after a dose and the rise lasted about {label.end_words}"
                + (
                    f", and side effects such as dissociation had passed by {trial.end_words}"
                    if trial
                    else ""
                )
                + "."
            )
        if clinic:
            p = next(r for r in clinic.rows if r.scale == "SBP")
            s.append(
                f"With IV ketamine in routine care ({p.n} patients), systolic pressure "
                f"peaked {fmt(p.value)} mmHg higher {clinic.peak_words} after the infusion "
                "began; the sources report no time course after that peak."
            )
        s.append(NOT_DRAWN)
        return " ".join(s)

    def alt(self) -> str:
        rows = []
        for sp in self.spans:
            parts = []
            if sp.peak is not None:
                parts.append(f"peak at {sp.peak_words}")
            if sp.end is not None:
                parts.append(f"passed by {sp.end_words}")
            else:
                parts.append("not reported after the peak")
            rows.append(f"{sp.name} ({sp.who}): {', '.join(parts)}")
        return (
            f"One panel: {PANEL}, one row per reported side effect. Title: {self.title()}. "
            + "; ".join(rows)
            + ". "
            + NOT_DRAWN
        )

    def table(self) -> list[DataRow]:
        out = []
        for sp in self.spans:
            for p in sp.rows:
                if p.measure == "mean_change":
                    which = "systolic" if p.scale == "SBP" else "diastolic"
                    number = f"+{fmt(p.value)} {p.unit} ({which}), peak"
                elif p.measure == "time_to_peak_effect":
                    number = f"peak at {fmt(p.value)} {p.unit}"
                else:
                    number = f"passed by {fmt(p.value)} {p.unit}"
                out.append(
                    DataRow(
                        f"{sp.name} ({sp.who})",
                        p.timepoint_label,
                        number,
                        str(p.n or "not stated"),
                        p.study_key,
                        p.source_location,
                        p.is_partly,
                    )
                )
        return out

    def numbers(self) -> set[float]:
        return row_numbers(self.rows) | {XMAX_HOURS}


def _words(p: Point) -> str:
    return (
        f"{fmt(p.value)} {'minutes' if p.unit == 'min' else 'hours' if p.unit == 'h' else p.unit}"
    )


def treatment_day(points: Sequence[Point]) -> TreatmentDay:
    spans = []
    label = select(points, study_key="fda_spravato_label")
    peak = select(label, measure="time_to_peak_effect")
    last = select(label, measure="time_to_adverse_event_resolution")
    if peak and last:
        spans.append(
            Span(
                "Esketamine: blood pressure up",
                "prescribing label",
                "esketamine_in",
                last[0].event_hours()[0],
                peak[0].event_hours()[0],
                (peak[0], last[0]),
                _words(peak[0]),
                _words(last[0]),
            )
        )
    ae = select(points, study_key="popova2019", measure="time_to_adverse_event_resolution")
    if ae:
        spans.append(
            Span(
                "Esketamine: side effects such as dissociation",
                "TRANSFORM-2 trial",
                "esketamine_in",
                ae[0].event_hours()[0],
                None,
                (ae[0],),
                end_words=_words(ae[0]),
            )
        )
    bp = sorted(
        select(points, study_key="yale_bp2024", measure="mean_change", scale={"SBP", "DBP"}),
        key=lambda p: p.scale != "SBP",
    )
    if bp:
        p = bp[0]
        rise = " and ".join(
            f"+{fmt(q.value)} {'systolic' if q.scale == 'SBP' else 'diastolic'}" for q in bp
        )
        spans.append(
            Span(
                f"IV ketamine: blood pressure peaks ({rise} mmHg)",
                f"clinic records, {p.n} patients",
                "ketamine_iv",
                None,
                p.timepoint_hours,
                tuple(bp),
                peak_words=f"{fmt(round(p.timepoint_hours * 60))} minutes",
            )
        )
    return TreatmentDay(tuple(spans))


# ---------------------------------------------------------------------- drawing

TICKS = tuple((float(h), "dose" if h == 0 else str(h)) for h in range(int(XMAX_HOURS) + 1))


def plot_treatment_day(
    points: Sequence[Point], theme: str = "light", *, refs=None, narrow: bool = False
):
    """Short-term side effects after a dose: one row per reported time course."""
    return draw(treatment_day(points), theme, refs=refs, narrow=narrow)


def draw(data: TreatmentDay, theme: str = "light", *, refs=None, narrow: bool = False):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedFormatter, FixedLocator, MultipleLocator

    from .drawing import SMALL, Recorder, cite, figure_title, finish, link_group, refs_or_bib, wrap
    from .style import colour, themed

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    n = len(data.spans)
    with themed(theme) as t:
        size = (4.2, 2.6 + 1.05 * n) if narrow else (8.4, 2.2 + 0.75 * n)
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        fig.kt_data = data  # type: ignore[attr-defined]
        ax.kt_panel = PANEL  # type: ignore[attr-defined]
        for i, sp in enumerate(data.spans):
            y = n - 1 - i
            col = colour(t, sp.drug_class)
            xs, ys = [], []
            if sp.end is not None:
                (bar,) = ax.plot(
                    [0, sp.end], [y, y], color=col, linewidth=10, solid_capstyle="butt", zorder=2
                )
                bar.kt_points = sp.rows  # type: ignore[attr-defined]
                xs += [0.0, sp.end]
                ys += [y, y]
                ax.annotate(
                    f"passed by {sp.end_words}",
                    (sp.end, y),
                    xytext=(5, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=SMALL,
                    color=t.text,
                )
            else:
                # The source reports the peak only: the hours after it are not reported.
                start = sp.peak or 0.0
                hatch = ax.fill_between(
                    [start, XMAX_HOURS],
                    y - 0.16,
                    y + 0.16,
                    facecolor="none",
                    edgecolor=t.muted,
                    hatch="///",
                    linewidth=0,
                    zorder=1,
                )
                hatch.kt_reference = True  # type: ignore[attr-defined]
                ax.text(
                    (start + XMAX_HOURS) / 2,
                    y,
                    "not reported after the peak",
                    ha="center",
                    va="center",
                    fontsize=SMALL,
                    color=t.text,
                    bbox={
                        "boxstyle": "round,pad=0.2",
                        "facecolor": t.background,
                        "edgecolor": "none",
                    },
                    zorder=2,
                )
            if sp.peak is not None:
                (m,) = ax.plot(
                    [sp.peak],
                    [y],
                    linestyle="none",
                    marker="D",
                    markersize=11,
                    markerfacecolor=col,
                    markeredgecolor=t.text,
                    zorder=3,
                )
                m.kt_points = sp.rows  # type: ignore[attr-defined]
                ax.annotate(
                    f"peak at {sp.peak_words}",
                    (sp.peak, y),
                    xytext=(-6, -10),
                    textcoords="offset points",
                    ha="left",
                    va="top",
                    fontsize=SMALL,
                    color=t.text,
                )
                xs.append(sp.peak)
                ys.append(y)
            ax.annotate(
                wrap(f"{sp.name} ({sp.who})", 44) if narrow else f"{sp.name} ({sp.who})",
                (0, y),
                xytext=(0, 10),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=SMALL + 0.5,
                color=t.text,
                linespacing=1.1,
            )
            values = "; ".join(f"{p.timepoint_label}: {fmt(p.value)} {p.unit}" for p in sp.rows)
            where = "; ".join(dict.fromkeys(p.source_location for p in sp.rows))
            link_group(
                ax,
                sorted(xs),
                ys,
                sp.rows,
                refs,
                f"{cite(sp.rows[0].study_key, refs)}: {sp.name}. {values}. Source: {where}.",
                join=True,
            )
            rec.add(sp.rows)
        ax.set_xlim(-0.15, XMAX_HOURS)
        ax.set_ylim(-0.8, n - 0.2 + (0.6 if narrow else 0.3))
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in TICKS]))
        ax.xaxis.set_major_formatter(FixedFormatter([lab for _, lab in TICKS]))
        ax.xaxis.set_minor_locator(MultipleLocator(0.5))
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("Hours after a dose")
        ax.grid(True, axis="x", which="major")
        handles = [
            Line2D(
                [], [], color=t.muted, linewidth=8, label="bar: from the dose until it had passed"
            ),
            Line2D(
                [],
                [],
                linestyle="none",
                marker="D",
                markersize=9,
                markerfacecolor=t.muted,
                markeredgecolor=t.text,
                label="diamond: its peak",
            ),
            Patch(facecolor="none", edgecolor=t.muted, hatch="///", label="hatched: not reported"),
        ]
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.02),
            ncol=1 if narrow else 3,
            fontsize=SMALL,
            borderaxespad=0.0,
        )
        note = ax.annotate(
            wrap(NOT_DRAWN, 50 if narrow else 110),
            (0, 0),
            xycoords="axes fraction",
            xytext=(0, -34),
            textcoords="offset points",
            fontsize=SMALL,
            color=t.text,
            ha="left",
            va="top",
        )
        note.set_in_layout(True)
        figure_title(fig, data.title(), t, narrow=narrow)
        return finish(fig, rec)
