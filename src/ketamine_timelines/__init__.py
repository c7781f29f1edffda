"""Data and figures for the book "Ketamine for mental health".

The content library that the book's notebooks import: the curated data set's loader, the
figures, the sources tables, and the book's colour themes. It imports no Sphinx; the
Sphinx extensions that build the book live beside ``conf.py`` in ``_ext/``.

Every plotted number is a row of the data set with a study key that exists in the
bibliography and a location in the source.

Names are imported on first use (PEP 562): ``import ketamine_timelines.vocab`` or
``from ketamine_timelines import load_points`` does not import Matplotlib, which only the
figures need (the book's build reads the vocabulary on every run).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "FIGURES": "figures",
    "figure": "figures",
    "Reference": "bib",
    "load_bib": "bib",
    "DataError": "data",
    "Point": "data",
    "load_points": "data",
    "select": "data",
    "ThemedFigure": "display",
    "plot_onset": "figure_onset_detail",
    "plot_onset_headline": "figure_onset",
    "plot_single_dose_course": "figure_single_dose",
    "plot_treatment_day": "figure_treatment_day",
    "THEMES": "style",
    "contrast_ratio": "style",
    "get_theme": "style",
    "sources_table": "tables",
    "apply_time_axis": "timeaxis",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
