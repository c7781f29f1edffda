"""External link checking for the book: Sphinx's linkcheck settings and a small CLI.

``SETTINGS`` is the book's whole ``linkcheck`` configuration; ``conf.py`` applies it with
``globals().update(SETTINGS)``, and the tests build a tiny book with the very same dict.

The CLI wraps ``sphinx-build -b linkcheck`` (see the ``linkcheck`` nox session)::

    python -m ketamine_timelines.linkcheck --preflight
        One DNS lookup and one HTTPS request to doi.org. Without a network it prints one
        line and exits 2, instead of letting Sphinx report every DOI as broken.
    python -m ketamine_timelines.linkcheck --summary _build/linkcheck/output.json
        Counts of Sphinx's results and the broken links with file:line and reason;
        exits 1 if a link is broken.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sphinx

# The host every DOI link goes through: if it is unreachable, nothing can be checked.
PREFLIGHT_HOST = "doi.org"
PREFLIGHT_HOST_ENV = "KETAMINE_LINKCHECK_PREFLIGHT_HOST"
PREFLIGHT_TIMEOUT = 5.0

# Publishers that answer automated clients with 403 (or a bot challenge) even for valid
# articles. Each one publishes works the book cites. The links in the book go to
# https://doi.org/..., which redirects to these hosts; Sphinx stops at a redirect whose
# destination matches ``linkcheck_ignore`` and reports the link as "ignored" without
# contacting the publisher. So the DOI itself is still checked (doi.org answers 404
# for a DOI that does not exist), only the publisher's bot wall is not. Add a host
# here only after a linkcheck run has shown its 403, and say where that was seen.
_BOT_BLOCKING_PUBLISHERS = [
    # Elsevier (10.1016): doi.org -> linkinghub.elsevier.com -> www.sciencedirect.com;
    # ScienceDirect 403s automated clients (the-turing-way/the-turing-way#3116).
    r"https://linkinghub\.elsevier\.com/",
    r"https://(www\.)?sciencedirect\.com/",
    # Wiley (10.1002, 10.1111): "403 Client Error: Forbidden" for every article
    # (hyperspy/hyperspy#3108, spinalcordtoolbox/spinalcordtoolbox#4649).
    r"https://onlinelibrary\.wiley\.com/",
    # SAGE (10.1177): Cloudflare bot protection, 403/503 (bids-standard/bids-website#223).
    r"https://journals\.sagepub\.com/",
    # Oxford University Press (10.1093): 403 to link checkers
    # (neurodesk/neurodesk.github.io-hugo#638).
    r"https://academic\.oup\.com/",
    # Science / AAAS (10.1126): 403 to link checkers (the-turing-way/the-turing-way#3116).
    r"https://(www\.)?science\.org/",
    # NEJM (10.1056): 403 to link checkers (FreeGym/FreeGym-Wiki#117).
    r"https://(www\.)?nejm\.org/",
    # Cambridge University Press (10.1017, 10.1192, e.g. BJPsych): 403 to link checkers
    # (buddhist-uni/buddhist-uni.github.io#398).
    r"https://(www\.)?cambridge\.org/",
]

SETTINGS: dict[str, Any] = {
    # Publisher sites are slow; 20 s per request is generous but bounded.
    "linkcheck_timeout": 20,
    # A failing link is tried three times before it is reported: one network hiccup or
    # a server restart should not fail the check.
    "linkcheck_retries": 3,
    # NCBI (PubMed) answers bursts with 429 and a Retry-After; Sphinx waits and retries,
    # but gives up on a host after two minutes of back-off rather than the default five.
    "linkcheck_rate_limit_timeout": 120,
    # Few workers: most links go to two hosts (doi.org, PubMed), which rate-limit.
    "linkcheck_workers": 4,
    # Redirects that are expected, so they count as "working", not "redirected".
    "linkcheck_allowed_redirects": {
        # doi.org resolves every DOI by redirecting to the publisher's landing page.
        r"https://doi\.org/.*": r"https?://.*",
        # PubMed normalises its own addresses (trailing slash, legacy ids).
        r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*": r"https://pubmed\.ncbi\.nlm\.nih\.gov/.*",
    },
    # Anchors stay checked: a "#section" link that no longer exists is broken for a
    # reader, and Sphinx only downloads a page (GET instead of HEAD) when its link has an
    # anchor. The exception is DOI links: the fragment is passed on to the publisher,
    # whose pages build their section ids with JavaScript, so it cannot be found in the
    # HTML and would be reported as "Anchor not found" although the page is fine.
    "linkcheck_anchors": True,
    "linkcheck_anchors_ignore_for_url": [r"https://doi\.org/.*"],
    # Nothing the book links to is ignored outright. The only ignored addresses are the
    # redirect destinations above (see _BOT_BLOCKING_PUBLISHERS). Deliberately *not*
    # here: localhost/127.0.0.1 (the preview address appears only in README.md, which
    # is in conf.py's exclude_patterns and never read by Sphinx).
    "linkcheck_ignore": list(_BOT_BLOCKING_PUBLISHERS),
    # A timeout counts as broken. This is also what makes Sphinx retry it: only
    # "broken" results are retried (linkcheck_retries), "timeout" ones are not. A link
    # that does not answer 3 x 20 s is unreachable for a reader, too.
    "linkcheck_report_timeouts_as_broken": True,
    # Say who is asking (Sphinx's default claims to be Firefox 100). NCBI asks automated
    # clients to identify themselves; doi.org does not mind either way.
    "user_agent": (
        f"Mozilla/5.0 (compatible; ketamine-for-mental-health-linkcheck/1.0; "
        f"Sphinx/{sphinx.__version__})"
    ),
}


# -- Preflight ---------------------------------------------------------------------------


class NoNetwork(Exception):
    """The preflight host cannot be reached; the message says why, in a few words."""


def _proxy_for(host: str) -> str | None:
    """The HTTPS proxy the standard environment variables configure for ``host``."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get("https")


