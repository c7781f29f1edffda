"""The published site holds exactly what this build produced, and an incremental build
publishes the same bytes as a clean one.

Sphinx never deletes from its output directory, and its search index loses data when
only some pages are rewritten. After each web build this extension

* rewrites the pages that show other pages (the navigation on every page, the
  bibliography) when those change;
* removes what no page of the book produces any more: the page, its ``_sources`` copy
  and its ``.ipynb`` download of a deleted or renamed chapter or notebook; MyST-NB's
  ``reports/*.err.log`` of a notebook that now runs (they hold local paths); images and
  downloads no page uses; a PDF or EPUB copy whose source is gone; ``.buildinfo.bak``;
* keeps the search index whole across incremental builds (a workaround, below).

Search index. Sphinx rebuilds ``searchindex.js`` from the previous file plus the pages it
rewrites. Two things go wrong (Sphinx 7.4 to 9.0):

* the previous file's ``indexentries`` (the glossary's terms, index directives) are not
  read back, so a page that is not rewritten loses them:
  https://github.com/sphinx-doc/sphinx/issues/12599 (open). ``load`` below reads them;
* pruning a rewritten or removed page empties its words' document lists but keeps the
  words, so ``terms`` fills with words no page holds (``"kernelid":[]``). ``prune`` below
  drops them. Not reported upstream as far as we found; the fix is one line in
  ``IndexBuilder.prune``.

Remove the patch when a Sphinx release fixes both: tests/test_edges.py then passes
without it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from book_builders import WEB_BUILDERS

#: Folders of the site whose files are not pages; each is pruned by its own rule.
ASSET_DIRS = frozenset({"_static", "_images", "_downloads", "_sources", "reports"})


# -- The search index (sphinx-doc/sphinx#12599) ---------------------------------------------
def patch_search_index() -> None:
    from sphinx.search import IndexBuilder

    if getattr(IndexBuilder, "_book_whole", False):
        return
    load, prune, freeze = IndexBuilder.load, IndexBuilder.prune, IndexBuilder.freeze

    def load_with_index_entries(self: Any, stream: Any, format: Any) -> None:
        if isinstance(format, str):
            format = self.formats[format]
        frozen = format.load(stream)

        class Parsed:  # hands the parsed file to Sphinx's own load
            @staticmethod
            def load(_stream: Any) -> Any:
                return frozen

        load(self, io.StringIO(), Parsed)
        names = frozen["docnames"]
        entries: dict[str, list[tuple[str, str, str]]] = {}
        for entry, places in frozen.get("indexentries", {}).items():
            for doc, target, main in places:
                entries.setdefault(names[doc], []).append((entry, target, "main" if main else ""))
        self._index_entries = entries

    def prune_words_too(self: Any, docnames: Any) -> None:
        docnames = set(docnames)
        prune(self, docnames)
        self._index_entries = {d: e for d, e in self._index_entries.items() if d in docnames}
        for mapping in (self._mapping, self._title_mapping):
            for word in [word for word, found in mapping.items() if not found]:
                del mapping[word]

    def freeze_in_order(self: Any) -> dict[str, Any]:
        # The order in which pages were fed (all of them, or only the rewritten ones after
        # the rest were loaded) must not change the file.
        entries = self._index_entries
        self._index_entries = {
            doc: sorted(entries[doc], key=lambda e: (e[0].lower(), e[1], e[2]))
            for doc in sorted(entries)
        }
        try:
            return freeze(self)
        finally:
            self._index_entries = entries

    IndexBuilder.load = load_with_index_entries
    IndexBuilder.prune = prune_words_too
    IndexBuilder.freeze = freeze_in_order
    IndexBuilder._book_whole = True


# -- Pages that show other pages ------------------------------------------------------------
def pages_to_rewrite(app: Sphinx, env: Any) -> list[str]:
    """Pages that show what changed elsewhere, rewritten (not re-read) with this build.

    Sphinx rewrites the pages it re-read. But every page shows the book's navigation
    (Furo's sidebar, previous and next), and a bibliography lists what other pages cite:
    after a page was added, removed, renamed or retitled, or a citation added, the others
    kept the old sidebar or list, unlike a clean build. So: all pages when the navigation
    changed, the bibliography pages when the cited works changed.
    """
    nav = repr(
        (
            sorted(env.found_docs),
            sorted((d, t.astext()) for d, t in env.titles.items()),
            sorted((d, list(i)) for d, i in env.toctree_includes.items()),
        )
    )
    citations = getattr(env.domains.get("cite"), "citations", [])  # sphinxcontrib-bibtex
    cited = repr(sorted((c.bibliography_key.docname, c.key) for c in citations))
    previous = getattr(env, "book_pages_shown", None)
    env.book_pages_shown = (nav, cited)
    if previous is None:
        return []  # a fresh environment: every page is written anyway
    if previous[0] != nav:
        return sorted(env.found_docs)
    if previous[1] != cited:
        return sorted({c.bibliography_key.docname for c in citations})
    return []


# -- Stale files ----------------------------------------------------------------------------
def record_page(app: Sphinx, pagename: str, *args: Any) -> None:
    """Pages written in this build besides the documents (search, 404)."""
    app.__dict__.setdefault("book_extra_pages", set()).add(pagename)


def stale_files(app: Sphinx) -> list[Path]:
    """Files in the site that this build did not produce and no page needs."""
    outdir, env, builder = Path(app.outdir), app.env, app.builder
    docs = set(env.found_docs)
    pages = {
        Path(builder.get_outfilename(d)) for d in docs | getattr(app, "book_extra_pages", set())
    }
    notebooks = {d for d in docs if "kernelspec" in env.metadata.get(d, {})}
    failed = {
        d
        for d, data in getattr(env, "nb_metadata", {}).items()
        if (data.get("exec_data") or {}).get("succeeded") is False
    }
    images = {name for _, name in env.images.values()}
    downloads = {dest for _, dest in env.dlfiles.values()}
    from book_downloads import DOWNLOAD_LABELS, _download_source

    built = {_download_source(app.config, kind, app.srcdir) for kind in DOWNLOAD_LABELS}
    copies = {path.name for path in built if path.is_file()}
    suffix = app.config.html_sourcelink_suffix

    stale = []
    for path in sorted(outdir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(outdir)
        top, name = rel.parts[0], rel.as_posix()
        if top == "_sources":
            docname = os.path.splitext(name.removeprefix("_sources/").removesuffix(suffix))[0]
            keep = docname in docs
        elif top == "reports":
            keep = name.removeprefix("reports/").removesuffix(".err.log") in failed
        elif top == "_images":
            keep = path.name in images
        elif top == "_downloads":
            keep = name.removeprefix("_downloads/") in downloads
        elif top == "downloads" and len(rel.parts) == 2:
            keep = path.name in copies
        elif top in ASSET_DIRS:
            keep = True
        elif path.suffix == ".html":
            keep = path in pages
        elif path.suffix == ".ipynb":
            keep = name.removesuffix(".ipynb") in notebooks
        else:
            keep = name != ".buildinfo.bak"
        if not keep:
            stale.append(path)
    return stale


def remove_stale_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    outdir = Path(app.outdir)
    folders = set()
    for path in stale_files(app):
        path.unlink()
        folders.update(p for p in path.parents if outdir in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def setup(app: Sphinx) -> dict[str, Any]:
    patch_search_index()
    app.connect("html-page-context", record_page)
    app.connect("env-updated", pages_to_rewrite, priority=900)  # after sphinxcontrib-bibtex
    # Last: after the downloads, the data set and the sitemap are written.
    app.connect("build-finished", remove_stale_files, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
