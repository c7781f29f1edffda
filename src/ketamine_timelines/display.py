"""Show one figure in both Furo themes, and in formats the PDF and EPUB builds can use."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .style import OUTPUT_RC, savefig_metadata

THEMES = ("light", "dark")
_ID = re.compile(r'\bid="([^"]+)"')


def render(fig: Figure, fmt: str, **kw: Any) -> bytes:
    """Serialise fig deterministically (no dates, fixed ids) and close it."""
    buf = io.BytesIO()
    try:
        with mpl.rc_context(OUTPUT_RC):
            fig.savefig(buf, format=fmt, metadata=savefig_metadata(fmt), **kw)
    finally:
        # Closing stops the inline backend from showing a second, unthemed copy.
        plt.close(fig)
    return buf.getvalue()


def prefix_svg_ids(svg: str, prefix: str) -> str:
    """Prefix every id and every reference to it, so two inline SVGs on one page
    (light and dark) never share an id; shared ids make browsers clip one figure
    with the other's clip paths."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def ref(m: re.Match[str]) -> str:
        target = m.group(2)
        return f"{m.group(1)}{prefix}{target}" if target in ids else m.group(0)

    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"(url\(#)([^)]+)(?=\))", ref, svg)
    svg = re.sub(r'((?:xlink:)?href="#)([^"]+)(?=")', ref, svg)
    return svg


def inline_svg(svg: str, *, alt: str, prefix: str) -> str:
    """An SVG document turned into an accessible, responsive inline <svg> element."""
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE
    svg = prefix_svg_ids(svg, prefix)
    a = html.escape(alt, quote=True)

    def root(m: re.Match[str]) -> str:
        attrs = re.sub(r'\s(width|height)="[^"]*"', "", m.group(1))
        return (
            f'<svg{attrs} role="img" aria-label="{a}" width="100%" '
            f'style="height:auto;max-width:100%">\n<title>{html.escape(alt)}</title>'
        )

    return re.sub(r"<svg([^>]*)>", root, svg, count=1)


class ThemedFigure:
    """Wrap a figure builder so notebooks and MyST-NB glue get every output format.

    ``build(theme)`` must return a new Figure for "light" or "dark". Rendering happens
    once, on first use; figures are closed after rendering.
    """

    def __init__(
        self, build: Callable[[str], Figure], alt: str, caption: str | None = None
    ) -> None:
        self.build = build
        self.alt = alt
        self.caption = caption
        self._cache: dict[str, bytes] = {}
        self.source_points: tuple[Any, ...] = ()

    def _get(self, theme: str, fmt: str, **kw: Any) -> bytes:
        key = f"{theme}.{fmt}"
        if key not in self._cache:
            fig = self.build(theme)
            self.source_points = getattr(fig, "source_points", self.source_points)
            self._cache[key] = render(fig, fmt, **kw)
        return self._cache[key]

    def svg(self, theme: str = "light") -> str:
        return self._get(theme, "svg").decode("utf-8")

    def pdf(self) -> bytes:
        return self._get("light", "pdf")

    def png(self) -> bytes:
        return self._get("light", "png", dpi=150)

    def html(self) -> str:
        parts = []
        for theme in THEMES:
            body = inline_svg(self.svg(theme), alt=self.alt, prefix=f"kt-{theme}-")
            parts.append(f'<div class="only-{theme}">{body}</div>')
        return "\n".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": self.html(),
            "image/svg+xml": self.svg("light"),
            "application/pdf": self.pdf(),
            "image/png": self.png(),
            "text/plain": self.alt,
        }

    def __repr__(self) -> str:
        return self.alt
