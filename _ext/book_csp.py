"""A Content-Security-Policy on every web page, so that browsers enforce the book's
promise that no page loads anything from another host.

The policy is a ``<meta http-equiv="Content-Security-Policy">`` (GitHub Pages and Read the
Docs do not let a project set HTTP headers). Scripts run only from the book's own files
and from the inline scripts the theme writes into the page (Furo's theme switch at the
top of ``<body>``), each allowed by the SHA-256 hash of its exact text, computed from the
page as it is rendered: a change of the theme's script changes the hash with it, and an
inline script that a page's content adds is blocked. Styles may be inline (Matplotlib's
SVG figures and notebook outputs carry ``style`` attributes); they cannot load anything
from elsewhere either, since ``default-src 'self'`` covers fonts and images.

A ``<meta>`` policy cannot set ``frame-ancestors``, ``report-uri`` or ``sandbox``; those
need an HTTP header, which the hosts do not offer.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from sphinx.application import Sphinx

from book_builders import HTML_BUILDERS, post_process_pages

PLACEHOLDER = "book-csp-placeholder"
#: The policy without its script hashes; ``{scripts}`` becomes the hash sources.
POLICY = (
    "default-src 'self'; "
    "script-src 'self'{scripts}; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'"
)
#: An inline script: a <script> start tag without src=, its text, and the end tag.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def policy_for(html: str) -> str:
    hashes = dict.fromkeys(script_hash(m.group(1)) for m in INLINE_SCRIPT.finditer(html))
    return POLICY.format(scripts="".join(" " + h for h in hashes))


def with_policy(html: str) -> str:
    """The page with its placeholder replaced by the policy for its inline scripts."""
    return html.replace(PLACEHOLDER, policy_for(html), 1)


def add_placeholder(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if app.builder.name not in HTML_BUILDERS:
        return
    meta = f'<meta http-equiv="Content-Security-Policy" content="{PLACEHOLDER}" />\n'
    # First in <head>'s meta tags: the policy applies from where it appears.
    context["metatags"] = meta + context.get("metatags", "")


def wrap_renderer(app: Sphinx) -> None:
    """Fill in each page's policy once the template has rendered it."""
    post_process_pages(app, with_policy)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", wrap_renderer)
    app.connect("html-page-context", add_placeholder, priority=100)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
