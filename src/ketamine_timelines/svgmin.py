"""Minify a Matplotlib SVG that is served as a file (an ``<img>``), without changing a pixel.

Matplotlib writes every element's style in full (the onset figure repeats 28 identical
styles on its markers), wraps each element in one or two empty ``<g>``, and writes path
data as ``M 59.11 254.40 \\nL 601.79 254.40``. The chapter figure was 40 KB, a quarter
of chapter 3's weight (``nox -s bench``); minified it is 23 KB. The browser tests check
that both versions render to the same pixels.

Only for standalone files: hoisted styles become classes (``s0``, ``s1``...) in the SVG's
own ``<style>``, which inside an ``<img>`` cannot meet the page's classes. An SVG inlined
into HTML would share the page's class names; ``display`` leaves those alone.
"""

from __future__ import annotations

import re
from collections import Counter

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_STYLE = re.compile(r'\sstyle="([^"]*)"')
_GROUP_TAG = re.compile(r"<g(?:\s[^>]*)?>|</g>")
_NUMERIC_ATTRIBUTE = re.compile(r'\s(x|y|width|height)="(-?[\d.]+)"')


def short_number(text: str) -> str:
    """``254.40`` -> ``254.4``, ``12.00`` -> ``12``, ``-0.00`` -> ``0``."""
    if "." in text and "e" not in text.lower():
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"", "-0", "-"} else text


def short_path(d: str) -> str:
    """Path data with the fewest characters SVG's grammar allows for the same numbers."""
    d = _NUMBER.sub(lambda m: short_number(m.group(0)), d)
    d = re.sub(r"\s*([MmLlHhVvCcSsQqTtAaZz])\s*", r"\1", d)
    d = re.sub(r"\s+", " ", d).strip()
    return d.replace(" -", "-")  # a minus sign separates two numbers by itself


def _declarations(style: str) -> str:
    parts = (part.strip() for part in style.split(";"))
    return ";".join(re.sub(r"\s*:\s*", ":", part, count=1) for part in parts if part)


def unwrap_plain_groups(svg: str) -> str:
    """Drop ``<g>`` elements without attributes (they change nothing), keep their content."""
    out: list[str] = []
    kept: list[bool] = []
    position = 0
    for match in _GROUP_TAG.finditer(svg):
        out.append(svg[position : match.start()])
        position = match.end()
        tag = match.group(0)
        if tag == "</g>":
            if not kept:
                raise ValueError("unbalanced </g> in SVG")
            if kept.pop():
                out.append(tag)
        else:
            keep = tag != "<g>"
            kept.append(keep)
            if keep:
                out.append(tag)
    if kept:
        raise ValueError("unclosed <g> in SVG")
    out.append(svg[position:])
    return "".join(out)


def hoist_styles(svg: str) -> str:
    """Replace each ``style`` attribute with a class; the rules go into one ``<style>``.

    A class rule outranks the file's only other rule (Matplotlib's ``*{...}``), just as the
    inline style did, and reaches the copies that ``<use>`` makes, so rendering is the same.
    """
    styles = Counter(_declarations(value) for value in _STYLE.findall(svg))
    if not styles:
        return svg
    names = {style: f"s{number}" for number, (style, _) in enumerate(styles.most_common())}
    svg = _STYLE.sub(lambda m: f' class="{names[_declarations(m.group(1))]}"', svg)
    rules = "".join(f".{name}{{{style}}}" for style, name in names.items())
    opening = re.search(r"<style[^>]*>", svg)
    if opening is not None:
        return svg[: opening.start()] + "<style>" + rules + svg[opening.end() :]
    root = re.search(r"<svg\b[^>]*>", svg)
    if root is None:
        raise ValueError("no <svg> element")
    return svg[: root.end()] + f"<defs><style>{rules}</style></defs>" + svg[root.end() :]


def minify_svg(svg: str) -> str:
    """The same drawing in fewer bytes: see the module's docstring."""
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)  # UTF-8 is SVG's default encoding
    svg = re.sub(r'\sd="([^"]*)"', lambda m: f' d="{short_path(m.group(1))}"', svg)
    svg = _NUMERIC_ATTRIBUTE.sub(lambda m: f' {m.group(1)}="{short_number(m.group(2))}"', svg)
    svg = unwrap_plain_groups(svg)
    svg = hoist_styles(svg)
    # Whitespace between tags goes; inside <text> (labels, titles) it may be content.
    svg = re.sub(r"(<text\b.*?</text>)|>\s+<", lambda m: m.group(1) or "><", svg, flags=re.S)
    return svg.strip() + "\n"
