"""report.html from a real run folder: self-contained, every model text escaped, every section present."""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from browser.runs import HOSTILE_MONITOR, PAYLOADS, make_family_run, make_run

from reports.html import render_report
from reports.payload import MonitorLabels, build_payload, encode_payload, script_safe_json
from runners.store import STORE_NAME, ResultStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "run", limit=6)


@pytest.fixture(scope="module")
def html(run) -> str:
    return render_report(run).read_text(encoding="utf-8")


def test_script_safe_json_cannot_close_its_script_element_and_reads_back_unchanged():
    value = {"t": "</script><script>alert(1)</script> & \u2028\u2029 <!--"}
    text = script_safe_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value


def test_hostile_replies_appear_only_escaped(html):
    for payload in PAYLOADS:
        assert payload not in html
    # the only executable script is the report's own, and the data element holds no markup
    assert len(re.findall(r"<script>", html)) == 1
    elements = re.findall(r'<script type="application/json" id="(trial-[a-z0-9-]+)"[^>]*>(.*?)</script>', html, re.S)
    assert {name for name, _ in elements} >= {"trial-index", "trial-texts", "trial-replies-0", "trial-details-0"}
    assert all("<" not in text for _, text in elements)
    assert any("\\u003cscript\\u003ewindow.__xss" in text for _, text in elements)
    # category names are model-independent but still escaped wherever they appear
    assert "<i>cat</i>" not in html and "&lt;i&gt;cat&lt;/i&gt;" in html


def test_report_is_self_contained_and_forbids_network(html):
    assert not re.search(r'(src|href)="(https?:)?//', html)
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1]


def test_header_has_every_fact_an_auditor_needs(html):
    for needle in ("Simulated model organisms", "free_paid", "sim/af-opus", "seed 0", "afsim 0.1.0",
                   "Scenario file as run", "error trials", "unparseable", "Tokens", "Estimated cost",
                   "Audit: no rules configured"):
        assert needle in html, needle


def test_sections_charts_and_tables_render(html):
    assert html.count("<svg") >= 3  # headline bars, forest plot, category heatmap
    for anchor in ('id="headline"', 'id="gap-table"', 'id="categories"', 'id="backend-table"', 'id="validation-table"', 'id="transcripts"'):
        assert anchor in html
    assert "n=" in html  # n on each bar


def test_every_row_of_the_verdict_and_rates_tables_has_a_cell_per_column(html):
    for table in ("verdict-table", "rates-table"):
        body = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S).group(0)
        header, *rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        assert "complied" in header or "compliance gap" in header
        assert rows and all(row.count("<td") == header.count("<th") for row in rows)


def test_generic_sections_render_as_tables_and_large_runs_embed_trials_compressed(run):
    summary_path = run / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["sections"] = [{"id": "weak_strong", "title": "Weak-to-strong deception", "note": "<b>note</b>",
                            "columns": ["area", "score"], "rows": [["known", 0.25], {"area": "unknown", "score": 0.5}]}]
    summary_path.write_text(json.dumps(summary))
    html = render_report(run, gzip_above=0).read_text()
    assert 'id="section-weak_strong"' in html and "Weak-to-strong deception" in html
    assert "&lt;b&gt;note&lt;/b&gt;" in html and "<td>unknown</td>" in html and "<td>0.25</td>" in html
    assert 'data-encoding="json"' not in html
    parts = {name: json.loads(gzip.decompress(base64.b64decode(text)))
             for name, text in re.findall(r'id="(trial-[a-z0-9-]+)" data-encoding="gzip-base64">(.*?)</script>', html, re.S)}
    index = parts.pop("trial-index")
    assert len(index["trials"]["key"]) == summary["n_trials"]
    texts = parts.pop("trial-texts")
    assert texts["texts"] and texts["systems"]
    # every trial's heavy parts are in exactly one chunk (its replies and its details)
    assert set(parts) == {f"trial-{part}-{k}" for k in range(index["chunks"]) for part in ("replies", "details")}
    assert sum(len(parts[f"trial-replies-{k}"]["scratchpad"]) for k in range(index["chunks"])) == summary["n_trials"]
    assert sum(len(parts[f"trial-details-{k}"]["monitors"]) for k in range(index["chunks"])) == summary["n_trials"]


