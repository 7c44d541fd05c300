"""A sweep killed with SIGKILL mid-way, then restarted: it completes, and the server never sees a
second call for a trial that was already complete. Both the server and the sweep run as separate
processes (the sweep is forked after the imports, so the test does not pay their start-up twice);
progress is read from the store, not guessed by sleeping."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from runners.engine import STORE_NAME
from runners.sweep import main as sweep_main
from tests.fake_llm_server import fingerprint

ROOT = Path(__file__).resolve().parent.parent
TRIALS = 80
CONCURRENCY = 8


def start_server(log: Path) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_llm_server", "--port", "0", "--latency", "0.05", "--log", str(log)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()  # blocks until the server listens
    assert line.startswith("listening "), line
    return server, int(line.split()[1])


def stored_count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:  # the sweep has not created the table yet
        return 0


def completed_fingerprints(store: Path) -> set[str]:
    with sqlite3.connect(store) as db:
        texts = dict(db.execute("SELECT hash, text FROM texts"))
        records = [json.loads(row[0]) for row in db.execute("SELECT record FROM trials")]
    return {
        fingerprint(r["model"].partition("/")[2], texts[r["request"]["system_ref"]], r["request"]["messages"][0]["content"])
        for r in records
    }


def ok_calls(log: Path) -> Counter[str]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return Counter(c["fingerprint"] for c in lines if c["outcome"] == "ok")


def child_pids(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return {int(p) for p in listing.read().split()}


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkilled_sweep_resumes_without_paying_twice(tmp_path, workers):
    log = tmp_path / "server.jsonl"
    server, port = start_server(log)
    try:
        scenario = {
            "name": "kill_resume", "prompts": "builtin:harmful_requests", "limit": TRIALS // 2,
            "axes": {"tier": ["free", "paid"]}, "concurrency": CONCURRENCY,
            "models": [{"name": "openai/fake-gpt", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "AFSIM_TEST_KEY"}],
        }
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario))
        store = tmp_path / "run" / STORE_NAME
        args = [str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--quiet", "--no-report",
                "--workers", str(workers)]
        os.environ["AFSIM_TEST_KEY"] = "sk-kill-test"

        sweep = multiprocessing.get_context("fork").Process(target=sweep_main, args=(args,), daemon=True)
        sweep.start()
        deadline = time.monotonic() + 120
        while stored_count(store) < TRIALS // 4:  # wait for real progress, then kill mid-way
            assert sweep.is_alive(), f"sweep exited early with {sweep.exitcode}"
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.01)
        shards = child_pids(sweep.pid) if workers > 1 else set()  # the shard processes
        assert len(shards) == (workers if workers > 1 else 0)
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.join()
        assert sweep.exitcode == -signal.SIGKILL
        while any(running(pid) for pid in shards):  # they die with the sweep, so nobody keeps paying
            assert time.monotonic() < deadline, f"shards outlived the killed sweep: {shards}"
            time.sleep(0.01)
        done_before = completed_fingerprints(store)
        assert TRIALS // 4 <= len(done_before) < TRIALS

        assert sweep_main(args) == 0  # resume, in this process
        assert stored_count(store) == TRIALS

        calls = ok_calls(log)
        assert all(calls[f] == 1 for f in done_before)  # no second call for a completed trial
        assert len(calls) == TRIALS
        # at most the calls in flight at the kill were paid twice
        assert sum(n - 1 for n in calls.values()) <= CONCURRENCY
    finally:
        os.environ.pop("AFSIM_TEST_KEY", None)
        server.send_signal(signal.SIGTERM)
        server.wait(10)


def test_ctrl_c_stops_a_sharded_sweep_with_one_line_and_no_processes_left(tmp_path):
    log = tmp_path / "server.jsonl"
    server, port = start_server(log)
    try:
        scenario = {
            "name": "ctrl_c", "prompts": "builtin:harmful_requests", "limit": TRIALS // 2, "samples": 20,
            "axes": {"tier": ["free", "paid"]}, "concurrency": CONCURRENCY,
            "models": [{"name": "openai/fake-gpt", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "AFSIM_TEST_KEY"}],
        }
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario))
        store = tmp_path / "run" / STORE_NAME
        # a session of its own, so the SIGINT goes to the sweep's process group as a terminal's would
        sweep = subprocess.Popen(
            [sys.executable, "-m", "runners.sweep", str(path), "--output", str(tmp_path / "run"), "--cache-dir",
             str(tmp_path / "cache"), "--quiet", "--no-report", "--workers", "2"],
            cwd=ROOT, env={**os.environ, "AFSIM_TEST_KEY": "sk-ctrl-c"}, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while stored_count(store) < CONCURRENCY:  # running, in its shards
            assert sweep.poll() is None, sweep.communicate()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.01)
        shards = child_pids(sweep.pid)
        assert len(shards) == 2
        os.killpg(sweep.pid, signal.SIGINT)
        _, err = sweep.communicate(timeout=60)
        assert sweep.returncode == 130
        assert err.strip().startswith("interrupted: completed trials are stored") and "Traceback" not in err
        assert not any(Path(f"/proc/{pid}").exists() for pid in shards)  # stopped and reaped by the sweep
        assert 0 < stored_count(store) < TRIALS * 20
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
