"""Outside the book's build, the library's outputs are what any Jupyter shows as they are:
a PNG figure alone (no inline SVG, which an untrusted notebook's HTML sanitiser strips,
and no phone layout, which only the book's stylesheet hides), and CommonMark captions
and tables whose citations are "Author (Year)" linked to the paper."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest

from ketamine_timelines import load_points, sources_table
from ketamine_timelines.bib import load_bib
from ketamine_timelines.figures import figure
from ketamine_timelines.outputs import OUTPUT_ENV, markdown_citation

ROOT = Path(__file__).resolve().parents[1]
MYST = re.compile(r"\{[a-z:-]+\}`|^:::|```\{", re.M)


@pytest.fixture(autouse=True)
def _a_readers_jupyter(monkeypatch):
    monkeypatch.delenv(OUTPUT_ENV, raising=False)


@pytest.fixture(scope="module")
def points():
    return load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")


def test_a_figure_is_one_png(points):
    fig = figure("onset", points)
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    assert bundle["image/png"].startswith(b"\x89PNG") and bundle["text/plain"] == fig.alt


def test_caption_and_table_are_commonmark_with_linked_citations(points):
    fig = figure("treatment-day", points)
    caption = fig.caption_markdown().data
    assert caption.startswith("**Figure.** ") and not MYST.search(caption)
    assert "[Janssen Pharmaceuticals (2026)](https://dailymed.nlm.nih.gov/" in caption
    table = sources_table(fig.source_points, caption="Studies behind it").data
    assert table.startswith("**Table.** Studies behind it\n\n| Study |")
    assert not MYST.search(table)
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    assert len(rows) == len({p.study_key for p in fig.source_points})


def test_citations_name_author_and_year_and_link_the_paper():
    refs = load_bib(ROOT / "references.bib")
    textual = markdown_citation(["lii2023"], refs=refs)
    assert textual == "[Lii et al. (2023)](https://doi.org/10.1038/s44220-023-00140-x)"
    both = markdown_citation(["daly2018", "lii2023"], textual=False, refs=refs)
    assert both.startswith("([Daly et al., 2018](https://doi.org/")
    assert both.endswith("; [Lii et al., 2023](https://doi.org/10.1038/s44220-023-00140-x))")
    with pytest.raises(KeyError, match="no-such-paper"):
        markdown_citation(["no-such-paper"], refs=refs)
