"""Show one figure in both Furo themes, and in formats the PDF and EPUB builds can use."""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Matplotlib is imported to draw, not to assemble a figure's HTML
    from matplotlib.figure import Figure

from .outputs import for_the_book

THEMES = ("light", "dark")
_ID = re.compile(r'\bid="([^"]+)"')


def freeze_layout(fig: Figure) -> None:
    """Lay the figure out once, and keep that layout for every file rendered from it.

    With a layout engine (the figures use constrained layout), each ``savefig`` first
    draws the whole figure without output to lay it out, then draws it again: the first
    draw was about 0.9 s of a 1.3 s SVG. Laying it out once (``draw_without_rendering``,
    at the figure's own dpi) and removing the engine makes every later ``savefig`` one
    draw; and because the layout no longer depends on which format is rendered first, or
    which formats are rendered at all, a file has the same bytes whether its figure
    object also made an SVG, a PNG or a PDF before it (``figstore`` relies on this).
    """
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()
        fig.set_layout_engine(None)


def lay_out_like(fig: Figure, model: Figure) -> bool:
    """Give ``fig`` the layout ``model`` was given (``freeze_layout``), where ``fig`` is the
    same drawing in another theme; return False, leaving ``fig`` to lay itself out, when
    they do not match.

    A layout depends on sizes (text, ticks, margins), never on colours, so the dark theme's
    layout is the light one's: constrained layout sets each Axes' position and places the
    figure's suptitle and super labels, and those are copied (the same calls the layout
    engine makes; legends outside the Axes are placed from them when drawn). Laying out
    took about 0.9 s of each 1.3 s render; ``tests/test_figstore.py`` checks that every
    figure's dark files are byte-identical either way.
    """
    if (
        model.get_layout_engine() is not None
        or fig.subfigs
        or model.subfigs
        or len(fig.axes) != len(model.axes)
    ):
        return False
    supers = ("_suptitle", "_supxlabel", "_supylabel")
    if any((getattr(fig, n) is None) != (getattr(model, n) is None) for n in supers):
        return False
    for ax, like in zip(fig.axes, model.axes, strict=True):
        ax._set_position(like.get_position(original=True), which="original")
        ax._set_position(like.get_position(original=False), which="active")
    for name in supers:
        if getattr(model, name) is not None:
            getattr(fig, name).set_position(getattr(model, name).get_position())
    fig.set_layout_engine(None)
    return True


class FigureSet:
    """The figure objects of one drawing, one per theme and layout, made on first use and
    closed at once (the inline backend shows no unthemed copy); each is rendered in every
    format asked of it, and every theme is laid out like the light one (lay_out_like)."""

    def __init__(self, draw: Callable[[str, bool], Figure]) -> None:
        self.draw = draw
        self._figures: dict[tuple[str, bool], Figure] = {}

    def get(self, theme: str, narrow: bool = False) -> Figure:
        key = (theme, narrow)
        if key not in self._figures:
            import matplotlib as mpl
            import matplotlib.pyplot as plt

            from .style import OUTPUT_RC

            fig = self.draw(theme, narrow)
            plt.close(fig)
            if theme != "light":
                model = self.get("light", narrow)
                with mpl.rc_context(OUTPUT_RC):  # as render() lays it out
                    freeze_layout(model)
                lay_out_like(fig, model)
            self._figures[key] = fig
        return self._figures[key]


