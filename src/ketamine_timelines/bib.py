"""Read references.bib so figures and tables cite the paper, never the mirror."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pybtex.database import parse_file

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


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Reference]:
    db = parse_file(path, bib_format="bibtex")
    refs: dict[str, Reference] = {}
    for key, entry in db.entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
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
