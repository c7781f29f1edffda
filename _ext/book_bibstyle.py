"""The book's pybtex style: unsrt, with every entry linked to doi.org and PubMed.

The book's bibliography stores ``pmid`` (the field name PubMed uses); pybtex's unsrt style
only knows ``pubmed`` and links to a legacy NCBI address, so both are mapped here.
"""

from __future__ import annotations

from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, href, join, optional, sentence

STYLE_NAME = "book"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"


class BookStyle(UnsrtStyle):
    """unsrt with DOI and PubMed links, and no bare URL field."""

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
            return original(children, data, role, **kwargs)
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
