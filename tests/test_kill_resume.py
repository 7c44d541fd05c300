"""Sweeps killed with SIGKILL at random moments, then restarted: they complete, every trial is
stored once, and the server sees a second call only for a call that was in flight at a kill. Two
sweeps started at once on one folder never both pay for a call. Both the server and the sweeps run
as separate processes (a sweep is forked after the imports, so the test does not pay their
start-up again); progress is read from the store, not guessed by sleeping."""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from runners.cli_errors import run_cli
from runners.engine import STORE_NAME
from runners.folder_lock import LOCK_NAME
from runners.sweep import main as sweep_main
from tests.fake_llm_server import fingerprint

ROOT = Path(__file__).resolve().parent.parent
TRIALS = 80
CONCURRENCY = 8
KILL_PROMPTS = 40  # x 2 tiers x 2 models: 160 trials


def start_server(log: Path, latency: float = 0.05) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_llm_server", "--port", "0", "--latency", str(latency), "--log", str(log)],
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


def folder_free(run_dir: Path) -> bool:
    """Whether nobody holds the run folder's lock (runners/folder_lock.py): every process of a
    killed sweep, its shards included, is gone once the lock is free (they share it)."""
    path = run_dir / LOCK_NAME
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also releases the lock taken just now
    return True


def snapshot(run_dir: Path, cache: Path) -> tuple[set[str], set[str]]:
    """Fingerprints of the trials stored and request hashes of the replies cached, right now."""
    stored: set[str] = set()
    if stored_count(run_dir / STORE_NAME):
        stored = completed_fingerprints(run_dir / STORE_NAME)
    cached: set[str] = set()
    if (cache / "calls.sqlite").exists():
        try:
            with sqlite3.connect(f"file:{cache / 'calls.sqlite'}?mode=ro", uri=True, timeout=5) as db:
                cached = {h for (h,) in db.execute("SELECT hash FROM replies")}
        except sqlite3.OperationalError:  # not created yet
            pass
    return stored, cached


