"""The reader's edition of each notebook's .ipynb download: a notebook for any Jupyter.

The book's notebooks are MyST Markdown, executed by the build; their Markdown cells and
the Markdown their code prints use MyST that only the book renders (glossary terms,
citations, admonitions, captions in containers, numbered tables), and their figures are
inline SVG in HTML, which JupyterLab strips from an untrusted (downloaded) notebook. The
``.ipynb`` a reader downloads is generated from them at build time:

* Markdown, in cells and in outputs, becomes CommonMark: parsed by myst-parser's own
  markdown-it parser and written back by mdformat, each MyST role and directive replaced
  by its plain form: a glossary term by a link to the term on the book's site (resolved
  by Sphinx's standard domain, as the book's own link is), a citation by "Author (Year)"
  linked to the paper (``ketamine_timelines.outputs``, as the notebook prints it when a
  reader runs it), an admonition by a block quote, a table directive by a caption line
  and a GFM table (which JupyterLab's sanitiser keeps), a container by its content. A
  role or directive without a plain form is an error naming the notebook and line.
* An output with a PNG keeps the PNG alone (the book's inline SVG goes), so each figure
  shows once, trusted or not, in JupyterLab, VS Code, nbconvert and Colab; PDF outputs go.
* The install cell (tagged ``book-install``) is the code the page shows
  (``book_notebooks.install_code``), collapsed in JupyterLab.
* The notebook metadata keeps the kernel and language; jupytext's and MyST-NB's go.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.nodes import split_explicit_title

LOGGER = logging.getLogger(__name__)

#: Notebook metadata a reader's Jupyter uses; the rest belongs to the build.
KEEP_METADATA = ("kernelspec", "language_info")
#: Outputs a downloaded notebook does not carry: no notebook viewer shows them.
DROP_MIME = ("application/pdf",)
#: Outputs that duplicate a PNG beside them (the book's figure as inline SVG).
DROP_BESIDE_PNG = ("text/html", "image/svg+xml")


class EditionError(ValueError):
    """MyST that has no plain-Markdown form in the reader's edition; ``offset``: its line
    in the Markdown it was found in (0 for the first line)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def _offset(node: Any) -> int | None:
    """The line of a syntax-tree node in its Markdown (inline nodes take their block's)."""
    while node is not None:
        if node.map:
            return node.map[0]
        node = node.parent
    return None


