"""The headline figure (``onset``, Fig. 3.1 and 6.1): how fast each drug gets ahead of its
own comparison group, drawn by weight of evidence.

One panel per comparison, on one time axis and one scale (extra responders per 100
people, drug arm minus comparison arm): pooled IV ketamine trials against placebo and
against midazolam (an active placebo), with when the pooled lead starts and ends; the one
trial that hid ketamine under anaesthesia, drawn thin because it is small; esketamine with
a newly started antidepressant against that antidepressant alone (the large TRANSFORM
trials); SSRIs against placebo, with the weeks before their first measurement shaded.
Every mark, the title line, the caption, the alt text and the data table come from
:class:`OnsetHeadline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .computed import (
    PARTLY_WORDS,
    DataRow,
    Gap,
    certainty,
    fmt,
    number_word,
    pair_gaps,
    row_numbers,
    signed,
    time_words,
    trial_count,
)
from .data import Point, select
from .studies import STUDIES
from .timeaxis import WEEK


@dataclass(frozen=True)
class Comparison:
    """One drug against its own comparator, in one trial or one pooled analysis."""

    versus: str  # "vs placebo"
    who: str  # trials and people
    drug_class: str
    gaps: tuple[Gap, ...]
    marker: str = "o"
    joined: bool = True  # a line joins the visits of one trial (never two trials)

    @property
    def against(self) -> str:
        """The comparator in a sentence: 'against midazolam (an active placebo)'."""
        words = self.versus.removeprefix("vs ")
        if ", " in words:
            head, tail = words.split(", ", 1)
            words = f"{head} ({tail})"
        return f"against {words}"

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(p for g in self.gaps for p in g.rows)

    @property
    def partly(self) -> bool:
        return any(p.is_partly for p in self.rows)


@dataclass(frozen=True)
class Event:
    """A time a pooled analysis reports (ahead from 40 min; no longer ahead by days 10-12)."""

    words: str
    row: Point

    @property
    def span(self) -> tuple[float, float]:
        _, lo, hi = self.row.event_hours()
        return lo, hi


@dataclass(frozen=True)
class Panel:
    key: str
    title: str  # what is compared, and how much evidence: the panel's heading
    short: str  # the same in a few words, for the data table
    comparisons: tuple[Comparison, ...]
    events: tuple[Event, ...] = ()
    small: bool = False  # a single small trial: drawn thin and faint
    first_measured: Gap | None = None  # weeks before it were not measured: shaded

    @property
    def rows(self) -> tuple[Point, ...]:
        return (*(p for c in self.comparisons for p in c.rows), *(e.row for e in self.events))

    @property
    def values(self) -> list[float]:
        return [g.value for c in self.comparisons for g in c.gaps]


@dataclass(frozen=True)
class OnsetHeadline:
    panels: tuple[Panel, ...]

    def panel(self, key: str) -> Panel:
        return next(p for p in self.panels if p.key == key)

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(dict.fromkeys(p for panel in self.panels for p in panel.rows))

    # ------------------------------------------------------------------ words

    def title(self) -> str:
        """The figure's title line: its takeaway, with verbs computed from the gaps."""
        parts = []
        if "ketamine" in self.keys:
            kt = self.panel("ketamine")
            start = next((e for e in kt.events if e.row.measure == "time_to_superiority"), None)
            parts.append(
                "IV ketamine got ahead of placebo within hours"
                if start is not None and start.span[1] < 24
                else "IV ketamine got ahead of placebo within a day"
            )
        if "masked" in self.keys:
            gaps = self.panel("masked").comparisons[0].gaps
            lasted = all(g.value > 0 for g in gaps)
            parts[-1:] = (
                [
                    parts[-1]
                    + (", but not for long" if not lasted else ", also")
                    + " in a small trial where no one could tell who got it"
                ]
                if parts
                else parts
            )
        grew = [
            name
            for key, name in (("esketamine", "esketamine's"), ("ssri", "SSRIs'"))
            if key in self.keys
            and self.panel(key).comparisons[0].gaps[-1].value
            > self.panel(key).comparisons[0].gaps[0].value
        ]
        if grew:
            parts.append(f"{' and '.join(grew)} leads grew over weeks")
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]

    @property
    def keys(self) -> set[str]:
        return {p.key for p in self.panels}

    def caption(self) -> str:
        s = ["Extra responders per 100 people, each drug against its own comparison group."]
        if "ketamine" in self.keys:
            kt = self.panel("ketamine")
            vs = " and ".join(f"{fmt(c.gaps[0].value)} {c.against}" for c in kt.comparisons)
            sure = certainty(kt.rows)
            ev = {e.row.measure: e for e in kt.events}
            when = ""
            if "time_to_superiority" in ev and "time_to_loss_of_superiority" in ev:
                when = (
                    f", and ahead from {ev['time_to_superiority'].row.timepoint_label}"
                    f" until {ev['time_to_loss_of_superiority'].row.timepoint_label}"
                )
            s.append(
                f"In pooled trials, IV ketamine was ahead by {vs} "
                f"{time_words(kt.comparisons[0].gaps[0].rows[0])}"
                + (f" (rated {sure} certainty)" if sure else "")
                + when
                + "."
            )
        if "masked" in self.keys:
            c = self.panel("masked").comparisons[0]
            first, rest = c.gaps[0], c.gaps[1:]
            after = " and reversed afterwards" if rest and all(g.value < 0 for g in rest) else ""
            s.append(
                f"In the one trial that hid ketamine under anaesthesia ({first.n} people), "
                f"its lead was {fmt(first.value)} {time_words(first.rows[0])}{after}."
            )
        if "esketamine" in self.keys:
            c = self.panel("esketamine").comparisons[0]
            a, b = c.gaps[0], c.gaps[-1]
            s.append(
                f"Esketamine added to a newly started antidepressant was ahead by "
                f"{fmt(a.value)} {time_words(a.rows[0])} and {fmt(b.value)} "
                f"{time_words(b.rows[0])} ({c.who})."
            )
        if "ssri" in self.keys:
            panel = self.panel("ssri")
            c = panel.comparisons[0]
            a, b = c.gaps[0], c.gaps[-1]
            first = ", their first measurement," if panel.first_measured is a else ""
            s.append(
                f"SSRIs were ahead of placebo by {fmt(a.value)} {time_words(a.rows[0])}"
                f"{first} and {fmt(b.value)} {time_words(b.rows[0])} ({c.who}"
                + (f", {PARTLY_WORDS}" if c.partly else "")
                + ")."
            )
        s.append("Different trials, people and scales: not a head-to-head comparison.")
        return " ".join(s)

    def alt(self) -> str:
        lines = [
            f"{number_word(len(self.panels))} panels, one above the other, sharing a "
            f"logarithmic time axis from {fmt(XLIM[0] * 60)} minutes to "
            f"{fmt(XLIM[1] / WEEK)} weeks after the first dose; each "
            "shows extra responders per 100 people, drug minus its comparison group, where "
            f"0 means no difference. Title: {self.title()}."
        ]
        for i, panel in enumerate(self.panels, 1):
            marks = []
            for c in panel.comparisons:
                vals = ", ".join(f"{signed(g.value)} {time_words(g.rows[0])}" for g in c.gaps)
                marks.append(f"{c.versus}: {vals}")
            for e in panel.events:
                marks.append(e.words)
            if panel.first_measured is not None:
                marks.append(f"shaded: not measured before {panel.first_measured.label}")
            lines.append(f"Panel {i}, {panel.title}: " + "; ".join(marks) + ".")
        return " ".join(lines)

    def table(self) -> list[DataRow]:
        out = []
        for panel in self.panels:
            for c in panel.comparisons:
                for g in c.gaps:
                    parts, people = "", "not stated"
                    count = trial_count(g.rows[0])
                    if count and not g.rows[0].n:
                        people = f"{count} trials; not stated"
                    if len(g.rows) == 2:
                        d, k = g.rows
                        estimated = " (Cochrane's estimate)" if "anticipated" in d.note else ""
                        parts = f": {fmt(d.value)}% vs {fmt(k.value)}%{estimated}"
                        if trial_count(d) and d.n:
                            people = str(d.n)  # a review's total, given once for both arms
                        elif d.n and k.n:
                            people = f"{d.n + k.n} ({d.n} + {k.n})"
                    out.append(
                        DataRow(
                            what=f"{panel.short} {c.versus}",
                            when=g.label,
                            number=f"{signed(g.value)} per 100{parts}",
                            people=people,
                            study_key=g.rows[0].study_key,
                            where="; ".join(dict.fromkeys(p.source_location for p in g.rows)),
                            partly=any(p.is_partly for p in g.rows),
                        )
                    )
            for e in panel.events:
                count = trial_count(e.row)
                out.append(
                    DataRow(
                        what=f"{panel.short} vs placebo" + (f", {count} trials" if count else ""),
                        when=e.row.timepoint_label,
                        number=e.words.rsplit(" ", 2)[0].removesuffix(" from").removesuffix(" by"),
                        people=str(e.row.n or "not stated"),
                        study_key=e.row.study_key,
                        where=e.row.source_location,
                        partly=e.row.is_partly,
                    )
                )
        return out

    def numbers(self) -> set[float]:
        """Every number the figure draws: gaps, the rows behind them, people, times."""
        out = row_numbers(self.rows)
        for panel in self.panels:
            for c in panel.comparisons:
                for g in c.gaps:
                    out.add(g.value)
                    if g.n:
                        out.add(float(g.n))
                for n in _numbers_in(c.who):
                    out.add(n)
        return out


