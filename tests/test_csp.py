"""A Content-Security-Policy on every page, enforced by the browser with no violation;
every external link, the theme's own included, opens without opener or referrer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from book_csp import policy_for, script_hash
from conftest_browser import CSP_LISTENER, THEMES, BookSite, PageReport, every_page, open_tab


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
    page_survey: dict[str, PageReport], theme: str
) -> None:
    """Every page, search results included, as the session's survey saw it."""
    violations = [f"{name}: {v}" for name, report in page_survey.items() for v in report.csp[theme]]
    assert not violations, "\n".join(violations)
    # Furo's inline theme script ran (its hash is allowed): the theme is applied.
    assert all(report.theme[theme] == theme for report in page_survey.values())


@pytest.mark.browser
@pytest.mark.build
@pytest.mark.parametrize("theme", THEMES)
def test_search_and_the_theme_toggle_work_under_the_policy(
    book_site: BookSite, chromium: Any, theme: str
) -> None:
    with open_tab(chromium, theme) as tab:
        page = tab.page
        page.add_init_script(CSP_LISTENER)
        # Search works under the policy.
        page.goto(book_site.url("search.html?q=esketamine"))
        page.wait_for_selector("#search-results .search-summary", timeout=15_000)
        assert page.locator("#search-results ul.search li a").count() > 0
        # The theme toggle works under the policy.
        page.goto(book_site.url("index.html"), wait_until="load")
        page.locator(".theme-toggle:visible").first.click()
        assert page.evaluate("() => document.body.dataset.theme") != theme
        violations = page.evaluate("() => window.__cspViolations")
        assert not violations, "\n".join(violations)
        # And the policy is in force: an injected inline script is refused and reported.
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__injected = true'; document.head.appendChild(s); }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__injected") is None
        assert page.evaluate("() => window.__cspViolations.length") == 1