def _located(render: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
    def located(node: Any, context: Any) -> str:
        try:
            return render(node, context)
        except EditionError as error:
            if error.offset is None:
                error.offset = _offset(node)
            raise

    return located


def _admonitions() -> dict[str, type]:
    from docutils.parsers.rst.directives import admonitions

    return {
        name.lower(): getattr(admonitions, name)
        for name in (
            "Attention",
            "Caution",
            "Danger",
            "Error",
            "Hint",
            "Important",
            "Note",
            "Tip",
            "Warning",
            "Admonition",
        )
    }


class PlainMarkdown:
    """MyST Markdown to CommonMark, for one notebook page of one build.

    ``term(title, target)`` gives a glossary term's URL, ``cite(keys, textual)`` the
    Markdown of a citation.
    """

    def __init__(
        self,
        extensions: set[str],
        term: Callable[[str, str], tuple[str, str] | None],
        cite: Callable[[list[str], bool], str],
    ) -> None:
        from markdown_it.renderer import RendererHTML
        from myst_parser.config.main import MdParserConfig
        from myst_parser.parsers.mdit import create_md_parser

        self.parser = create_md_parser(MdParserConfig(enable_extensions=extensions), RendererHTML)
        self.term, self.cite = term, cite

    # -- the public entry ----------------------------------------------------------------
    def convert(self, text: str) -> str:
        from mdformat.renderer import MDRenderer

        env: dict[str, Any] = {}
        tokens = self.parser.parse(text, env)
        options = {"parser_extension": [_Renderers(self)], "mdformat": {"wrap": "keep"}}
        return MDRenderer().render(tokens, options, env).rstrip("\n") + "\n"

    # -- roles and directives ------------------------------------------------------------
    def role(self, name: str, content: str) -> str:
        if name in {"term", "doc", "ref"}:  # a glossary term, a page, a section
            explicit, title, target = split_explicit_title(content)
            found = self.term(target, name)
            if found is None:
                raise EditionError(f"{{{name}}} target {target!r} not found")
            url, text = found
            return f"[{_escape(title if explicit or name == 'term' else text)}]({url})"
        if name in {"cite:t", "cite:p", "cite"}:
            keys = [key.strip() for key in content.split(",") if key.strip()]
            return self.cite(keys, name == "cite:t")
        raise EditionError(f"the role {{{name}}} has no plain-Markdown form")

    def directive(self, name: str, first_line: str, content: str) -> str:
        from docutils.parsers.rst.directives import body, tables
        from myst_parser.parsers.directives import parse_directive_text
        from sphinx_design.dropdown import DropdownDirective

        admonitions = _admonitions()
        kinds: Mapping[str, type] = {
            **admonitions,
            "container": body.Container,
            "table": tables.RSTTable,
            # A figure's "Data behind this figure" (figures.data_table_markdown): a
            # heading and its table, open, as the PDF and the EPUB print it.
            "dropdown": DropdownDirective,
        }
        if name not in kinds:
            raise EditionError(f"the directive {{{name}}} has no plain-Markdown form")
        parsed = parse_directive_text(kinds[name], first_line, content)
        inner = self.convert("\n".join(parsed.body)).rstrip("\n")
        argument = " ".join(parsed.arguments)
        if name in admonitions:
            title = self.convert(argument).strip() if argument else name.capitalize()
            lines = f"**{title}**\n\n{inner}".split("\n")
            return "\n".join(f"> {line}".rstrip() for line in lines)
        if name == "table" and argument:
            return f"**Table.** {self.convert(argument).strip()}\n\n{inner}"
        if name == "dropdown" and argument:
            return f"**{self.convert(argument).strip()}**\n\n{inner}"
        return inner


def _escape(text: str) -> str:
    for char in "\\`*_[]<>":
        text = text.replace(char, "\\" + char)
    return text


class _Renderers:
    """An mdformat plugin: how the MyST syntax and tables are written as plain Markdown."""

    POSTPROCESSORS: Mapping[str, Any] = {}

    def __init__(self, plain: PlainMarkdown) -> None:
        self.plain = plain
        self.RENDERERS = {
            "myst_role": _located(self._role),
            "fence": _located(self._fence),
            "colon_fence": _located(self._fence),
            "myst_target": self._nothing,
            "myst_line_comment": self._nothing,
            "myst_block_break": self._nothing,
            "table": self._table,
        }

    def _role(self, node: Any, context: Any) -> str:
        return self.plain.role(node.meta["name"], node.content)

    def _fence(self, node: Any, context: Any) -> str:
        info = node.info.strip()
        if info.startswith("{") and "}" in info:
            name, _, first_line = info[1:].partition("}")
            return self.plain.directive(name.strip(), first_line.strip(), node.content)
        from mdformat.renderer import DEFAULT_RENDERERS

        return DEFAULT_RENDERERS["fence"](node, context)

    @staticmethod
    def _nothing(node: Any, context: Any) -> str:
        return ""

    @staticmethod
    def _table(node: Any, context: Any) -> str:
        """A GFM table, one row a line (mdformat itself has no table renderer)."""
        rows, aligns = [], []
        for section in node.children:  # thead, tbody
            for row in section.children:
                cells = []
                for cell in row.children:
                    text = "".join(child.render(context) for child in cell.children)
                    cells.append(text.replace("|", "\\|").replace("\n", " ").strip())
                    if section.type == "thead":
                        style = str(cell.attrs.get("style", ""))
                        aligns.append(
                            ":---:"
                            if "center" in style
                            else "---:"
                            if "right" in style
                            else ":---"
                            if "left" in style
                            else "---"
                        )
                rows.append("| " + " | ".join(cells) + " |")
        return "\n".join([rows[0], "|" + "|".join(aligns) + "|", *rows[1:]])


# -- The notebook ---------------------------------------------------------------------------
def _plain_markdown(app: Sphinx, docname: str) -> PlainMarkdown:
    from ketamine_timelines.bib import load_bib
    from ketamine_timelines.outputs import markdown_citation

    env, builder = app.env, app.builder
    std = env.get_domain("std")
    page = urljoin(app.config.html_baseurl.rstrip("/") + "/", builder.get_target_uri(docname))
    refs = load_bib(Path(app.srcdir) / "references.bib")

    def term(target: str, kind: str = "term") -> tuple[str, str] | None:
        """A cross-reference's address on the book's site and its text (a page's or a
        section's title for {doc} and {ref}, the term for {term})."""
        pending = addnodes.pending_xref(
            "", reftype=kind, refdomain="std", reftarget=target, refdoc=docname, refexplicit=False
        )
        ref = std.resolve_xref(env, docname, builder, kind, target, pending, nodes.inline())
        if ref is None:
            return None
        return urljoin(page, ref.get("refuri") or "#" + ref["refid"]), ref.astext()

    def cite(keys: list[str], textual: bool) -> str:
        return markdown_citation(keys, textual=textual, refs=refs)

    return PlainMarkdown(set(app.config.myst_enable_extensions), term, cite)


def reader_edition(app: Sphinx, docname: str, notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook as a reader downloads it (see the module's docstring)."""
    from book_notebooks import install_code, is_install_cell

    plain = _plain_markdown(app, docname)
    starts = notebook.get("metadata", {}).get("source_map") or []  # each cell's first line
    install = install_code(app)

    def line_of(index: int, offset: int) -> int | None:
        """The line in the notebook's source: a cell's text starts at its first line
        that is not blank (MyST-NB strips the blank lines before it)."""
        if index >= len(starts):
            return None
        path = Path(app.env.doc2path(docname))
        source = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        first = starts[index]
        while first < len(source) and not source[first].strip():
            first += 1
        return first + 1 + offset

    def converted(text: str, index: int) -> str:
        try:
            return plain.convert(text)
        except EditionError as error:
            line = line_of(index, error.offset or 0)
            LOGGER.warning(
                "reader's edition of the .ipynb: %s",
                error,
                location=(docname, line),
                type="book",
                subtype="notebook",
            )
            return text

    for index, cell in enumerate(notebook.get("cells", [])):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            cell["source"] = converted(source, index)
        elif cell.get("cell_type") == "code" and is_install_cell(cell.get("metadata", {})):
            if install is not None:
                cell["source"] = install
            cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in DROP_MIME:
                data.pop(mime, None)
            if "image/png" in data:
                for mime in DROP_BESIDE_PNG:
                    data.pop(mime, None)
            if "text/markdown" in data:
                data["text/markdown"] = converted("".join(data["text/markdown"]), index)
    metadata = notebook.get("metadata", {})
    notebook["metadata"] = {key: metadata[key] for key in KEEP_METADATA if key in metadata}
    return notebook


def edition_key(app: Sphinx, docname: str) -> str:
    """What the reader's edition of a notebook depends on besides the notebook: the site's
    address, the install cell (wheel, hash), the glossary's anchors, the bibliography, and
    the code that writes it. Equal keys, equal downloads."""
    import hashlib

    from book_notebooks import install_code

    digest = hashlib.sha256()
    digest.update(app.config.html_baseurl.encode())
    digest.update((install_code(app) or "").encode())
    terms = app.env.get_domain("std").data.get("terms", {})
    digest.update(json.dumps(sorted(terms.items())).encode())
    bib = Path(app.srcdir) / "references.bib"
    digest.update(bib.read_bytes() if bib.is_file() else b"")
    for module in (__file__, Path(__file__).with_name("book_notebooks.py")):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def setup(app: Sphinx) -> dict[str, Any]:
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
