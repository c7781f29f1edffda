"""The book's pybtex style: unsrt, with every entry linked to doi.org and PubMed.

The book's bibliography stores ``pmid`` (the field name PubMed uses); pybtex's unsrt style
only knows ``pubmed`` and links to a legacy NCBI address, so both are mapped here.
"""

from __future__ import annotations

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
