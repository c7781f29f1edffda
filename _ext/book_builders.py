"""Which Sphinx builders make which edition of the book."""

from __future__ import annotations

#: The hosted website, one file per page: it gets downloads, per-page assets, social
#: tags, the sitemap and trimmed stylesheets.
WEB_BUILDERS = frozenset({"html", "dirhtml"})
#: Every builder whose HTML pages a browser opens from the web: link policy applies to
#: all of them. The EPUB is not one: a closed, offline container.
HTML_BUILDERS = WEB_BUILDERS | {"singlehtml"}
