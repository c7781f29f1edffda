"""Show one figure in both Furo themes, and in formats the PDF and EPUB builds can use."""

from __future__ import annotations

import hashlib
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
    data = buf.getvalue()
    return compact_svg(data.decode("utf-8")).encode("utf-8") if fmt == "svg" else data


_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|cx|cy|r|points|transform)="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(-?\d+\.\d\d)\d+")


def compact_svg(svg: str) -> str:
    """Matplotlib writes coordinates with six decimals of a point; two are far below a
    pixel. Rounding them, and dropping the DOCTYPE (an external DTD that browsers ignore
    and EPUB 3 forbids), makes the SVG about a third smaller with no visible change."""
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, count=1)

    def shorten(match: re.Match[str]) -> str:
        value = _LONG_DECIMAL.sub(r"\1", match.group(2))
        return f'{match.group(1)}="{value}"'

    svg = _GEOMETRY.sub(shorten, svg)
    # Matplotlib labels every group with an id (xtick_1, line2d_5...) that nothing
    # references, rotates unrotated text by -0 degrees, and indents every line.
    referenced = set(re.findall(r"#([\w.-]+)", svg))
    svg = re.sub(r'\sid="([^"]+)"', lambda m: m.group(0) if m.group(1) in referenced else "", svg)
    svg = re.sub(r'\stransform="rotate\(-?0 [^)]*\)"', "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return re.sub(r"\n\s+", "\n", svg)


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


_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def _explicit_fill(svg: str) -> str:
    """Matplotlib omits ``fill`` when it is black, SVG's default; a black marker in the
    light variant is white in the dark one, so the fill must be there to be switched.
    Only on <use>: the marker's own <path> in <defs> must keep inheriting its fill."""
    return re.sub(r'(<use\b[^>]*\bstyle=")(?![^"]*fill:)', r"\1fill: #000000; ", svg)


def _numbered_ids(svg: str) -> str:
    """Ids replaced by their order of appearance: Matplotlib derives marker ids from a
    hash that includes the colour, so the two variants name the same marker differently."""
    order = {name: f"id{number}" for number, name in enumerate(dict.fromkeys(_ID.findall(svg)))}
    svg = _ID.sub(lambda m: f'id="{order[m.group(1)]}"', svg)
    return re.sub(r"#([\w.-]+)", lambda m: "#" + order.get(m.group(1), m.group(1)), svg)


def adaptive_svg(light: str, dark: str, *, alt: str) -> str | None:
    """One inline SVG that follows Furo's theme, or None if the variants differ in more
    than colour.

    The light and dark renderings share every coordinate; only colours differ. Each
    colour pair becomes a CSS custom property (light value as fallback), and a <style>
    inside the SVG switches them with Furo's ``data-theme`` (and the reader's system
    setting when the theme is "auto"). Half the bytes of two inline variants, and it
    also works where there is no Furo: JupyterLab shows the light colours.
    """
    light, dark = _explicit_fill(light), _explicit_fill(dark)
    light_parts = _HEX.split(light)
    if _HEX.split(_numbered_ids(light)) != _HEX.split(_numbered_ids(dark)):
        return None
    pairs = list(zip(_HEX.findall(light), _HEX.findall(dark), strict=True))
    names: dict[tuple[str, str], str] = {}
    for pair in pairs:
        if pair[0].lower() != pair[1].lower():
            names.setdefault(pair, f"--kt{len(names)}")
    tag = "kt-" + hashlib.sha256(light.encode()).hexdigest()[:10]
    out = [light_parts[0]]
    for (lc, dc), rest in zip(pairs, light_parts[1:], strict=True):
        name = names.get((lc, dc))
        out.append(f"var({name}, {lc})" if name else lc)
        out.append(rest)
    svg = inline_svg("".join(out), alt=alt, prefix=f"{tag}-")
    dark_vars = ";".join(f"{name}:{dc}" for (_, dc), name in names.items())
    style = (
        f"<style>body[data-theme=dark] .{tag}{{{dark_vars}}}"
        f"@media (prefers-color-scheme:dark){{body:not([data-theme=light]) .{tag}"
        f"{{{dark_vars}}}}}</style>"
    )
    svg = svg.replace("<svg", f'<svg class="kt-adaptive {tag}"', 1)
    return svg.replace("</title>", "</title>" + style, 1)


def palette_png(png: bytes) -> bytes:
    """An RGBA PNG as an 8-bit palette PNG, keeping its resolution (pHYs)."""
    from PIL import Image  # Matplotlib's own dependency

    with Image.open(io.BytesIO(png)) as image:
        dpi = image.info.get("dpi")
        flat = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    buf = io.BytesIO()
    flat.save(buf, format="PNG", optimize=True, **({"dpi": dpi} if dpi else {}))
    return buf.getvalue()


class ThemedFigure:
    """Wrap a figure builder so a notebook output serves every builder and notebook viewer.

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
        """The light variant at 150 dpi, reduced to a 256-colour palette: a third of the
        bytes of Matplotlib's RGBA PNG with no visible change (the figures are flat
        colours and text), so a notebook with its figure stays small."""
        key = "light.png-palette"
        if key not in self._cache:
            self._cache[key] = palette_png(self._get("light", "png", dpi=150))
        return self._cache[key]

    def html(self) -> str:
        single = adaptive_svg(self.svg("light"), self.svg("dark"), alt=self.alt)
        if single is not None:
            return single
        parts = []
        for theme in THEMES:
            body = inline_svg(self.svg(theme), alt=self.alt, prefix=f"kt-{theme}-")
            parts.append(f'<div class="only-{theme}">{body}</div>')
        return "\n".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # text/html: the themed inline SVG of the HTML book (notebook viewers show it only
        # in a trusted notebook); image/png: what JupyterLab, VS Code and GitHub show for
        # a downloaded (untrusted) notebook and what the EPUB uses; application/pdf: the
        # vector figure of the PDF book (dropped from the .ipynb download, which no viewer
        # shows it in). conf.py's nb_mime_priority_overrides picks one per builder.
        return {
            "text/html": self.html(),
            "application/pdf": self.pdf(),
            "image/png": self.png(),
            "text/plain": self.alt,
        }

    def __repr__(self) -> str:
        return self.alt