def test_ten_sigkills_at_random_moments_then_a_resume_store_every_trial_once(tmp_path):
    """Issue 10's kill test. Ten sweeps are each SIGKILLed at a random moment (before, during or
    after their calls; every other one in two shard processes), against a server answering after
    100 ms; then one more runs to the end. Every trial is stored exactly once, and every call the
    server answered more than once was in flight at a kill: made by the sweep that was killed,
    with neither its trial stored nor its reply cached when that sweep died."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    log, run_dir, cache = tmp_path / "server.jsonl", tmp_path / "run", tmp_path / "cache"
    server, port = start_server(log, latency=0.1)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        scenario = {
            "name": "ten_kills", "prompts": "builtin:harmful_requests", "limit": KILL_PROMPTS,
            "axes": {"tier": ["free", "paid"]}, "concurrency": CONCURRENCY,
            "models": [{"name": f"openai/fake-{m}", "base_url": base, "api_key_env": "AFSIM_TEST_KEY"} for m in "ab"],
        }
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario))
        total = 2 * 2 * KILL_PROMPTS
        os.environ["AFSIM_TEST_KEY"] = "sk-kill-test"
        kills: list[dict] = []  # per kill: when the sweep started, when all of it was dead, what was kept
        context = multiprocessing.get_context("fork")
        for index in range(10):
            args = [str(path), "--output", str(run_dir), "--cache-dir", str(cache), "--quiet", "--no-report",
                    "--workers", str(1 + index % 2)]
            started = time.time()
            before = stored_count(run_dir / STORE_NAME)
            sweep = context.Process(target=sweep_main, args=(args,), daemon=True)
            sweep.start()
            if index % 2:  # a random moment once its calls flow (the others: any moment from the start)
                deadline = time.monotonic() + 60
                while stored_count(run_dir / STORE_NAME) == before and sweep.is_alive():
                    assert time.monotonic() < deadline, "sweep made no progress"
                    time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.35))  # short: on an idle machine a sweep finishes 160 calls in ~2 s
            # a sweep that had finished was reaped by is_alive() above: nothing left to kill
            with contextlib.suppress(ProcessLookupError):
                os.kill(sweep.pid, signal.SIGKILL)
            sweep.join()
            deadline = time.monotonic() + 60
            while not folder_free(run_dir):  # its shards die with it (PR_SET_PDEATHSIG)
                assert time.monotonic() < deadline, "a killed sweep's shards kept the run folder"
                time.sleep(0.005)
            stored, cached = snapshot(run_dir, cache)
            kills.append({"started": started, "dead": time.time(), "stored": stored, "cached": cached})

        assert sweep_main([str(path), "--output", str(run_dir), "--cache-dir", str(cache), "--quiet", "--no-report"]) == 0
        with sqlite3.connect(run_dir / STORE_NAME) as db:
            assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM trials").fetchone() == (total, total)
            records = [json.loads(r) for (r,) in db.execute("SELECT record FROM trials")]
            texts = dict(db.execute("SELECT hash, text FROM texts"))
        assert all(r["reply"]["parse_status"] != "error" for r in records)
        hash_of = {fingerprint(r["model"].partition("/")[2], texts[r["request"]["system_ref"]],
                               r["request"]["messages"][0]["content"]): r["request"]["hash"] for r in records}
        assert len(hash_of) == total  # one fingerprint per trial: the server log counts trials

        answered: dict[str, list[float]] = {}
        for line in log.read_text().splitlines():
            call = json.loads(line)
            if call["outcome"] == "ok":
                answered.setdefault(call["fingerprint"], []).append(call["at"])
        assert set(answered) == set(hash_of)
        twice = {f: sorted(times) for f, times in answered.items() if len(times) > 1}
        for f, times in twice.items():
            for at in times[:-1]:  # every answer but the last one was lost to a kill
                assert any(k["started"] <= at <= k["dead"] and f not in k["stored"] and hash_of[f] not in k["cached"]
                           for k in kills), f"seed {seed}: a call answered at {at} was paid again but not lost to a kill"
        paid_again = sum(len(t) - 1 for t in twice.values())
        mid_sweep = sum(0 < len(k["stored"]) < total for k in kills)
        print(f"ten kills (seed {seed}): {mid_sweep} mid-sweep, {paid_again} of {total} calls paid again, all in flight")
        assert mid_sweep >= 3, f"seed {seed}: too few kills landed mid-sweep to mean anything"
    finally:
        os.environ.pop("AFSIM_TEST_KEY", None)
        server.send_signal(signal.SIGTERM)
        server.wait(10)


def _sweep_cli(argv: list[str], err_path: str) -> None:  # in a forked child: the CLI, stderr to a file
    sys.stderr = open(err_path, "w", buffering=1)  # noqa: SIM115 - the child's stderr until it exits
    run_cli(lambda: sweep_main(argv))


@pytest.mark.parametrize("wait", [False, True])
def test_two_sweeps_started_at_once_on_one_folder_never_pay_twice(tmp_path, wait):
    log = tmp_path / "server.jsonl"
    server, port = start_server(log, latency=0.1)
    try:
        scenario = {
            "name": "two_at_once", "prompts": "builtin:harmful_requests", "limit": 20,
            "axes": {"tier": ["free", "paid"]}, "concurrency": CONCURRENCY,
            "models": [{"name": "openai/fake-gpt", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "AFSIM_TEST_KEY"}],
        }
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario))
        os.environ["AFSIM_TEST_KEY"] = "sk-two-at-once"
        context = multiprocessing.get_context("fork")
        sweeps = []
        for index in range(2):
            args = [str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--quiet",
                    "--no-report", *(["--wait-lock"] if wait else [])]
            err = tmp_path / f"err{index}.txt"
            sweeps.append((context.Process(target=_sweep_cli, args=(args, str(err)), daemon=True), err))
        for process, _ in sweeps:
            process.start()
        for process, _ in sweeps:
            process.join(120)
        codes = sorted(process.exitcode for process, _ in sweeps)
        errors = [err.read_text().strip() for _, err in sweeps]
        assert codes == ([0, 0] if wait else [0, 2]), errors
        if not wait:
            refused = [e for e in errors if e.startswith("error:")]
            assert len(refused) == 1 and len(refused[0].splitlines()) == 1
            assert "another sweep is using this run folder (pid " in refused[0]
        assert stored_count(tmp_path / "run" / STORE_NAME) == 40
        calls = ok_calls(log)
        assert len(calls) == 40 and max(calls.values()) == 1  # no call paid twice
    finally:
        os.environ.pop("AFSIM_TEST_KEY", None)
        server.send_signal(signal.SIGTERM)
        server.wait(10)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_stops_a_sharded_sweep_with_one_line_and_no_processes_left(tmp_path, how):
    """Ctrl-C reaches the whole process group; SIGTERM (`kill PID`, a CI time limit) only the sweep,
    which stops as for Ctrl-C (it died at once before, without counting what it had paid)."""
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
        if how == "ctrl-c":
            os.killpg(sweep.pid, signal.SIGINT)
        else:
            os.kill(sweep.pid, signal.SIGTERM)
        _, err = sweep.communicate(timeout=60)
        assert sweep.returncode == 130
        assert err.strip().startswith("interrupted: completed trials are stored") and "Traceback" not in err
        assert not any(Path(f"/proc/{pid}").exists() for pid in shards)  # stopped and reaped by the sweep
        assert 0 < stored_count(store) < TRIALS * 20
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