def _numbers_in(text: str) -> list[float]:
    import re

    return [float(m) for m in re.findall(r"\d+(?:\.\d+)?", text)]


def _who(rows: Sequence[Point], people: int | None) -> str:
    count = trial_count(rows[0])
    study = STUDIES.get(rows[0].study_key)
    if count:
        head = f"{count} trials"
    elif study and "TRANSFORM" in study.design:
        head = study.design.removeprefix("pooled analysis of ")
    else:
        head = "1 trial"
    return f"{head}, {people} people" if people else head


def onset_headline(points: Sequence[Point]) -> OnsetHeadline:
    """The headline figure's data: each drug against its own comparator, from the rows."""
    resp = select(points, measure="response_rate")
    panels = []

    # IV ketamine, pooled: Cochrane against placebo and against midazolam at 24 h, and
    # when the 9-trial meta-analysis found the lead begin and end.
    comps = []
    for versus, cls, marker in (
        ("vs placebo", "placebo", "o"),
        ("vs midazolam, an active placebo", "active_placebo", "^"),
    ):
        ctl = select(resp, study_key="dean2021", drug_class=cls)
        if not ctl:
            continue
        drug = select(resp, study_key="dean2021", drug_class="ketamine_iv", n=ctl[0].n)
        gaps = pair_gaps(drug, ctl)
        if gaps:
            d = gaps[0].rows[0]
            comps.append(
                Comparison(versus, _who([d], d.n), "ketamine_iv", gaps, marker, joined=False)
            )
    times = select(
        points,
        study_key="kishimoto2016",
        measure={"time_to_superiority", "time_to_loss_of_superiority"},
    )
    events = tuple(
        Event(
            f"ahead of placebo from {p.timepoint_label}"
            if p.measure == "time_to_superiority"
            else f"no longer ahead by {p.timepoint_label}",
            p,
        )
        for p in sorted(times, key=lambda p: p.timepoint_hours)
    )
    if comps:
        panels.append(
            Panel(
                "ketamine",
                "IV ketamine, pooled trials",
                "IV ketamine, pooled",
                tuple(comps),
                events,
            )
        )

    # The masked trial: ketamine or saline given during surgical anaesthesia.
    lii = select(resp, study_key="lii2023", timepoint_hours=lambda h: h > 0)
    gaps = pair_gaps(select(lii, arm="drug"), select(lii, arm="control"))
    if gaps:
        panels.append(
            Panel(
                "masked",
                f"IV ketamine vs saline, hidden under anaesthesia: 1 small trial, "
                f"{gaps[0].n} people",
                "IV ketamine hidden under anaesthesia",
                (Comparison("vs saline", f"1 trial, {gaps[0].n} people", "ketamine_iv", gaps),),
                small=True,
            )
        )

    # Esketamine spray with a newly started antidepressant, against that antidepressant
    # with a placebo spray: the large TRANSFORM trials, pooled.
    tk = select(resp, study_key="turkoz2021")
    gaps = pair_gaps(select(tk, arm="drug"), select(tk, arm="control"))
    if gaps:
        who = _who(gaps[0].rows, max(g.n or 0 for g in gaps))
        panels.append(
            Panel(
                "esketamine",
                f"Esketamine spray vs placebo spray, both with a new antidepressant: {who}",
                "Esketamine spray + new antidepressant",
                (
                    Comparison(
                        "vs placebo spray",
                        who,
                        "esketamine_in",
                        gaps,
                        "s",
                        joined=False,
                    ),
                ),
            )
        )

    # SSRIs against placebo, week by week; nothing was measured before week 1.
    ssri = sorted(
        select(points, study_key="taylor2006", measure="rate_difference_vs_control"),
        key=lambda p: p.timepoint_hours,
    )
    if ssri:
        gaps = tuple(Gap(p.timepoint_hours, p.value, (p,), p.n) for p in ssri)
        who = _who(ssri, None)
        panels.append(
            Panel(
                "ssri",
                f"SSRIs vs placebo: {who}"
                + (f" (open markers: {PARTLY_WORDS})" if any(p.is_partly for p in ssri) else ""),
                "SSRIs",
                (Comparison("vs placebo", who, "ssri_snri", gaps, "D"),),
                first_measured=gaps[0],
            )
        )
    return OnsetHeadline(tuple(panels))


