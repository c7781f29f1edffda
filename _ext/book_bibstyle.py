"""The book's pybtex style: unsrt's entries, in author order, linked to doi.org and PubMed.

- **Author order.** The text cites author and year ("Taylor et al., 2006"), so the list is
  sorted the way a reader looks an entry up: by the first author's surname, then the year
  (then the other authors and the title), and each entry starts with that surname
  ("Taylor, S. D., ..."). unsrt numbered entries by first citation, which in the PDF gave
  Domino, Berman, Dean, Kishimoto... The HTML, PDF and EPUB share the order.
- **Links.** The book's bibliography stores ``pmid`` (the field name PubMed uses);
  pybtex's unsrt style only knows ``pubmed`` and links to a legacy NCBI address, so both
  are mapped here.
"""

from __future__ import annotations

from typing import Any

from pybtex.bibtex.utils import bibtex_purify
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import field, href, join, optional, sentence

STYLE_NAME = "book"
SORTING_NAME = "book_author_year"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"


class AuthorYearSorting(AuthorYearTitleSorting):
    """First author's surname, year, then all authors and the title.

    pybtex's author_year_title compares the whole author list before the year, and keeps
    TeX's braces and accents in the key, so corporate authors ("{U.S. Food and Drug
    Administration}") sorted after every letter; here they sort as they read.
    """

    def sorting_key(self, entry):
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        persons = [p for p in persons if not _is_others(p)]
        first = " ".join(persons[0].prelast_names + persons[0].last_names) if persons else ""
        return (
            _plain(first),
            entry.fields.get("year", ""),
            _plain(self.persons_key(persons)),
            _plain(entry.fields.get("title", "")),
        )


def _plain(text: str) -> str:
    """A sort key without TeX markup: braces and accent commands removed, case folded."""
    return " ".join(bibtex_purify(text).split()).casefold()


class BookStyle(UnsrtStyle):
    """unsrt in author order, surname first, with DOI and PubMed links and no bare URL."""

    default_sorting_style = SORTING_NAME
    default_name_style = "lastfirst"

    def format_web_refs(self, e):
        return sentence[
            optional[self.format_doi(e)],
            optional[self.format_pmid(e)],
        ]

    def format_pmid(self, e):
        pmid = field("pmid", raw=True)
        return href[join[PUBMED_URL, pmid, "/"]][join["PMID: ", pmid]]


def register_style() -> None:
    """Make ``bibtex_default_style = "book"`` available to sphinxcontrib-bibtex."""
    from book_bibcache import scan_entry_points_once

    scan_entry_points_once()  # before pybtex's register_plugin scans the packages again
    register_plugin("pybtex.style.sorting", SORTING_NAME, AuthorYearSorting, force=True)
    register_plugin("pybtex.style.formatting", STYLE_NAME, BookStyle, force=True)
    patch_incomplete_author_lists()


def _is_others(person) -> bool:
    return str(person).strip().casefold() == "others"


def _names_with_et_al(original):
    """Wrap a pybtex ``names`` node so that a BibTeX "and others" reads "et al."

    BibTeX's convention for an incomplete author list is a final "and others"; pybtex and
    sphinxcontrib-bibtex print it literally ("Taylor and others"). Where a source gave
    only the first authors, the book says "et al." as a reader expects.
    """

    def names(children, data, role, **kwargs):
        entry = data["entry"]
        persons = entry.persons.get(role, [])
        if not persons or not _is_others(persons[-1]):
            first = _first_of_many(persons, data, kwargs.get("other"))
            return first if first is not None else original(children, data, role, **kwargs)
        from pybtex.richtext import Text

        real = [p for p in persons if not _is_others(p)]
        style = data.get("style")
        if hasattr(style, "person"):  # sphinxcontrib-bibtex referencing style
            first = style.person.style_plugin.format(real[0], style.person.abbreviate)
            # The style's own "et al." (italic), as for a full list of three or more.
            return Text(
                first.format_data(data) if hasattr(first, "format_data") else first,
                getattr(style.person, "other", None) or " et al.",
            )
        formatted = [style.format_name(p, style.abbreviate_names) for p in real]
        joined = Text(", ").join([f.format_data(data) for f in formatted])
        return Text(joined, ", et al.")

    return names


def _first_of_many(persons, data, other):
    """The in-text names of an entry with three or more authors ("Taylor et al."),
    formatting only the authors that decide it.

    sphinxcontrib-bibtex's ``names`` node formats every author of the entry and then its
    ``join`` keeps the first when more than two are not empty: for this book's entries
    (up to 30 authors) that was most of the 0.3 s it took to resolve chapter 3's 80
    citations. Formatting the first three gives the same text: when all three are not
    empty, ``join`` returns ``Text(first, other)`` whatever follows. Any other case (two
    authors, an empty name, the bibliography's own list) goes to the original node.
    """
    style = data.get("style")
    if other is None or len(persons) < 3 or not hasattr(style, "person"):
        return None
    from pybtex.richtext import Text
    from pybtex.style.template import _format_data

    person_style = style.person
    parts = [
        _format_data(person_style.style_plugin.format(p, person_style.abbreviate), data)
        for p in persons[:3]
    ]
    return Text(parts[0], other) if all(parts) else None


def patch_incomplete_author_lists() -> None:
    import pybtex.style.template as pybtex_template
    import sphinxcontrib.bibtex.style.template as bibtex_template

    for module in (pybtex_template, bibtex_template):
        node = module.names
        if not getattr(node.f, "_book_et_al", False):
            node.f = _names_with_et_al(node.f)
            node.f._book_et_al = True


def setup(app: Any) -> dict[str, Any]:
    register_style()
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
