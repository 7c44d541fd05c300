"""One report comparing runs side by side (e.g. a new model against last release's).

Reads only each run folder's summary.json (the documented interface), so runs made by different
tool versions or on different machines compare as long as they share that format. Every model
of every run gets its own colour, kept across the charts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from reports import plots
from reports.html import _environment, csp, static_asset


class RunFolderError(Exception):
    """A path given to compare that is not a run folder; str() is the line to print."""


def load_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{run_dir}: not a run folder (no summary.json)") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON (line {exc.lineno})") from None


def run_labels(run_dirs: list[Path]) -> list[str]:
    """Short unique names: the folder name, made unique with its parent when two clash."""
    names = [Path(d).resolve().name for d in run_dirs]
    return [f"{Path(d).resolve().parent.name}/{n}" if names.count(n) > 1 else n for d, n in zip(run_dirs, names, strict=True)]


def build_compare_context(run_dirs: list[Path]) -> dict[str, Any]:
    summaries = [load_summary(d) for d in run_dirs]
    labels = run_labels(run_dirs)
    runs, rates, gaps = [], [], []
    for label, directory, summary in zip(labels, run_dirs, summaries, strict=True):
        runs.append({"label": label, "path": str(directory), "summary": summary,
                     "audit": summary.get("audit") or {"passed": True, "rules": [], "failures": []}})
        rates += [{**row, "run": label} for row in summary.get("rates", [])]
        gaps += [{**gap, "run": label} for gap in summary.get("gaps", [])]
    series = list(dict.fromkeys(f"{r['run']} · {r['model']}" for r in rates + gaps))
    colours = plots.model_colours(series)
    script = static_asset("compare.js")
    return {
        "runs": runs,
        "rates": rates,
        "gaps": gaps,
        "gap_names": list(dict.fromkeys(g["name"] for g in gaps)),
        "colours": colours,
        "rendered": datetime.now(UTC).isoformat(timespec="seconds"),
        "headline_svg": Markup(plots.stacked_outcomes(rates, label_of=lambda r: f"{r['run']} · {r['model']}\n{r['condition']}")) if rates else None,
        "forest_svg": Markup(plots.forest(
            gaps, colours,
            label_of=lambda g: f"{g['name']} · {g['run']} · {g['model']}" + (
                " · " + ",".join(f"{k}={v}" for k, v in g["within"].items()) if g.get("within") else ""),
            colour_key=lambda g: f"{g['run']} · {g['model']}")) if gaps else None,
        "style": Markup(static_asset("report.css")),
        "script": Markup(script),
        "csp": csp(script),
    }


def render_compare(run_dirs: list[Path], output: Path) -> Path:
    html = _environment().get_template("compare.html.j2").render(**build_compare_context(run_dirs))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    return output
