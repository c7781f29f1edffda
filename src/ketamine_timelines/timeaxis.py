"""A log time axis in hours whose ticks read like clinic language, not powers of ten.

Onset questions span four orders of magnitude (minutes after an infusion to months on
an SSRI); a log axis keeps both ends readable, and named ticks hide the logarithm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the tick values are read without Matplotlib (captions, tables)
    from matplotlib.axes import Axes

HOUR = 1.0
DAY = 24.0
WEEK = 168.0

#: Default extent: 10 minutes to about 6 months (26 weeks).
XMIN_HOURS = 10 / 60
XMAX_HOURS = 26 * WEEK

#: Words, not abbreviations ("1 d", "wk"): the figures are read by people new to them.
MAJOR_TICKS: tuple[tuple[float, str], ...] = (
    (1 * HOUR, "1 hour"),
    (1 * DAY, "1 day"),
    (1 * WEEK, "1 week"),
    (4 * WEEK, "4 weeks"),
    (12 * WEEK, "12 weeks"),
)
# Unlabelled landmarks between the named ticks, at times trials actually visit.
MINOR_TICKS: tuple[float, ...] = (
    10 / 60,
    20 / 60,
    40 / 60,
    2,
    4,
    8,
    12,
    2 * DAY,
    3 * DAY,
    5 * DAY,
    2 * WEEK,
    3 * WEEK,
    8 * WEEK,
    16 * WEEK,
    26 * WEEK,
)
AXIS_LABEL = "Time after the first dose (log scale)"


def format_hours(hours: float) -> str:
    """Short human label for a time in hours (used in annotations)."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < DAY:
        return f"{hours:g} h"
    if hours < 2 * WEEK:
        return f"{hours / DAY:g} d"
    return f"{hours / WEEK:g} wk"


def apply_time_axis(
    ax: Axes, *, label: str | None = AXIS_LABEL, xmin: float = XMIN_HOURS, xmax: float = XMAX_HOURS
) -> Axes:
    """Make ax's x axis a log time axis in hours with the book's tick labels."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    majors = [t for t, _ in MAJOR_TICKS]
    ax.xaxis.set_major_locator(FixedLocator(majors))
    ax.xaxis.set_major_formatter(FixedFormatter([lab for _, lab in MAJOR_TICKS]))
    ax.xaxis.set_minor_locator(FixedLocator([t for t in MINOR_TICKS if t not in majors]))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if label:
        ax.set_xlabel(label)
    return ax
