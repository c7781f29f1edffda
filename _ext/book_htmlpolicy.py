"""HTML policy for the book's web pages: safe links and accessible markup.

* Every external link gets ``rel="noopener noreferrer"``: a page the reader opens from the
  book can neither script the book's window nor learn which page the reader came from.
* A ``javascript:`` URL or an inline event handler (``onclick=`` and the like) in a page's
  content is a build warning, hence an error under ``-W``: the book runs no inline script.
* Two accessibility fixes to the markup Sphinx and docutils write (axe-core rates both
  "critical"): the sidebar's toctree captions are ``role="heading"`` without the required
  ``aria-level``, and bibliography entries use the deprecated ``doc-biblioentry`` role
  inside a ``role="list"``, which leaves the list without list items. The EPUB gets these
  two as well (DAISY Ace rates them "critical"), but not the link policy: it is no web page.
* One id per element: Furo wraps every table in a ``div.table-wrapper`` and copies the
  table's attributes, its ``id`` included, onto it, so every named table's id stood twice
  on its page (the W3C Nu HTML checker's "Duplicate ID"). The wrapper keeps its classes;
  the id stays on the table, where the caption's permalink points.

The policy lives in the HTML translator, so it covers links from every source (Markdown,
citations, sphinx-design cards, notebook Markdown). It wraps whichever translator is
registered for the builder when the build starts, so it composes with extensions that
set their own translator.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from book_builders import HTML_BUILDERS, post_process_pages

LOGGER = logging.getLogger(__name__)

REL = ("noopener", "noreferrer")
#: An attribute such as ``onclick=`` or ``onload =`` inside a start tag.
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\s(on[a-zA-Z]+)\s*=", re.DOTALL)


def is_external(uri: str) -> bool:
    """A link that leaves the book: another host, or a scheme-relative ``//host`` URL."""
    parts = urlsplit(uri)
    return parts.scheme in {"http", "https"} or (not parts.scheme and uri.startswith("//"))


def is_javascript(uri: str) -> bool:
    # Browsers ignore ASCII whitespace and control characters before the scheme.
    return re.sub(r"[\x00-\x20]+", "", uri).lower().startswith("javascript:")


class AccessibleMarkupMixin:
    """ARIA fixes, mixed into the translator of the web pages and of the EPUB."""

    def visit_title(self, node: nodes.Element) -> None:
        start = len(self.body)  # type: ignore[attr-defined]
        super().visit_title(node)  # type: ignore[misc]
        if isinstance(node.parent, addnodes.compact_paragraph) and node.parent.get("toctree"):
            # The sidebar captions come before the page's <h1>: they are level-2 headings.
            # Upstream: https://github.com/sphinx-doc/sphinx/issues/14030 (fix proposed in
            # https://github.com/sphinx-doc/sphinx/pull/14437). Remove this once the pinned
            # Sphinx writes aria-level itself (the patch is then a no-op: it never doubles).
            self._patch_tag(start, 'role="heading"', 'role="heading" aria-level="2"')

    def visit_citation(self, node: nodes.Element) -> None:
        start = len(self.body)  # type: ignore[attr-defined]
        super().visit_citation(node)  # type: ignore[misc]
        # docutils' HTML writer (_html_base.py, visit_citation; still in 0.22.4) writes the
        # role that DPUB-ARIA 1.1 deprecated (https://github.com/w3c/dpub-aria/pull/22,
        # https://github.com/w3c/html-aria/issues/363). Remove this once the pinned
        # docutils writes no role="doc-biblioentry" (grep the built bibliography page).
        self._patch_tag(start, 'role="doc-biblioentry"', 'role="listitem"')

    def _patch_tag(self, start: int, old: str, new: str) -> None:
        """Rewrite an attribute in the start tag that the base class has just written."""
        body: list[str] = self.body  # type: ignore[attr-defined]
        for index in range(start, len(body)):
            if old in body[index] and new not in body[index]:
                body[index] = body[index].replace(old, new, 1)
                return


class PolicyTranslatorMixin(AccessibleMarkupMixin):
    """Mixed into the web builders' HTML translator by :func:`install_translator`."""

    def visit_reference(self, node: nodes.Element) -> None:
        uri = node.get("refuri", "")
        if is_javascript(uri):
            LOGGER.warning(
                "javascript: URL in a link: %s", uri, location=node, type="htmlpolicy", subtype="js"
            )
        elif is_external(uri) and not node.get("internal"):
            rel = str(node.get("rel", "")).split()
            node["rel"] = " ".join(rel + [token for token in REL if token not in rel])
        super().visit_reference(node)  # type: ignore[misc]

    def visit_raw(self, node: nodes.Element) -> None:
        if "html" in node.get("format", "").split():
            match = INLINE_HANDLER.search(node.astext())
            if match:
                LOGGER.warning(
                    "inline event handler %s= in raw HTML: the book runs no inline script",
                    match.group(1),
                    location=node,
                    type="htmlpolicy",
                    subtype="handler",
                )
        super().visit_raw(node)  # type: ignore[misc]


def install_translator(app: Sphinx) -> None:
    """Wrap the builder's translator class (Sphinx's or another extension's) in the policy."""
    if app.builder.name in HTML_BUILDERS:
        mixin, name = PolicyTranslatorMixin, "Policy"
    elif app.builder.name == "epub":
        mixin, name = AccessibleMarkupMixin, "AccessibleMarkup"
    else:
        return
    base = app.registry.get_translator_class(app.builder)
    if issubclass(base, mixin):
        return
    policy = type(f"{name}{base.__name__}", (mixin, base), {})
    app.registry.add_translator(app.builder.name, policy, override=True)


class OneIdPerElement(SphinxPostTransform):
    """Take the ids that Furo copies from a table (or math block) off its wrapper."""

    default_priority = 510  # after Furo's WrapTableAndMathInAContainerTransform (500)
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for wrapper in self.document.findall(nodes.container):
            classes = wrapper.get("classes", [])
            if "table-wrapper" not in classes and "math-wrapper" not in classes:
                continue
            inner = {i for child in wrapper.children for i in child.get("ids", [])}
            wrapper["ids"] = [i for i in wrapper["ids"] if i not in inner]


#: A start tag of a link to another host without a rel attribute, in a rendered page.
TEMPLATE_LINK = re.compile(r"<a(?![^>]*\srel=)(?=[^>]*\shref=\"(?:https?:)?//)([^>]*)>", re.I)


def add_rel_to_template_links(html: str) -> str:
    """``rel="noopener noreferrer"`` on external links that the theme's templates write
    (Furo's footer credit), which the translator never sees."""
    return TEMPLATE_LINK.sub(lambda m: f'<a{m.group(1)} rel="{" ".join(REL)}">', html)


def wrap_renderer(app: Sphinx) -> None:
    post_process_pages(app, add_rel_to_template_links)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", install_translator)
    app.connect("builder-inited", wrap_renderer)
    app.add_post_transform(OneIdPerElement)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
