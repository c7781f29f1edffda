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
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from book_bibstyle import register_style
from book_builders import HTML_BUILDERS, WEB_BUILDERS

LOGGER = logging.getLogger(__name__)

#: Files whose content changes what a notebook computes (beyond its own code cells).
DATA_FILES = ("data/onset_timelines.csv", "references.bib")
STAMP_NAME = "ketamine-data.sha256"
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
    """Re-read data-reading notebooks, and drop their cached runs, when the data change.

    Two records of the data's digest, because two things can be stale:

    * the execution cache, shared by every builder: its stamp file says which data its
      runs of data-reading notebooks used. When it differs, those runs are dropped (and the
      stamp moved on at once: whatever is cached after that ran on the new data).
    * each builder's environment (``env.book_data_digest``): which data its pages were
      read with. Sphinx saves the environment only after every document was read, so a
      build killed mid-way leaves the old digest, and the next build reads them again;
      and ``nox -s epub`` refreshing the cache does not make the HTML pages current.

    Documents whose ``book-download`` link text depends on whether the PDF or EPUB exists
    are re-read when that changes.
    """
    outdated = _download_state_changed(env)
    # A notebook whose execution failed is read (and run) again, so that the next build
    # reports it again instead of passing with a page without outputs.
    outdated |= {
        docname
        for docname, data in getattr(env, "nb_metadata", {}).items()
        if (data.get("exec_data") or {}).get("succeeded") is False
    }
    outdated |= getattr(env, "book_stderr_docs", set())
    current = data_digest(Path(app.srcdir))
    if app.config.nb_execution_mode == "cache":
        heal_execution_cache(_cache_path(app))
        _drop_stale_cache_records(app, env, current)
    if getattr(env, "book_data_digest", None) != current:
        if getattr(env, "book_data_digest", None) is not None:
            LOGGER.info("data or package changed: re-reading the notebooks that read them")
        env.book_data_digest = current
        outdated |= set(notebooks_reading_data(env))
    return sorted(d for d in outdated if d not in added and d in env.found_docs)


def _cache_path(app: Sphinx) -> Path:
    return Path(app.config.nb_execution_cache_path or Path(app.outdir) / ".jupyter_cache")


def heal_execution_cache(cache_path: Path) -> None:
    """Forget cache records whose executed notebook is gone; start afresh if the database
    cannot be read. jupyter-cache itself raises ``KeyError: 'Notebook file does not exist
    for cache record PK: N'`` on every later build. Read with sqlite3 directly: importing
    jupyter-cache (SQLAlchemy) would slow every no-op build."""
    import shutil
    import sqlite3

    database = cache_path / "global.db"
    if not database.exists():
        return
    try:
        with sqlite3.connect(database) as db:
            records = db.execute("SELECT pk, hashkey FROM nbcache").fetchall()
            lost = [
                (pk, hashkey)
                for pk, hashkey in records
                if not (cache_path / "executed" / hashkey / "base.ipynb").is_file()
            ]
            if lost:
                db.executemany("DELETE FROM nbcache WHERE pk = ?", [(pk,) for pk, _ in lost])
        db.close()
    except sqlite3.Error as exc:
        LOGGER.info("execution cache %s unreadable (%s): rebuilding it", cache_path, exc)
        shutil.rmtree(cache_path)
        return
    for _, hashkey in lost:  # jupyter-cache cannot write into a folder that exists
        shutil.rmtree(cache_path / "executed" / hashkey, ignore_errors=True)
    if lost:
        LOGGER.info(
            "execution cache: %d executed notebook(s) missing from %s; "
            "dropped their records, they will run again",
            len(lost),
            cache_path / "executed",
        )


def _drop_stale_cache_records(app: Sphinx, env: BuildEnvironment, current: str) -> None:
    cache_path = _cache_path(app)
    stamp = cache_path / STAMP_NAME
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous == current:
        return
    docnames = notebooks_reading_data(env)
    if cache_path.exists():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        paths = {str(Path(env.doc2path(d)).resolve()) for d in docnames}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in paths:
                cache.remove_cache(record.pk)
        if previous is not None:
            LOGGER.info("data or package changed: re-executing %s", ", ".join(docnames))
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")


