"""``timeline-figure``: a chapter figure drawn from the curated data set at build time.

A chapter shows the same figure as its notebook, without copying code and without
MyST-NB's cross-document glue (which has no caption, number or PDF support). Each builder
gets the formats it shows: the web book inline SVG in both themes and a phone layout, the
EPUB an SVG 1.1 file, LaTeX a PDF. Figure files are named by the digest of the data and
the plotting code, so a prose edit reuses them and a data edit draws anew; files of
earlier data are removed from the published site.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from book_builders import HTML_BUILDERS, WEB_BUILDERS
from book_execution import DATA_FILES, data_digest, library_dir

FIGURE_DIR = "timeline-figures"
#: Every variant of a chapter figure: the light one serves every builder (SVG, PDF for
#: LaTeX, PNG as a fallback); the web book also shows the dark one and, below 46em, the
#: phone layout in both themes. Each builder draws only what it shows (figure_formats);
#: the light SVG also gives the figure its size.
FIGURE_FORMATS = {
    "light": ("svg", "pdf", "png"),
    "dark": ("svg",),
    "narrow-light": ("svg",),
    "narrow-dark": ("svg",),
}
WEB_FORMATS = {
    "light": ("svg",),
    "dark": ("svg",),
    "narrow-light": ("svg",),
    "narrow-dark": ("svg",),
}


def figure_formats(builder: str) -> dict[str, tuple[str, ...]]:
    """The files a builder shows: the web book its SVGs, the EPUB the light SVG, LaTeX the
    PDF; any other builder everything."""
    if builder in HTML_BUILDERS:
        return WEB_FORMATS
    if builder == "epub":
        return {"epub": ("svg",)}
    if builder == "latex":
        return {"light": ("svg", "pdf")}
    return FIGURE_FORMATS


class TimelineFigure(SphinxDirective):
    """A figure of ``ketamine_timelines.figures.FIGURES``, drawn from the data set.

    The caption and alt text come from the figure registry, computed from the rows drawn
    (``:alt:`` may override the alt text); the directive's content, if any, follows the
    caption as the figure's legend, then a note naming the studies drawn, with citations
    (the PDF's figure note). HTML gets the figure inline (links from each point to its
    source work only in inline SVG), in a wide and a phone layout, each following Furo's
    theme; the PDF and EPUB get the light, wide variant as an image.
    """

    required_arguments = 1
    has_content = True
    option_spec = {  # noqa: RUF012 (docutils API)
        "alt": directives.unchanged_required,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        from ketamine_timelines.data import DataError, load_points
        from ketamine_timelines.figures import FIGURES

        name = self.arguments[0]
        if name not in FIGURES:
            raise self.error(
                f"timeline-figure: unknown figure {name!r}; the book's figures are "
                + ", ".join(sorted(FIGURES))
            )
        spec = FIGURES[name]
        srcdir = Path(self.env.srcdir)
        for data_file in DATA_FILES:
            self.env.note_dependency(str(srcdir / data_file))
        for code in sorted(library_dir().glob("*.py")):  # the figure's code is an input too
            self.env.note_dependency(str(code))
        try:
            points = load_points(srcdir / DATA_FILES[0], bib_path=srcdir / DATA_FILES[1])
        except DataError as exc:  # names the data file, line and column
            raise self.error(f"timeline-figure: {exc}") from exc
        alt = self.options.get("alt") or spec.alt(points)
        # Files are named by the digest of the data and the plotting code: a prose edit
        # reuses them, while a data edit or a change to the plots draws anew.
        stem = Path(self.env.app.doctreedir) / FIGURE_DIR / f"{name}-{data_digest(srcdir)[:12]}"
        builder = self.env.app.builder.name
        stems = save_variants(spec, points, stem, figure_formats(builder))

        docdir = Path(self.env.doc2path(self.env.docname)).parent
        figure = nodes.figure(classes=["timeline-figure"])
        light = stems["epub" if builder == "epub" else "light"]
        image = nodes.image(
            uri=Path(_relpath(light, docdir)).as_posix() + ".*", alt=alt, classes=["only-light"]
        )
        image["width"], image["height"] = _svg_pixel_size(light.with_suffix(".svg"))
        printed = addnodes.only(expr="epub or not html")
        printed += image
        figure += printed
        if builder in HTML_BUILDERS:
            web = addnodes.only(expr="html and not epub")
            web += nodes.raw("", _figure_html(stems, alt), format="html")
            figure += web
        self.set_source_info(figure)
        caption = nodes.caption(spec.caption(points), spec.caption(points))
        caption.source, caption.line = self.get_source_info()
        figure += caption
        holder = nodes.Element()
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, holder)
        keys = _study_keys(stems["points"])
        note = "Sources: " + "; ".join(f"{{cite:t}}`{k}`" for k in keys) + "."
        from docutils.statemachine import StringList

        self.state.nested_parse(StringList([note], source=self.get_source_info()[0]), 0, holder)
        figure += nodes.legend("", *holder.children)
        self.add_name(figure)
        return [figure]


def _study_keys(points: Any) -> list[str]:
    from ketamine_timelines.figures import _study_keys as keys

    return keys(points)


def _figure_html(stems: dict[str, Any], alt: str) -> str:
    from ketamine_timelines.display import responsive_html

    def read(key: str) -> str:
        return stems[key].with_suffix(".svg").read_text(encoding="utf-8")

    narrow = (read("narrow-light"), read("narrow-dark")) if "narrow-light" in stems else None
    return responsive_html((read("light"), read("dark")), narrow, alt=alt)


def svg11_links(svg: str) -> str:
    """The EPUB's figure: an SVG 1.1 file, as epubcheck requires, whose point links keep
    only ``xlink:href`` (``href`` and ``rel`` on ``<a>`` are SVG 2). An e-reader shows the
    figure as an image, so its links cannot be followed there anyway; the sources note
    under the figure names every study."""
    return re.sub(r'<a href="[^"]*" (xlink:href="[^"]*") rel="[^"]*">', r"<a \1>", svg)


def save_variants(
    spec: Any, points: Any, stem: Path, formats: dict[str, tuple[str, ...]] = FIGURE_FORMATS
) -> dict[str, Any]:
    """Write the variants in the formats asked (by default all: see FIGURE_FORMATS); return
    their stems and the rows drawn (``"points"``)."""
    import pickle

    from ketamine_timelines.display import render

    stem.parent.mkdir(parents=True, exist_ok=True)
    variants = {v: kinds for v, kinds in formats.items() if spec.narrow or "narrow" not in v}
    stems: dict[str, Any] = {}
    drawn = stem.with_name(f"{stem.name}-points.pickle")
    for variant, kinds in variants.items():
        base = stem.with_name(f"{stem.name}-{variant}")
        theme = "light" if variant == "epub" else variant.removeprefix("narrow-")
        for kind in kinds:
            path = base.with_suffix(f".{kind}")
            if not path.exists():
                options = {"dpi": 150} if kind == "png" else {}
                kw = {"narrow": True} if variant.startswith("narrow") else {}
                fig = spec.plot(points, theme, **kw)
                if variant == "light" and kind == "svg":
                    drawn.write_bytes(pickle.dumps(tuple(fig.source_points)))
                data = render(fig, kind, **options)
                if variant == "epub":
                    data = svg11_links(data.decode("utf-8")).encode("utf-8")
                path.write_bytes(data)
        stems[variant] = base
    if not drawn.exists():
        fig = spec.plot(points, "light")
        drawn.write_bytes(pickle.dumps(tuple(fig.source_points)))
        import matplotlib.pyplot as plt

        plt.close(fig)
    stems["points"] = pickle.loads(drawn.read_bytes())  # our own build file
    return stems


def figures_missing_formats(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages to re-read because a figure lacks a format this builder shows.

    Builders that share a doctree directory (``sphinx-build -M html`` then ``-M latexpdf``)
    would otherwise find only the SVGs an earlier HTML build drew.
    """
    formats = figure_formats(app.builder.name)
    stale: set[str] = set()
    for file, (docnames, _) in env.images.items():
        path = Path(app.srcdir, file)
        kinds = formats.get(path.stem.rsplit("-", 1)[-1], ())
        if FIGURE_DIR in path.parts and not all(path.with_suffix(f".{k}").exists() for k in kinds):
            stale |= docnames
    return sorted(stale - added - changed - removed)


