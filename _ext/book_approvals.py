"""The book's one list of regulatory decisions, rendered where readers need it.

``data/approvals.csv`` (read by ``ketamine_timelines.approvals``) holds every approval,
safety programme and funding recommendation the book states. Three views render it, so
they cannot disagree:

* ``approvals-table``: Table 5.1 in chapter 5, one row per decision; on a phone it
  reflows into one block per decision (``kt-approvals`` in ``_static/book.css``);
* ``approvals-list``: the patient guide's list, by country;
* ``{approvals}`approved``` and ``{approvals}`funding```: one line naming where esketamine
  is approved, and which bodies advised against paying for it, with dates (the guide's
  short answers, and so the printable handout).

A bad row stops the build with one error naming the file, line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective, SphinxRole

APPROVALS_FILE = "data/approvals.csv"
REGION_NAMES = {
    "US": "United States",
    "EU": "European Union",
    "UK": "United Kingdom",
    "Canada": "Canada",
    "Australia": "Australia",
}
TABLE_HEADER = ("Country or agency", "Date", "What was decided", "Conditions", "Source")


def _load(env: Any) -> list[Any]:
    """The validated rows; the page that shows them is re-read when the file changes."""
    from ketamine_timelines.approvals import load_approvals

    srcdir = Path(env.srcdir)
    env.note_dependency(str(srcdir / APPROVALS_FILE))
    return load_approvals(srcdir / APPROVALS_FILE, bib_path=srcdir / "references.bib")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _cite(keys: tuple[str, ...]) -> str:
    return f"{{cite:p}}`{','.join(keys)}`"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


class ApprovalsTable(SphinxDirective):
    """Table 5.1: ``:name:`` is its label; the content is its caption."""

    has_content = True
    option_spec = {"name": lambda arg: arg.strip()}  # noqa: RUF012 (docutils API)

    def run(self) -> list[nodes.Node]:
        from ketamine_timelines.data import DataError

        try:
            rows = _load(self.env)
        except DataError as exc:
            raise self.error(f"approvals-table: {exc}") from exc
        caption = " ".join(" ".join(self.content).split())
        if not caption:
            raise self.error("approvals-table: write the table's caption as its content")
        lines = [f":::{{table}} {caption}"]
        if "name" in self.options:
            lines.append(f":name: {self.options['name']}")
        lines += [":class: kt-approvals", ""]
        lines.append("| " + " | ".join(TABLE_HEADER) + " |")
        lines.append("|" + "---|" * len(TABLE_HEADER))
        for row in rows:
            cells = (row.authority, row.date_label, row.decision, row.conditions, _cite(row.cite))
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append(":::")
        holder = nodes.Element()
        source = self.get_source_info()[0]
        self.state.nested_parse(StringList(lines, source=source), self.content_offset, holder)
        return list(holder.children)


class ApprovalsList(SphinxDirective):
    """The guide's list by country: each decision, with its date and its source."""

    option_spec = {"class": lambda arg: arg.split()}  # noqa: RUF012 (docutils API)

    def run(self) -> list[nodes.Node]:
        from ketamine_timelines.approvals import by_region
        from ketamine_timelines.data import DataError

        try:
            rows = _load(self.env)
        except DataError as exc:
            raise self.error(f"approvals-list: {exc}") from exc
        lines: list[str] = []
        for region, decisions in by_region(rows).items():
            lines.append(f"- **{REGION_NAMES[region]}**")
            lines.append("")
            for row in decisions:
                item = (
                    f"**{row.date_label}**, {_without_region(row.authority, region)}: "
                    f"{_sentence(row.decision)} {_sentence(row.conditions)} {_cite(row.cite)}"
                )
                lines.append(f"  - {_cell(item)}")
            lines.append("")
        holder = nodes.container(classes=["kt-approvals-list", *self.options.get("class", [])])
        source = self.get_source_info()[0]
        self.state.nested_parse(StringList(lines, source=source), self.content_offset, holder)
        return [holder]


def _without_region(authority: str, region: str) -> str:
    """ "US, Food and Drug ..." -> "Food and Drug ...", under the heading "United States"."""
    first, sep, rest = authority.partition(", ")
    return rest if sep and first in {region, REGION_NAMES[region]} else authority


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class ApprovalsRole(SphinxRole):
    """``{approvals}`approved```: "the United States (March 2019), ... and Australia
    (March 2021)", each region's first approval; ``{approvals}`funding```: the bodies that
    advised against paying for it, with their dates."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        from ketamine_timelines.data import DataError

        what = self.text.strip()
        try:
            rows = _load(self.env)
        except DataError as exc:
            return [], [self.inliner.reporter.error(f"approvals: {exc}", line=self.lineno)]
        if what == "approved":
            first: dict[str, str] = {}
            for row in rows:
                if row.kind == "approval" and row.region not in first:
                    name = REGION_NAMES[row.region]
                    article = "the " if row.region in {"US", "EU", "UK"} else ""
                    first[row.region] = f"{article}{name} ({row.date_label})"
            text = _join(list(first.values()))
        elif what == "funding":
            parts = [
                f"{_short(row.authority)} ({row.date_label})"
                for row in rows
                if row.kind == "funding advice"
            ]
            text = _join(parts)
        else:
            msg = self.inliner.reporter.error(
                f"approvals: unknown view {what!r} (use approved or funding)", line=self.lineno
            )
            return [], [msg]
        return [nodes.inline(text, text, classes=["kt-approvals-summary"])], []


def _short(authority: str) -> str:
    """ "UK, National Institute ... (NICE)" -> "NICE in the United Kingdom"; "Canada, CADTH
    (now ...)" -> "CADTH in Canada"."""
    import re

    region, _, body = authority.partition(", ")
    acronym = re.search(r"\(([A-Z]{2,})\)$", body)
    name = acronym[1] if acronym else body.split(" (")[0]
    where = {"UK": "the United Kingdom", "US": "the United States"}.get(region, region)
    return f"{name} in {where}"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("approvals-table", ApprovalsTable)
    app.add_directive("approvals-list", ApprovalsList)
    app.add_role("approvals", ApprovalsRole())
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
