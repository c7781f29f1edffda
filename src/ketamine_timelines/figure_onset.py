"""The headline figure (``onset``, Fig. 3.1 and 6.1): how fast each drug gets ahead of its
own comparison group, drawn by weight of evidence.

One panel per comparison, on one time axis and one scale (extra responders per 100
people, drug arm minus comparison arm): pooled IV ketamine trials against placebo and
against midazolam (an active placebo), with when the pooled lead starts and ends; the one
trial that hid ketamine under anaesthesia, drawn thin because it is small; esketamine with
a newly started antidepressant against that antidepressant alone (the large TRANSFORM
trials); SSRIs against placebo. Wherever a panel has no number (before a series' first
measurement, between two single results, after its last) the time is hatched and says
"no data", so a blank is never read as "measured, and no difference". Every value label
gives its time after the first dose. Every mark, the title line, the caption, the alt text
and the data table come from :class:`OnsetHeadline`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .computed import (
    PARTLY_WORDS,
    DataRow,
    Gap,
    after_words,
    certainty,
    fmt,
    number_word,
    pair_gaps,
    row_numbers,
    signed,
    trial_count,
)
from .data import Point, select
from .studies import STUDIES
from .timeaxis import WEEK

#: The time axis: 30 minutes (the pooled lead starts at 40) to 8 weeks (SSRIs: week 6).
XLIM = (0.5, 8 * WEEK)
#: What a hatched stretch of a panel means, on the figure and in the alt text.
NO_DATA = "no data"
#: A hatched stretch stops this factor short of a marker (log axis), so it never touches
#: the point it leads to; a stretch with no room left after that is not drawn.
MARGIN = 1.35
#: Under the title, before the panels: each panel has its own comparison group (a cold
#: reader compared heights across panels; the next one found this only after doing so,
#: when it stood under the panels).
ACROSS = "Each panel has its own comparison group, so do not compare heights between panels."


def dashed(label: str) -> str:
    """'days 10-12' -> 'days 10\u201312': a range with an en dash."""
    return re.sub(r"(\d)-(\d)", "\\1\u2013\\2", label)


def when(g: Gap) -> str:
    """'24 h (day 2)', '1 week': a gap's time after the first dose."""
    return after_words(g.rows[0]).removeprefix("at ")


