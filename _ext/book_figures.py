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
from sphinx.transforms.post_transforms import SphinxPostTransform
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

    The caption and alt text come from the figure's computed object, like the marks drawn
    (``:alt:`` may override the alt text); a figure has one caption, so the directive
    takes no content (prose about a figure belongs in the body text). The caption is
    followed by a note naming the studies drawn, with citations (the PDF's figure note),
    and the figure by its "Data behind this figure" table. HTML gets the figure inline
    (links from each series to its source work only in inline SVG), in a wide and a phone
    layout, each following Furo's theme; the EPUB gets the light phone layout and the PDF
    the light wide one, as an image.
    """

    required_arguments = 1
    has_content = False
    option_spec = {  # noqa: RUF012 (docutils API)
        "alt": directives.unchanged_required,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        srcdir = Path(self.env.srcdir)
        for data_file in DATA_FILES:
            self.env.note_dependency(str(srcdir / data_file))
        for code in sorted(library_dir().glob("*.py")):  # the figure's code is an input too
            self.env.note_dependency(str(code))
        # Files are named by the digest of the data and the plotting code: a prose edit
        # reuses them, while a data edit or a change to the plots draws anew.
        stem = Path(self.env.app.doctreedir) / FIGURE_DIR / f"{name}-{data_digest(srcdir)[:12]}"
        builder = self.env.app.builder.name
        label = self.options.get("name")  # add_name pops it
        parts_file = _parts_file(stem, builder, self.options.get("alt"), label)
        parts = _load_parts(parts_file)
        if parts is None:
            parts = self._compute(name, srcdir, stem, builder, label)
            _store_parts(parts_file, parts)

        docdir = Path(self.env.doc2path(self.env.docname)).parent
        figure = nodes.figure(classes=["timeline-figure"])
        light = Path(self.env.app.doctreedir, parts["light"])
        image = nodes.image(
            uri=Path(_relpath(light, docdir)).as_posix() + ".*",
            alt=parts["alt"],
            classes=["only-light"],
        )
        image["width"], image["height"] = parts["size"]
        printed = addnodes.only(expr="epub or not html")
        printed += image
        figure += printed
        if parts["html"] is not None:
            web = addnodes.only(expr="html and not epub")
            web += nodes.raw("", parts["html"], format="html")
            figure += web
        self.set_source_info(figure)
        text = parts["caption"]
        caption = nodes.caption(text, text)
        caption.source, caption.line = self.get_source_info()
        figure += caption
        from docutils.statemachine import StringList

        source = self.get_source_info()[0]
        holder = nodes.Element()
        note = "Sources: " + "; ".join(f"{{cite:t}}`{k}`" for k in parts["keys"]) + "."
        self.state.nested_parse(StringList([note], source=source), 0, holder)
        figure += nodes.legend("", *holder.children)
        self.add_name(figure)
        table = nodes.Element()
        self.state.nested_parse(StringList(parts["table"].splitlines(), source=source), 0, table)
        return [figure, *table.children]

    def _compute(
        self, name: str, srcdir: Path, stem: Path, builder: str, label: str | None
    ) -> dict[str, Any]:
        """What the figure shows, from the data set: its files drawn, its words computed."""
        from ketamine_timelines.data import DataError, load_points
        from ketamine_timelines.figures import FIGURES, data_table_markdown

        if name not in FIGURES:
            raise self.error(
                f"timeline-figure: unknown figure {name!r}; the book's figures are "
                + ", ".join(sorted(FIGURES))
            )
        spec = FIGURES[name]
        try:
            points = load_points(srcdir / DATA_FILES[0], bib_path=srcdir / DATA_FILES[1])
        except DataError as exc:  # names the data file, line and column
            raise self.error(f"timeline-figure: {exc}") from exc
        data = spec.data(points)
        alt = self.options.get("alt") or data.alt()
        stems = save_variants(spec, data, stem, figure_formats(builder))
        light = stems["epub" if builder == "epub" else "light"]
        # "Data behind Figure 3.1": in the PDF the figure may float away from its table.
        title = f"Data behind {{numref}}`Figure {{number}} <{label}>`" if label else None
        doctrees = Path(self.env.app.doctreedir)
        return {
            "alt": alt,
            "caption": data.caption(),
            "keys": _study_keys(data.rows),
            "table": data_table_markdown(data.table(), **({"title": title} if title else {})),
            "light": light.relative_to(doctrees).as_posix(),
            "size": list(_svg_pixel_size(light.with_suffix(".svg"))),
            "html": _figure_html(stems, alt) if builder in HTML_BUILDERS else None,
            "files": sorted(
                p.relative_to(doctrees).as_posix()
                for base in stems.values()
                for p in base.parent.glob(base.name + ".*")
            ),
        }


def _parts_file(stem: Path, builder: str, alt: str | None, label: str | None) -> Path:
    import hashlib
    import json

    key = hashlib.sha256(json.dumps([alt, label]).encode())
    key.update(Path(__file__).read_bytes())  # this directive's code: how the parts are made
    options = key.hexdigest()[:12]
    return stem.with_name(f"{stem.name}-{builder}-{options}.json")


def _load_parts(path: Path) -> dict[str, Any] | None:
    """A figure's words and file names as an earlier build of the same data and plotting
    code computed them (``path`` is named by their digest), or None.

    A prose edit of a page with a figure read the data set, imported the plotting code
    and computed the caption, alt text and data table again: 0.13 s of a 1.8 s rebuild of
    chapter 3. They are kept beside the figure's files; a file that has gone missing
    sends the figure back to ``_compute``, which draws it again.
    """
    import json

    try:
        parts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    doctrees = path.parents[1]
    if not all((doctrees / f).is_file() for f in parts.get("files", ())):
        return None
    return parts


def _store_parts(path: Path, parts: dict[str, Any]) -> None:
    import json

    path.write_text(json.dumps(parts, sort_keys=True), encoding="utf-8")


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
    spec: Any, data: Any, stem: Path, formats: dict[str, tuple[str, ...]] = FIGURE_FORMATS
) -> dict[str, Any]:
    """Write the variants of the figure computed as ``data`` in the formats asked (by
    default all: see FIGURE_FORMATS); return their stems."""
    from ketamine_timelines.display import FigureSet, render

    def draw(theme: str, narrow: bool) -> Any:
        return spec.draw(data, theme, **({"narrow": True} if narrow else {}))

    figures = FigureSet(draw)
    stem.parent.mkdir(parents=True, exist_ok=True)
    variants = {v: kinds for v, kinds in formats.items() if spec.narrow or "narrow" not in v}
    stems: dict[str, Any] = {}
    for variant, kinds in variants.items():
        base = stem.with_name(f"{stem.name}-{variant}")
        theme = "light" if variant == "epub" else variant.removeprefix("narrow-")
        # The EPUB shows the phone layout: on a 600-px page its text is 12 px, the wide
        # layout's under 9.
        narrow = variant.startswith("narrow") or (variant == "epub" and spec.narrow)
        for kind in kinds:
            path = base.with_suffix(f".{kind}")
            if not path.exists():
                options = {"dpi": 150} if kind == "png" else {}
                # One figure object per theme and layout, in each format it lacks.
                out = render(figures.get(theme, bool(narrow)), kind, **options)
                if variant == "epub":
                    out = svg11_links(out.decode("utf-8")).encode("utf-8")
                path.write_bytes(out)
        stems[variant] = base
    return stems


class FigureDataTitle(SphinxPostTransform):
    """A figure's "Data behind Figure 3.1" in the web book and the EPUB.

    The number in the title is a resolved ``numref``; in a ``<summary>`` a link would be
    a control inside a control, so it becomes plain text. In the EPUB the table is open:
    a heading and the table, not a ``<details>`` that some e-readers cannot open
    (sphinx-design turns a dropdown into ``<details>`` for every HTML-based builder in its
    post-transform of priority 199; this one runs before it, after references are
    resolved). LaTeX prints the dropdown open already, with the number linked; its
    continuation header says "Data behind the figure" instead of "Table N".
    """

    default_priority = 190

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(nodes.container)):
            if node.get("design_component") != "dropdown":
                continue
            if "kt-data" not in node.get("container_classes", []):
                continue
            if self.app.builder.format == "latex":
                # A long table's continuation header names it "Table N", which this
                # table (it has no caption, so no number) is not: name it for what it is.
                start = r"\begingroup\def\tablename{Data behind the figure}\def\thetable{}"
                node.insert(1, nodes.raw("", start, format="latex"))
                node.append(nodes.raw("", r"\endgroup", format="latex"))
                continue
            if self.app.builder.format != "html":
                continue
            title = node[0]
            for ref in list(title.findall(nodes.reference)):
                ref.replace_self(nodes.Text(ref.astext()))
            if self.app.builder.name == "epub":
                box = nodes.container(classes=["kt-data"])
                box += node.children
                node.replace_self(box)


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


def share_figure_files(app: Sphinx) -> None:
    """Tell the notebook kernels this build starts where the chapters' figure files are
    and what they are drawn from, so that a figure is rendered once for both
    (``ketamine_timelines.figstore``)."""
    import os

    from ketamine_timelines.figstore import DIGEST_ENV, STORE_ENV

    os.environ[STORE_ENV] = str(Path(app.doctreedir) / FIGURE_DIR)
    os.environ[DIGEST_ENV] = data_digest(Path(app.srcdir))


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
    app.add_post_transform(FigureDataTitle)
    app.connect("builder-inited", share_figure_files)
    app.connect("build-finished", remove_stale_figures)
    app.connect("env-get-outdated", figures_missing_formats)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
