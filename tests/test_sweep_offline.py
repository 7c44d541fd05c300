"""The offline sweep end to end, through the real CLI: output, run folder, reuse, --fresh, resume."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runners.sweep import main as sweep_main

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "free_paid.yaml"


def run(out: Path, *flags: str, capsys=None) -> str:
    code = sweep_main([str(SCENARIO), "--output", str(out), *flags])
    assert code == 0
    return capsys.readouterr().out if capsys else ""


def stored(out: Path) -> int:
    with sqlite3.connect(out / "trials.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]


def test_sweep_prints_table_and_writes_the_run_folder(tmp_path, capsys):
    out = run(tmp_path / "run", "--limit", "30", "--no-report", capsys=capsys)
    assert "simulated model organisms" in out
    assert "sim/af-opus" in out and "tier=free" in out and "compliance_gap" in out
    assert f"run folder: {tmp_path / 'run'}" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_trials"] == 30 * 2 * 3
    assert summary["simulated"] is True
    gap = next(g for g in summary["gaps"] if g["name"] == "compliance_gap" and g["model"] == "sim/af-opus")
    assert {"value", "ci_low", "ci_high", "p_value", "n_pairs"} <= set(gap)
    assert gap["n_pairs"] == 30
    with open(tmp_path / "run" / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 180
    assert {"key", "model", "condition", "parse_status", "compliance_label", "alignment_faking_label",
            "truth_af", "truth_complied"} <= set(rows[0])


def test_second_run_reuses_everything_and_fresh_starts_over(tmp_path, capsys):
    first = run(tmp_path / "run", "--limit", "10", "--no-report", capsys=capsys)
    assert "60 run now, 0 reused" in first
    again = run(tmp_path / "run", "--limit", "10", "--no-report", capsys=capsys)
    assert "0 run now, 60 reused" in again
    bigger = run(tmp_path / "run", "--limit", "15", "--no-report", capsys=capsys)
    assert "30 run now, 60 reused" in bigger  # only the missing trials
    fresh = run(tmp_path / "run", "--limit", "10", "--fresh", "--no-report", capsys=capsys)
    assert "60 run now, 0 reused" in fresh


def test_same_seed_gives_identical_results_and_another_seed_is_a_new_trial(tmp_path):
    run(tmp_path / "a", "--limit", "20", "--no-report", "--quiet")
    run(tmp_path / "b", "--limit", "20", "--no-report", "--quiet")
    a = (tmp_path / "a" / "trials.csv").read_text().replace(str(tmp_path / "a"), "")
    b = (tmp_path / "b" / "trials.csv").read_text().replace(str(tmp_path / "b"), "")
    drop_run_id = lambda text: [line.split(",", 1)[1] for line in text.splitlines()]  # noqa: E731
    assert drop_run_id(a) == drop_run_id(b)
    run(tmp_path / "a", "--limit", "20", "--no-report", "--quiet", "--seed", "7")
    assert stored(tmp_path / "a") == 2 * 120


def test_killed_sweep_resumes_with_the_missing_trials_only(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "runners.sweep", str(SCENARIO), "--output", str(out), "--samples", "4",
           "--quiet", "--no-report"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while True:  # wait for a condition (some trials stored), not for a fixed time
            if (out / "trials.sqlite").exists():
                try:
                    if stored(out) >= 300:
                        break
                except sqlite3.OperationalError:
                    pass
            assert proc.poll() is None, "sweep finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    kept = stored(out)
    planned = 400 * 2 * 3 * 4
    assert 300 <= kept < planned
    done = subprocess.run([*cmd[:-2], "--no-report"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert stored(out) == planned
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials"] == planned


@pytest.mark.parametrize("flag", ["--model", "--limit", "--samples", "--concurrency", "--seed"])
def test_flags_reject_bad_values_in_one_line(tmp_path, flag):
    value = {"--model": "nope/x", "--seed": "abc"}.get(flag, "-1")
    done = subprocess.run(
        [sys.executable, "-m", "runners.sweep", str(SCENARIO), flag, value, "--output", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
