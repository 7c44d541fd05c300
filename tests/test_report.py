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
from browser.runs import PAYLOADS, make_run

from reports.html import render_report
from reports.payload import script_safe_json

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
    data = re.search(r'<script type="application/json" id="trial-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert "<" not in data
    assert "\\u003cscript\\u003ewindow.__xss" in data
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


def test_generic_sections_render_as_tables_and_large_runs_embed_trials_compressed(run):
    summary_path = run / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["sections"] = [{"id": "weak_strong", "title": "Weak-to-strong deception", "note": "<b>note</b>",
                            "columns": ["area", "score"], "rows": [["known", 0.25], {"area": "unknown", "score": 0.5}]}]
    summary_path.write_text(json.dumps(summary))
    html = render_report(run, gzip_above=0).read_text()
    assert 'id="section-weak_strong"' in html and "Weak-to-strong deception" in html
    assert "&lt;b&gt;note&lt;/b&gt;" in html and "<td>unknown</td>" in html and "<td>0.25</td>" in html
    assert 'data-encoding="gzip-base64"' in html
    data = re.search(r'id="trial-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    payload = json.loads(gzip.decompress(base64.b64decode(data)))
    assert len(payload["rows"]) == summary["n_trials"]


def test_report_cli_rerenders_and_rejects_a_non_run_folder(run, tmp_path):
    (run / "report.html").unlink()
    done = subprocess.run([sys.executable, "-m", "runners.report", str(run)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (run / "report.html").exists()
    bad = subprocess.run([sys.executable, "-m", "runners.report", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a run folder" in bad.stderr and "Traceback" not in bad.stderr