def _download_state_changed(env: BuildEnvironment) -> set[str]:
    """Docnames whose ``book-download`` roles saw a PDF/EPUB exist that now does not, or
    the other way round."""
    states: dict[str, dict[str, bool]] = getattr(env, "book_download_state", {})
    return {
        docname
        for docname, seen in states.items()
        if any(Path(path).exists() != existed for path, existed in seen.items())
    }


def _purge_download_state(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "book_download_state", {}).pop(docname, None)
    getattr(env, "book_stderr_docs", set()).discard(docname)


def _merge_download_state(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    theirs = getattr(other, "book_download_state", {})
    mine = env.__dict__.setdefault("book_download_state", {})
    mine.update({d: theirs[d] for d in docnames if d in theirs})


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def report_failed_execution(app: Sphinx, doctree: nodes.document) -> None:
    """One error for a notebook whose execution failed: the file and line of the failing
    cell and the exception's last line (a DataError names the data file's line too).

    conf.py sets ``nb_execution_raise_on_error = False``: raising ends Sphinx in its crash
    banner ("please open an issue at sphinx-doc") with a sphinx-err-*.log, as if Sphinx
    had failed, and ``nb_execution_show_tb = False`` keeps MyST-NB's own warning to one
    line. The build still fails: this is an error, and the HTML is not published.
    """
    env = app.env
    stderr = env.__dict__.setdefault("book_stderr_docs", set())
    stderr.discard(env.docname)
    if any("stderr" in node["classes"] for node in doctree.findall(nodes.Element)):
        stderr.add(env.docname)  # MyST-NB reported it (nb_output_stderr); so will the next build
    data = getattr(env, "nb_metadata", {}).get(env.docname, {}).get("exec_data") or {}
    if data.get("succeeded", True):
        return
    traceback = _ANSI.sub("", data.get("traceback") or "")
    lines = [line for line in traceback.splitlines() if line.strip()]
    cause = lines[-1].strip() if lines else (data.get("error") or "execution failed")
    cell = re.search(r"executing the following cell:\n-+\n(.*?)\n-+\n", traceback, re.S)
    path = Path(env.doc2path(env.docname))
    line = None
    if cell is not None and path.exists():
        offset = path.read_text(encoding="utf-8").find(cell.group(1).strip())
        if offset >= 0:
            line = path.read_text(encoding="utf-8").count("\n", 0, offset) + 1
    where = "a code cell" if line is None else "the code cell at this line"
    LOGGER.error(
        f"notebook execution failed: {where} raised {cause}",
        location=(env.docname, line),
        type="book",
        subtype="execution",
    )


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


# -- Downloads: the PDF, the EPUB and each executed notebook ------------------------------
DOWNLOAD_LABELS = {"pdf": "PDF", "epub": "EPUB"}


def _download_source(config: Any, kind: str) -> Path:
    return Path(config.book_pdf_path if kind == "pdf" else config.book_epub_path)


class BookDownloadRole(SphinxRole):
    """``{book-download}`pdf```: a link to the built PDF or EPUB, when one has been built.

    The HTML book never links to a file that is not there: without a PDF (no TeX Live on
    this machine), the role says how to build one instead. In the EPUB, which a reader
    has already downloaded, the role points to the web edition (``html_baseurl``).
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        kind = self.text.strip().lower()
        if kind not in DOWNLOAD_LABELS:
            msg = self.inliner.reporter.error(
                f"book-download: unknown kind {kind!r} (use pdf or epub)", line=self.lineno
            )
            return [], [msg]
        source = _download_source(self.config, kind)
        # The text depends on whether the file exists: re-read the page when that changes.
        states = self.env.__dict__.setdefault("book_download_state", {})
        states.setdefault(self.env.docname, {})[str(source)] = source.exists()
        label = f"Download the {DOWNLOAD_LABELS[kind]}"
        if self.env.app.builder.name not in WEB_BUILDERS:
            # The EPUB (and any other edition) has no downloads of its own: its readers
            # get them from the web edition, at its address.
            base = self.config.html_baseurl
            text = f"{DOWNLOAD_LABELS[kind]}: from the web edition, {base}"
            ref = nodes.reference(base, base, refuri=base, classes=["book-download-web"])
            lead = f"{DOWNLOAD_LABELS[kind]}: from the web edition, "
            return [nodes.inline(text, "", nodes.Text(lead), ref)], []
        if not source.exists():
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


def _without_run_times(text: str, app: Sphinx | None = None) -> str:
    """The executed notebook made reproducible: no per-cell run timestamps, and cell ids
    numbered in order (reading a MyST notebook draws random ones). With ``app``, also as a
    reader downloads it (book_notebooks.prepare_download: installs from this build's site)."""
    import json

    notebook = json.loads(text)
    if app is not None and "book_notebooks" in app.extensions:
        from book_notebooks import prepare_download

        notebook = prepare_download(app, notebook)
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
            target.write_text(_without_run_times(text, app), encoding="utf-8")


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


def exclude_late_css_from_epub(app: Sphinx) -> None:
    """Keep MyST-NB's stylesheet out of the EPUB's package, too.

    The EPUB builder zips every file in its output directory. MyST-NB writes its
    stylesheet there at the end of each build (after the zip), so a second build without
    ``rm -rf`` found the first one's file, packaged it, and epubcheck rejected the package
    (CSS-008: the stylesheet uses CSS nesting, which EPUB's CSS profile does not parse).
    No EPUB page links it (drop_late_css_from_epub): the stale copy is removed before the
    build, rather than listed in ``epub_exclude_files``, whose change would invalidate
    the environment on every other build.
    """
    if app.builder.name != "epub":
        return
    for stale in (Path(app.outdir) / "_static").glob("mystnb.*.css"):
        stale.unlink()


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
        # Not the "Run this notebook" panel (book_notebooks.py) at the top of a notebook.
        first = next(
            (
                p
                for p in doctree.findall(nodes.paragraph)
                if "notebook-download" not in p["classes"]
                and not any("run-notebook" in a.get("classes", ()) for a in _ancestors(p))
            ),
            None,
        )
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


def _ancestors(node: nodes.Node) -> Iterable[nodes.Element]:
    while node.parent is not None:
        node = node.parent
        yield node


#: How long a build waits for another one in the same checkout before it gives up.
LOCK_TIMEOUT = 1800


class ConcurrentBuildError(ExtensionError):
    category = "Another build is running"


def lock_build_directory(app: Sphinx, config: Any) -> None:
    """One build at a time per build directory (``_build``): two builds at once wrote
    the same files and shared one execution cache (``misc.copy_overwrite`` failures).

    The second build waits for the first, saying so; the operating system releases the
    lock when a build ends, even a killed one.
    """
    from filelock import FileLock, Timeout

    build_dir = Path(app.outdir).parent
    build_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(build_dir / ".build.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        LOGGER.info("another build is running in %s: waiting for it to finish", build_dir)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise ConcurrentBuildError(
                f"another build has held {lock.lock_file} for {LOCK_TIMEOUT} s; "
                "stop it, or build into another directory"
            ) from None
    app.book_build_lock = lock  # held until this process ends


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
    app.connect("doctree-read", report_failed_execution)
    app.connect("build-finished", copy_downloads)
    app.connect("build-finished", remove_stale_figures)
    app.connect("html-page-context", drop_late_css_from_epub, priority=900)
    app.connect("builder-inited", exclude_late_css_from_epub)
    app.connect("html-page-context", load_only_needed_assets, priority=900)
    app.connect("html-page-context", social_meta_tags)
    app.add_config_value("book_social_image", "_static/social.png", "html")
    app.add_config_value("book_social_image_alt", "", "html")
    app.connect("config-inited", lock_build_directory)
    app.connect("env-get-outdated", invalidate_stale_executions)
    app.connect("env-purge-doc", _purge_download_state)
    app.connect("env-merge-info", _merge_download_state)
    app.connect("env-get-outdated", figures_missing_formats)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
