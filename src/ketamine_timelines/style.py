"""Colours, markers and deterministic output settings for both Furo themes.

Colour is never the only cue: every drug class also has its own marker and line style,
so the figures survive greyscale printing and colour-vision differences.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import matplotlib as mpl

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}


@dataclass(frozen=True)
class Theme:
    name: str
    background: str  # Furo's page background, so the figure blends into the page
    text: str
    muted: str  # grid, spans: decoration, held to the 3:1 line threshold
    classes: dict[str, str]  # drug_class -> line/marker colour


# Entries were chosen per background so that lines reach 3:1 and text 4.5:1 (WCAG 2.x);
# orange, sky blue and yellow are too light for white; black is invisible on #131416 and
# blue only just passes there, so the dark theme swaps them for sky blue and light grey.
THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        background="#ffffff",
        text="#1a1a1a",
        muted="#6b6b6b",
        classes={
            "ketamine_iv": OKABE_ITO["vermillion"],
            "ketamine_sc": OKABE_ITO["vermillion"],
            "esketamine_in": OKABE_ITO["blue"],
            "ssri_snri": OKABE_ITO["bluish_green"],
            "antidepressant_pooled": OKABE_ITO["bluish_green"],
            "drug_and_placebo_pooled": "#6b6b6b",
            "placebo": OKABE_ITO["black"],
            "active_placebo": OKABE_ITO["black"],
            "other": OKABE_ITO["black"],
        },
    ),
    "dark": Theme(
        name="dark",
        background="#131416",
        text="#e6e6e6",
        muted="#9a9a9a",
        classes={
            "ketamine_iv": OKABE_ITO["vermillion"],
            "ketamine_sc": OKABE_ITO["vermillion"],
            "esketamine_in": OKABE_ITO["sky_blue"],
            "ssri_snri": OKABE_ITO["bluish_green"],
            "antidepressant_pooled": OKABE_ITO["bluish_green"],
            "drug_and_placebo_pooled": "#9a9a9a",
            "placebo": "#e6e6e6",
            "active_placebo": "#e6e6e6",
            "other": "#e6e6e6",
        },
    ),
}

MARKERS = {
    "ketamine_iv": "o",
    "ketamine_sc": "h",
    "esketamine_in": "s",
    "ssri_snri": "D",
    "antidepressant_pooled": "d",
    "drug_and_placebo_pooled": "X",
    "placebo": "v",
    "active_placebo": "^",
    "other": "P",
}
LINESTYLES = {
    "ketamine_iv": "-",
    "ketamine_sc": "-",
    "esketamine_in": "--",
    "ssri_snri": "-.",
    "antidepressant_pooled": "-.",
    "drug_and_placebo_pooled": ":",
    "placebo": ":",
    "active_placebo": ":",
    "other": ":",
}


def get_theme(theme: str | Theme) -> Theme:
    if isinstance(theme, Theme):
        return theme
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; use one of {sorted(THEMES)}") from None


def colour(theme: str | Theme, drug_class: str) -> str:
    return get_theme(theme).classes[drug_class]


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    rgb = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio between two '#rrggbb' colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


#: Settings read at *save* time, so they must also be active around savefig, not only
#: while the figure is built. Same input must give the same bytes: a fixed hash salt for
#: clip-path ids, and text kept as <text> (small, searchable, selectable).
OUTPUT_RC: dict[str, Any] = {
    "svg.hashsalt": "ketamine-timelines",
    "svg.fonttype": "none",
    "svg.id": None,
    "pdf.fonttype": 42,
}


#: Figure text is at least this many points. Wide figures are 8.4 in (605 pt) wide and
#: shown about 742 CSS px wide (1.23 px/pt); narrow ones 4.2 in (302 pt) on a phone's
#: ~350 px column (1.16 px/pt): 9 pt is 10.4 CSS px or more on both.
MIN_FONT_PT = 9.0
WIDE_WIDTH_IN = 8.4
NARROW_WIDTH_IN = 4.2
#: Text is SVG <text>; a reader without DejaVu Sans gets another sans-serif, never a serif.
FONT_FAMILY = ["DejaVu Sans", "Bitstream Vera Sans", "Arial", "Helvetica", "sans-serif"]


def rc_params(theme: str | Theme) -> dict[str, Any]:
    t = get_theme(theme)
    return {
        **OUTPUT_RC,
        "font.family": "sans-serif",
        "font.sans-serif": FONT_FAMILY,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "xtick.labelsize": MIN_FONT_PT + 0.5,
        "ytick.labelsize": MIN_FONT_PT + 0.5,
        "figure.facecolor": t.background,
        "savefig.facecolor": t.background,
        "axes.facecolor": t.background,
        "axes.edgecolor": t.text,
        "axes.labelcolor": t.text,
        "axes.titlecolor": t.text,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": t.text,
        "ytick.color": t.text,
        "text.color": t.text,
        "grid.color": t.muted,
        "grid.alpha": 0.35,
        "legend.frameon": False,
        "legend.fontsize": MIN_FONT_PT,
        "legend.title_fontsize": MIN_FONT_PT,
        "path.simplify": False,
    }


@contextmanager
def themed(theme: str | Theme) -> Iterator[Theme]:
    """rcParams for one figure, restored afterwards so notebooks are not affected."""
    with mpl.rc_context(rc_params(theme)):
        yield get_theme(theme)


def _fixed_date() -> datetime | None:
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        return datetime.fromtimestamp(int(sde), tz=UTC)
    return None


def savefig_metadata(fmt: str) -> dict[str, Any]:
    """Metadata with no wall-clock date.

    SVG never carries a date (inline in HTML it would only add noise). PDF carries
    SOURCE_DATE_EPOCH when it is set, as reproducible-build tooling expects, else none.
    """
    when = _fixed_date()
    if fmt == "svg":
        return {"Date": None, "Creator": "ketamine_timelines"}
    if fmt == "pdf":
        return {
            "CreationDate": when,
            "ModDate": when,
            "Creator": "ketamine_timelines",
            "Producer": "ketamine_timelines",
        }
    if fmt == "png":
        return {"Software": "ketamine_timelines"}
    return {}