def render(fig: Figure, fmt: str, **kw: Any) -> bytes:
    """Serialise fig deterministically (no dates, fixed ids) and close it; a closed figure
    can be rendered again, in another format."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .style import OUTPUT_RC, savefig_metadata

    buf = io.BytesIO()
    titles = dict(getattr(fig, "kt_titles", {}))
    try:
        with mpl.rc_context(OUTPUT_RC):
            freeze_layout(fig)
            fig.savefig(buf, format=fmt, metadata=savefig_metadata(fmt), **kw)
    finally:
        # Closing stops the inline backend from showing a second, unthemed copy.
        plt.close(fig)
    data = buf.getvalue()
    if fmt != "svg":
        return data
    return compact_svg(link_titles(data.decode("utf-8"), titles)).encode("utf-8")


def link_titles(svg: str, titles: dict[str, str]) -> str:
    """Make each linked series one link with a tooltip and accessible name.

    Matplotlib writes an artist with ``set_gid`` and ``set_url`` as ``<g id=GID>`` holding
    one ``<a xlink:href=URL>`` per drawing call (its line, its markers). Each such group
    becomes a single ``<a>`` around everything it draws, with a ``<title>`` as its first
    child: one tab stop and one tap target per series (drawing.link_group). The link also
    gets ``href`` (SVG 2; older readers use ``xlink:href``) and ``rel="noopener
    noreferrer"``, like every external link of the book. No script: the browser shows the
    title on hover and keyboard focus."""

    out: list[str] = []
    pos = 0
    for group in re.finditer(r'<g id="(ktpt\d+)">', svg):
        if group.start() < pos:
            continue
        title = titles.get(group.group(1))
        end = _group_end(svg, group.end())
        inner = svg[group.end() : end]
        link = _MPL_LINK.search(inner)
        if title is None or link is None:
            continue
        url = link.group(1)
        inner = _MPL_LINK.sub("", inner).replace("</a>", "")
        out += [
            svg[pos : group.start()],
            '<g class="kt-point">',
            f'<a href="{url}" xlink:href="{url}" rel="noopener noreferrer">'
            f"<title>{html.escape(title, quote=False)}</title>",
            inner,
            "</a></g>",
        ]
        pos = end + len("</g>")
    out.append(svg[pos:])
    return "".join(out)


def _group_end(svg: str, start: int) -> int:
    """Index of the ``</g>`` that closes the group whose content starts at ``start``."""
    depth = 1
    for tag in re.finditer(r"<g[\s>]|</g>", svg[start:]):
        depth += -1 if tag.group(0) == "</g>" else 1
        if depth == 0:
            return start + tag.start()
    raise ValueError("unbalanced <g> in Matplotlib's SVG")


#: The link Matplotlib writes around an artist with set_url (before the artist's drawing).
_MPL_LINK = re.compile(r'<a xlink:href="([^"]+)"(?: target="_blank")?>')


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
    return _stable_ids(re.sub(r"\n\s+", "\n", svg))


#: Matplotlib's hashed ids: a clip path, marker or hatch letter and ten hex digits.
_HASHED_ID = re.compile(r"\b([pmh])([0-9a-f]{10})\b")


def _stable_ids(svg: str) -> str:
    """Matplotlib's hashed ids renumbered in order of appearance ("p_1", "m_2"...).

    A clip path's id hashes the repr of its box's floats, which can differ in the last
    bit between two builds of one figure (a serial and a parallel build) while every
    coordinate written stays the same: the page then differs in its ids alone, and two
    clean builds are not byte-identical. Numbered ids depend only on what is drawn."""
    order: dict[str, str] = {}
    for match in re.finditer(r'\bid="([pmh][0-9a-f]{10})"', svg):
        order.setdefault(match.group(1), f"{match.group(1)[0]}_{len(order) + 1}")
    if not order:
        return svg
    return _HASHED_ID.sub(lambda m: order.get(m.group(0), m.group(0)), svg)


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
    # On paper the figure is always light: "initial" makes each var() use its fallback.
    print_vars = ";".join(f"{name}:initial" for name in names.values())
    style = (
        f"<style>body[data-theme=dark] .{tag}{{{dark_vars}}}"
        f"@media (prefers-color-scheme:dark){{body:not([data-theme=light]) .{tag}"
        f"{{{dark_vars}}}}}"
        f"@media print{{html body .{tag}.{tag}{{{print_vars}}}}}</style>"
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


def root_role(svg: str, alt: str) -> str:
    """An SVG with links inside is a labelled group, not role="img": an image's children
    are presentational, so its links would be hidden from keyboards and screen readers."""
    if "<a href=" not in svg:
        return svg
    return svg.replace('role="img"', 'role="group"', 1)


def theme_html(light: str, dark: str, *, alt: str, prefix: str) -> str:
    """One inline SVG that follows Furo's theme, or two with only-light/only-dark."""
    single = adaptive_svg(light, dark, alt=alt)
    if single is not None:
        return root_role(single, alt)
    parts = []
    for theme, svg in (("light", light), ("dark", dark)):
        body = root_role(inline_svg(svg, alt=alt, prefix=f"{prefix}{theme}-"), alt)
        parts.append(f'<div class="only-{theme}">{body}</div>')
    return "\n".join(parts)


def responsive_html(
    wide: tuple[str, str], narrow: tuple[str, str] | None, *, alt: str, caption: str | None = None
) -> str:
    """The figure's HTML: the wide layout, and a phone layout that CSS shows instead below
    46em (``.kt-fig-wide``/``.kt-fig-narrow`` in _static/book.css); a visible caption."""
    body = theme_html(*wide, alt=alt, prefix="kt-w-")
    if narrow is not None:
        small = theme_html(*narrow, alt=alt, prefix="kt-n-")
        body = f'<div class="kt-fig-wide">{body}</div>\n<div class="kt-fig-narrow">{small}</div>'
    if caption:
        body = (
            f'<figure class="kt-figure">{body}\n'
            f'<figcaption class="kt-caption">{html.escape(caption)}</figcaption></figure>'
        )
    return body


