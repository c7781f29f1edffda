"""A treatment day (``treatment-day``, notebook "Side effects over time"): when the
short-term side effects of a dose come and go, harms only.

One row per reported time course, on a plain (linear) clock of the first hours after a
dose: a line from the dose until the effect had passed, a diamond at its peak, and, where
a source reports the peak only, words beside the peak and no line after it (a cold
reader took a long bar for "lasts longest", and the next the end of a short dotted stub
for when the effect passed). Each row says which drug
(its colour is in the key above), what rose and by how much where the data say, and who
reports it. Benefit is not drawn here (the onset figure compares benefit with benefit);
SSRIs' own early side effects are not drawn because no row of the data set times them,
and the figure says so. Every mark, the caption, the alt text and the data table come
from :class:`TreatmentDay`.
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
    "Not shown: when SSRIs' side effects come and go (no source here gives their "
    "timing), and the harms of repeated or heavy use."
)
#: A number and its unit never part at a line break.
NBSP = "\u00a0"
#: Drugs as the key above the figure names them.
DRUG_WORDS = {"esketamine_in": "Esketamine (nasal spray)", "ketamine_iv": "IV ketamine (a drip)"}


@dataclass(frozen=True)
class Span:
    """One row: what happens, who reports it, when it peaks and when it has passed."""

    name: str  # what happens
    who: str  # the source, in plain words
    drug_class: str
    end: float | None  # hours after the dose when it had passed; None: not reported
    peak: float | None  # hours after the dose of its peak; None: not reported
    rows: tuple[Point, ...]
    peak_words: str = ""
    end_words: str = ""
    how_sure: str = ""  # "about", "generally": the source's own hedge about the end
    size: str = ""  # how much it rose, in the data's numbers, or that the data do not say

    @property
    def passed(self) -> str:
        """'back to normal by about 4 hours', 'generally passed by 1.5 hours'."""
        if self.how_sure == "about":
            return f"passed by about {self.end_words}"
        return f"{self.how_sure + ' ' if self.how_sure else ''}passed by {self.end_words}"


@dataclass(frozen=True)
class TreatmentDay:
    spans: tuple[Span, ...]

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(dict.fromkeys(p for s in self.spans for p in s.rows))

    @property
    def drugs(self) -> list[str]:
        """Drug classes drawn, in order: the colour key above the figure."""
        return list(dict.fromkeys(s.drug_class for s in self.spans))

    def title(self) -> str:
        ended = [s for s in self.spans if s.end is not None]
        if not ended:
            return "Side effects on the day of a dose"
        drugs = " and ".join(dict.fromkeys(s.name.split(":")[0] for s in ended))
        last = max(s.end or 0 for s in ended)
        text = (
            f"With {drugs.lower()}, the short-term side effects of a dose had passed within "
            f"about {format_hours(last).replace(' h', ' hours')}"
        )
        peak_only = [s for s in self.spans if s.end is None and s.peak is not None]
        if peak_only:
            others = " and ".join(dict.fromkeys(s.name.split(":")[0] for s in peak_only))
            text += f"; for {others}, only the peak is reported"
        return text

    def caption(self) -> str:
        s = []
        label = next((x for x in self.spans if x.rows[0].study_key == "fda_spravato_label"), None)
        trial = next((x for x in self.spans if x.rows[0].study_key == "popova2019"), None)
        clinic = next((x for x in self.spans if x.rows[0].study_key == "yale_bp2024"), None)
        if label:
            s.append(
                f"With esketamine, blood pressure rose to a peak {label.peak_words} "
                f"after a dose and the rise lasted about {label.end_words}"
                + (f", and side effects such as dissociation had {trial.passed}" if trial else "")
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
            else:
                parts.append("peak time not reported")
            if sp.end is not None:
                parts.append(sp.passed)
            else:
                parts.append("not reported after the peak")
            size = f", {sp.size}" if sp.size else ""
            rows.append(f"{sp.name}{size} ({sp.who}): {', '.join(parts)}")
        return (
            f"One panel: {PANEL}, one row per reported side effect, coloured by drug: "
            + ", ".join(f"{DRUG_WORDS.get(c, c)}" for c in self.drugs)
            + f". Title: {self.title()}. "
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
        # The data set holds when the label's rise peaks and ends, not its size: say so,
        # beside the IV ketamine row that gives one (a cold reader asked for both).
        rise = select(label, measure="mean_change")
        spans.append(
            Span(
                "Esketamine: blood pressure up",
                "the drug\u2019s official label",
                "esketamine_in",
                last[0].event_hours()[0],
                peak[0].event_hours()[0],
                (peak[0], last[0], *rise),
                ("about " if peak[0].timepoint_label.startswith("about") else "") + _words(peak[0]),
                _words(last[0]),
                how_sure="about" if last[0].timepoint_label.startswith("about") else "",
                size=_rise(rise) if rise else "size of the rise not in this book\u2019s data",
            )
        )
    ae = select(points, study_key="popova2019", measure="time_to_adverse_event_resolution")
    if ae:
        spans.append(
            Span(
                "Esketamine: side effects such as dissociation",
                "a large trial",
                "esketamine_in",
                ae[0].event_hours()[0],
                None,
                (ae[0],),
                end_words=_words(ae[0]),
                # The source's own hedge: "generally ... resolved by 1.5 hours".
                how_sure="generally" if "generally" in ae[0].note else "",
            )
        )
    bp = sorted(
        select(points, study_key="yale_bp2024", measure="mean_change", scale={"SBP", "DBP"}),
        key=lambda p: p.scale != "SBP",
    )
    if bp:
        p = bp[0]
        spans.append(
            Span(
                "IV ketamine: blood pressure up",
                f"records of {p.n} patients at one clinic",
                "ketamine_iv",
                None,
                p.timepoint_hours,
                tuple(bp),
                peak_words=f"{fmt(round(p.timepoint_hours * 60))} minutes",
                size=_rise(bp),
            )
        )
    return TreatmentDay(tuple(spans))


def _under(sp: Span) -> str:
    """The words under a row's mark: its peak (or that none is reported) and its size."""
    peak = f"peak at {sp.peak_words}" if sp.peak is not None else "peak time not reported"
    if sp.size and sp.size[:1] == "+":
        return f"{peak}: {sp.size}"
    return f"{peak} ({sp.size})" if sp.size else peak


