"""Data and figures for the book "Ketamine for mental health".

The content library that the book's notebooks import: the curated data set's loader, the
figures, the sources tables, and the book's colour themes. It imports no Sphinx; the
Sphinx extensions that build the book live beside ``conf.py`` in ``_ext/``.

Every plotted number is a row of the data set with a study key that exists in the
bibliography and a location in the source.
"""

from __future__ import annotations

from .bib import Reference, load_bib
from .data import DataError, Point, load_points, select
from .display import ThemedFigure
from .figures import FIGURES, figure
from .plots import (
    plot_onset,
    plot_onset_headline,
    plot_side_effect_window,
    plot_single_dose_course,
    plot_treatment_day,
)
from .style import THEMES, contrast_ratio, get_theme
from .tables import sources_table
from .timeaxis import apply_time_axis

__version__ = "0.1.0"

__all__ = [
    "FIGURES",
    "THEMES",
    "DataError",
    "Point",
    "Reference",
    "ThemedFigure",
    "apply_time_axis",
    "contrast_ratio",
    "figure",
    "get_theme",
    "load_bib",
    "load_points",
    "plot_onset",
    "plot_onset_headline",
    "plot_side_effect_window",
    "plot_single_dose_course",
    "plot_treatment_day",
    "select",
    "sources_table",
]
