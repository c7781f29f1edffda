"""Stylesheets trimmed to what the book uses, with nothing a reader can see changing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest_browser import THEMES, BookSite, open_tab

from ketamine_timelines.csspurge import (
    PurgeCache,
    markup_tokens,
    purge_built_site,
    purge_stylesheets,
    site_usage,
    sphinx_checksum,
)

PAGE = (
    '<html><body class="page"><div class="sidebar-tree" id="nav"><a class="reference '
    'external" href="x">x</a></div><p style="color: var(--from-markup)">t</p></body></html>'
)


def usage(*pages: str, scripts: tuple[str, ...] = ()) -> object:
    return site_usage(pages or (PAGE,), scripts)


def purge(css: str, *pages: str, scripts: tuple[str, ...] = ()) -> str:
    return purge_stylesheets({"a.css": css}, usage(*pages, scripts=scripts))["a.css"]


def test_markup_tokens():
    assert {".page", ".sidebar-tree", ".reference", ".external", "#nav", "a", "p"} <= (
        markup_tokens(PAGE)
    )
    # Notebook outputs are raw HTML from any library: every attribute quoting counts.
    raw = "<table class='dataframe wide' id='t1'><td class=num id=c2>1</td></table>"
    assert {".dataframe", ".wide", "#t1", ".num", "#c2", "table", "td"} <= markup_tokens(raw)


@pytest.mark.parametrize(
    ("selector", "kept"),
    [
        (".sidebar-tree .reference.external:after", True),
        ("body:not([data-theme=light]) .page", True),  # a run-time state never drops a rule
        ("a:hover", True),
        ("#nav>a", True),
        (".sig-name", False),  # API docs: no page has one
        ("dl.py .property", False),
        ("table", False),  # no element of that name
        (".scrolled .page", True),  # added by a script (see the scripts below)
        (r".sm\:wide", True),  # escaped names are kept rather than parsed
        (":is(.a, .b) p", True),
    ],
)
def test_selector_test(selector, kept):
    site = usage(scripts=('el.classList.add("scrolled")',))
    assert site.can_match(selector) is kept


def test_rules_blocks_and_at_rules():
    css = (
        "@font-face{font-family:X;src:url(x.woff2)}"
        ".page{color:red}.sig{color:blue}"
        "@media (max-width:40em){.sig{display:none}.page{margin:0}}"
        "@media print{.sig{display:none}}"
        "@keyframes spin{from{opacity:0}to{opacity:1}}"
        ".sig,.page , .nothing{  font-weight : bold ;}"
    )
    out = purge(css)
    assert "@font-face{font-family:X;src:url(x.woff2)}" in out
    assert "@keyframes spin" in out
    assert ".sig" not in out and ".nothing" not in out
    assert "@media (max-width:40em){.page{margin:0}}" in out
    assert "@media print" not in out  # every rule inside was dropped
    assert ".page{font-weight:bold}" in out


def test_unread_custom_properties_go_in_chains():
    css = (
        'body{--icon:url("data:image/svg+xml;charset=utf-8,%3Csvg%3E");--a:var(--b);--b:1px;'
        "--c:var(--d);--d:2px;--from-markup:red;--from-script:blue;color:var(--a)}"
    )
    out = purge(css, scripts=('s.getPropertyValue("--from-script")',))
    assert "--a:var(--b)" in out and "--b:1px" in out  # read by color, then by --a
    assert "--c" not in out and "--d" not in out  # --c is unread, so --d is too
    assert "--icon" not in out  # unread, and its ";" inside a data URI broke nothing
    assert "--from-markup:red" in out and "--from-script:blue" in out
    assert out.endswith("color:var(--a)}")


def test_a_css_syntax_error_names_the_file():
    # Recoverable errors are recovered from as browsers do; a rule without a block is not.
    with pytest.raises(ValueError, match=r"a\.css: CSS parse error: EOF reached"):
        purge(".page{color:red} .sig color:blue")


def make_site(root: Path, page: str, css: str) -> tuple[Path, Path]:
    static = root / "_static" / "styles"
    static.mkdir(parents=True)
    (static / "theme.css").write_text(css)
    checksum = sphinx_checksum(css.encode())
    html = page.replace(
        "<body", f'<head><link href="_static/styles/theme.css?v={checksum}"></head><body'
    )
    (root / "index.html").write_text(html)
    return root / "index.html", static / "theme.css"


def test_built_site_purged_from_the_originals_with_fresh_checksums(tmp_path):
    css = ".page{color:red}.sig{color:blue}"
    page, sheet = make_site(tmp_path / "html", PAGE, css)
    cache_dir = tmp_path / "cache"

    saved = purge_built_site(tmp_path / "html", cache_dir)
    assert sheet.read_text() == ".page{color:red}"
    assert saved == {"_static/styles/theme.css": len(css) - len(".page{color:red}")}
    assert f"theme.css?v={sphinx_checksum(sheet.read_bytes())}" in page.read_text()

    # The next build: a page now uses .sig. The rule comes back from the original even
    # though the file in the build is the purged one (Sphinx left it, or it was restored).
    page.write_text(page.read_text().replace('class="page"', 'class="page sig"'))
    purge_built_site(tmp_path / "html", cache_dir)
    assert sheet.read_text() == css
    assert f"theme.css?v={sphinx_checksum(css.encode())}" in page.read_text()


def test_unchanged_pages_are_not_scanned_again(tmp_path, monkeypatch):
    from ketamine_timelines import csspurge

    _, sheet = make_site(tmp_path / "html", PAGE, ".page{color:red}.sig{color:blue}")
    (tmp_path / "html" / "other.html").write_text(PAGE)
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    scanned = []
    original_scan = csspurge.page_usage
    monkeypatch.setattr(
        csspurge, "page_usage", lambda html: scanned.append(html) or original_scan(html)
    )
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    assert scanned == []  # index.html was rewritten (its ?v=) but its classes are the same
    (tmp_path / "html" / "other.html").write_text(PAGE.replace('"page"', '"page sig"'))
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    assert len(scanned) == 1
    assert ".sig{color:blue}" in sheet.read_text()


def test_new_purge_code_does_not_reuse_old_results(tmp_path, monkeypatch):
    from ketamine_timelines import csspurge

    make_site(tmp_path / "html", PAGE, ".page{color:red}.sig{color:blue}")
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    runs, scans = [], []
    real_purge, real_scan = csspurge.purge_stylesheets, csspurge.page_usage
    monkeypatch.setattr(csspurge, "purge_stylesheets", lambda *a: runs.append(1) or real_purge(*a))
    monkeypatch.setattr(csspurge, "page_usage", lambda h: scans.append(1) or real_scan(h))
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    assert (runs, scans) == ([], [])
    monkeypatch.setattr(csspurge, "code_version", lambda: "an edited csspurge.py")
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    assert (runs, scans) == ([1], [1])


def test_restore_puts_the_original_back_for_copiers_that_will_not_overwrite(tmp_path):
    css = ".page{color:red}.sig{color:blue}"
    _, sheet = make_site(tmp_path / "html", PAGE, css)
    purge_built_site(tmp_path / "html", tmp_path / "cache")
    assert sheet.read_text() != css
    PurgeCache(tmp_path / "cache").restore(tmp_path / "html")
    assert sheet.read_text() == css


# -- The built book ----------------------------------------------------------------------


def _links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'href="(?:\.\./)*(_static/[^"?]+\.css)\?v=([0-9a-f]{8})"', html)


@pytest.mark.build
def test_book_stylesheets_are_trimmed_and_links_carry_their_checksums(
    book_build: Path, build_base: Path
):
    originals = build_base / "doctrees-html" / "csspurge" / "originals"
    furo = book_build / "_static" / "styles" / "furo.css"
    original = originals / "_static" / "styles" / "furo.css"
    assert furo.stat().st_size < 0.75 * original.stat().st_size
    checked = 0
    for page in book_build.rglob("*.html"):
        for name, checksum in _links(page.read_text(encoding="utf-8")):
            assert checksum == sphinx_checksum((book_build / name).read_bytes()), (page, name)
            checked += 1
    assert checked > 50


SCREEN_PAGES = (
    "index.html",
    "docs/03-depression-and-anxiety.html",
    "notebooks/onset-timelines.html",
    "docs/glossary.html",
    "docs/bibliography.html",
    "search.html?q=ketamine",
    "404.html",
)

# Every element's computed style, and its ::before and ::after, as the page settles:
# what the purged and the original stylesheets give must be the same, property by
# property. Custom properties are left out (unread ones are dropped on purpose), and
# transitions are stopped so no value is caught half-way.
COMPUTED_STYLES = """(detail) => {
  if (!document.getElementById("kt-no-motion")) {
    const sheet = document.createElement("style");
    sheet.id = "kt-no-motion";
    sheet.textContent = "*,*::before,*::after{transition:none!important;animation:none!important}";
    document.head.append(sheet);
  }
  const describe = (style) => {
    const values = [];
    for (let i = 0; i < style.length; i++) {
      const prop = style[i];
      if (!prop.startsWith("--")) values.push(prop + ": " + style.getPropertyValue(prop));
    }
    return values.join("; ");
  };
  const hash = (text) => {  // FNV-1a: the page sends 32 bits per element, not its style
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h >>> 0;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const classes = typeof el.className === "string" ? el.className.trim() : "";
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (classes ? "." + classes.split(/\\s+/).join(".") : "");
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      if (pseudo && style.content === "none") continue;  // no such box
      const text = describe(style);
      out.push([name + (pseudo || ""), detail ? text : hash(text)]);
    }
  }
  return out;
}"""


def _computed_styles(page, url: str, detail: bool = False) -> list[list[Any]]:
    page.goto(url, wait_until="networkidle")
    return page.evaluate(COMPUTED_STYLES, detail)


def _first_difference(purged: list[list[Any]], original: list[list[Any]]) -> str:
    if len(purged) != len(original):
        return f"{len(purged)} styled elements with the purged CSS, {len(original)} without"
    for (name, mine), (_, theirs) in zip(purged, original, strict=True):
        if mine != theirs:
            if not isinstance(mine, str):
                return name
            a, b = mine.split("; "), theirs.split("; ")
            changed = [f"{x!r} != {y!r}" for x, y in zip(a, b, strict=False) if x != y]
            return f"{name}: {changed[:3] or 'different properties'}"
    return ""


@pytest.mark.build
@pytest.mark.browser
@pytest.mark.parametrize("theme", THEMES)
def test_purged_stylesheets_style_every_element_as_the_originals_do(
    book_site: BookSite, chromium, build_base: Path, theme: str
):
    originals = build_base / "doctrees-html" / "csspurge" / "originals"

    served: list[str] = []

    def serve_original(route) -> None:
        name = re.search(r"/(_static/[^?]+\.css)", route.request.url).group(1)
        served.append(name)
        route.fulfill(path=str(originals / name), content_type="text/css")

    for width in (1280, 420):  # the desktop layout and the phone one (other media rules)
        for path in SCREEN_PAGES:
            with open_tab(chromium, theme) as visit:
                visit.page.set_viewport_size({"width": width, "height": 900})
                purged = _computed_styles(visit.page, book_site.url(path))
                served.clear()
                visit.page.route("**/_static/**/*.css*", serve_original)
                original = _computed_styles(visit.page, book_site.url(path))
                difference = _first_difference(purged, original)
                if difference:  # say which properties differ, not just which element
                    visit.page.unroute("**/_static/**/*.css*")
                    purged = _computed_styles(visit.page, book_site.url(path), detail=True)
                    visit.page.route("**/_static/**/*.css*", serve_original)
                    original = _computed_styles(visit.page, book_site.url(path), detail=True)
                    difference = _first_difference(purged, original) or difference
            assert served, f"{path}: no stylesheet was served from the originals"
            assert not difference, f"{path} at {width}px, {theme} theme: {difference}"
