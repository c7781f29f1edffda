"""Sphinx glue between the book and its content library, ``ketamine_timelines``.

It does three things that the book needs and that MyST-NB and sphinxcontrib-bibtex do not:

* ``timeline-figure``: a figure directive that draws a figure from the curated data set at
  build time, so a chapter shows the same figure as its notebook without copying code or
  relying on cross-document glue (which has no caption, number or PDF support).
* data-aware notebook caching: jupyter-cache keys on code cells only, so a change to the
  data set or the package would otherwise leave stale notebook outputs in the cache.
* the ``book`` pybtex style: every bibliography entry links to doi.org or PubMed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from book_bibstyle import register_style
from book_builders import HTML_BUILDERS, WEB_BUILDERS

LOGGER = logging.getLogger(__name__)

#: Files whose content changes what a notebook computes (beyond its own code cells).
DATA_FILES = ("data/onset_timelines.csv", "references.bib")
STAMP_NAME = "ketamine-data.sha256"
FIGURE_DIR = "timeline-figures"
#: The light variant serves every builder (PDF for LaTeX, PNG as a fallback); HTML also
#: gets the dark one. Each builder draws only what it shows (figure_formats): the SVGs
#: also give the figure its size.
FIGURE_FORMATS = {"light": ("svg", "pdf", "png"), "dark": ("svg",)}
SVG_ONLY = {"light": ("svg",), "dark": ("svg",)}


def figure_formats(builder: str) -> dict[str, tuple[str, ...]]:
    """The files a builder shows: HTML and EPUB the SVGs, LaTeX the PDF; others all."""
    if builder in HTML_BUILDERS or builder == "epub":
        return SVG_ONLY
    if builder == "latex":
        return {"light": ("svg", "pdf"), "dark": ("svg",)}
    return FIGURE_FORMATS


def library_dir() -> Path:
    """The content library's source folder, found without importing it (or Matplotlib)."""
    spec = importlib.util.find_spec("ketamine_timelines")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ketamine_timelines package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def data_digest(srcdir: Path) -> str:
    """Hash of the data set, the bibliography and the content library's source code."""
    digest = hashlib.sha256()
    files = [srcdir / name for name in DATA_FILES]
    files += sorted(library_dir().glob("*.py"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def notebooks_reading_data(env: BuildEnvironment) -> list[str]:
    """Docnames of notebooks whose code imports the package, hence reads the data."""
    found = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix not in {".md", ".ipynb"} or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        if "ketamine_timelines" in text and ("{code-cell}" in text or path.suffix == ".ipynb"):
            found.append(docname)
    return found


def invalidate_stale_executions(
    app: Sphinx,
    env: BuildEnvironment,
    added: set[str],
    changed: set[str],
    removed: set[str],
) -> Iterable[str]:
    """Mark data-reading notebooks outdated, and drop their cached runs, when data change."""
    if app.config.nb_execution_mode != "cache":
        return []
    cache_path = Path(app.config.nb_execution_cache_path or Path(app.outdir) / ".jupyter_cache")
    stamp = cache_path / STAMP_NAME
    current = data_digest(Path(app.srcdir))
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous == current:
        return []
    docnames = notebooks_reading_data(env)
    if cache_path.exists():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        paths = {str(Path(env.doc2path(d)).resolve()) for d in docnames}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in paths:
                cache.remove_cache(record.pk)
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    if previous is not None:
        LOGGER.info("data or package changed: re-executing %s", ", ".join(docnames))
    return [d for d in docnames if d not in added]


class TimelineFigure(SphinxDirective):
    """Draw a figure from the data set with a function of ``ketamine_timelines.plots``.

    The light variant goes to every builder (vector PDF for LaTeX); HTML also gets the dark
    variant, and Furo's ``only-light``/``only-dark`` classes show the one that matches.
    """

    required_arguments = 1
    has_content = True
    option_spec = {  # noqa: RUF012 (docutils API)
        "alt": directives.unchanged_required,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        func_name = self.arguments[0]
        if "alt" not in self.options:
            raise self.error(
                "timeline-figure: the :alt: option (text for screen readers) is required"
            )
        srcdir = Path(self.env.srcdir)
        for name in DATA_FILES:
            self.env.note_dependency(str(srcdir / name))
        # Files are named by the digest of the data and the plotting code: a prose edit
        # reuses them without importing Matplotlib (half a second), while a data edit or
        # a change to the plots draws, and so validates, anew.
        stem = (
            Path(self.env.app.doctreedir) / FIGURE_DIR / f"{func_name}-{data_digest(srcdir)[:12]}"
        )
        stems = {theme: stem.with_name(f"{stem.name}-{theme}") for theme in FIGURE_FORMATS}
        formats = figure_formats(self.env.app.builder.name)
        if not all(
            base.with_suffix(f".{kind}").exists()
            for theme, base in stems.items()
            for kind in formats[theme]
        ):
            self._draw(func_name, srcdir, stem)

        docdir = Path(self.env.doc2path(self.env.docname)).parent
        figure = nodes.figure(classes=["timeline-figure"])
        for theme, stem in stems.items():
            uri = Path(_relpath(stem, docdir)).as_posix() + ".*"
            image = nodes.image(uri=uri, alt=self.options["alt"], classes=[f"only-{theme}"])
            # The hidden variant is never fetched, and neither is an off-screen figure
            # until the reader scrolls near it; its size attributes reserve the space,
            # so the page does not jump when it loads or when the theme changes.
            image["loading"] = "lazy"
            image["width"], image["height"] = _svg_pixel_size(stem.with_suffix(".svg"))
            if theme == "light":
                figure += image
            else:
                only = addnodes.only(expr="html and not epub")
                only += image
                figure += only
        self.set_source_info(figure)
        if self.content:
            holder = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, holder)
            first = holder[0]
            if not isinstance(first, nodes.paragraph):
                raise self.error("timeline-figure: the caption must be a paragraph")
            caption = nodes.caption(first.rawsource, "", *first.children)
            caption.source, caption.line = first.source, first.line
            figure += caption
            if len(holder) > 1:
                figure += nodes.legend("", *holder[1:])
        self.add_name(figure)
        return [figure]

    def _draw(self, func_name: str, srcdir: Path, stem: Path) -> None:
        from ketamine_timelines import plots
        from ketamine_timelines.data import DataError, load_points

        func = getattr(plots, func_name, None)
        if not callable(func):
            raise self.error(f"timeline-figure: ketamine_timelines.plots has no {func_name!r}")
        try:
            points = load_points(srcdir / DATA_FILES[0], bib_path=srcdir / DATA_FILES[1])
        except DataError as exc:  # names the data file, line and column
            raise self.error(f"timeline-figure: {exc}") from exc
        formats = figure_formats(self.env.app.builder.name)
        save_variants(lambda theme: func(points, theme=theme), stem, formats)


def save_variants(
    build: Any, stem: Path, formats: dict[str, tuple[str, ...]] = FIGURE_FORMATS
) -> dict[str, Path]:
    """Write each variant in the formats asked (by default all); return their stems."""
    from ketamine_timelines.display import render

    stem.parent.mkdir(parents=True, exist_ok=True)
    stems = {}
    for theme, kinds in formats.items():
        base = stem.with_name(f"{stem.name}-{theme}")
        for kind in kinds:
            path = base.with_suffix(f".{kind}")
            if not path.exists():
                options = {"dpi": 150} if kind == "png" else {}
                path.write_bytes(render(build(theme), kind, **options))
        stems[theme] = base
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


# -- Downloads: the PDF, the EPUB and each executed notebook ------------------------------
DOWNLOAD_LABELS = {"pdf": "PDF", "epub": "EPUB"}


def _download_source(config: Any, kind: str) -> Path:
    return Path(config.book_pdf_path if kind == "pdf" else config.book_epub_path)


class BookDownloadRole(SphinxRole):
    """``{book-download}`pdf```: a link to the built PDF or EPUB, when one has been built.

    The HTML book never links to a file that is not there: without a PDF (no TeX Live on
    this machine), the role says how to build one instead.
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        kind = self.text.strip().lower()
        if kind not in DOWNLOAD_LABELS:
            msg = self.inliner.reporter.error(
                f"book-download: unknown kind {kind!r} (use pdf or epub)", line=self.lineno
            )
            return [], [msg]
        source = _download_source(self.config, kind)
        label = f"Download the {DOWNLOAD_LABELS[kind]}"
        if self.env.app.builder.name not in WEB_BUILDERS or not source.exists():
            text = f"{DOWNLOAD_LABELS[kind]}: build it with nox -s {kind}"
            return [nodes.inline(text, text, classes=["book-download-missing"])], []
        depth = self.env.docname.count("/")
        uri = "../" * depth + f"downloads/{source.name}"
        ref = nodes.reference(label, label, refuri=uri, classes=["book-download"])
        ref["download"] = source.name
        return [ref], []


def _is_notebook(env: BuildEnvironment, docname: str) -> bool:
    return "kernelspec" in env.metadata.get(docname, {}) or str(env.doc2path(docname)).endswith(
        ".ipynb"
    )


def add_notebook_download(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Offer each notebook page's executed .ipynb for download, at the top of the page."""
    if app.builder.name not in WEB_BUILDERS or not _is_notebook(app.env, docname):
        return
    name = Path(docname).name + ".ipynb"
    para = nodes.paragraph(classes=["notebook-download"])
    text = "Download this notebook with its outputs (.ipynb)"
    link = nodes.reference(text, text, refuri=name, classes=["notebook-download-link"])
    para += link
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None:
        title = next(iter(section.findall(nodes.title)), None)
        section.insert(section.index(title) + 1 if title is not None else 0, para)


def _with_cached_outputs(app: Sphinx, text: str) -> str:
    """The notebook with its outputs from the execution cache.

    MyST-NB writes the notebook it read to jupyter_execute/; in "cache" mode the executed
    copy, with outputs, lives only in jupyter-cache, so the download takes them from there.
    """
    if app.config.nb_execution_mode != "cache":
        return text
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CachingError

    cache_path = app.config.nb_execution_cache_path or str(Path(app.outdir) / ".jupyter_cache")
    notebook = nbformat.reads(text, as_version=4)
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
    except (KeyError, CachingError):
        return text
    return nbformat.writes(merged)


def _without_run_times(text: str) -> str:
    """The executed notebook made reproducible: no per-cell run timestamps, and cell ids
    numbered in order (reading a MyST notebook draws random ones)."""
    import json

    notebook = json.loads(text)
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        cell.get("metadata", {}).pop("execution", None)
        if "id" in cell:
            cell["id"] = f"cell-{number}"
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def copy_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    import shutil

    outdir = Path(app.outdir)
    for kind in DOWNLOAD_LABELS:
        source = _download_source(app.config, kind)
        if source.exists():
            (outdir / "downloads").mkdir(exist_ok=True)
            shutil.copyfile(source, outdir / "downloads" / source.name)
    executed = outdir.parent / "jupyter_execute"
    for docname in sorted(app.env.found_docs):
        if _is_notebook(app.env, docname):
            notebook = executed / f"{docname}.ipynb"
            if not notebook.exists():
                continue
            target = outdir / f"{docname}.ipynb"
            # Unchanged since the last build: skip (reading the cache imports SQLAlchemy).
            if target.exists() and target.stat().st_mtime >= notebook.stat().st_mtime:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            text = _with_cached_outputs(app, notebook.read_text(encoding="utf-8"))
            target.write_text(_without_run_times(text), encoding="utf-8")


def _keep_assets(context: dict[str, Any], keep: Any) -> None:
    """Filter a page's CSS and JS by file name (new lists: the builder's stay intact)."""
    for key in ("css_files", "script_files"):
        context[key] = [
            asset for asset in context.get(key, []) if keep(str(getattr(asset, "filename", asset)))
        ]


def drop_late_css_from_epub(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """MyST-NB writes its stylesheet when the build finishes, after the EPUB is zipped, so
    an EPUB page must not link it (epubcheck: missing resource); EPUB readers style
    notebook output well enough without it."""
    if app.builder.name == "epub":
        _keep_assets(context, lambda name: "mystnb." not in name)


#: Assets that extensions add to every page, and the markup that shows a page needs them.
PAGE_ASSETS = {
    "sphinx-design": (("sphinx-design", "design-tabs"), ('class="sd-',)),
    "code": (("pygments.css", "copybutton", "clipboard.min.js"), ('class="highlight',)),
    "notebook": (("mystnb.",), ('class="cell', 'class="output')),
}


def load_only_needed_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Link an extension's CSS/JS only on pages that use it.

    sphinx-design, the copy button, Pygments and MyST-NB each add their files to every
    page; a chapter of prose uses none of them, and they were most of its weight
    (about 150 KB of 386 KB for chapter 3, measured by ``nox -s bench``).
    """
    if app.builder.name not in WEB_BUILDERS or doctree is None or "body" not in context:
        return
    body = context["body"]
    unused = [
        names
        for names, markers in PAGE_ASSETS.values()
        if not any(marker in body for marker in markers)
    ]
    if not unused:
        return

    _keep_assets(context, lambda name: not any(part in name for names in unused for part in names))


def social_meta_tags(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """OpenGraph and Twitter card tags, so a shared link shows the book's title and image.

    sphinxext-opengraph does this too, but imports Matplotlib at start-up for its social
    cards even when they are off: 0.6 s on every rebuild, more than all the rest of a
    no-op build (measured with cProfile).
    """
    if app.builder.name not in WEB_BUILDERS:
        return
    import html

    base = app.config.html_baseurl.rstrip("/") + "/"
    title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title") or app.config.project))
    description = ""
    if doctree is not None:
        first = next(iter(doctree.findall(nodes.paragraph)), None)
        if first is not None:
            description = " ".join(first.astext().split())
            if len(description) > 200:
                description = description[:197].rsplit(" ", 1)[0] + "..."
    tags = {
        "og:title": title,
        "og:type": "website",
        "og:url": base + app.builder.get_target_uri(pagename),
        "og:site_name": app.config.project,
        "og:image": base + app.config.book_social_image,
        "og:image:alt": app.config.book_social_image_alt,
        "og:description": description,
        "twitter:card": "summary_large_image",
    }
    lines = [
        f'<meta property="{name}" content="{html.escape(value, quote=True)}" />'
        for name, value in tags.items()
        if value
    ]
    if description:
        content = html.escape(description, quote=True)
        lines.append(f'<meta name="description" content="{content}" />')
    context["metatags"] = context.get("metatags", "") + "\n".join(lines) + "\n"


def setup(app: Sphinx) -> dict[str, Any]:
    register_style()
    # Matplotlib's PDF backend subsets fonts through fontTools, which logs at INFO level
    # through the root logger; in a Sphinx run that is noise on stderr.
    import logging as std_logging

    std_logging.getLogger("fontTools").setLevel(std_logging.WARNING)
    app.add_directive("timeline-figure", TimelineFigure)
    app.add_role("book-download", BookDownloadRole())
    app.add_config_value("book_pdf_path", "_build/latex/ketamine-for-mental-health.pdf", "html")
    app.add_config_value("book_epub_path", "_build/epub/ketamine-for-mental-health.epub", "html")
    app.connect("doctree-resolved", add_notebook_download)
    app.connect("build-finished", copy_downloads)
    app.connect("html-page-context", drop_late_css_from_epub, priority=900)
    app.connect("html-page-context", load_only_needed_assets, priority=900)
    app.connect("html-page-context", social_meta_tags)
    app.add_config_value("book_social_image", "_static/social.png", "html")
    app.add_config_value("book_social_image_alt", "", "html")
    app.connect("env-get-outdated", invalidate_stale_executions)
    app.connect("env-get-outdated", figures_missing_formats)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