def _rise(rows: Sequence[Point]) -> str:
    """'+16 mmHg systolic, +11 mmHg diastolic' (a number and its unit never apart)."""
    return ", ".join(
        f"+{fmt(q.value)}{NBSP}{q.unit}{NBSP}{'systolic' if q.scale == 'SBP' else 'diastolic'}"
        for q in rows
    )


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
    from matplotlib.ticker import FixedFormatter, FixedLocator, MultipleLocator

    from .drawing import (
        SMALL,
        Recorder,
        cite,
        figure_title,
        finish,
        link_group,
        note_below,
        refs_or_bib,
        wrap,
    )
    from .style import colour, themed

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    width = 46 if narrow else 100  # characters of a row's heading
    headings = [wrap(f"{sp.name} ({sp.who})", width) for sp in data.spans]
    unders = [wrap(_under(sp), 50 if narrow else 110) for sp in data.spans]
    # Each row: its heading's lines, the mark, and the words under the mark, in lines of
    # text, so that nothing crowds the next row on a phone.
    heights = [
        len(h.splitlines()) + len(u.splitlines()) + 2.4
        for h, u in zip(headings, unders, strict=True)
    ]
    line_in = 0.165
    with themed(theme) as t:
        size = (
            (4.2, 2.9 + line_in * sum(heights)) if narrow else (8.4, 2.4 + line_in * sum(heights))
        )
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        fig.kt_data = data  # type: ignore[attr-defined]
        ax.kt_panel = PANEL  # type: ignore[attr-defined]
        text = {"fontsize": SMALL, "color": t.text}
        top = sum(heights)
        y0 = top
        for sp, heading, under, h in zip(data.spans, headings, unders, heights, strict=True):
            col = colour(t, sp.drug_class)
            lines = len(heading.splitlines())
            y = y0 - lines - 0.9  # the mark, under its heading
            ax.text(
                0,
                y0 - 0.2,
                heading,
                ha="left",
                va="top",
                fontsize=SMALL + 0.5,
                color=t.text,
                linespacing=1.15,
            )
            xs, ys = [], []
            if sp.end is not None:
                (bar,) = ax.plot(
                    [0, sp.end], [y, y], color=col, linewidth=6, solid_capstyle="butt", zorder=2
                )
                bar.kt_points = sp.rows  # type: ignore[attr-defined]
                xs += [0.0, sp.end]
                ys += [y, y]
                ax.annotate(
                    sp.passed.replace(" ", NBSP) if narrow else sp.passed,
                    (sp.end, y),
                    xytext=(5, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    **text,
                )
            elif sp.peak is not None:
                # The source reports the peak only: words beside the diamond, no line
                # after it (a cold reader took a dotted stub's end for when the effect
                # passed, and an earlier long bar for "lasts longest").
                ax.annotate(
                    "not reported after the peak",
                    (sp.peak, y),
                    xytext=(10, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    **text,
                )
            if sp.peak is not None:
                (m,) = ax.plot(
                    [sp.peak],
                    [y],
                    linestyle="none",
                    marker="D",
                    markersize=10,
                    markerfacecolor=col,
                    markeredgecolor=t.text,
                    zorder=3,
                )
                m.kt_points = sp.rows  # type: ignore[attr-defined]
                xs.append(sp.peak)
                ys.append(y)
            ax.text(0, y - 0.6, under, ha="left", va="top", linespacing=1.15, **text)
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
            y0 -= h
        ax.set_xlim(-0.15, XMAX_HOURS)
        ax.set_ylim(0, top)
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in TICKS]))
        ax.xaxis.set_major_formatter(FixedFormatter([lab for _, lab in TICKS]))
        ax.xaxis.set_minor_locator(MultipleLocator(0.5))
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("Hours after a dose (for a drip, after it began)")
        ax.grid(True, axis="x", which="major")
        # The key: what each colour is (a cold reader guessed), and each mark in words.
        handles = [
            Line2D([], [], color=colour(t, c), linewidth=6, label=DRUG_WORDS.get(c, c))
            for c in data.drugs
        ]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="D",
                markersize=9,
                markerfacecolor=t.background,
                markeredgecolor=t.text,
                label="diamond: the peak",
            )
        )
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncol=1 if narrow else 3,
            fontsize=SMALL,
            borderaxespad=0.0,
            handlelength=1.6,
        )
        note_below(ax, NOT_DRAWN, t, narrow=narrow, pad=-34)
        figure_title(fig, data.title(), t, narrow=narrow)
        return finish(fig, rec)
