"""The patient guide's numbers, computed from the data set when the page is read.

``{answer}`esketamine-day28:extra``` writes "14": how many more people out of 100
responded with esketamine than with the comparison treatment at day 28, computed by
``ketamine_timelines.answers`` from the rows of ``data/onset_timelines.csv``. Nothing in
the guide's "how fast, and for how many?" answer is typed by hand, so a data edit cannot
leave an old number on the page: the page depends on the data set and is read again.
A wrong name or field is one error naming the page and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxRole

from book_execution import DATA_FILES


def _points(env: Any) -> list[Any]:
    """The data set, read once per file version (a page may hold a dozen answers)."""
    from ketamine_timelines.data import load_points

    srcdir = Path(env.srcdir)
    data, bib = (srcdir / name for name in DATA_FILES)
    for path in (data, bib):
        env.note_dependency(str(path))
    key = (str(data), data.stat().st_mtime_ns, bib.stat().st_mtime_ns)
    cache = _points.__dict__.setdefault("cache", {})
    if key not in cache:
        cache.clear()
        cache[key] = load_points(data, bib_path=bib)
    return cache[key]


class AnswerRole(SphinxRole):
    """``{answer}`name:field```: a number the guide states, computed from the data set."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        from ketamine_timelines.answers import answer
        from ketamine_timelines.data import DataError

        spec = self.text.strip()
        try:
            points = _points(self.env)
            text = answer(points, spec)
        except (DataError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            return [], [self.inliner.reporter.error(f"answer: {message}", line=self.lineno)]
        return [nodes.inline(text, text, classes=["kt-answer"])], []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("answer", AnswerRole())
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