@dataclass(frozen=True)
class Comparison:
    """One drug against its own comparator, in one trial or one pooled analysis."""

    versus: str  # "vs placebo"
    who: str  # trials and people
    drug_class: str
    gaps: tuple[Gap, ...]
    marker: str = "o"
    joined: bool = True  # a line joins the visits of one trial (never two trials)
    explain: str = ""  # the comparator in plain words, on the figure

    @property
    def against(self) -> str:
        """The comparator in a sentence: 'against midazolam (an active placebo)'."""
        words = self.versus.removeprefix("vs ")
        if ", " in words:
            head, tail = words.split(", ", 1)
            words = f"{head} ({tail})"
        return f"against {words}"

    @property
    def spans(self) -> list[tuple[float, float]]:
        """The times this series has numbers for: its visits, joined or one by one."""
        hours = sorted(g.hours for g in self.gaps)
        return [(hours[0], hours[-1])] if self.joined else [(h, h) for h in hours]

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
    first_measured: Gap | None = None  # the series' first measurement (the caption says so)

    @property
    def rows(self) -> tuple[Point, ...]:
        return (*(p for c in self.comparisons for p in c.rows), *(e.row for e in self.events))

    @property
    def values(self) -> list[float]:
        return [g.value for c in self.comparisons for g in c.gaps]

    @property
    def no_data(self) -> tuple[tuple[Gap | None, Gap | None], ...]:
        """Stretches of the time axis with no number in this panel, each as the gaps on
        either side (None: the end of the axis): before the first, between two results
        that no line joins, after the last."""
        gaps = {g.hours: g for c in self.comparisons for g in c.gaps}
        spans = sorted(s for c in self.comparisons for s in c.spans)
        merged: list[list[float]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        out: list[tuple[Gap | None, Gap | None]] = []
        if merged and merged[0][0] / MARGIN > XLIM[0] * 1.2:
            out.append((None, gaps[merged[0][0]]))
        for (_, a), (b, _) in itertools.pairwise(merged):
            if b / a > MARGIN**2 * 1.2:
                out.append((gaps[a], gaps[b]))
        if merged and merged[-1][1] * MARGIN < XLIM[1] / 1.2:
            out.append((gaps[merged[-1][1]], None))
        return tuple(out)

    def no_data_words(self) -> str:
        """'no data before 24 h, between 24 h (day 2) and 27 days (day 28), after ...'."""
        words = []
        for a, b in self.no_data:
            if a is None and b is not None:
                words.append(f"before {when(b)}")
            elif a is not None and b is not None:
                words.append(f"between {when(a)} and {when(b)}")
            elif a is not None:
                words.append(f"after {when(a)}")
        return f"{NO_DATA} " + ", ".join(words) if words else ""


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
        """The figure's title line: its takeaway, with verbs computed from the gaps and the
        reported times: when the pooled IV ketamine lead began and ended, when the masked
        trial's lead was gone, and whether the slower drugs' leads grew."""
        parts = []
        if "ketamine" in self.keys:
            kt = self.panel("ketamine")
            ev = {e.row.measure: e for e in kt.events}
            start, end = ev.get("time_to_superiority"), ev.get("time_to_loss_of_superiority")
            soon = "within hours" if start is not None and start.span[1] < 24 else "within a day"
            text = f"IV ketamine's lead came {soon}"
            if end is not None:
                text += f" and was gone by {dashed(end.row.timepoint_label)}"
            if "masked" in self.keys:
                gaps = self.panel("masked").comparisons[0].gaps
                gone = next((g for g in gaps if g.value <= 0), None)
                if gone is not None:
                    text += (
                        f" ({gone.label} in a masked trial)"
                        if end
                        else (f", gone by {gone.label} in a masked trial")
                    )
            parts.append(text)
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
                    f" until {dashed(ev['time_to_loss_of_superiority'].row.timepoint_label)}"
                )
            s.append(
                f"In pooled trials, IV ketamine was ahead by {vs} "
                f"{after_words(kt.comparisons[0].gaps[0].rows[0])}"
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
                f"its lead was {fmt(first.value)} {after_words(first.rows[0])}{after}."
            )
        if "esketamine" in self.keys:
            c = self.panel("esketamine").comparisons[0]
            a, b = c.gaps[0], c.gaps[-1]
            s.append(
                f"Esketamine added to a newly started antidepressant was ahead by "
                f"{fmt(a.value)} {after_words(a.rows[0])} and {fmt(b.value)} "
                f"{after_words(b.rows[0])} ({c.who})."
            )
        if "ssri" in self.keys:
            panel = self.panel("ssri")
            c = panel.comparisons[0]
            a, b = c.gaps[0], c.gaps[-1]
            first = ", their first measurement," if panel.first_measured is a else ""
            s.append(
                f"SSRIs were ahead of placebo by {fmt(a.value)} {after_words(a.rows[0])}"
                f"{first} and {fmt(b.value)} {after_words(b.rows[0])} ({c.who}"
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
            f"0 means no difference. Title: {self.title()}. Under the title: {ACROSS}"
        ]
        for i, panel in enumerate(self.panels, 1):
            marks = []
            for c in panel.comparisons:
                vals = ", ".join(f"{signed(g.value)} {after_words(g.rows[0])}" for g in c.gaps)
                marks.append(f"{c.versus}: {vals}")
            for e in panel.events:
                marks.append(e.words)
            if panel.no_data:
                marks.append(f"hatched: {panel.no_data_words()}")
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
                            when=when(g),
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

    # IV ketamine, pooled: Cochrane against placebo and against midazolam at 24 h (two
    # separate pooled comparisons), and when the 9-trial meta-analysis found the lead
    # begin and end.
    comps = []
    for versus, cls, marker, explain in (
        ("vs placebo", "placebo", "o", ""),
        (
            "vs midazolam, an active placebo",
            "active_placebo",
            "^",
            "a sedative that people can feel",
        ),
    ):
        ctl = select(resp, study_key="dean2021", drug_class=cls)
        if not ctl:
            continue
        drug = select(resp, study_key="dean2021", drug_class="ketamine_iv", n=ctl[0].n)
        gaps = pair_gaps(drug, ctl)
        if gaps:
            d = gaps[0].rows[0]
            comps.append(
                Comparison(versus, _who([d], d.n), "ketamine_iv", gaps, marker, False, explain)
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
            else f"no longer ahead by {dashed(p.timepoint_label)}",
            p,
        )
        for p in sorted(times, key=lambda p: p.timepoint_hours)
    )
    if comps:
        # How sure: the review's own rating, on the figure (a cold reader saw no sign of
        # uncertainty anywhere).
        sure = certainty(r for c in comps for r in c.rows)
        panels.append(
            Panel(
                "ketamine",
                "IV ketamine (a drip into a vein), pooled trials "
                f"{after_words(comps[0].gaps[0].rows[0])}"
                + (f" (evidence rated {sure} certainty)" if sure else "")
                + ": "
                + ", and ".join(
                    c.versus.split(",")[0] + (f" ({c.explain})" if c.explain else "") for c in comps
                ),
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
                "Masked trial: IV ketamine vs saline, hidden under anaesthesia so no one "
                f"could tell who got it (1 small trial, {gaps[0].n} people)",
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
                "Esketamine spray (a form of ketamine) + new antidepressant vs placebo "
                f"spray + new antidepressant ({who})",
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
                f"SSRIs (common antidepressants) vs placebo ({who})",
                "SSRIs",
                (Comparison("vs placebo", who, "ssri_snri", gaps, "D"),),
                first_measured=gaps[0],
            )
        )
    return OnsetHeadline(tuple(panels))


