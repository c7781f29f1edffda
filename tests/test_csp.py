"""A Content-Security-Policy on every page, enforced by the browser with no violation;
every external link, the theme's own included, opens without opener or referrer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from book_csp import policy_for, script_hash
from conftest_browser import THEMES, BookSite, open_tab

#: Records every violation of the page's policy, from before its first script runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} ${e.sample || ''}`));
"""


def every_page(book_build: Path) -> list[str]:
    return sorted(
        p.relative_to(book_build).as_posix()
        for p in book_build.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def csp_of(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    metas = soup.find_all("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert len(metas) == 1, f"{len(metas)} CSP meta tags"
    return metas[0]["content"]


def test_policy_hashes_exactly_the_inline_scripts() -> None:
    html = '<script src="a.js"></script><script>\n  x = 1;\n</script><script>x = 1;</script>'
    policy = policy_for(html)
    assert f"script-src 'self' {script_hash(chr(10) + '  x = 1;' + chr(10))}" in policy
    assert script_hash("x = 1;") in policy
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.build
def test_every_page_carries_the_policy_for_its_scripts(book_build: Path) -> None:
    for name in every_page(book_build):
        html = (book_build / name).read_text(encoding="utf-8")
        policy = csp_of(html)
        assert html.index("Content-Security-Policy") < html.index("<script"), name
        assert policy == policy_for(html), name
        sources = re.findall(r"'sha256-[^']+'|https?://\S+", policy)
        assert not [s for s in sources if s.startswith("http")], name


@pytest.mark.build
def test_every_external_link_has_noopener_noreferrer(book_build: Path) -> None:
    offenders = []
    for name in every_page(book_build):
        soup = BeautifulSoup((book_build / name).read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=re.compile(r"^(https?:)?//")):
            if not {"noopener", "noreferrer"} <= set(a.get("rel") or []):
                offenders.append(f"{name}: {a}")
    assert not offenders, "\n".join(offenders[:20])


@pytest.mark.browser
@pytest.mark.build
@pytest.mark.parametrize("theme", THEMES)
def test_the_browser_enforces_the_policy_with_no_violation(
    book_build: Path, book_site: BookSite, chromium: Any, theme: str
) -> None:
    violations = []
    with open_tab(chromium, theme) as tab:
        page = tab.page
        page.add_init_script(LISTEN)
        for name in [*every_page(book_build), "search.html?q=esketamine"]:
            page.goto(book_site.url(name), wait_until="load")
            page.wait_for_load_state("networkidle")
            # Furo's inline theme script ran (its hash is allowed): the theme is applied.
            assert page.evaluate("() => document.body.dataset.theme") == theme, name
            violations += [f"{name}: {v}" for v in page.evaluate("() => window.__cspViolations")]
        # Search works under the policy.
        page.goto(book_site.url("search.html?q=esketamine"))
        page.wait_for_selector("#search-results .search-summary", timeout=15_000)
        assert page.locator("#search-results ul.search li a").count() > 0
        # The theme toggle works under the policy.
        page.goto(book_site.url("index.html"), wait_until="load")
        page.locator(".theme-toggle:visible").first.click()
        assert page.evaluate("() => document.body.dataset.theme") != theme
        violations += page.evaluate("() => window.__cspViolations")
        assert not violations, "\n".join(violations)
        # And the policy is in force: an injected inline script is refused and reported.
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__injected = true'; document.head.appendChild(s); }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__injected") is None
        assert page.evaluate("() => window.__cspViolations.length") == 1
