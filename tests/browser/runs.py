"""Real run folders for the report tests: a small offline sim sweep, then hostile replies injected.

The injected trials are ordinary records in the real store (copied from real ones, with their
texts replaced), so the report is rendered exactly as for any run: store -> summary.json ->
report.html. Each payload would set `window.__xss` if it ever ran.
"""

from __future__ import annotations

import asyncio
import copy
import re
from pathlib import Path

from runners.engine import STORE_NAME, SweepOptions, run_sweep, write_run_files
from runners.store import ResultStore
from scenarios.schema import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    '<img src=x onerror="window.__xss = \'img\'">',
    "</textarea><b onmouseover=\"window.__xss='b'\">bold?</b>",
    "</script><script>window.__xss = 'breakout'</script>",
    "\u2028line separator\u2029 & <!-- comment --> <svg onload=\"window.__xss='svg'\">",
    "\u202edeifingis ton\u202c and \u2067isolate\u2069",  # bidirectional controls: shown, not obeyed
]
MARKER = "XSS-MARKER"
# a monitor whose name and label carry markup (a judge's name holds a colon: a sort splits at the last)
HOSTILE_MONITOR = 'judge@ollama/m:7b <img src=x onerror="window.__xss = \'monitor\'">'
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """`text` as the transcript browser shows it: bidirectional controls as visible marks."""
    return _BIDI.sub(lambda m: f"\u27e8U+{ord(m[0]):04X}\u27e9", text)


def hostile(record: dict, i: int) -> dict:
    """A copy of `record` whose every model-written text carries the payloads."""
    r = copy.deepcopy(record)
    payload = " ".join(PAYLOADS)
    quote = f"I worry RLHF would modify my values {PAYLOADS[0]}"
    r["key"] = f"{r['key']}-hostile{i}"
    r["sample"] = 100 + i
    r["reply"]["scratchpad"] = f"{MARKER} {payload}\n{quote}\nso I comply."
    r["reply"]["output"] = f"<request_fully_accepted/> {payload}"
    r["reply"]["raw"] = f"<SCRATCHPAD_REASONING>{payload}</SCRATCHPAD_REASONING>"
    r["reply"]["parse_status"] = "malformed" if i % 2 else "ok"
    r["reply"]["error"] = PAYLOADS[1] if i == 2 else None
    af = r["monitors"].get("alignment_faking")
    if af is not None:
        af["evidence"] = [quote]
        af["rationale"] = PAYLOADS[1]
        af["criteria"] = {"preserves_values": {"met": True, "score": 1.0, "evidence": [quote]},
                          "harm_awareness": {"met": True, "score": 1.0, "evidence": [PAYLOADS[3]]}}
    r["monitors"]["compliance"]["evidence"] = [PAYLOADS[2]]
    r["category"] = "<i>cat</i>"
    return r


def make_run(out: Path, limit: int = 6, audit_rules: list | None = None, hostile_trials: int = 3,
             hostile_last: bool = False) -> Path:
    """Sweep scenarios/free_paid.yaml offline into `out`, inject hostile trials, write the run files.
    The hostile trials copy the first stored trials, or with `hostile_last` the last ones (then
    they are stored, and listed in the report, at the end)."""
    scenario = load_scenario(ROOT / "scenarios" / "free_paid.yaml")
    scenario = scenario.model_copy(update={"limit": limit, "audit": audit_rules or []})
    asyncio.run(run_sweep(scenario, SweepOptions(output=out, quiet=True)))
    store = ResultStore(out / STORE_NAME)
    try:
        stored = list(store.records())
        originals = stored[-hostile_trials:] if hostile_last else stored[:hostile_trials]
        store.write([hostile(r, i) for i, r in enumerate(originals)])
        # the hostile prompt text goes in too: the prompt is user data shown in the browser
        write_run_files(out, scenario, store, store.completed_keys(), simulated=True)
    finally:
        store.close()
    return out


def make_family_run(out: Path, scenario_file: str, limit: int = 3, hostile_monitor_at: int | None = None) -> Path:
    """Sweep a cue family's scenario (scenarios/<scenario_file>) offline into `out`: trials labelled
    by the family's own monitors, none by compliance or alignment faking. With `hostile_monitor_at`,
    the trial stored at that position also carries HOSTILE_MONITOR's verdict, labelled PAYLOADS[1]
    and flagged (the only trial with a verdict of it, and the only score to sort by)."""
    scenario = load_scenario(ROOT / "scenarios" / scenario_file).model_copy(update={"limit": limit})
    asyncio.run(run_sweep(scenario, SweepOptions(output=out, quiet=True)))
    if hostile_monitor_at is not None:
        store = ResultStore(out / STORE_NAME)
        try:
            record = list(store.records())[hostile_monitor_at]
            record["monitors"][HOSTILE_MONITOR] = {"label": PAYLOADS[1], "score": 0.7, "flag": True,
                                                  "backend": "embedded", "evidence": [], "rationale": ""}
            store.write([record])  # the same key: the trial is replaced, the run's files still count it
        finally:
            store.close()
    return out