class ThemedFigure:
    """Wrap a figure builder so notebooks get every output format.

    ``build(theme)`` must return a new Figure for "light" or "dark"; ``narrow(theme)``, if
    given, the phone layout. Rendering happens once, on first use; figures are closed
    after rendering. The HTML output carries the caption under the figure.
    """

    def __init__(
        self,
        build: Callable[[str], Figure],
        alt: str,
        caption: str | None = None,
        narrow: Callable[[str], Figure] | None = None,
        note: str | None = None,
        data_table: str | None = None,
    ) -> None:
        self.build = build
        self.note = note
        self.data_table = data_table
        self.narrow = narrow
        self.alt = alt
        self.caption = caption
        self._cache: dict[str, bytes] = {}
        self._figures = FigureSet(self._draw)
        self.source_points: tuple[Any, ...] = ()
        #: The build's shared figure files (figstore.slot), or None (a reader's Jupyter).
        self.shared: Any = None

    def _draw(self, theme: str, narrow: bool) -> Figure:
        build = self.narrow if narrow and self.narrow is not None else self.build
        fig = build(theme)
        if not narrow:
            self.source_points = getattr(fig, "source_points", self.source_points)
        return fig

    def _get(self, theme: str, fmt: str, *, narrow: bool = False, **kw: Any) -> bytes:
        key = f"{theme}.{fmt}.{narrow}"
        if key not in self._cache:
            fig = self._figures.get(theme, narrow)  # also gives source_points
            variant = f"narrow-{theme}" if narrow and self.narrow is not None else theme
            shared = self.shared if not kw else None  # options (a PNG's dpi): not shared
            found = shared.read(variant, fmt) if shared is not None else None
            if found is None:
                found = render(fig, fmt, **kw)
                if shared is not None:
                    shared.write(variant, fmt, found)
            self._cache[key] = found
        return self._cache[key]

    def svg(self, theme: str = "light", *, narrow: bool = False) -> str:
        return self._get(theme, "svg", narrow=narrow).decode("utf-8")

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

    def html(self, *, caption: bool = True) -> str:
        wide = (self.svg("light"), self.svg("dark"))
        narrow = (
            (self.svg("light", narrow=True), self.svg("dark", narrow=True))
            if self.narrow is not None
            else None
        )
        return responsive_html(
            wide, narrow, alt=self.alt, caption=self.caption if caption else None
        )

    def epub_svg(self) -> str:
        """The EPUB's figure: the phone layout (its smallest text is 12 px where the page
        is 600 px wide), light, SVG 1.1 links only (epubcheck)."""
        narrow = self.narrow is not None
        svg = self.svg("light", narrow=narrow)
        svg = re.sub(r'<a href="[^"]*" (xlink:href="[^"]*") rel="[^"]*">', r"<a \1>", svg)
        if self.shared is not None:  # the EPUB's chapter figure (book_figures: "epub")
            self.shared.write("epub", "svg", svg.encode("utf-8"))
        return svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # text/html: the themed inline SVG of the HTML book (notebook viewers show it only
        # in a trusted notebook); image/png: what JupyterLab, VS Code and GitHub show for
        # a downloaded (untrusted) notebook; image/svg+xml: the phone layout the EPUB
        # shows (an untrusted notebook in JupyterLab skips SVG for the PNG);
        # application/pdf: the vector figure of the PDF book (dropped from the .ipynb
        # download, which no viewer shows it in). conf.py's nb_mime_priority_overrides
        # picks one per builder.
        # Outside the book's build (a reader's Jupyter, outputs.py): the PNG alone, so the
        # figure shows once, trusted or not, with no theme or phone layout to hide.
        if not for_the_book():
            return {"image/png": self.png(), "text/plain": self.alt}
        return {
            "text/html": self.html(caption=False),
            "application/pdf": self.pdf(),
            "image/svg+xml": self.epub_svg(),
            "image/png": self.png(),
            "text/plain": self.alt,
        }

    def caption_markdown(self) -> Any:
        """The caption as a MyST paragraph: MyST-NB renders it under the figure in HTML,
        PDF and EPUB alike (an HTML-only <figcaption> would vanish from the PDF)."""
        from IPython.display import Markdown

        from .tables import markdown_text

        text = markdown_text(self.caption or "")
        if self.note:
            text += f" Sources: {self.note}."
        if not for_the_book():  # CommonMark for a reader's Jupyter (outputs.py)
            return Markdown(f"**Figure.** {text}\n")
        return Markdown(f":::{{container}} kt-caption\n**Figure.** {text}\n:::\n")

    def data_markdown(self) -> Any:
        """The "Data behind this figure" table as a MyST dropdown: every drawn number, the
        people behind it and a link to its source (open in the PDF and the EPUB)."""
        from IPython.display import Markdown

        return Markdown(self.data_table or "")

    def show(self) -> None:
        """Display the figure, its caption and its data table (outputs of one cell)."""
        from IPython.display import display

        display(self)
        display(self.caption_markdown())
        if self.data_table:
            display(self.data_markdown())

    def __repr__(self) -> str:
        return self.alt
