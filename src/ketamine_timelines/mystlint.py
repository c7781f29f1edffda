"""A MyST source linter for the book: house rules that Sphinx itself does not enforce.

Run as ``python -m ketamine_timelines.mystlint index.md docs notebooks``. Each finding is
printed as ``path:line: CODE message`` and the exit status is 1 if there is any.

Why these rules:

* M001 ``$`` math or the ``{math}`` role makes Sphinx load MathJax from a CDN: a request
  to a third-party host from a health book that promises its readers privacy.
* M002 raw HTML that loads or runs something (script, iframe, remote images) bypasses the
  same promise and the accessibility checks.
* M003 a page has exactly one ``#`` title, and headings never skip a level, so the
  numbered table of contents and screen readers see the structure the author meant.
* M004 trailing whitespace and tabs make noisy diffs in one-sentence-per-line prose.
* M005 plain ``http://`` links are downgraded on the hosted site and fail link checks.
* M006 a chapter ends with "Key points" (house style).
* M007 a directive or role name the book does not use is almost always a typo that
  Sphinx reports far from its cause.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

KNOWN_DIRECTIVES = {
    "admonition",
    "attention",
    "bibliography",
    "caution",
    "code-block",
    "code-cell",
    "csv-table",
    "danger",
    "epigraph",
    "error",
    "figure",
    "glossary",
    "glue",
    "glue:any",
    "glue:figure",
    "glue:math",
    "glue:md",
    "grid",
    "grid-item",
    "grid-item-card",
    "hint",
    "image",
    "important",
    "list-table",
    "note",
    "only",
    "raw",
    "rubric",
    "seealso",
    "sidebar",
    "tab-item",
    "tab-set",
    "table",
    "tip",
    "toctree",
    "timeline-figure",
    "topic",
    "warning",
    "card",
    "button-ref",
    "button-link",
    "dropdown",
    "code",
    "include",
    "literalinclude",
    "contents",
}
KNOWN_ROLES = {
    "cite",
    "cite:p",
    "cite:t",
    "cite:ps",
    "cite:ts",
    "cite:alp",
    "cite:author",
    "cite:year",
    "term",
    "doc",
    "ref",
    "numref",
    "download",
    "glue",
    "glue:text",
    "glue:any",
    "glue:md",
    "abbr",
    "sub",
    "sup",
    "kbd",
    "guilabel",
    "code",
    "octicon",
    "book-download",
    "bdg",
    "bdg-primary",
    "bdg-secondary",
    "bdg-info",
    "bdg-link-primary",
    "samp",
}
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{([^}]+)\}")
ROLE = re.compile(r"(?<![`\w])\{([a-z][a-z0-9:_-]*)\}`")
HEADING = re.compile(r"^(#{1,6})\s+\S")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
DOLLAR_MATH = re.compile(r"(?<![\\\w])\$[^$\s][^$]*\$(?!\w)|\$\$")
RAW_LOADS = re.compile(r"<\s*(script|iframe|object|embed)\b|<img[^>]+src\s*=\s*['\"]?https?:", re.I)
HTTP_LINK = re.compile(r"\]\(http://|<http://|href=['\"]http://")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


def _front_matter_end(lines: list[str]) -> int:
    if lines and lines[0].strip() == "---":
        for number, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return number + 1
    return 0


def lint_text(path: Path, text: str) -> Iterator[Finding]:
    lines = text.splitlines()
    start = _front_matter_end(lines)
    in_code = None
    titles = 0
    last_level = 0
    is_chapter = path.parent.name == "docs" and re.match(r"\d\d-", path.name)
    for number, line in enumerate(lines, start=1):
        if line != line.rstrip() or "\t" in line:
            yield Finding(path, number, "M004", "trailing whitespace or tab")
        if number <= start:
            continue
        fence = FENCE.match(line)
        if fence:
            directive = DIRECTIVE.match(line)
            if in_code is None and not directive:
                in_code = fence.group(1)
                continue
            if in_code is not None and line.strip().startswith(in_code[:3]) and not directive:
                in_code = None
                continue
            if directive and in_code is None:
                name = directive.group(1).strip()
                if name not in KNOWN_DIRECTIVES:
                    yield Finding(path, number, "M007", f"unknown directive {{{name}}}")
                if name == "code-cell":
                    in_code = fence.group(1)
                continue
        if in_code is not None:
            continue
        directive = DIRECTIVE.match(line)
        if directive and directive.group(1).strip() not in KNOWN_DIRECTIVES:
            yield Finding(path, number, "M007", f"unknown directive {{{directive.group(1)}}}")
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if level == 1:
                titles += 1
                if titles > 1:
                    yield Finding(path, number, "M003", "more than one '#' title on the page")
            elif level > last_level + 1:
                yield Finding(
                    path, number, "M003", f"heading jumps from level {last_level} to {level}"
                )
            last_level = level
        prose = re.sub(r"`[^`]*`", "``", line)
        if DOLLAR_MATH.search(prose) or "{math}`" in line:
            yield Finding(path, number, "M001", "math markup would load MathJax from a CDN")
        if RAW_LOADS.search(line):
            yield Finding(path, number, "M002", "raw HTML that loads or runs remote content")
        if HTTP_LINK.search(line):
            yield Finding(path, number, "M005", "use https:// links")
        for role in ROLE.findall(line):
            if role not in KNOWN_ROLES:
                yield Finding(path, number, "M007", f"unknown role {{{role}}}")
    if start < len(lines) and titles == 0:
        yield Finding(path, start + 1, "M003", "the page has no '#' title")
    if is_chapter and not re.search(r"^## Key points\s*$", text, re.M):
        yield Finding(path, len(lines), "M006", "a chapter ends with a '## Key points' section")


def iter_sources(paths: Iterable[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.md") if ".ipynb_checkpoints" not in p.parts)
        else:
            yield path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    findings = [
        finding
        for path in iter_sources(argv or ["."])
        for finding in lint_text(path, path.read_text(encoding="utf-8"))
    ]
    for finding in findings:
        print(finding)
    print(
        f"mystlint: {len(findings)} finding(s) in {len(list(iter_sources(argv or ['.'])))} file(s)"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
