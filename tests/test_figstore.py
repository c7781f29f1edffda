"""Figure files shared by the build's chapters and its notebooks (ketamine_timelines.figstore):
each variant is rendered once, with the bytes the chapter would have drawn itself, and
nothing is shared with a kernel whose data or plotting code are not the build's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest

from ketamine_timelines import figstore, load_points
from ketamine_timelines.display import render
from ketamine_timelines.figures import FIGURES, figure
from ketamine_timelines.outputs import OUTPUT_ENV
from ketamine_timelines.paths import default_bib_path, default_data_path

NAME = "treatment-day"  # the quickest figure to render
SHARED = {("light", "svg"), ("dark", "svg"), ("light", "pdf"), ("epub", "svg")}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(OUTPUT_ENV, "book")
    monkeypatch.setenv(figstore.STORE_ENV, str(tmp_path))
    digest = figstore.inputs_digest(default_data_path(), default_bib_path())
    monkeypatch.setenv(figstore.DIGEST_ENV, digest)
    figstore._kernel_digest.cache_clear()
    yield tmp_path
    figstore._kernel_digest.cache_clear()


def test_a_notebook_figure_leaves_the_files_a_chapter_draws(store: Path) -> None:
    tf = figure(NAME, load_points())
    tf._repr_mimebundle_()
    digest = figstore.inputs_digest(default_data_path(), default_bib_path())[:12]
    names = {p.name for p in store.iterdir()}
    for variant, fmt in SHARED:
        assert f"{NAME}-{digest}-{variant}.{fmt}" in names, sorted(names)
    # The bytes the chapter's timeline-figure would render itself (save_variants).
    spec = FIGURES[NAME]
    data = spec.data(load_points())
    for theme in ("light", "dark"):
        own = render(spec.draw(data, theme), "svg")
        assert (store / f"{NAME}-{digest}-{theme}.svg").read_bytes() == own
    own_pdf = render(spec.draw(data, "light"), "pdf")
    assert (store / f"{NAME}-{digest}-light.pdf").read_bytes() == own_pdf


def test_a_shared_file_is_read_not_rendered_again(store: Path) -> None:
    figure(NAME, load_points())._repr_mimebundle_()
    digest = figstore.inputs_digest(default_data_path(), default_bib_path())[:12]
    marker = b"<svg><!-- drawn by the chapter --></svg>"
    (store / f"{NAME}-{digest}-dark.svg").write_bytes(marker)
    assert figure(NAME, load_points()).svg("dark") == marker.decode()


def test_nothing_is_shared_with_other_inputs_or_a_part_of_the_data(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figure(NAME, load_points()[:-1])._repr_mimebundle_()  # not the whole data set
    assert not list(store.iterdir())
    monkeypatch.setenv(figstore.DIGEST_ENV, "0" * 64)  # the build read other data or code
    figstore._kernel_digest.cache_clear()
    figure(NAME, load_points())._repr_mimebundle_()
    assert not list(store.iterdir())
    monkeypatch.delenv(figstore.STORE_ENV)  # a reader's Jupyter
    assert figstore.slot(NAME) is None


def test_a_file_has_the_same_bytes_whatever_was_rendered_before_it() -> None:
    """display.render lays a figure out once: order and set of formats do not matter."""
    spec = FIGURES[NAME]
    data = spec.data(load_points())
    first = spec.draw(data, "light")
    svg_first, pdf_after = render(first, "svg"), render(first, "pdf")
    second = spec.draw(data, "light")
    pdf_first, svg_after = render(second, "pdf"), render(second, "svg")
    assert svg_first == svg_after
    assert pdf_after == pdf_first


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_dark_theme_laid_out_like_the_light_one_has_its_own_bytes(name: str) -> None:
    """display.FigureSet lays each theme out like the light one: only colours differ
    between themes, so the files equal those of a dark figure laid out on its own."""
    from ketamine_timelines.display import FigureSet

    spec = FIGURES[name]
    data = spec.data(load_points())

    def draw(theme: str, narrow: bool):
        return spec.draw(data, theme, **({"narrow": True} if narrow else {}))

    figures = FigureSet(draw)
    for narrow in (False, True) if spec.narrow else (False,):
        own = render(draw("dark", narrow), "svg")
        dark = figures.get("dark", narrow)
        assert dark.get_layout_engine() is None  # laid out like the light one, not on its own
        assert render(dark, "svg") == own