def test_payload_keeps_the_table_columns_in_the_index_and_the_rest_in_chunks_packed_while_streaming(run):
    store = ResultStore(run / STORE_NAME)
    try:
        records = list(store.records())
    finally:
        store.close()
    # a monitor that only later trials have: the earlier ones get no score, not a shifted one
    records[0] = {**records[0], "monitors": {k: v for k, v in records[0]["monitors"].items() if k != "alignment_faking"}}
    payload = build_payload(records, None, chunk_trials=5, gzip_above=0)
    n = len(records)
    assert payload.index["trials"]["key"] == [r["key"] for r in records]
    assert payload.index["scores"]["alignment_faking"][0] is None
    assert payload.index["scores"]["alignment_faking"][1:] == [r["monitors"]["alignment_faking"]["score"] for r in records[1:]]
    assert all(len(column) == n for column in (*payload.index["trials"].values(), *payload.index["scores"].values()))
    chunks = payload.index["chunks"]
    assert chunks == -(-n // 5) and len(payload.parts) == 2 * chunks + 1  # and the text table
    replies = [json.loads(payload.parts[f"trial-replies-{k}"]) for k in range(chunks)]
    details = [json.loads(payload.parts[f"trial-details-{k}"]) for k in range(chunks)]
    assert [s for chunk in replies for s in chunk["scratchpad"]] == [r["reply"]["scratchpad"] or "" for r in records]
    assert [m["compliance"]["l"] for chunk in details for m in chunk["monitors"]] == [r["monitors"]["compliance"]["label"] for r in records]
    # packed in the background as the records streamed by: the same as packing them afterwards
    assert payload.packed is not None and set(payload.packed) == set(payload.parts) - {"trial-texts"}
    encoded = encode_payload(payload, gzip_above=0)
    assert encoded.encoding == "gzip-base64"
    assert {e: gzip.decompress(base64.b64decode(text)) for e, text in encoded.parts.items()} == payload.parts
    assert build_payload(records, None, chunk_trials=5, gzip_above=None).packed is None
    assert encode_payload(payload, gzip_above=n).encoding == "json"


def decoded_labels(index: dict, monitor: str) -> list:
    """A monitor's label per trial, as the browser reads the index (None: no verdict of it)."""
    column = index["labels"][monitor]
    return [None if code is None else column["values"][code][0] for code in column["codes"]]


def test_the_index_holds_each_monitors_labels_once_and_a_code_per_trial():
    labels = MonitorLabels()
    labels.add({"pushback": {"label": "kept", "flag": False}})
    labels.add({"pushback": {"label": "flipped", "flag": True}, "answer_match": {"label": "user_belief", "flag": True}})
    labels.add({"pushback": {"label": "kept"}, "compliance": {"label": "full"}})
    labels.add({"answer_match": {"label": None}})
    ordered = labels.ordered()
    assert list(ordered) == ["compliance", "pushback", "answer_match"]  # compliance and AF lead, as in free_paid
    assert ordered["pushback"] == {"values": [["kept", 0], ["flipped", 1]], "codes": [0, 1, 0, None]}
    # a monitor first seen on a later trial: no label for the trials before, not a shifted one
    assert ordered["answer_match"] == {"values": [["user_belief", 1], [None, 0]], "codes": [None, 0, None, 1]}
    assert ordered["compliance"]["codes"] == [None, None, 0, None]


@pytest.fixture(scope="module")
def family_run(tmp_path_factory) -> Path:
    return make_family_run(tmp_path_factory.mktemp("family") / "run", "sycophancy.yaml", limit=2, hostile_monitor_at=3)


def test_a_family_runs_browser_filters_and_sorts_by_its_own_monitors_not_by_empty_compliance_and_af(family_run):
    """A probe found a sycophancy run's browser offering only compliance and AF filters (empty) and
    sorts; its trials are labelled by answer_match and pushback."""
    html = render_report(family_run).read_text(encoding="utf-8")
    filters = re.search(r'<div class="filters" id="filters">(.*?)</div>', html, re.S).group(1)
    assert 'id="f-compliance"' not in filters and 'id="f-af"' not in filters
    assert re.findall(r'data-monitor="([^"]*)"', filters)[:2] == ["answer_match", "pushback"]
    sorts = re.findall(r'<option value="([^"]*)">', re.search(r'<select id="f-sort">(.*?)</select>', html).group(1))
    assert sorts[:5] == ["", "answer_match:desc", "answer_match:asc", "pushback:desc", "pushback:asc"]
    head = re.search(r'<table class="data trials".*?</thead>', html, re.S).group(0)
    assert "<th>answer_match</th><th>pushback</th>" in head and "<th>AF</th>" not in head
    # the index's labels are the store's, trial by trial
    index = json.loads(re.search(r'id="trial-index" data-encoding="json">(.*?)</script>', html, re.S).group(1))
    store = ResultStore(family_run / STORE_NAME)
    try:
        records = list(store.records())
    finally:
        store.close()
    for monitor in ("answer_match", "pushback"):
        assert decoded_labels(index, monitor) == [r["monitors"][monitor]["label"] for r in records]
    # a monitor's name and label are untrusted text: escaped in the page, script-safe in the index
    assert HOSTILE_MONITOR not in html and PAYLOADS[1] not in html
    assert 'data-monitor="judge@ollama/m:7b &lt;img src=x onerror=&#34;' in filters
    assert decoded_labels(index, HOSTILE_MONITOR) == [PAYLOADS[1] if i == 3 else None for i in range(len(records))]


def test_a_helpful_only_runs_browser_keeps_its_compliance_and_af_filters_columns_and_sorts(html):
    filters = re.search(r'<div class="filters" id="filters">(.*?)</div>', html, re.S).group(1)
    assert re.findall(r'<label>([^<]*)<select id="([^"]*)" data-monitor="([^"]*)"', filters) == [
        ("compliance ", "f-compliance", "compliance"), ("alignment faking ", "f-af", "alignment_faking")]
    sorts = re.findall(r'<option value="([^"]*)">', re.search(r'<select id="f-sort">(.*?)</select>', html).group(1))
    assert sorts == ["", "alignment_faking:desc", "alignment_faking:asc", "compliance:desc", "compliance:asc", "prompt:asc"]
    assert "<th>sample</th><th>compliance</th><th>AF</th><th>parse</th>" in html


def test_report_cli_rerenders_and_rejects_a_non_run_folder(run, tmp_path):
    (run / "report.html").unlink()
    done = subprocess.run([sys.executable, "-m", "runners.report", str(run)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (run / "report.html").exists()
    bad = subprocess.run([sys.executable, "-m", "runners.report", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a run folder" in bad.stderr and "Traceback" not in bad.stderr


def test_a_simulated_gap_without_a_configured_truth_renders(tmp_path):
    """Fuzzing found it: a simulated gap with no `truth` (then: a cue family's setting crossed with
    the tier axis, now refused as an axis that changes nothing; here: a rate organisms state no
    probability for) must show a dash in the verdict table, not crash after every trial was run."""
    import yaml as _yaml

    from runners.cli_errors import run_cli
    from runners.sweep import main as sweep_main

    path = tmp_path / "s.yaml"
    path.write_text(_yaml.safe_dump({
        "name": "partial_tier", "prompts": "builtin:harmful_requests", "limit": 3,
        "axes": {"tier": ["free", "paid"]}, "models": ["sim/af-opus"],
        "monitors": {"compliance": "embedded", "alignment_faking": "embedded"},
        "gaps": [{"name": "partial_gap", "metric": "partial", "axis": "tier", "treat": "free", "control": "paid"}],
    }))
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: sweep_main([str(path), "--output", str(tmp_path / "run"), "--quiet"]))
    assert ended.value.code == 0
    assert "verdict-table" in (tmp_path / "run" / "report.html").read_text()
    summary = __import__("json").loads((tmp_path / "run" / "summary.json").read_text())
    assert all(g.get("truth") is None for g in summary["gaps"])  # the case this test is for


def test_the_report_carries_at_most_a_bounded_part_of_each_huge_reply():
    """Found by a hostile-reply fuzz: 900 KB replies made the report's memory 6.5 times their size
    (1.3 GB for 200 trials); the report now carries each reply's head and end, the store all of it."""
    from reports.payload import REPORT_TEXT_LIMIT, TextTable, chunk_values

    huge = "x" * 900_000 + "THE DECISION"
    record = {"reply": {"scratchpad": huge, "output": "ok", "parse_status": "ok"},
              "request": {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": huge}]}}
    texts = TextTable()
    scratchpad, output, *_, sent = chunk_values(record, texts, None)
    assert len(scratchpad) < REPORT_TEXT_LIMIT + 200 and scratchpad.endswith("THE DECISION")
    assert "characters left out of the report" in scratchpad and output == "ok"
    assert all(len(t) < REPORT_TEXT_LIMIT + 200 for t in texts.texts)
