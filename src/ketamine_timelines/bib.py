"""Read references.bib so figures and tables cite the paper, never the mirror.

The library reads the bibliography with a small BibTeX reader of its own rather than
pybtex: a notebook downloaded from the book installs the library with ``--no-deps`` from
the book's site, and must need nothing beyond Matplotlib and NumPy. The reader covers
the subset references.bib uses (braced or quoted values, numbers, "Last, First" and
"First Last" names, ``and others``); tests/test_notebook_download.py checks that it
agrees with pybtex on every entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .paths import default_bib_path


@dataclass(frozen=True)
class Reference:
    key: str
    authors: tuple[str, ...]  # last names, braces stripped
    year: str
    title: str
    doi: str | None
    pmid: str | None
    web: str | None = None  # `url` field: regulatory documents have no DOI or PMID

    @property
    def short(self) -> str:
        """Author-year label as readers see it in the text: 'Daly et al. 2018'."""
        if not self.authors:
            return f"{self.key} {self.year}".strip()
        if len(self.authors) >= 2 and self.authors[1] == "et al.":
            who = f"{self.authors[0]} et al."
        elif len(self.authors) == 1:
            who = self.authors[0]
        elif len(self.authors) == 2:
            who = f"{self.authors[0]} and {self.authors[1]}"
        else:
            who = f"{self.authors[0]} et al."
        return f"{who} {self.year}".strip()

    @property
    def url(self) -> str | None:
        # The DOI resolves to the publisher's record, which is what the book cites.
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return self.web


def _plain(text: str) -> str:
    return re.sub(r"[{}]", "", text).replace("\\&", "&").strip()


def _doi(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", raw, flags=re.I) or None


class BibError(ValueError):
    """A BibTeX syntax error or a malformed DOI or PMID, naming the file and line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")


#: A DOI as the ``doi`` field holds it: the bare name, "10.<registrant>/<suffix>", which
#: the bibliography style turns into a https://doi.org/ link (so a link there is doubled).
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_LINK = re.compile(r"^\s*(https?://(dx\.)?doi\.org/|doi:)", re.I)


def _field_problem(name: str, fields: dict[str, str]) -> str | None:
    """What is wrong with a DOI or PubMed id, in words, or None."""
    value = _plain(fields[name])
    if name == "doi":
        if _DOI_LINK.match(value):
            return f"write the DOI without https://doi.org/ (the link is added): {value!r}"
        if re.search(r"\s", value):
            return f"a DOI never contains a space: {value!r}"
        if not _DOI.fullmatch(value):
            return f"a DOI begins with 10. and a slash follows its prefix: {value!r}"
    pubmed = name == "eprint" and fields.get("eprinttype", "").strip().lower() == "pubmed"
    if (name == "pmid" or pubmed) and not re.fullmatch(r"\d{1,9}", value):
        return f"not a PubMed id (digits only): {value!r}"
    return None


@dataclass(frozen=True)
class Entry:
    fields: dict[str, str]
    persons: dict[str, list[str]]  # role -> each person's "von Last" part, as written


def _split_top(text: str, sep: re.Pattern[str]) -> list[str]:
    """Split text at matches of sep outside braces."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            m = sep.match(text, i)
            if m:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


_AND = re.compile(r"\s+and\s+", re.I)
_COMMA = re.compile(r",")
_SPACE = re.compile(r"\s+")


def _last_names(name: str) -> str:
    """The "von Last" part of one BibTeX name (what pybtex's prelast + last names give)."""
    name = " ".join(name.split())
    parts = _split_top(name, _COMMA)
    if len(parts) > 1:  # "von Last, First" or "von Last, Jr, First"
        return parts[0].strip()
    words = [w for w in _split_top(name, _SPACE) if w]
    if len(words) <= 1:
        return name
    # "First von Last": the last word, preceded by any lower-case "von" words.
    start = len(words) - 1
    while start > 1 and words[start - 1][:1].islower():
        start -= 1
    return " ".join(words[start:])


def parse_bibtex(text: str, path: str = "references.bib") -> dict[str, Entry]:
    """Entries of a BibTeX file by key; a syntax error names the file and line."""
    entries: dict[str, Entry] = {}
    pos = 0

    def fail(at: int, message: str) -> BibError:
        return BibError(path, text.count(chr(10), 0, at) + 1, message)

    def value(at: int) -> tuple[str, int]:
        if text[at] in '{"':
            close, depth, i = ("}" if text[at] == "{" else '"'), 0, at + 1
            while i < len(text):
                ch = text[i]
                if ch == close and depth == 0:
                    return text[at + 1 : i], i + 1
                depth += {"{": 1, "}": -1}.get(ch, 0)
                i += 1
            raise fail(at, "unterminated field value")
        m = re.compile(r"[\w.-]+").match(text, at)
        if m is None:
            raise fail(at, "expected a field value")
        return m.group(0), m.end()

    head = re.compile(r"@\s*(\w+)\s*\{\s*([^,\s]+)\s*,")
    field = re.compile(r"\s*,?\s*(?:([A-Za-z][\w-]*)\s*=\s*|(\}))")
    while (m := head.search(text, pos)) is not None:
        kind, key, pos = m.group(1).lower(), m.group(2), m.end()
        if kind in {"comment", "preamble", "string"}:
            raise fail(m.start(), f"@{kind} is not supported by this reader")
        fields: dict[str, str] = {}
        starts: dict[str, int] = {}
        while True:
            f = field.match(text, pos)
            if f is None:
                at = re.compile(r"[\s,]*").match(text, pos).end()  # the offending text
                raise fail(at, f"entry {key!r}: expected a field or a closing brace")
            pos = f.end()
            if f.group(2):
                break
            starts[f.group(1).lower()] = f.start(1)
            fields[f.group(1).lower()], pos = value(pos)
        if key in entries:
            raise fail(m.start(), f"duplicate entry {key!r}")
        for name in ("doi", "pmid", "eprint"):
            problem = _field_problem(name, fields) if name in fields else None
            if problem:
                raise fail(starts[name], f"entry {key!r}: field {name!r}: {problem}")
        persons = {
            role: [_last_names(n) for n in _split_top(fields[role].strip(), _AND)]
            for role in ("author", "editor")
            if role in fields
        }
        entries[key] = Entry(fields, persons)
    return entries


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Reference]:
    entries = parse_bibtex(Path(path).read_text(encoding="utf-8"), path)
    refs: dict[str, Reference] = {}
    for key, entry in entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain(p) for p in people]
        # BibTeX's "and others" truncates the list; keep a marker so short() says et al.
        truncated = bool(names) and names[-1].lower() == "others"
        authors = tuple(n for n in names if n.lower() != "others")
        if truncated and len(authors) < 3:
            authors = (*authors, "et al.", "")
        f = entry.fields
        pmid = f.get("pmid")
        if not pmid and f.get("eprinttype", "").lower() == "pubmed":
            pmid = f.get("eprint")
        refs[key] = Reference(
            key=key,
            authors=authors,
            year=_plain(f.get("year", "")),
            title=_plain(f.get("title", "")),
            doi=_doi(f.get("doi")),
            pmid=_plain(pmid) if pmid else None,
            web=f.get("url") or None,
        )
    return refs


def load_bib(path: str | Path | None = None) -> dict[str, Reference]:
    """All entries of references.bib keyed by citation key."""
    p = Path(path) if path is not None else default_bib_path()
    return _load(str(p.resolve()), p.stat().st_mtime)