# ---------------------------------------------------------------------- drawing

#: The time axis: 30 minutes (the pooled lead starts at 40) to 8 weeks (SSRIs: week 6).
XLIM = (0.5, 8 * WEEK)
TICKS = ((1.0, "1 hour"), (24.0, "1 day"), (WEEK, "1 week"), (4 * WEEK, "4 weeks"))
MINOR = (2, 4, 8, 12, 48, 72, 120, 2 * WEEK, 3 * WEEK, 6 * WEEK)


def _ylim(panel: Panel, narrow: bool) -> tuple[float, float]:
    vals = panel.values
    lo = min(0.0, *vals)
    hi = max(0.0, *vals)
    # Room for the value labels above (and below) the points, in steps of 5; labels of
    # two comparisons at one time stack two or three lines above their point.
    room = (22 if narrow else 14) if len(panel.comparisons) > 1 else 12
    return (5 * ((lo - 7) // 5) if lo < 0 else -5.0, 5 * ((hi + room) // 5 + 1))


def plot_onset_headline(
    points: Sequence[Point],
    theme: str = "light",
    *,
    refs=None,
    narrow: bool = False,
):
    """How fast, compared with what: one panel per comparison, by weight of evidence."""
    return draw(onset_headline(points), theme, refs=refs, narrow=narrow)


def draw(data: OnsetHeadline, theme: str = "light", *, refs=None, narrow: bool = False):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedFormatter, FixedLocator, MultipleLocator, NullFormatter

    from .drawing import (
        SMALL,
        Recorder,
        figure_title,
        finish,
        refs_or_bib,
        wrap,
        zero_line,
    )
    from .style import themed

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    # Rows of the figure: each panel, and under a panel with reported times (when the
    # pooled lead began and ended) a strip that draws them as a bar on the time axis.
    rows: list[tuple[str, Panel]] = []
    for panel in data.panels:
        rows.append(("panel", panel))
        if panel.events:
            rows.append(("strip", panel))
    strip_units = 16.0 if narrow else 11.0
    limits = [_ylim(p, narrow) if kind == "panel" else (0.0, 1.0) for kind, p in rows]
    spans = [
        hi - lo if kind == "panel" else strip_units
        for (kind, _), (lo, hi) in zip(rows, limits, strict=True)
    ]
    per_unit = 0.030 if narrow else 0.026  # inches per "extra responder per 100"
    title_in = 0.42 if narrow else 0.26  # each panel's heading
    height = sum(spans) * per_unit + len(data.panels) * title_in + (1.55 if narrow else 1.15)
    with themed(theme) as t:
        fig, axes = plt.subplots(
            len(rows),
            1,
            figsize=(4.2 if narrow else 8.4, height),
            sharex=True,
            height_ratios=spans,
            layout="constrained",
        )
        axes = list(axes) if len(rows) > 1 else [axes]
        fig.kt_data = data  # type: ignore[attr-defined]
        for ax, (kind, panel), (lo, hi) in zip(axes, rows, limits, strict=True):
            if kind == "strip":
                _events(ax, panel.events, t, rec, refs, narrow)
                continue
            ax.kt_panel = panel.title  # type: ignore[attr-defined]
            ax.set_ylim(lo, hi)
            ax.yaxis.set_major_locator(MultipleLocator(10))
            ax.grid(True, axis="y")
            zero_line(ax, t)
            ax.set_title(
                wrap(panel.title, 38 if narrow else 88),
                loc="left",
                fontsize=SMALL + 1,
                fontweight="normal" if panel.small else "bold",
                color=t.text,
                pad=4,
            )
            if panel.first_measured is not None:
                _not_measured(ax, panel.first_measured, t, narrow)
            for c in panel.comparisons:
                _comparison(ax, c, panel, t, rec, refs, narrow)
        ax = axes[-1]
        ax.set_xscale("log")
        ax.set_xlim(*XLIM)
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in TICKS]))
        # On a phone "1 week" and "4 weeks" would touch: the last label goes.
        labels = [lab for _, lab in TICKS]
        ax.xaxis.set_major_formatter(FixedFormatter([*labels[:-1], ""] if narrow else labels))
        ax.xaxis.set_minor_locator(FixedLocator(list(MINOR)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("Time after the first dose (log scale)")
        fig.supylabel(
            "Extra responders per 100 people\n(drug minus its comparison group; 0 = no difference)"
            if not narrow
            else "Extra responders per 100 people\n(drug minus comparison; 0 = no difference)",
            fontsize=SMALL + 0.5,
            color=t.text,
        )
        figure_title(fig, data.title(), t, narrow=narrow)
        return finish(fig, rec)


def _comparison(ax, c: Comparison, panel: Panel, t, rec, refs, narrow: bool) -> None:
    from matplotlib.transforms import offset_copy

    from .drawing import SMALL, cite, link_group, source_words
    from .style import colour

    col = colour(t, c.drug_class)
    xs = [g.hours for g in c.gaps]
    ys = [g.value for g in c.gaps]
    thin = panel.small
    # Two comparisons at one time (Cochrane at 24 h) sit side by side, not on top.
    i = panel.comparisons.index(c)
    dodge = (i - (len(panel.comparisons) - 1) / 2) * 9.0
    tf = offset_copy(ax.transData, fig=ax.figure, x=dodge, y=0, units="points")
    (ln,) = ax.plot(
        xs,
        ys,
        transform=tf,
        color=col,
        linestyle=("-" if not thin else (0, (4, 2))) if c.joined else "none",
        linewidth=1.2 if thin else 2.2,
        marker=c.marker,
        markersize=5.0 if thin else 8.0,
        markerfacecolor=t.background if c.partly else col,
        markeredgecolor=col,
        markeredgewidth=1.5,
        zorder=4,
        label=f"{panel.title}: {c.versus}",
    )
    ln.kt_points = c.rows  # type: ignore[attr-defined]
    ln.kt_values = tuple(ys)  # type: ignore[attr-defined]
    # Value labels at the first and last time: above a point at or over zero, below one
    # under it, so no label reads as a harm.
    ends = [c.gaps[0]] if len(c.gaps) == 1 else [c.gaps[0], c.gaps[-1]]
    for g in ends:
        up = g.value >= 0
        dx, dy = -7.0, (6.0 if up else -6.0)
        words = f"{signed(g.value)} {time_words(g.rows[0])}"
        if panel.key == "ketamine":
            # Two comparisons at one time, labelled to the right: the upper one above its
            # point, the other below.
            words = f"{signed(g.value)} {c.versus}\n({c.who})"
            if narrow:
                words = words.replace(", an active placebo", ",\nan active placebo")
            upper = g.value >= max(panel.values)
            dx, dy = 9.0 + dodge, (4.0 if upper else -4.0)
            up = upper
        ha = "left" if panel.key == "ketamine" else "right"
        ax.annotate(
            words,
            (g.hours, g.value),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va="bottom" if up else "top",
            fontsize=SMALL + (0 if thin else 0.5),
            color=col if not thin else t.text,
            fontweight="normal" if thin else "bold",
            linespacing=1.1,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": t.background, "edgecolor": "none"},
            zorder=5,
        )
    title = f"{cite(c.rows[0].study_key, refs)}, {panel.title}, {c.versus}: " + "; ".join(
        f"{signed(g.value)} per 100 {g.label}" for g in c.gaps
    )
    title += ". " + source_words(c.rows)
    link_group(ax, xs, ys, c.rows, refs, title, transform=tf, join=c.joined)
    rec.add(c.rows)


def _not_measured(ax, first: Gap, t, narrow: bool) -> None:
    """Shade the time before the first measurement: a gap in the data, not a zero."""
    span = ax.axvspan(
        XLIM[0],
        first.hours,
        facecolor="none",
        edgecolor=t.muted,
        hatch="///",
        linewidth=0,
        zorder=0,
    )
    span.kt_reference = True  # type: ignore[attr-defined]
    lo, hi = ax.get_ylim()
    from .drawing import SMALL

    ax.text(
        XLIM[0] * 1.15,
        lo + 0.72 * (hi - lo),
        f"not measured\nbefore {first.label}" if narrow else f"not measured before {first.label}",
        ha="left",
        va="center",
        fontsize=SMALL,
        color=t.text,
        linespacing=1.1,
        bbox={"boxstyle": "round,pad=0.25", "facecolor": t.background, "edgecolor": "none"},
        zorder=2,
    )


def _events(ax, events: Sequence[Event], t, rec, refs, narrow: bool) -> None:
    """A strip under the panel: the time the pooled lead lasted, as a bar on the time axis
    (from the first time ahead to the range in which it was no longer ahead)."""
    from .drawing import SMALL, cite, link_group, source_words
    from .style import colour

    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", which="both", length=0)
    col = colour(t, events[0].row.drug_class)
    start = next((e for e in events if e.row.measure == "time_to_superiority"), events[0])
    end = next((e for e in events if e.row.measure == "time_to_loss_of_superiority"), None)
    a = start.span[0]
    b, c = end.span if end is not None else (start.span[1], start.span[1])
    y = 0.22
    (bar,) = ax.plot([a, b], [y, y], color=col, linewidth=5, solid_capstyle="butt", zorder=3)
    bar.kt_points = (start.row,) + ((end.row,) if end else ())  # type: ignore[attr-defined]
    if c > b:
        fade = ax.axvspan(b, c, ymin=y - 0.1, ymax=y + 0.1, color=t.muted, alpha=0.5, linewidth=0)
        fade.kt_points = (end.row,)  # type: ignore[attr-defined]
    row = start.row
    who = f"{row.n} people" if row.n else ""
    count = _trials(row)
    evidence = ", ".join(x for x in (count, who) if x)
    words = "Pooled trials: " + ("; ".join(e.words for e in events))
    if evidence:
        words += f" ({evidence})"
    ax.text(
        a,
        y + 0.2,
        wrap_words(words, 52 if narrow else 110),
        ha="left",
        va="bottom",
        fontsize=SMALL,
        color=t.text,
        linespacing=1.1,
    )
    title = f"{cite(row.study_key, refs)}: {words}. {source_words([e.row for e in events])}"
    link_group(ax, [a, (b * c) ** 0.5], [y, y], [e.row for e in events], refs, title, join=True)
    rec.add(e.row for e in events)


def _trials(p: Point) -> str:
    count = trial_count(p)
    return f"{count} trials" if count else ""


def wrap_words(text: str, width: int) -> str:
    from .drawing import wrap

    return wrap(text, width)
