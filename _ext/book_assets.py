"""Which stylesheets and scripts each page links.

sphinx-design, the copy button, Pygments and MyST-NB add their files to every page; a page
links only those its markup uses. The EPUB never links MyST-NB's stylesheet, which is
written after the EPUB is zipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from book_builders import WEB_BUILDERS


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


def write_notebook_css_first(app: Sphinx) -> None:
    """Write MyST-NB's stylesheet before any page, as the web book's other assets are.

    MyST-NB writes it when the build finishes, after the pages: a clean build's pages
    link it bare, while every later build finds the file and links it with Sphinx's
    ``?v=`` checksum, so a no-op rebuild rewrote search.html and 404.html (and any
    incremental build differed from a clean one). The file's name holds its own hash.
    """
    names = [name for name, _ in app.registry.css_files if name.startswith("mystnb.")]
    if app.builder.name not in WEB_BUILDERS or not names:
        return
    from importlib.resources import files

    css = files("myst_nb.static").joinpath("mystnb.css").read_bytes()
    target = Path(app.outdir) / "_static" / names[0]
    if not target.is_file() or target.read_bytes() != css:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(css)


#: Assets that extensions add to every page, and the markup that shows a page needs them.
PAGE_ASSETS = {
    "sphinx-design": (("sphinx-design",), ('class="sd-',)),
    "sphinx-design tabs": (("design-tabs",), ("sd-tab-set",)),
    "code": (("pygments.css", "copybutton", "clipboard.min.js"), ('class="highlight',)),
    "notebook": (("mystnb.",), ('class="cell', 'class="output')),
}


def load_only_needed_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Link an extension's CSS/JS only on pages that use it.

    sphinx-design, the copy button, Pygments and MyST-NB each add their files to every
    page; a chapter of prose uses none of them, and they were most of its weight
    (about 150 KB of 386 KB for chapter 3, measured by ``nox -s bench``). Pages made from
    a template alone (search) or from configuration (the 404 page) get none of them:
    their markup comes from the theme, which styles it.
    """
    if app.builder.name not in WEB_BUILDERS:
        return
    body = context.get("body") or ""
    unused = [
        names
        for names, markers in PAGE_ASSETS.values()
        if not any(marker in body for marker in markers)
    ]
    if not unused:
        return

    _keep_assets(context, lambda name: not any(part in name for names in unused for part in names))


def defer_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Load the theme's and extensions' scripts with ``defer``: a page is painted without
    waiting for them (Lighthouse counted them as render-blocking on the notebook pages).
    They run in order, before the document's DOMContentLoaded, where each of them starts
    its work. Not on the search page, whose template adds its own scripts after these and
    expects them to have run."""
    if app.builder.name not in WEB_BUILDERS or pagename == "search":
        return
    from sphinx.builders.html._assets import _JavaScript

    scripts = []
    for asset in context.get("script_files", []):
        if (
            isinstance(asset, _JavaScript)
            and asset.filename
            and not ({"async", "defer", "body"} & set(asset.attributes))
        ):
            asset = _JavaScript(
                asset.filename, priority=asset.priority, **asset.attributes, defer="defer"
            )
        scripts.append(asset)
    context["script_files"] = scripts


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", defer_scripts, priority=910)
    app.connect("html-page-context", drop_late_css_from_epub, priority=900)
    app.connect("builder-inited", exclude_late_css_from_epub)
    app.connect("builder-inited", write_notebook_css_first)
    app.connect("html-page-context", load_only_needed_assets, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
