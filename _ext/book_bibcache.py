"""The bibliography's costs paid once: formatted again only when the bibliography or its
style changed, and the installed plugins scanned once per build.

sphinxcontrib-bibtex formats every entry of every ``{bibliography}`` with pybtex when
the environment is updated, on every build, a no-op included: 74 entries took 0.17 s of
each rebuild (issue 24). Its domain is replaced by a subclass that keeps the formatted
entries in the environment, under a key of everything they are made from:

* the bytes of the bibliography's .bib files (and their encoding);
* the formatting style: its name, the source files of every class of the style (the
  book's ``book_bibstyle.py`` among them, which also patches pybtex's name templates) and
  the versions of pybtex, pybtex-docutils, latexcodec and sphinxcontrib-bibtex;
* the citations, page by page in reading order (this unsorted style lists entries in
  the order they are first cited), and the directive's filter and listed keys;
* the label and key prefixes and the tooltip settings.

Any change to one of them formats the bibliography anew, so the cache cannot serve stale
output; a formatting that warned (a missing field) is never kept, so the warning (an
error under ``-W``) comes back on every build until it is fixed.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import logging as std_logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinxcontrib.bibtex.domain import BibtexDomain

#: Where the formatted entries live in the domain's data (pickled with the environment).
CACHE = "book_formatted_entries"
#: Packages whose code formats an entry.
FORMATTING_PACKAGES = ("pybtex", "pybtex-docutils", "latexcodec", "sphinxcontrib-bibtex")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def style_digest(style_name: str) -> str:
    """Hash of the formatting style's code: every class it is made of, and the packages."""
    import pybtex.plugin

    style = pybtex.plugin.find_plugin("pybtex.style.formatting", style_name)
    digest = hashlib.sha256(style_name.encode())
    files = {inspect.getsourcefile(cls) for cls in style.__mro__ if cls.__module__ != "builtins"}
    for name in sorted(f for f in files if f):
        digest.update(name.encode())
        digest.update(Path(name).read_bytes())
    for package in FORMATTING_PACKAGES:
        digest.update(f"{package}=={_version(package)}".encode())
    return digest.hexdigest()


class _CountWarnings(std_logging.Handler):
    def __init__(self) -> None:
        super().__init__(std_logging.WARNING)
        self.count = 0

    def emit(self, record: std_logging.LogRecord) -> None:
        self.count += 1


class CachedBibtexDomain(BibtexDomain):
    """sphinxcontrib-bibtex's ``cite`` domain, formatting each bibliography once per key."""

    def formatting_key(
        self, bibliography_key: Any, docnames: list[str], tooltips: bool, tooltips_style: str
    ) -> str:
        bibliography = self.bibliographies[bibliography_key]
        bib = hashlib.sha256()
        for path in sorted(map(Path, bibliography.bibfiles)):
            bib.update(str(path).encode())
            bib.update(path.read_bytes() if path.is_file() else b"<missing>")
        key = {
            "bib": bib.hexdigest(),
            "encoding": self.bibdata.encoding,
            "style": style_digest(bibliography.style),
            "styles": [bibliography.style, tooltips_style if tooltips else None],
            # What selects and orders the entries (get_sorted_entries): the citations, page
            # by page in reading order, the directive's filter and its listed keys.
            "citations": [
                [ref.docname, [target.key for target in ref.targets]]
                for ref in sorted(self.citation_refs, key=lambda r: docnames.index(r.docname))
            ],
            "filter": ast.dump(bibliography.filter_),
            "keys": list(bibliography.keys),
            "docname": bibliography_key.docname,
            "prefixes": [bibliography.labelprefix, bibliography.keyprefix],
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def get_formatted_entries(
        self, bibliography_key: Any, docnames: list[str], tooltips: bool, tooltips_style: str
    ) -> list[Any]:
        key = self.formatting_key(bibliography_key, docnames, tooltips, tooltips_style)
        cache: dict[Any, tuple[str, list[Any]]] = self.data.setdefault(CACHE, {})
        for gone in [k for k in cache if k not in self.bibliographies]:
            del cache[gone]
        kept = cache.get(bibliography_key)
        if kept is not None and kept[0] == key:
            return kept[1]
        cache.pop(bibliography_key, None)
        # sphinxcontrib-bibtex warns through this logger (a missing field): such a
        # formatting is not kept, so that the warning is given again next time.
        counter = _CountWarnings()
        logger = std_logging.getLogger("sphinx.sphinxcontrib.bibtex.domain")
        logger.addHandler(counter)
        try:
            formatted = list(
                super().get_formatted_entries(bibliography_key, docnames, tooltips, tooltips_style)
            )
        finally:
            logger.removeHandler(counter)
        if not counter.count:
            cache[bibliography_key] = (key, formatted)
        return formatted


def _entry_points_of_this_process() -> Any:
    """pybtex's and sphinxcontrib-bibtex's ``entry_points(group=..., name=...)``, answered
    from one scan of the installed packages.

    Both look a plugin up by scanning the entry points of every installed package, on
    each lookup, and even to register a plugin (pybtex's ``register_plugin`` scans before
    it looks at ``force``): 10 scans when the build starts, about 0.1 s, and one more for
    each citation sphinxcontrib-bibtex resolves with a style it has not registered. The
    installed packages do not change while Sphinx runs, so one scan serves them all.
    """
    from importlib.metadata import entry_points

    everything = entry_points()
    found: dict[tuple[tuple[str, str], ...], Any] = {}

    def select(**params: Any) -> Any:
        key = tuple(sorted(params.items()))
        if key not in found:
            found[key] = everything.select(**params)  # an immutable EntryPoints
        return found[key]

    select.book_one_scan = True  # type: ignore[attr-defined]
    return select


def scan_entry_points_once() -> None:
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    if getattr(pybtex.plugin.entry_points, "book_one_scan", False):
        return
    select = _entry_points_of_this_process()
    pybtex.plugin.entry_points = select
    sphinxcontrib.bibtex.plugin.entry_points = select


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.bibtex")
    scan_entry_points_once()
    app.add_domain(CachedBibtexDomain, override=True)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