def _resolve(host: str, timeout: float) -> None:
    """getaddrinfo has no timeout of its own; a resolver that hangs counts as failing."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, 443, type=socket.SOCK_STREAM)
        future.result(timeout=timeout)
    except (OSError, concurrent.futures.TimeoutError) as err:
        raise NoNetwork(f"cannot resolve {host}") from err
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def check_network(host: str = PREFLIGHT_HOST, timeout: float = PREFLIGHT_TIMEOUT) -> None:
    """Raise :class:`NoNetwork` unless ``host`` resolves and answers over HTTPS.

    Behind an HTTPS proxy the proxy does the name lookup, so only the request is made.
    Any HTTP answer, even an error status, proves the network works.
    """
    if _proxy_for(host) is None:
        _resolve(host, timeout)
    request = urllib.request.Request(
        f"https://{host}/", method="HEAD", headers={"User-Agent": SETTINGS["user_agent"]}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise NoNetwork(f"cannot connect to https://{host}/: {reason}") from err


def preflight(host: str | None = None, timeout: float = PREFLIGHT_TIMEOUT) -> int:
    """Exit status 0 if the network works, else 2 after one explanatory line."""
    host = host or os.environ.get(PREFLIGHT_HOST_ENV) or PREFLIGHT_HOST
    try:
        check_network(host, timeout)
    except NoNetwork as err:
        print(f"linkcheck: no network ({err}); external links were not checked", file=sys.stderr)
        return 2
    print(f"linkcheck: network OK ({host} answers over HTTPS)")
    return 0


# -- Summary -----------------------------------------------------------------------------

# Sphinx's statuses, in the order the summary lists them, with the summary's names.
STATUS_LABELS = {
    "broken": "broken",
    "redirected": "redirected",
    "working": "ok",
    "ignored": "ignored",
    "timeout": "timeout",
    "unchecked": "unchecked",
}


def read_results(path: Path) -> list[dict[str, Any]]:
    """The records of Sphinx's output.json (one JSON object per line).

    "rate-limited" records are dropped: Sphinx writes one each time it postpones a link
    and then a second, final record for the same link.
    """
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not a JSON line ({err.msg})") from None
        if not isinstance(record, dict) or "status" not in record:
            raise ValueError(f"{path}:{number}: not a linkcheck record")
        if record["status"] != "rate-limited":
            records.append(record)
    return records


def count_statuses(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Counts under the summary's labels; statuses Sphinx may add later keep their name."""
    found = Counter(record["status"] for record in records)
    counts = {label: found.pop(status, 0) for status, label in STATUS_LABELS.items()}
    counts.update(sorted(found.items()))
    return counts


def _where(record: dict[str, Any]) -> str:
    return f"{record.get('filename', '?')}:{record.get('lineno', '?')}"


def format_summary(records: Sequence[dict[str, Any]], source: str = "output.json") -> str:
    """The report printed by ``--summary``."""
    counts = count_statuses(records)
    lines = [f"linkcheck summary of {source}: {len(records)} links"]
    lines += [f"  {label:<11}{number:>5}" for label, number in counts.items()]

    def section(status: str, title: str, detail) -> None:
        chosen = sorted(
            (r for r in records if r["status"] == status),
            key=lambda r: (str(r.get("filename", "")), r.get("lineno") or 0),
        )
        if chosen:
            lines.append("")
            lines.append(title)
            lines.extend(f"  {_where(r)}: {r['uri']}{detail(r)}" for r in chosen)

    section("broken", "Broken:", lambda r: f" - {r.get('info') or 'no reason given'}")
    section(
        "timeout",
        "Timed out (not counted as broken):",
        lambda r: f" - {r.get('info') or 'timeout'}",
    )
    section(
        "redirected",
        "Redirected (link the final address instead):",
        lambda r: f" -> {r.get('info')}" + (f" ({r['code']})" if r.get("code") else ""),
    )
    return "\n".join(lines)


def summary(path: Path) -> int:
    """Print the summary of ``path``; 1 if a link is broken, 2 if there is no report."""
    try:
        records = read_results(path)
    except FileNotFoundError:
        print(f"linkcheck: {path} not found; run sphinx-build -b linkcheck first", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"linkcheck: {err}", file=sys.stderr)
        return 2
    print(format_summary(records, str(path)))
    broken = sum(1 for record in records if record["status"] == "broken")
    if broken:
        print(f"\nlinkcheck: {broken} broken link{'s' if broken != 1 else ''}")
        return 1
    return 0


# -- CLI ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ketamine_timelines.linkcheck",
        description="Network preflight and result summary for sphinx-build -b linkcheck.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--preflight",
        action="store_true",
        help=f"check that {PREFLIGHT_HOST} resolves and answers over HTTPS (exit 2 if not)",
    )
    action.add_argument(
        "--summary",
        metavar="OUTPUT_JSON",
        type=Path,
        help="summarise Sphinx's output.json (exit 1 if a link is broken)",
    )
    parser.add_argument(
        "--host",
        help=f"preflight host (default: ${PREFLIGHT_HOST_ENV} or {PREFLIGHT_HOST})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=PREFLIGHT_TIMEOUT,
        help="preflight timeout in seconds per step (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.preflight:
        return preflight(args.host, args.timeout)
    return summary(args.summary)


if __name__ == "__main__":
    sys.exit(main())
