"""Serve only the CSS rules the built book can use.

Furo's stylesheet (51 KB) styles everything a Sphinx site may contain: API signatures,
twenty admonition types, version notes, index pages. A chapter of this book uses a third
of it, and the stylesheet was a third of chapter 3's weight (``nox -s bench``). After an
HTML build this extension rewrites every stylesheet under ``_static`` without the rules
that no page can match, and without custom properties that nothing reads.

A rule is dropped only when one of the class names, ids or element names its selector
requires appears in no page of the site and in no script (classes that scripts add, such
as Furo's ``scrolled`` or the search page's result classes, are words in the JavaScript).
Pseudo-classes, attribute tests and ``:not()`` are removed from a selector before the test,
which only widens it: a state the page reaches at run time (``:hover``, dark theme,
``:target``) never drops a rule. At-rules other than ``@media``/``@supports`` are kept.

The purge is site-wide, not per page, so one stylesheet is cached across the whole book.
Sphinx copies the originals anew on each build; they are kept in the doctree directory so
the purge always starts from them, results are cached by their inputs, and the ``?v=``
checksum Sphinx put in each page's link is updated to the purged file's.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builders import WEB_BUILDERS

CACHE_DIR = "csspurge"

_CLASS_ATTRIBUTE = re.compile(r"""\sclass=(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_ID_ATTRIBUTE = re.compile(r"""\sid=(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_WORD = re.compile(r"-{0,2}[A-Za-z_][\w-]*")
_VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
_PSEUDO = re.compile(r"::?[\w-]+(?:\((?:[^()]|\([^()]*\))*\))?")
_ATTRIBUTE_TEST = re.compile(r"\[[^\]]*\]")
_SELECTOR_TOKEN = re.compile(r"[.#]?-?[A-Za-z_][\w-]*")
_ALWAYS_THERE = {"html", "body", ":root"}


# -- What the site uses ------------------------------------------------------------------
def markup_tokens(html: str) -> set[str]:
    """Class names (``.x``), ids (``#x``) and element names (``x``) in an HTML page."""
    tokens = {tag.lower() for tag in _TAG.findall(html)}
    for quoted in _CLASS_ATTRIBUTE.findall(html):  # "x", 'x' or x: one group is set
        tokens.update("." + name for name in "".join(quoted).split())
    tokens.update("#" + "".join(quoted) for quoted in _ID_ATTRIBUTE.findall(html))
    return tokens


def script_words(js: str) -> set[str]:
    """Every identifier-like word of a script: any of them may become a class or an id."""
    return set(_WORD.findall(js))


@dataclass(frozen=True)
class SiteUsage:
    tokens: frozenset[str]
    words: frozenset[str]
    variables: frozenset[str]  # custom properties read by pages and scripts

    def can_match(self, selector: str) -> bool:
        """False only if the selector needs a class, id or element the site never has."""
        if "\\" in selector or "|" in selector:
            return True  # escaped or namespaced names: not worth parsing, keep
        simple = _ATTRIBUTE_TEST.sub("", selector)
        simple = _PSEUDO.sub("", simple)
        if "(" in simple:
            return True  # pseudo-class nesting deeper than we strip: keep
        for token in _SELECTOR_TOKEN.findall(simple):
            name = token.lstrip(".#")
            if token[0] in ".#":
                if token not in self.tokens and name not in self.words:
                    return False
            elif token.lower() not in self.tokens and token.lower() not in _ALWAYS_THERE:
                return False
        return True


def page_usage(html: str) -> tuple[frozenset[str], frozenset[str]]:
    """A page's tokens and the custom properties its inline styles read."""
    return frozenset(markup_tokens(html)), frozenset(_VAR_USE.findall(html))


def script_usage(js: str) -> tuple[frozenset[str], frozenset[str]]:
    """A script's words and the custom properties among them."""
    words = script_words(js)
    return frozenset(words), frozenset(w for w in words if w.startswith("--"))


def combine_usage(
    pages: Iterable[tuple[frozenset[str], frozenset[str]]],
    scripts: Iterable[tuple[frozenset[str], frozenset[str]]],
) -> SiteUsage:
    tokens: set[str] = set()
    words: set[str] = set()
    variables: set[str] = set()
    for found, read in pages:
        tokens |= found
        variables |= read
    for found, read in scripts:
        words |= found
        variables |= read
    return SiteUsage(frozenset(tokens), frozenset(words), frozenset(variables))


def site_usage(pages: Iterable[str], scripts: Iterable[str]) -> SiteUsage:
    return combine_usage(map(page_usage, pages), map(script_usage, scripts))


# -- The purge ---------------------------------------------------------------------------
@dataclass
class Rule:
    """A style rule: its kept selectors and its declarations, or its body as written."""

    selectors: str
    declarations: list[tuple[str, str]] | None
    body: str = ""

    def css(self) -> str:
        if self.declarations is None:
            return f"{self.selectors}{{{self.body}}}"
        if not self.declarations:
            return ""
        return f"{self.selectors}{{{';'.join(f'{n}:{v}' for n, v in self.declarations)}}}"


@dataclass
class Block:
    """``@media``/``@supports`` and the rules inside."""

    prelude: str
    items: list[Any]

    def css(self) -> str:
        inner = "".join(item.css() for item in self.items)
        return f"{self.prelude}{{{inner}}}" if inner else ""


@dataclass
class Raw:
    """Any other at-rule (``@font-face``, ``@keyframes``, ``@page``), kept as written."""

    text: str

    def css(self) -> str:
        return self.text


def _declarations(content: list[Any]) -> list[tuple[str, str]] | None:
    """A rule's declarations, whitespace trimmed; None if it holds more than declarations."""
    import tinycss2

    parts = []
    for item in tinycss2.parse_blocks_contents(content, skip_whitespace=True, skip_comments=True):
        if item.type != "declaration":
            return None
        value = tinycss2.serialize(item.value).strip()
        parts.append((item.name, value + ("!important" if item.important else "")))
    return parts


def _purge_rules(rules: list[Any], usage: SiteUsage) -> list[Any]:
    import tinycss2

    out: list[Any] = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            kept = [s for s in selectors if usage.can_match(s)]
            if kept:
                declarations = _declarations(rule.content)
                body = tinycss2.serialize(rule.content) if declarations is None else ""
                out.append(Rule(",".join(kept), declarations, body))
        elif rule.type == "at-rule" and rule.lower_at_keyword in {"media", "supports"}:
            inner = tinycss2.parse_blocks_contents(
                rule.content or [], skip_whitespace=True, skip_comments=True
            )
            prelude = tinycss2.serialize(rule.prelude).strip()
            out.append(Block(f"@{rule.at_keyword} {prelude}", _purge_rules(inner, usage)))
        elif rule.type == "at-rule":
            out.append(Raw(rule.serialize()))
        elif rule.type == "error":
            raise ValueError(f"CSS parse error: {rule.message}")
    return out


def _walk_rules(items: list[Any]) -> Iterable[Rule]:
    for item in items:
        if isinstance(item, Rule):
            yield item
        elif isinstance(item, Block):
            yield from _walk_rules(item.items)


def _reads(items: list[Any]) -> set[str]:
    read: set[str] = set()
    for item in items:
        if isinstance(item, Block):
            read |= _reads(item.items)
        elif isinstance(item, Raw):
            read.update(_VAR_USE.findall(item.text))
        elif item.declarations is None:
            read.update(_VAR_USE.findall(item.body))
        else:
            for _, value in item.declarations:
                read.update(_VAR_USE.findall(value))
    return read


def drop_unread_custom_properties(sheets: dict[str, list[Any]], read_elsewhere: set[str]) -> None:
    """Remove ``--name: value`` declarations that no ``var(--name)`` anywhere reads.

    Repeated until nothing changes: a dropped declaration may have been the last reader of
    another property.
    """
    while True:
        read = set(read_elsewhere)
        for items in sheets.values():
            read |= _reads(items)
        changed = False
        for items in sheets.values():
            for rule in _walk_rules(items):
                if rule.declarations is None:
                    continue
                kept = [(n, v) for n, v in rule.declarations if not n.startswith("--") or n in read]
                if len(kept) != len(rule.declarations):
                    rule.declarations, changed = kept, True
        if not changed:
            return


def purge_stylesheets(sheets: dict[str, str], usage: SiteUsage) -> dict[str, str]:
    """Every stylesheet of the site without rules or custom properties it cannot use."""
    import tinycss2

    parsed = {}
    for name, css in sheets.items():
        rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
        try:
            parsed[name] = _purge_rules(rules, usage)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    drop_unread_custom_properties(parsed, set(usage.variables))
    return {name: "".join(item.css() for item in items) for name, items in parsed.items()}


# -- Sphinx ------------------------------------------------------------------------------
def sphinx_checksum(data: bytes) -> str:
    """The ``?v=`` value Sphinx gives a local asset (``_file_checksum``)."""
    return format(zlib.crc32(data.translate(None, b"\r")), "08x")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def code_version() -> str:
    """This module's own digest: cached scans and results from other code are stale."""
    return _sha(Path(__file__).read_bytes())[:16]


class PurgeCache:
    """Pristine copies of the stylesheets, and purge results keyed by their inputs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.originals = root / "originals"
        self.results = root / "results"
        self.state_file = root / "state.json"
        try:
            self.state: dict[str, str] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            self.state = {}
        self.scans_file = root / "scans.pickle"
        self.scans: dict[str, tuple[Any, Any]] = {}
        try:
            with self.scans_file.open("rb") as f:
                version, scans = pickle.load(f)
            if version == code_version():  # scans by an older scanner do not count
                self.scans = scans
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            pass
        self.scans_used: set[str] = set()

    def scanned(self, path: Path, scan: Callable[[str], Any]) -> Any:
        """``scan(text of path)``, remembered while the file keeps its size and mtime.

        Scanning every page and script for class names took most of the 25 ms this
        extension added to a no-op rebuild; a no-op rewrites only the search page.
        """
        key = str(path)
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        self.scans_used.add(key)
        hit = self.scans.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = scan(path.read_text(encoding="utf-8", errors="replace"))
        self.scans[key] = (stamp, value)
        return value

    def original(self, name: str, current: bytes) -> bytes:
        """The stylesheet as Sphinx copied it: ``current`` unless it is our own output."""
        kept = self.originals / name
        if self.state.get(name) == _sha(current) and kept.exists():
            return kept.read_bytes()
        if not (kept.exists() and kept.read_bytes() == current):
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(current)
        return current

    def restore(self, outdir: Path) -> None:
        """Put the originals back where the last build purged them.

        Some extensions copy their stylesheet only if the file is absent or identical
        (MyST-NB: "Aborted attempted copy ... has existing data", an error under -W).
        """
        for name, written in self.state.items():
            path, kept = outdir / name, self.originals / name
            if path.exists() and kept.exists() and _sha(path.read_bytes()) == written:
                path.write_bytes(kept.read_bytes())

    def restamp(self, path: Path) -> None:
        key = str(path)
        if key in self.scans:
            stat = path.stat()
            self.scans[key] = ((stat.st_mtime_ns, stat.st_size), self.scans[key][1])

    def save_state(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=1, sort_keys=True))
        scans = {k: v for k, v in self.scans.items() if k in self.scans_used}
        with self.scans_file.open("wb") as f:
            pickle.dump((code_version(), scans), f, protocol=pickle.HIGHEST_PROTOCOL)


def purge_built_site(outdir: Path, cache_dir: Path) -> dict[str, int]:
    """Purge ``outdir/_static/**/*.css`` against the site; returns bytes saved per file."""
    static = outdir / "_static"
    css_paths = sorted(static.rglob("*.css"))
    if not css_paths:
        return {}
    cache = PurgeCache(cache_dir)
    originals = {}
    for path in css_paths:
        name = path.relative_to(outdir).as_posix()
        originals[name] = cache.original(name, path.read_bytes())

    html_paths = sorted(outdir.rglob("*.html"))
    usage = combine_usage(
        [cache.scanned(path, page_usage) for path in html_paths],
        [cache.scanned(path, script_usage) for path in sorted(static.rglob("*.js"))],
    )

    # The result depends on the originals and on the part of the site's usage that the
    # stylesheets mention: a new heading id changes nothing, so it reuses the result.
    mentioned: set[str] = set()
    for path in css_paths:
        mentioned |= cache.scanned(cache.originals / path.relative_to(outdir), _css_words)
    relevant = sorted(
        t
        for t in usage.tokens | usage.words | usage.variables
        if t.lstrip(".#") in mentioned or t in mentioned
    )
    inputs = [code_version(), sorted((n, _sha(d)) for n, d in originals.items()), relevant]
    key = _sha(json.dumps(inputs).encode())
    result_file = cache.results / f"{key}.json"
    if result_file.exists():
        purged = json.loads(result_file.read_text(encoding="utf-8"))
    else:
        sheets = {n: d.decode("utf-8") for n, d in originals.items()}
        purged = purge_stylesheets(sheets, usage)
        cache.results.mkdir(parents=True, exist_ok=True)
        for old in cache.results.glob("*.json"):  # one result is enough to keep
            old.unlink()
        result_file.write_text(json.dumps(purged), encoding="utf-8")

    saved, checksums = {}, {}
    for path in css_paths:
        name = path.relative_to(outdir).as_posix()
        data = purged[name].encode("utf-8")
        if path.read_bytes() != data:
            path.write_bytes(data)
        cache.state[name] = _sha(data)
        checksums[name] = sphinx_checksum(data)
        saved[name] = len(originals[name]) - len(data)
    for page in _update_checksums(html_paths, checksums):
        cache.restamp(page)  # only a ?v= changed: its scan still holds
    cache.save_state()
    return saved


def _css_words(css: str) -> frozenset[str]:
    return frozenset(_WORD.findall(css))


def _update_checksums(html_paths: list[Path], checksums: dict[str, str]) -> list[Path]:
    """Point each page's ``?v=`` at the purged file, so browsers never keep a stale copy.
    Returns the pages rewritten."""
    rewritten = []
    by_file = {name.removeprefix("_static/"): value for name, value in checksums.items()}
    link = re.compile(r"(_static/(" + "|".join(map(re.escape, by_file)) + r"))\?v=[0-9a-f]{8}")
    for path in html_paths:
        html = path.read_text(encoding="utf-8")
        updated = link.sub(lambda m: f"{m.group(1)}?v={by_file[m.group(2)]}", html)
        if updated != html:
            path.write_text(updated, encoding="utf-8")
            rewritten.append(path)
    return rewritten


def restore_before_build(app: Any) -> None:
    if app.builder.name in WEB_BUILDERS:
        PurgeCache(Path(app.doctreedir) / CACHE_DIR).restore(Path(app.outdir))


def purge_after_build(app: Any, exception: BaseException | None) -> None:
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    purge_built_site(Path(app.outdir), Path(app.doctreedir) / CACHE_DIR)


def setup(app: Any) -> dict[str, Any]:
    # Late: MyST-NB writes its stylesheet when the build finishes, and it must be purged too.
    app.connect("builder-inited", restore_before_build)
    app.connect("build-finished", purge_after_build, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
