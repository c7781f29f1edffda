"""Legends that stay legible however many rows a figure draws.

A figure's legend names each kind of mark once. Entries with the same text and the same
look are one entry (a data set holding several arms or copies of one study drew one per
row, and a legend of 98 entries left the plot no room: Matplotlib's layout collapsed,
with a warning). Past :data:`MAX_ENTRIES`, the rest are summarised in one line that
points to the sources table under the figure, which lists every study drawn.

Kept apart from the plotting code, which calls :func:`summarise` on the handles it
passes to ``Axes.legend``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from matplotlib.lines import Line2D

#: The most entries a legend shows: ten rows of two columns on a wide figure (the book's
#: largest legend has 17).
MAX_ENTRIES = 20


def _look(handle: Any) -> tuple[str, ...]:
    """How a legend entry is drawn: colour, line and marker."""
    props = []
    for name in ("color", "facecolor", "linestyle", "marker", "markerfacecolor", "alpha"):
        getter = getattr(handle, f"get_{name}", None)
        props.append(repr(getter()) if callable(getter) else "")
    return tuple(props)


def summarise(handles: Iterable[Any], limit: int = MAX_ENTRIES) -> list[Any]:
    """The handles to show: each (text, look) once, in order, at most ``limit`` of them."""
    unique: dict[tuple[str, tuple[str, ...]], Any] = {}
    for handle in handles:
        unique.setdefault((handle.get_label(), _look(handle)), handle)
    shown = list(unique.values())
    if len(shown) <= limit:
        return shown
    more = len(shown) - (limit - 1)
    summary = Line2D([], [], linestyle="none", label=f"and {more} more, in the sources table")
    return [*shown[: limit - 1], summary]
