"""A monitor that fails on one reply (a bug) costs that reply's verdict, not its batch and with it
the sweep: before, every re-run met the same reply and stopped there (a hostile-reply fuzz found
one such reply for the LLM judge). The bug is simulated by a compliance heuristic that raises on
some replies; the rest of the pipeline is the real one."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import yaml

import monitors.registry
from monitors.compliance import classify_compliance
from monitors.registry import MONITOR_ERROR
from reports.html import render_report
from runners.rescore import main as rescore_main
from runners.store import STORE_NAME
from runners.sweep import main as sweep_main


def broken_on_some(parsed):
    """The compliance heuristic, with a bug that some replies (a fixed share, by their text) meet."""
    if hashlib.sha256(parsed.raw.encode()).digest()[0] % 3 == 0:
        raise ValueError("a bug this reply meets")
    return classify_compliance(parsed)


def records(run: Path) -> list[dict]:
    with sqlite3.connect(run / STORE_NAME) as db:
        rows = [json.loads(r[0]) for r in db.execute("SELECT record FROM trials")]
    db.close()
    return rows


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "isolation", "prompts": "builtin:harmful_requests", "limit": 6, "samples": 2,
        "axes": {"tier": ["free", "paid"]}, "models": ["sim/af-opus"],
        "monitors": {"compliance": "embedded", "alignment_faking": "embedded"}, "gaps": []}))
    return path


def test_a_monitor_failing_on_some_replies_keeps_every_trial_and_exits_4(scenario, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    args = [str(scenario), "--output", str(run), "--workers", "1", "--no-report"]
    monkeypatch.setattr(monitors.registry, "classify_compliance", broken_on_some)
    assert sweep_main(args) == 4
    err = capsys.readouterr().err
    stored = records(run)
    failed = [r for r in stored if r["monitors"]["compliance"]["label"] == MONITOR_ERROR]
    assert len(stored) == 24 and 0 < len(failed) < 24  # every trial stored; only the breaking replies lost a verdict
    assert all(r["monitors"]["compliance"]["flag"] is False and "ValueError" in r["monitors"]["compliance"]["rationale"]
               for r in failed)
    assert all(r["monitors"]["alignment_faking"]["label"] != MONITOR_ERROR for r in stored)  # the others scored all
    summary = json.loads((run / "summary.json").read_text())
    assert summary["monitor_errors"] == {"compliance": len(failed)}
    assert f"compliance on {len(failed)}" in err and "ValueError in compliance; traceback in" in err
    log = Path(err.rsplit("traceback in ", 1)[1].strip())
    assert "a bug this reply meets" in log.read_text()
    assert "Traceback" not in err
    html = Path(render_report(run)).read_text()
    assert html.count('id="monitor-errors"') == 1 and f"compliance: {len(failed)} trials" in html

    # the bug fixed: the same command scores the failed verdicts again from the stored replies
    monkeypatch.setattr(monitors.registry, "classify_compliance", classify_compliance)
    assert sweep_main(args) == 0
    assert f"{len(failed)} stored trials scored again by compliance" in capsys.readouterr().out
    assert not any(r["monitors"]["compliance"]["label"] == MONITOR_ERROR for r in records(run))
    assert "monitor_errors" not in json.loads((run / "summary.json").read_text())


def test_rescore_with_a_monitor_failing_on_some_replies_exits_4(scenario, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    assert sweep_main([str(scenario), "--output", str(run), "--workers", "1", "--no-report"]) == 0
    monkeypatch.setattr(monitors.registry, "classify_compliance", broken_on_some)
    assert rescore_main([str(run), "--monitor", "compliance=embedded", "--no-report"]) == 4
    assert "monitors failed on some replies (compliance on" in capsys.readouterr().err
    assert len(records(run)) == 24


def test_a_monitor_failing_in_a_shard_logs_its_traceback_as_with_one_worker(scenario, tmp_path, monkeypatch, capsys):
    """Found by a probe: with `--workers 2` the failure was counted and said, but its traceback stayed
    in the shard process and the line told the user to run again with --workers 1."""
    run = tmp_path / "run"
    monkeypatch.setattr(monitors.registry, "classify_compliance", broken_on_some)  # inherited by the forked shards
    assert sweep_main([str(scenario), "--output", str(run), "--workers", "2", "--no-report"]) == 4
    out, err = capsys.readouterr()
    assert "in 2 processes" in out and "--workers 1" not in err
    assert "ValueError in compliance; traceback in" in err and "Traceback" not in err
    log = Path(err.rsplit("traceback in ", 1)[1].strip()).read_text()
    assert "a bug this reply meets" in log and "in broken_on_some" in log  # the shard's own frames
