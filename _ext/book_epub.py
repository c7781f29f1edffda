"""The EPUB edition as an accessible e-book (EPUB Accessibility 1.1, checked by DAISY Ace).

Sphinx's EPUB builder (9.0) leaves out three things that assistive technology and the
accessibility checkers need; this room adds them, each where Sphinx offers a hook:

- **The language of every page.** The builder writes ``<html>`` without ``lang`` (its
  ``HTML_TAG`` in ``sphinx/builders/epub3.py``), so a screen reader guesses the language
  of each page (Ace: ``html-has-lang``, serious). The ``html-page-context`` event gives
  every page ``lang`` and ``xml:lang`` from ``epub_language``.
- **The navigation document's role.** ``nav.xhtml`` comes from a fixed template
  (``sphinx/templates/epub3/nav.xhtml.jinja``, rendered by path, not through
  ``templates_path``): its ``<nav epub:type="toc">`` gets ``role="doc-toc"`` (Ace:
  ``epub-type-has-matching-role``).
- **Accessibility metadata.** ``content.opf`` also comes from a fixed template, with no
  place for the schema.org accessibility properties that EPUB Accessibility 1.1 requires
  (access modes, features, hazards, a summary) or for its conformance statement. They come
  from ``book_epub_accessibility`` in conf.py, written before ``</metadata>``.

The two metadata files are edited right after the builder writes them and before it zips
the book (its ``build_content`` and ``build_navigation_doc``), so the zip holds the edited
files. No upstream issue was found for these omissions in Sphinx's tracker; remove each
edit once Sphinx writes the markup itself (the edits then fail loudly rather than double).

The ARIA fixes that the web pages need too (toctree captions as level-2 headings,
bibliography entries as list items) live with the HTML policy in ``book_htmlpolicy``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: The EPUB Accessibility vocabulary's prefix: predefined in EPUB 3, declared anyway, as
#: the DAISY Knowledge Base advises, so that older reading systems know it.
A11Y_PREFIX = "a11y: http://www.idpf.org/epub/vocab/package/a11y/#"
NAV_TOC = '<nav epub:type="toc">'


def page_language(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """``lang`` and ``xml:lang`` on the ``<html>`` of every EPUB page."""
    if app.builder.name != "epub":
        return
    tag = context.get("html_tag") or app.builder.html_tag
    lang = html.escape(app.config.epub_language, quote=True)
    if " lang=" not in tag:
        context["html_tag"] = tag.replace(">", f' lang="{lang}" xml:lang="{lang}">', 1)


def accessibility_metadata(properties: list[tuple[str, str]]) -> str:
    """``<meta>`` elements for the package document, one per (property, value)."""
    lines = []
    for prop, value in properties:
        lines.append(f'    <meta property="{html.escape(prop)}">{html.escape(value)}</meta>\n')
    return "".join(lines)


def add_accessibility_metadata(opf: Path, properties: list[tuple[str, str]]) -> None:
    text = opf.read_text(encoding="utf-8")
    if "</metadata>" not in text or ' prefix="' not in text:
        raise ExtensionError(f"{opf}: Sphinx's package document changed; see _ext/book_epub.py")
    if "schema:accessMode" in text:
        return  # written by a previous call of this build
    text = text.replace(' prefix="', f' prefix="{A11Y_PREFIX} ', 1)
    text = text.replace("  </metadata>", accessibility_metadata(properties) + "  </metadata>", 1)
    opf.write_text(text, encoding="utf-8")


def add_toc_role(nav: Path) -> None:
    text = nav.read_text(encoding="utf-8")
    if 'role="doc-toc"' in text:
        return
    if NAV_TOC not in text:
        raise ExtensionError(f"{nav}: Sphinx's navigation document changed; see _ext/book_epub.py")
    nav.write_text(text.replace(NAV_TOC, '<nav epub:type="toc" role="doc-toc">', 1), "utf-8")


def wrap_metadata_writers(app: Sphinx) -> None:
    """Edit content.opf and nav.xhtml as soon as the builder has written them."""
    if app.builder.name != "epub":
        return
    builder = app.builder
    outdir = Path(builder.outdir)
    build_content = builder.build_content
    build_navigation_doc = builder.build_navigation_doc

    def build_content_with_accessibility() -> None:
        build_content()
        add_accessibility_metadata(outdir / "content.opf", app.config.book_epub_accessibility)

    def build_navigation_doc_with_role() -> None:
        build_navigation_doc()
        add_toc_role(outdir / "nav.xhtml")

    builder.build_content = build_content_with_accessibility  # type: ignore[method-assign]
    builder.build_navigation_doc = build_navigation_doc_with_role  # type: ignore[method-assign]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_epub_accessibility", [], "epub", types=[list])
    app.connect("html-page-context", page_language)
    app.connect("builder-inited", wrap_metadata_writers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
