"""Which Sphinx builders make which edition of the book."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The hosted website, one file per page: it gets downloads, per-page assets, social
#: tags, the sitemap and trimmed stylesheets.
WEB_BUILDERS = frozenset({"html", "dirhtml"})
#: Every builder whose HTML pages a browser opens from the web: link policy applies to
#: all of them. The EPUB is not one: a closed, offline container.
HTML_BUILDERS = WEB_BUILDERS | {"singlehtml"}


def post_process_pages(app: Any, transform: Callable[[str], str]) -> None:
    """Apply ``transform`` to every page the HTML builder renders from its templates, after
    the theme has written it (what the theme adds, such as Furo's footer, included)."""
    if app.builder.name not in HTML_BUILDERS:
        return
    templates = app.builder.templates
    render = templates.render

    def render_and_transform(template: str, context: dict[str, Any]) -> str:
        return transform(render(template, context))

    templates.render = render_and_transform
