"""Render `report.html` for a run folder from its store and summary (no model calls).

Every string that came from a model is escaped by jinja2's autoescape; StrictUndefined turns a
template typo into an error instead of a silently empty report.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from runners.store import ResultStore

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )


def render_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    store = ResultStore(run_dir / "trials.sqlite")
    try:
        records = list(store.records())
    finally:
        store.close()
    html = _environment().get_template("report.html.j2").render(summary=summary, records=records)
    out = run_dir / "report.html"
    out.write_text(html, encoding="utf-8")
    return out
