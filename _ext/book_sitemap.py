"""``sitemap.xml`` for search engines: every page of the book, on every build.

It replaces sphinx-sitemap 2.9, which lists only the pages written by the current build:
after a one-chapter edit its sitemap held two URLs out of seventeen. It also started a
``multiprocessing.Manager`` server process on every build (13 ms of a 0.8 s rebuild) to
collect page names from parallel writers; this one asks the environment instead.
Upstream: https://github.com/jdillard/sphinx-sitemap/issues/13 (open since 2018; #100 is
its duplicate). Remove this module for sphinx-sitemap once that issue is fixed in a
release: tests/test_sitemap.py's one-page edit test then passes with it.

No page carries a last-modified date: the book has one date, its last commit's (see
``_ext/book_date.py``), which says nothing about a page.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from book_builders import WEB_BUILDERS

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def page_links(app: Any) -> list[str]:
    """The path of every page, relative to the site root."""
    env = app.builder.env
    links = []
    for docname in sorted(env.found_docs):
        link = app.builder.get_target_uri(docname)
        if link.endswith("index.html") and app.builder.name == "dirhtml":
            link = link[: -len("index.html")]
        if any(fnmatch.fnmatch(link, pattern) for pattern in app.config.sitemap_excludes):
            continue
        links.append(link)
    return links


def sitemap_xml(base_url: str, links: list[str]) -> str:
    base = base_url.rstrip("/") + "/"
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<urlset xmlns="{NAMESPACE}">']
    lines += [f"<url><loc>{escape(base + link)}</loc></url>" for link in links]
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def write_sitemap(app: Any, exception: BaseException | None) -> None:
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    if not app.config.html_baseurl:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "sitemap: html_baseurl is not set, so no sitemap.xml is written",
            type="sitemap",
        )
        return
    path = Path(app.outdir) / "sitemap.xml"
    text = sitemap_xml(app.config.html_baseurl, page_links(app))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value(
        "sitemap_excludes", ["search.html", "genindex.html", "404.html"], "html", list
    )
    app.connect("build-finished", write_sitemap)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
