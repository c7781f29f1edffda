"""Data and figures for the book "Ketamine for mental health".

Every plotted number is a row of data/onset_timelines.csv with a study key that exists
in references.bib and a location in the source.

Names are imported on first use (PEP 562): Sphinx imports this package for its
extension and link-check settings on every build, and importing Matplotlib there would
add a third of a second to every rebuild that draws nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Reference": "bib",
    "load_bib": "bib",
    "DataError": "data",
    "Point": "data",
    "load_points": "data",
    "select": "data",
    "ThemedFigure": "display",
    "plot_onset": "plots",
    "plot_side_effect_window": "plots",
    "plot_single_dose_course": "plots",
    "THEMES": "style",
    "contrast_ratio": "style",
    "get_theme": "style",
    "sources_table": "tables",
    "apply_time_axis": "timeaxis",
}
__all__ = [  # noqa: RUF022 - same order as _EXPORTS
    "Reference",
    "load_bib",
    "DataError",
    "Point",
    "load_points",
    "select",
    "ThemedFigure",
    "plot_onset",
    "plot_side_effect_window",
    "plot_single_dose_course",
    "THEMES",
    "contrast_ratio",
    "get_theme",
    "sources_table",
    "apply_time_axis",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .bib import Reference, load_bib
    from .data import DataError, Point, load_points, select
    from .display import ThemedFigure
    from .plots import plot_onset, plot_side_effect_window, plot_single_dose_course
    from .style import THEMES, contrast_ratio, get_theme
    from .tables import sources_table
    from .timeaxis import apply_time_axis


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*globals(), *__all__]
