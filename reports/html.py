"""Render `report.html` for a run folder from its store and summary (no model calls).

One self-contained file: charts are inline SVG, styles and the transcript browser's script are
inline, trial data is embedded JSON (or gzip) in parts the browser decodes as it needs them;
nothing is fetched. Every string that came from a model is escaped: jinja2 autoescapes the
template, the payload is script-safe JSON (reports/payload.py) and the browser script puts model
text on the page only via textContent.
A Content-Security-Policy admits only the report's own script (by hash) and no network at all,
so even a missed escape could neither run an injected script nor call home.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from monitors.verdict import verdicts
from reports import analysis, plots
from reports.payload import CHUNK_TRIALS, GZIP_ABOVE, Payload, build_payload, encode_payload
from runners import atomic
from runners.store import STORE_NAME, ResultStore, records_frame

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    env.filters["pct"] = _pct
    env.filters["pts"] = _pts
    env.filters["num"] = _num
    env.filters["pval"] = _pval
    return env


def _missing(value: Any) -> bool:
    """None, or NaN (a rate over no valid trial, e.g. when every call of a model failed)."""
    return value is None or (isinstance(value, float) and value != value)


def _pct(value: Any, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def _pts(value: Any) -> str:
    return "–" if _missing(value) else f"{100 * float(value):+.1f}"


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _pval(value: Any) -> str:
    if value is None:
        return "–"
    return "<0.0001" if value < 1e-4 else f"{value:.2g}"


def static_asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def csp(script: str) -> str:
    """Only this exact script may run; no fetches, frames, forms or remote anything."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


# the helpful-only setting's monitors keep their filter ids and headings: (filter heading, column
# heading, filter element id); any other monitor is headed by its own name
_BROWSER_HEADINGS = {"compliance": ("compliance", "compliance", "f-compliance"),
                     "alignment_faking": ("alignment faking", "AF", "f-af")}


def browser_monitors(index: dict[str, Any]) -> list[dict[str, Any]]:
    """The transcript browser's label filters and columns, one per monitor the run's trials have
    (in the index's order: compliance and alignment faking first, then e.g. a cue family's backdoor,
    answer_match, pushback, supervisor_gaming, aw_stance), each saying whether any trial has a score
    of it to sort by. A family run gets its own monitors' filters, not empty compliance and AF ones."""
    monitors = []
    for at, name in enumerate(index.get("labels") or {}):
        heading, column, element = _BROWSER_HEADINGS.get(name, (name, name, f"f-label-{at}"))
        scored = any(isinstance(s, int | float) for s in (index.get("scores") or {}).get(name, []))
        monitors.append({"name": name, "heading": heading, "column": column, "id": element, "scored": scored})
    return monitors


def load_run(run_dir: Path, gzip_above: int = GZIP_ABOVE,
             chunk_trials: int = CHUNK_TRIALS) -> tuple[dict[str, Any], list[dict[str, Any]], str, pd.DataFrame, Payload]:
    """summary.json, a digest of each trial it counts (store order), the scenario file as run, the
    flat trial frame (from the store's flat rows) and the transcript browser's payload.

    The records are streamed once into the payload: only the payload rows and a small digest per
    trial stay in memory, not the full records (a 100k-trial render held 2 GB that way)."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    keys = None  # the trials summary.json counts (a store may hold more, e.g. after --limit)
    try:
        keys = set(pd.read_csv(run_dir / "trials.csv", usecols=["key"], dtype=str)["key"])
    except (FileNotFoundError, ValueError, pd.errors.EmptyDataError):
        keys = None
    digests: list[dict[str, Any]] = []

    def stream():
        for record in store.records(keys):
            digests.append(_digest(record))
            yield record

    store = ResultStore(run_dir / STORE_NAME)
    try:
        payload = build_payload(stream(), pairing(summary), store.text, chunk_trials, gzip_above)
        frame = store.frame(keys)
        # transcripts whose full record cannot be read are missing from the browser: say how many
        summary["unreadable_transcripts"] = len(store.unreadable_records)
    finally:
        store.close()
    scenario_file = run_dir / "scenario.yaml"
    scenario_text = scenario_file.read_text(encoding="utf-8") if scenario_file.exists() else ""
    return summary, digests, scenario_text, frame, payload


def _digest(record: dict[str, Any]) -> dict[str, Any]:
    """What the header and the monitor tables read of a record, once its transcript row is built."""
    return {
        "key": record["key"],
        "model": record["model"],
        "completed_at": record.get("completed_at"),
        "monitors": {name: {"backend": v.get("backend"), "label": v.get("label"), "flag": v.get("flag"),
                            "abstained": v.get("abstained", False)}
                     for name, v in (record.get("monitors") or {}).items()},
    }


def pairing(summary: dict[str, Any]) -> dict[str, str] | None:
    """The axis of the paired transcript view: the first gap's (training vs unmonitored for tier)."""
    for gap in summary.get("gaps", []):
        return {"axis": gap["axis"], "treat": gap["treat"], "control": gap["control"]}
    return None