# ---------------------------------------------------------------------- drawing

TICKS = ((1.0, "1 hour"), (24.0, "1 day"), (WEEK, "1 week"), (4 * WEEK, "4 weeks"))
MINOR = (2, 4, 8, 12, 48, 72, 120, 2 * WEEK, 3 * WEEK, 6 * WEEK)


def _ylim(panel: Panel, narrow: bool) -> tuple[float, float]:
    vals = panel.values
    lo = min(0.0, *vals)
    hi = max(0.0, *vals)
    # Room for a value label above the highest point (labels of the pooled panel sit
    # beside their points), in steps of 5.
    room = 12 if len(panel.comparisons) > 1 else (11 if narrow else 12)
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
        Recorder,
        figure_title,
        finish,
        note_below,
        panel_title,
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
    strip_units = 20.0 if narrow else 13.0
    limits = [_ylim(p, narrow) if kind == "panel" else (0.0, 1.0) for kind, p in rows]
    spans = [
        hi - lo if kind == "panel" else strip_units
        for (kind, _), (lo, hi) in zip(rows, limits, strict=True)
    ]
    per_unit = 0.027 if narrow else 0.026  # inches per "extra responder per 100"
    width = 40 if narrow else 88  # characters of a panel's heading line
    lines = sum(
        len(wrap(p.title if kind == "panel" else _strip_title(p), width).splitlines())
        for kind, p in rows
    )
    height = sum(spans) * per_unit + lines * (0.2 if narrow else 0.19) + (2.2 if narrow else 1.5)
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
                _events(ax, panel, t, rec, refs, narrow)
                continue
            ax.kt_panel = panel.title  # type: ignore[attr-defined]
            ax.set_ylim(lo, hi)
            ax.yaxis.set_major_locator(MultipleLocator(10))
            ax.yaxis.set_major_formatter(lambda v, _: signed(v))
            ax.grid(True, axis="y")
            zero_line(ax, t)
            width = (44 if panel.small else 40) if narrow else 88
            panel_title(ax, panel.title, t, width, bold=not panel.small)
            _no_data(ax, panel, t, narrow)
            for c in panel.comparisons:
                _comparison(ax, c, panel, t, rec, refs, narrow)
        ax = axes[-1]
        ax.set_xscale("log")
        ax.set_xlim(*XLIM)
        ax.xaxis.set_major_locator(FixedLocator([h for h, _ in TICKS]))
        # On a phone the labels stand on two lines, so "1 week" and "4 weeks" fit.
        labels = [lab.replace(" ", "\n") if narrow else lab for _, lab in TICKS]
        ax.xaxis.set_major_formatter(FixedFormatter(labels))
        ax.xaxis.set_minor_locator(FixedLocator(list(MINOR)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(
            "Time after the first dose\n(hours spread out, weeks squeezed)"
            if narrow
            else "Time after the first dose (hours spread out, weeks squeezed)"
        )
        partly = [p for p in data.panels if any(c.partly for c in p.comparisons)]
        if partly:
            # Which panels' markers are open, by the panel's own first words.
            whose = " and ".join(p.title.split(" (")[0].split(" vs ")[0] for p in partly)
            note_below(
                ax,
                f"Open markers ({whose}): values {PARTLY_WORDS}.",
                t,
                narrow=narrow,
                pad=-(66 if narrow else 40),
            )
        figure_title(
            fig,
            data.title(),
            t,
            narrow=narrow,
            subtitle=(
                "Extra people per 100 who responded (depression score at least halved) "
                "with the drug than with its comparison group; 0 = no difference; below 0, more "
                "responded in the comparison group\n" + ACROSS
            ),
        )
        return finish(fig, rec)


def _comparison(ax, c: Comparison, panel: Panel, t, rec, refs, narrow: bool) -> None:
    from matplotlib.transforms import offset_copy

    from .drawing import SMALL, cite, link_group, source_words, wrap
    from .style import colour

    col = colour(t, c.drug_class)
    xs = [g.hours for g in c.gaps]
    ys = [g.value for g in c.gaps]
    thin = panel.small
    # Two comparisons at one time (Cochrane at 24 h) sit side by side, not on top; each
    # label stands on its own marker's side.
    i = panel.comparisons.index(c)
    n = len(panel.comparisons)
    dodge = (i - (n - 1) / 2) * 9.0
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
    box = {"boxstyle": "square,pad=0.15", "facecolor": t.background, "edgecolor": "none"}
    style = {
        "textcoords": "offset points",
        "fontsize": SMALL + (0 if thin else 0.5),
        "color": col if not thin else t.text,
        "fontweight": "normal" if thin else "bold",
        "linespacing": 1.1,
        "bbox": box,
        "zorder": 5,
    }
    if n > 1:
        # Side by side: the first comparison's label to the left of its marker, the
        # second's to the right, each with its trials, at the marker's height.
        g = c.gaps[0]
        left = i == 0
        width = 17 if narrow else 34
        who = f"({c.who})" if left else f"({c.who.replace(' trials', ' separate trials', 1)})"
        words = wrap(f"{signed(g.value)} {c.versus.split(',')[0]}", width) + "\n" + wrap(who, width)
        ax.annotate(
            words,
            (g.hours, g.value),
            xytext=(dodge + (-9 if left else 9), 0),
            ha="right" if left else "left",
            va="center",
            **style,
        )
    else:
        # The first result to the left of its marker, the last above it (below a point
        # under zero, so no gain reads as a harm), ending at the marker's right edge.
        ends = [c.gaps[0]] if len(c.gaps) == 1 else [c.gaps[0], c.gaps[-1]]
        for k, g in enumerate(ends):
            words = f"{signed(g.value)} {after_words(g.rows[0], source_day=False)}"
            if narrow:
                words = words.replace(" (", "\n(")
            if k == 0:
                ax.annotate(
                    words, (g.hours, g.value), xytext=(-8, 0), ha="right", va="center", **style
                )
                continue
            up = g.value >= 0
            ax.annotate(
                words,
                (g.hours, g.value),
                xytext=(6, 7 if up else -7),
                ha="right",
                va="bottom" if up else "top",
                **style,
            )
    title = f"{cite(c.rows[0].study_key, refs)}, {panel.title}, {c.versus}: " + "; ".join(
        f"{signed(g.value)} per 100 {g.label}" for g in c.gaps
    )
    title += ". " + source_words(c.rows)
    link_group(ax, xs, ys, c.rows, refs, title, transform=tf, join=c.joined)
    rec.add(c.rows)


def _no_data(ax, panel: Panel, t, narrow: bool) -> None:
    """Hatch every stretch of the panel's time axis that has no number, and say so once
    per panel: a gap in the data, never a zero."""
    from .drawing import SMALL

    lo, hi = ax.get_ylim()
    labelled = False
    for a, b in panel.no_data:
        x0 = XLIM[0] if a is None else a.hours * MARGIN
        x1 = XLIM[1] if b is None else b.hours / MARGIN
        if x1 <= x0:
            continue
        # A tint under the hatching, so a stretch reads as a region with edges, not as
        # lines behind the whole panel (a cold reader saw "no data" everywhere).
        tint = ax.axvspan(x0, x1, facecolor=t.muted, edgecolor="none", alpha=0.13, zorder=0)
        tint.kt_reference = True  # type: ignore[attr-defined]
        span = ax.axvspan(
            x0, x1, facecolor="none", edgecolor=t.muted, hatch="/", linewidth=0, zorder=0
        )
        span.set_alpha(0.6)
        span.set_hatch_linewidth(0.6)
        span.kt_reference = True  # type: ignore[attr-defined]
        # The words once per panel, at the top left of its first stretch (the later ones
        # hold value labels).
        if labelled:
            continue
        labelled = True
        ax.text(
            x0 * 1.08,
            hi - 0.06 * (hi - lo),
            NO_DATA,
            ha="left",
            va="top",
            fontsize=SMALL,
            color=t.text,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": t.background, "edgecolor": "none"},
            zorder=2,
        )


def _strip_title(panel: Panel) -> str:
    row = panel.events[0].row
    who = ", ".join(x for x in (_trials(row), f"{row.n} people" if row.n else "") if x)
    return (
        "Another pooled analysis"
        + (f" ({who})" if who else "")
        + (": when IV ketamine was ahead of placebo")
    )


def _events(ax, panel: Panel, t, rec, refs, narrow: bool) -> None:
    """A strip under the panel: the time the pooled lead lasted, as a bar on the time axis
    from the first time ahead to the range in which it was no longer ahead (drawn paler:
    the source gives a range of days, not one day), with words at both ends."""
    from .drawing import SMALL, cite, link_group, panel_title, source_words
    from .style import colour

    events = panel.events
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", which="both", length=0)
    panel_title(ax, _strip_title(panel), t, 40 if narrow else 88)
    col = colour(t, events[0].row.drug_class)
    start = next((e for e in events if e.row.measure == "time_to_superiority"), events[0])
    end = next((e for e in events if e.row.measure == "time_to_loss_of_superiority"), None)
    a = start.span[0]
    b, c = end.span if end is not None else (start.span[1], start.span[1])
    y = 0.62
    (bar,) = ax.plot([a, b], [y, y], color=col, linewidth=7, solid_capstyle="butt", zorder=3)
    bar.kt_points = (start.row,) + ((end.row,) if end else ())  # type: ignore[attr-defined]
    if c > b:
        (fade,) = ax.plot(
            [b, c], [y, y], color=col, alpha=0.35, linewidth=7, solid_capstyle="butt", zorder=3
        )
        fade.kt_points = (end.row,)  # type: ignore[attr-defined]
    text = {"fontsize": SMALL, "color": t.text, "linespacing": 1.1, "va": "top"}
    ax.text(a, y - 0.2, f"ahead from\n{start.row.timepoint_label}", ha="left", **text)
    if end is not None:
        words = f"gone by {dashed(end.row.timepoint_label)}"
        if c > b:
            words += (
                "\n(pale: the paper\ngives a range)"
                if narrow
                else ("\n(pale: the paper gives a range)")
            )
        ax.text(c, y - 0.2, words, ha="right", **text)
    row = start.row
    words = f"{_strip_title(panel)}: " + "; ".join(e.words for e in events)
    title = f"{cite(row.study_key, refs)}: {words}. {source_words([e.row for e in events])}"
    link_group(ax, [a, (b * c) ** 0.5], [y, y], [e.row for e in events], refs, title, join=True)
    rec.add(e.row for e in events)


def _trials(p: Point) -> str:
    count = trial_count(p)
    return f"{count} trials" if count else ""
