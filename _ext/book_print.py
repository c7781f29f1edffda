"""The print (PDF) and e-reader (EPUB) editions: tables that fit, one bibliography, alt text.

- **Tables** (LaTeX): every table gets column widths measured from its content (the
  ``tabularcolumns`` an author would write by hand), ragged-right cells that may hyphenate,
  and the ``longtable`` class, so a long table breaks across pages instead of running off
  the bottom. Link texts without spaces (DOIs) may break after any character. A table with
  an explicit ``tabularcolumns`` directive keeps the author's choice.
- **One bibliography** (LaTeX): Sphinx gathers every citation into a list at the end of the
  document, after the back matter, so the bibliography chapter was one sentence and the
  real list came later. The list is moved into the bibliography chapter instead
  (``book_bibliography_doc``); conf.py's preamble keeps it from opening a second chapter.
- **Numbered notebook figures** (LaTeX): a notebook's figure and the caption printed under
  it become one figure, numbered by appendix ("Fig. A.1") like the chapters' figures.
- **Alt text** (EPUB): MyST-NB gives a notebook's image output no alt text, so readers
  heard the hashed file name; the output's text/plain alternative is the figure's
  description (``ThemedFigure.alt``), and becomes the image's alt text.
- **A reproducible EPUB**: Sphinx zips the EPUB with each file's modification time, so a
  rebuild of one commit gave another file (and files older than 1980 crash it,
  sphinx-doc/sphinx#14168). Every entry is re-dated to ``SOURCE_DATE_EPOCH``.
- **Developer instructions** (``nox -s ...``) are for the web edition and the repository:
  list items and paragraphs that give one are left out of the PDF and the EPUB.
"""

from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.texescape import escape as tex_escape

PRINT_BUILDERS = {"latex", "epub"}
#: Characters per line of a table set in \small across the text width (A4, 11 pt).
TABLE_LINE_CHARS = 78
#: A word longer than this may be hyphenated; it need not fit the column unbroken.
LONGEST_UNBROKEN = 12


def _words(text: str) -> list[str]:
    """The pieces a line may not break inside (a hyphen stays with the piece before it)."""
    return re.findall(r"[^\s/\u2013\u2014-]+[/\u2013\u2014-]?", text)


def _is_breakable_link(node: nodes.Node) -> bool:
    return isinstance(node, nodes.reference) and " " not in node.astext().strip()


def _cell_measure(entry: nodes.Element) -> tuple[int, int]:
    """(longest word that must stay whole, length of the text) of one table cell."""
    links = {id(n) for n in entry.findall(nodes.reference) if _is_breakable_link(n)}
    longest = 0
    for text in entry.findall(nodes.Text):
        parent = text.parent
        if parent is not None and id(parent) in links:
            continue
        for word in _words(str(text)):
            # Capitals (MADRS, HDRS) do not hyphenate and are wider; other words may.
            limit = round(len(word) * 1.5) if word.isupper() else min(len(word), LONGEST_UNBROKEN)
            longest = max(longest, limit)
    return longest, len(" ".join(entry.astext().split()))


def column_widths(table: nodes.table) -> list[int] | None:
    """Relative column widths, in characters, measured as a browser's auto layout does.

    Each column gets at least its longest unbreakable word; the rest of the line is shared
    in proportion to how much more each column would need to set its longest cell on one
    line.
    """
    tgroup = next(iter(table.findall(nodes.tgroup)), None)
    if tgroup is None:
        return None
    ncols = int(tgroup["cols"])
    least = [1] * ncols
    most = [1] * ncols
    for row in tgroup.findall(nodes.row):
        col = 0
        for entry in row.children:
            span = int(entry.get("morecols", 0)) + 1
            if col >= ncols:
                break
            if span == 1:
                word, length = _cell_measure(entry)
                # Header words are set in bold: a little wider.
                if isinstance(row.parent, nodes.thead):
                    word = round(word * 1.15)
                least[col] = max(least[col], word + 1)
                most[col] = max(most[col], length + 1)
            col += span
    line = TABLE_LINE_CHARS - 2 * ncols
    if sum(most) <= line:
        return most
    if sum(least) >= line:
        return least
    spare = line - sum(least)
    extra = [m - lo for m, lo in zip(most, least, strict=True)]
    total_extra = sum(extra) or 1
    return [lo + round(spare * e / total_extra) for lo, e in zip(least, extra, strict=True)]


def _breakable_latex(text: str) -> str:
    """LaTeX for a link text without spaces (a DOI) that may break after any character."""
    return r"\allowbreak{}".join(tex_escape(ch) for ch in text)


class FitTablesToPage(SphinxPostTransform):
    """Column widths, ragged cells, longtable and breakable links for every LaTeX table."""

    default_priority = 400
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for table in list(self.document.findall(nodes.table)):
            if any(isinstance(a, nodes.table) for a in _ancestors(table)):
                continue  # nested tables follow their parent
            for ref in table.findall(nodes.reference):
                if _is_breakable_link(ref) and len(ref.astext()) > 12:
                    text = ref.astext()
                    ref.children = []
                    ref += nodes.raw(text, _breakable_latex(text), format="latex")
            if "longtable" not in table["classes"]:
                table["classes"].append("longtable")
            parent = table.parent
            index = parent.index(table)
            if index and isinstance(parent[index - 1], addnodes.tabular_col_spec):
                continue  # the author chose the columns
            widths = column_widths(table)
            if widths is None:
                continue
            total = sum(widths)
            cell = r">{\RaggedRight\arraybackslash}\X"
            spec = "".join(f"{cell}{{{w}}}{{{total}}}" for w in widths)
            parent.insert(index, addnodes.tabular_col_spec(spec=spec))


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