def _svg_pixel_size(path: Path) -> tuple[str, str]:
    """CSS pixels of a Matplotlib SVG, whose root gives its size in points."""
    head = path.read_text(encoding="utf-8")[:2000]
    sizes = []
    for name in ("width", "height"):
        match = re.search(rf'<svg[^>]*\s{name}="([\d.]+)pt"', head)
        if match is None:
            raise ValueError(f"{path}: no {name} in points on the <svg> element")
        sizes.append(str(round(float(match.group(1)) * 4 / 3)))
    return sizes[0], sizes[1]


def _relpath(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start)


_FIGURE_FILE = re.compile(r"^\w+-[0-9a-f]{12}-(light|dark)\d*\.(svg|png|pdf)$")


def remove_stale_figures(app: Sphinx, exception: Exception | None) -> None:
    """Delete figure files of earlier data from _images: Sphinx copies images but never
    removes them, so a data edit and its undo left both versions in the published site."""
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    images = Path(app.outdir) / app.builder.imagedir
    if not images.is_dir():
        return
    used = {name for _, name in app.env.images.values()}
    for path in images.iterdir():
        if _FIGURE_FILE.match(path.name) and path.name not in used:
            path.unlink()


def setup(app: Sphinx) -> dict[str, Any]:
    # Matplotlib's PDF backend subsets fonts through fontTools, which logs at INFO level
    # through the root logger; in a Sphinx run that is noise on stderr.
    import logging as std_logging

    std_logging.getLogger("fontTools").setLevel(std_logging.WARNING)
    app.add_directive("timeline-figure", TimelineFigure)
    app.connect("build-finished", remove_stale_figures)
    app.connect("env-get-outdated", figures_missing_formats)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
