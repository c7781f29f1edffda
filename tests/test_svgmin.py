"""SVG minification: smaller figure files that render to exactly the same pixels."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest

from ketamine_timelines import load_points, plots
from ketamine_timelines.display import render
from ketamine_timelines.svgmin import (
    hoist_styles,
    minify_svg,
    short_number,
    short_path,
    unwrap_plain_groups,
)

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
CHAPTER_FIGURES = ("plot_onset", "plot_single_dose_course", "plot_side_effect_window")


@pytest.fixture(scope="module")
def figures() -> dict[str, str]:
    """Every figure function the chapters and notebooks use, in both themes, as rendered."""
    points = load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")
    return {
        f"{name}-{theme}": render(getattr(plots, name)(points, theme=theme), "svg").decode()
        for name in CHAPTER_FIGURES
        for theme in ("light", "dark")
    }


@pytest.mark.parametrize(
    ("raw", "short"),
    [("254.40", "254.4"), ("12.00", "12"), ("-0.00", "0"), ("0.5", "0.5"), ("3", "3")],
)
def test_short_number(raw, short):
    assert short_number(raw) == short


def test_short_path_keeps_every_number_and_command():
    assert short_path("M 59.11 254.40 \nL 601.79 -3.50 \nz\n") == "M59.11 254.4L601.79-3.5z"
    assert short_path("M 0 0 \nC 1.50 2 3 -4 5 6 \n") == "M0 0C1.5 2 3-4 5 6"


def test_plain_groups_are_unwrapped_and_others_kept():
    svg = '<g><g clip-path="url(#c)"><g><path d="M0 0"/></g></g></g>'
    assert unwrap_plain_groups(svg) == '<g clip-path="url(#c)"><path d="M0 0"/></g>'
    with pytest.raises(ValueError, match="unbalanced"):
        unwrap_plain_groups("<g></g></g>")
    with pytest.raises(ValueError, match="unclosed"):
        unwrap_plain_groups("<g><g></g>")


def test_styles_become_classes_most_used_first():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><path style="fill: red"/>'
        '<path style="stroke: blue; stroke-width: 2"/><path style="stroke: blue;stroke-width:2"/>'
        "</svg>"
    )
    out = hoist_styles(svg)
    assert "style=" not in out.replace("<style>", "")
    assert ".s0{stroke:blue;stroke-width:2}.s1{fill:red}" in out
    assert out.count('class="s0"') == 2


def test_matplotlib_figures_shrink_and_keep_their_content(figures):
    for name, svg in figures.items():
        small = minify_svg(svg)
        assert len(small) < 0.7 * len(svg), name
        before, after = ET.fromstring(svg.encode()), ET.fromstring(small.encode())
        for tag in ("path", "use", "text", "rect", "clipPath"):
            assert len(before.findall(f".//{SVG_NS}{tag}")) == len(
                after.findall(f".//{SVG_NS}{tag}")
            ), (name, tag)
        texts = [t.text for t in before.iter(f"{SVG_NS}text")]
        assert texts == [t.text for t in after.iter(f"{SVG_NS}text")], name
        assert not re.search(r"<(path|use|text|rect)\b[^>]*\sstyle=", small), name
        assert minify_svg(small) == small, f"{name}: minifying twice changes it"


def _screenshot(page, svg: str, width: int, height: int) -> bytes:
    data = base64.b64encode(svg.encode()).decode()
    page.set_viewport_size({"width": width, "height": height})
    page.set_content(
        '<body style="margin:0">'
        f'<img src="data:image/svg+xml;base64,{data}" width="{width}" height="{height}">'
    )
    page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth")
    return page.screenshot(full_page=False)


@pytest.mark.browser
def test_minified_figures_render_to_the_same_pixels(figures, chromium):
    page = chromium.new_page()
    try:
        for name, svg in figures.items():
            match = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
            width, height = (round(float(v) * 4 / 3) for v in match.groups())
            original = _screenshot(page, svg, width, height)
            assert _screenshot(page, minify_svg(svg), width, height) == original, name
    finally:
        page.close()