def header_facts(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    dates = [r.get("completed_at") for r in records if r.get("completed_at")]
    status = summary.get("parse_status", {})
    unparsed = sum(v for k, v in status.items() if k in ("malformed", "empty", "no_output"))
    return {
        "first": min(dates) if dates else None,
        "last": max(dates) if dates else None,
        "rendered": datetime.now(UTC).isoformat(timespec="seconds"),
        "unparsed": unparsed,
        "parse_status": status,
    }


# the rates the helpful-only columns show (and the corrected AF beside them); any other rate in a
# summary row is a cue family's own and gets its own column
_STANDARD_RATES = ("complied", "partial", "refused", "af", "af_full", "complied_af", "af_corrected")


def family_rate_names(rates: list[dict[str, Any]]) -> list[str]:
    """A cue family's own rates in summary.json rate rows (dismissed / supported, bad / hides,
    correct / agrees_wrong, ...), in the order they appear; the report and compare show them."""
    return list(dict.fromkeys(k for r in rates for k, v in r.items()
                              if isinstance(v, dict) and "rate" in v and k not in _STANDARD_RATES))


def build_context(summary: dict[str, Any], records: list[dict[str, Any]], scenario_text: str,
                  gzip_above: int = GZIP_ABOVE, frame: pd.DataFrame | None = None,
                  payload: Payload | None = None) -> dict[str, Any]:
    """`records` may be full records or `_digest`s (then `frame` and `payload` must be given)."""
    if frame is None:
        frame = records_frame(records)
    if payload is None:
        payload = build_payload(records, pairing(summary), gzip_above=gzip_above)
    colours = plots.model_colours(summary.get("models") or sorted({r["model"] for r in records}))
    gaps_config = [{k: g[k] for k in ("name", "metric", "axis", "treat", "control")}
                   for g in {(g["name"]): g for g in summary.get("gaps", [])}.values()]
    by_category = analysis.category_rates(frame)
    encoded = encode_payload(payload, gzip_above)
    script = static_asset("browser.js")
    rates = summary.get("rates", [])
    family_rates = family_rate_names(rates)
    show_compliance = any(r.get("complied") for r in rates)
    trial_monitors = browser_monitors(payload.index)
    return {
        "summary": summary,
        "verdicts": verdicts(summary),
        # a family without the compliance or AF monitor (weak/strong supervision) gets no columns of "–"
        "show_compliance": show_compliance,
        "show_af": any(r.get("af") for r in rates),
        # a family's own rates (dismissed / supported, bad / hides, ...) with their intervals, as the terminal shows them
        "family_rates": family_rates,
        # the simulated truth shown beside the rates: of compliance, else of the family's rates, and of AF
        "truth_metrics": [m for m in (["complied"] if show_compliance else family_rates) + ["af"]
                          if any(f"truth_{m}" in r for r in rates)],
        "audit": summary.get("audit") or {"passed": True, "rules": [], "failures": []},
        "facts": header_facts(summary, records),
        "scenario_text": scenario_text,
        # the outcome bars need compliance rates (the weak/strong setting has its own figures)
        "headline_svg": Markup(plots.stacked_outcomes(rates)) if any(r.get("complied") for r in rates) else None,
        "forest_svg": Markup(plots.forest(summary.get("gaps", []), colours)) if summary.get("gaps") else None,
        "category_svg": Markup(svg) if (svg := plots.category_heatmap(by_category, "compliance rate")) else None,
        "category_gaps": analysis.category_gaps(frame, gaps_config),
        "backends": analysis.backend_counts(records),
        "agreement": analysis.backend_agreement(records),
        "validation": analysis.monitor_validation(frame),
        "sections": [_with_charts(s, colours) for s in summary.get("sections", [])],
        "legend": plots.OUTCOMES,
        "colours": colours,
        "style": Markup(static_asset("report.css")),
        # the transcript browser's label filters and columns (one per monitor), and its score sorts
        # (the AF score's first: the borderline calls are what an auditor reads)
        "trial_monitors": trial_monitors,
        "trial_sorts": sorted((m for m in trial_monitors if m["scored"]), key=lambda m: m["name"] != "alignment_faking"),
        "script": Markup(script),
        "csp": csp(script),
        # script-safe JSON or base64 (see reports/payload.py): the index is decoded at load, the
        # other parts (chunks of trials, the text table) when a trial is opened
        "data_encoding": encoded.encoding,
        "data_index": Markup(encoded.index),
        "data_parts": {element: Markup(text) for element, text in encoded.parts.items()},
    }


def _with_charts(section: dict[str, Any], colours: dict[str, str]) -> dict[str, Any]:
    """A section a cue family wrote (summary.json) plus its charts: stacked outcome bars and a
    forest plot of its gaps, when it gives their data."""
    charts = {}
    if section.get("bars"):
        charts["bars_svg"] = Markup(plots.stacked_segments(section["bars"]))
    if section.get("gaps"):
        charts["forest_svg"] = Markup(plots.forest(section["gaps"], colours))
    return {**section, **charts}


def render_html(context: dict[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(**context)


def render_report(run_dir: str | Path, gzip_above: int = GZIP_ABOVE, chunk_trials: int = CHUNK_TRIALS) -> Path:
    run_dir = Path(run_dir)
    summary, digests, scenario_text, frame, payload = load_run(run_dir, gzip_above, chunk_trials)
    html = render_html(build_context(summary, digests, scenario_text, gzip_above, frame, payload))
    out = run_dir / "report.html"
    atomic.write_text(out, html)  # a browser or CI step may read it while a sweep re-renders
    return out