class OneBibliography(SphinxPostTransform):
    """Move Sphinx's gathered citations into the bibliography chapter (see module doc)."""

    default_priority = 760  # after Sphinx's BibliographyTransform (750) gathered them
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        from sphinx.builders.latex.nodes import thebibliography

        docname = self.config.book_bibliography_doc
        lists = [n for n in self.document.children if isinstance(n, thebibliography)]
        chapter = next(
            (n for n in self.document.findall(addnodes.start_of_file) if n["docname"] == docname),
            None,
        )
        if not lists or chapter is None:
            return
        section = next(iter(chapter.findall(nodes.section)), chapter)
        for found in lists:
            self.document.remove(found)
            section += found


class NumberNotebookFigures(SphinxPostTransform):
    """Make a notebook's figure and the caption printed under it one numbered LaTeX figure.

    ``figure(...).show()`` in a notebook gives two outputs: the image and a paragraph in a
    ``kt-caption`` container ("**Figure.** caption. Sources: citations.",
    ``ketamine_timelines.display``). In the PDF that paragraph read "Figure." with no
    number; as a figure with a caption, LaTeX numbers it by appendix ("Fig. A.1") as it
    numbers the chapters' figures, and the sources become its legend as they are there.
    Runs once MyST-NB has chosen each output's format (its SelectMimeType, priority 4).
    """

    default_priority = 6
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for box in list(self.document.findall(nodes.container)):
            if "kt-caption" not in box["classes"] or box.parent is None:
                continue
            image = box.previous_sibling()
            if not isinstance(image, nodes.image):
                continue
            paragraph = next(iter(box.findall(nodes.paragraph)), None)
            if paragraph is None:
                continue
            caption, legend = _caption_and_sources(paragraph)
            figure = nodes.figure("", classes=["kt-notebook-figure"])
            image.replace_self(figure)
            figure += image
            figure += nodes.caption("", "", *caption)
            if legend:
                figure += nodes.legend("", nodes.paragraph("", "", *legend))
            box.parent.remove(box)


def _caption_and_sources(paragraph: nodes.paragraph) -> tuple[list[nodes.Node], list[nodes.Node]]:
    """The caption's nodes without the leading "Figure.", and the "Sources: ..." after it."""
    children = list(paragraph.children)
    while children and (
        (isinstance(children[0], nodes.strong) and children[0].astext().strip() == "Figure.")
        or (isinstance(children[0], nodes.Text) and not children[0].strip())
    ):
        children.pop(0)
    caption: list[nodes.Node] = []
    for index, child in enumerate(children):
        if isinstance(child, nodes.Text) and "Sources:" in child:
            before, after = str(child).split("Sources:", 1)
            caption.append(nodes.Text(before.lstrip()))
            return caption, [nodes.Text("Sources:" + after), *children[index + 1 :]]
        caption.append(child)
    if caption and isinstance(caption[0], nodes.Text):
        caption[0] = nodes.Text(caption[0].lstrip())
    return caption, []


def alt_text_from_text_plain(app: Sphinx, doctree: nodes.document) -> None:
    """Give notebook images the description in their output's text/plain alternative."""
    for bundle in list(doctree.findall(nodes.container)):
        kinds = [c for c in bundle.children if isinstance(c, nodes.container) and "mime_type" in c]
        if not kinds:
            continue
        plain = next((c for c in kinds if c["mime_type"] == "text/plain"), None)
        if plain is None:
            continue
        alt = " ".join(plain.astext().split()).strip("'\"")
        if not alt or alt.startswith("<"):
            continue  # a repr such as "<Figure size ...>" describes nothing
        for kind in kinds:
            for image in kind.findall(nodes.image):
                if not image.get("alt"):
                    image["alt"] = alt


class DropDeveloperInstructions(SphinxPostTransform):
    """Leave ``nox -s ...`` instructions out of the print and e-reader editions."""

    default_priority = 410
    builders = tuple(PRINT_BUILDERS)

    def run(self, **kwargs: Any) -> None:
        for literal in list(self.document.findall(nodes.literal)):
            if not literal.astext().startswith("nox -s"):
                continue
            kinds = (nodes.list_item, nodes.paragraph)
            block = next((a for a in _ancestors(literal) if isinstance(a, kinds)), None)
            if block is not None and block.parent is not None:
                block.parent.remove(block)


def date_epub_entries(app: Sphinx, exception: Exception | None) -> None:
    """Re-date every entry of the EPUB to SOURCE_DATE_EPOCH (see the module docstring)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if exception is not None or app.builder.name != "epub" or not epoch.isdigit():
        return
    book = Path(app.outdir) / f"{app.config.epub_basename}.epub"
    if not book.exists():
        return
    stamp = time.gmtime(max(int(epoch), 315_532_800))[:6]  # ZIP dates start in 1980
    with zipfile.ZipFile(book) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    partial = book.with_name(book.name + ".part")
    with zipfile.ZipFile(partial, "w") as target:
        # The order is kept: "mimetype" first and stored, as EPUB requires.
        for info, data in entries:
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    partial.replace(book)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_bibliography_doc", "docs/bibliography", "env", types=[str])
    app.add_config_value("book_notice", "", "env", types=[str])
    app.add_config_value("book_notice_full", "", "env", types=[str])
    app.add_post_transform(FitTablesToPage)
    app.add_post_transform(OneBibliography)
    app.add_post_transform(NumberNotebookFigures)
    app.add_post_transform(DropDeveloperInstructions)
    app.connect("doctree-read", alt_text_from_text_plain)
    app.connect("build-finished", date_epub_entries)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
