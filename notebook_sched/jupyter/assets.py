"""The panel's browser side: ES module and style sheet, from ``static/``.

The JavaScript lives in a few files, each one part of the panel (helpers,
header, table, timeline, runs, the view itself); they are joined, in that
order, into the one ES module anywidget loads.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CSS", "ESM", "PARTS"]

STATIC = Path(__file__).with_name("static")
PARTS = ("util.js", "header.js", "table.js", "timeline.js", "runs.js", "main.js")

ESM = "\n".join((STATIC / part).read_text(encoding="utf-8") for part in PARTS)
CSS = (STATIC / "panel.css").read_text(encoding="utf-8")
