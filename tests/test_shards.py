"""A sweep run in several processes (runners/shards.py), through the real SDKs against 127.0.0.1:
every trial once, the limits' shares add up to the configured limit, counters add up, a failing
shard is reported in one line."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from runners.calls import RetryPolicy
from runners.engine import STORE_NAME, Sweep, SweepOptions, run_sweep
from runners.shards import shard_count, shard_error, shard_scenario, smallest_limit, split
from scenarios.schema import ScenarioError, parse_scenario
from tests.fake_llm_server import Faults

FAST = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05)
linux_only = pytest.mark.skipif(shard_count(2, remote=True, trials=100, limit=8) == 1,
                                reason="sweeps are sharded on Linux only")


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", "sk-shard-test-secret")


def scenario_data(server, limit: int = 12, concurrency: int = 6, **extra) -> dict:
    return {"name": "shards", "prompts": "builtin:harmful_requests", "limit": limit,
            "axes": {"tier": ["free", "paid"]}, "concurrency": concurrency,
            "models": [{"name": "openai/fake-gpt", "base_url": server.openai_base_url, "api_key_env": "AFSIM_TEST_KEY",
                        "timeout_s": 5},
                       {"name": "anthropic/fake-claude", "base_url": server.anthropic_base_url,
                        "api_key_env": "AFSIM_TEST_KEY", "timeout_s": 5, "prefill": "<"}],
            **extra}


def sweep(tmp_path: Path, data: dict, **options):
    return asyncio.run(run_sweep(parse_scenario(data), SweepOptions(
        output=tmp_path / "run", cache_dir=tmp_path / "cache", quiet=True, retry=FAST, **options)))


def test_limits_are_split_into_shares_that_add_up():
    assert split(64, 2) == [32, 32] and split(7, 3) == [3, 2, 2] and sum(split(1000, 7)) == 1000
    data = {"name": "s", "prompts": "builtin:harmful_requests", "concurrency": 7, "axes": {"tier": ["free"]},
            "models": [{"name": "sim/honest"}, {"name": "openai/x", "rpm": 5}]}
    scenario = parse_scenario(data)
    shards = [shard_scenario(scenario, i, 3) for i in range(3)]
    assert [s.concurrency for s in shards] == [3, 2, 2]
    assert [s.models[1].rpm for s in shards] == [2, 2, 1] and all(s.models[0].rpm is None for s in shards)
    judged = parse_scenario({**data, "monitors": {"alignment_faking": {"backend": "openai/judge", "rpm": 10}}})
    assert [shard_scenario(judged, i, 3).monitors["alignment_faking"].rpm for i in range(3)] == [4, 3, 3]
    # never more shards than the smallest limit has units: a share of 0 would be rounded up
    assert smallest_limit(judged) == 5 and smallest_limit(parse_scenario({**data, "models": ["sim/honest"]})) == 7
    capped = parse_scenario({**data, "models": [{"name": "openai/x", "rpm": 1}]})
    assert shard_count(4, remote=True, trials=100, limit=smallest_limit(capped)) == 1


def test_shard_count_defaults_to_one_process_unless_the_api_sweep_is_large():
    if shard_count(2, remote=True, trials=100, limit=8) == 1:
        pytest.skip("sweeps are sharded on Linux only")
    assert shard_count(None, remote=False, trials=100_000, limit=64) == 1  # the simulator
    assert shard_count(None, remote=True, trials=100, limit=64) == 1  # under two windows
    assert shard_count(None, remote=True, trials=10_000, limit=4) == 1  # a share would be < 8
    assert shard_count(3, remote=True, trials=10, limit=2) == 2  # never more than the limit
    assert shard_count(3, remote=False, trials=10, limit=16) == 3  # asked for: granted


@linux_only
def test_a_sharded_sweep_runs_every_trial_once_within_the_shared_limit(fake_llm_factory, tmp_path):
    server = fake_llm_factory(latency=0.02, faults=Faults(rate=0.3, kinds=("429", "500", "529", "drop"),
                                                          max_per_request=2))
    result = sweep(tmp_path, scenario_data(server), workers=2)
    assert result.workers == 2
    assert result.summary["n_trials"] == 48 and result.summary["n_errors"] == 0
    ok = server.ok_counts()
    assert len(ok) == 48 and max(ok.values()) == 1  # no trial paid for twice
    # two shards of 3 calls each: neither provider ever sees more than the limit of 6
    assert max(server.peak_in_flight.values()) <= 6
    # the parent adds up what the shards counted
    assert result.counters.calls == len(server.calls) and result.counters.retries == len(server.calls) - 48
    assert result.summary["calls"]["calls"] == len(server.calls)
    with sqlite3.connect(tmp_path / "run" / STORE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 48
    # a re-run finds everything in the store; a fresh run finds every reply in the shared cache
    assert sweep(tmp_path, scenario_data(server), workers=2).ran == 0
    again = sweep(tmp_path, scenario_data(server), workers=2, fresh=True)
    assert again.counters.calls == 0 and again.counters.cache_hits == 48
    assert "sk-shard-test-secret" not in json.dumps(again.summary)


@linux_only
def test_a_failing_shard_stops_the_sweep_with_one_line(fake_llm_factory, tmp_path, monkeypatch):
    server = fake_llm_factory()

    def broken_graph(self):
        raise ValueError("graph exploded\nsecond line")

    monkeypatch.setattr(Sweep, "graph", broken_graph)  # inherited by the forked shards
    with pytest.raises(RuntimeError, match=r"^sweep shard \d of 2 failed: graph exploded$"):
        sweep(tmp_path, scenario_data(server), workers=2)


@linux_only
def test_a_shard_failure_met_by_an_interrupt_exits_as_interrupted_and_keeps_its_traceback(
        fake_llm_factory, tmp_path, monkeypatch, capsys):
    """A shard fails and the sweep is interrupted while the others stop: the exit is the interrupt's,
    but the failure was dropped with the shard's traceback. It is now one line on stderr naming the
    crash log, which holds the shard's traceback."""
    import runners.shards

    server = fake_llm_factory()

    def broken_graph(self):
        raise ValueError("graph exploded")

    async def interrupted_while_stopping(children, tasks):
        await runners.shards._ask_shards_to_stop(children, tasks)
        return True  # as when Ctrl-C arrives while the other shards stop

    monkeypatch.setattr(Sweep, "graph", broken_graph)
    monkeypatch.setattr(runners.shards, "_stop_shards", interrupted_while_stopping)
    with pytest.raises(asyncio.CancelledError):
        sweep(tmp_path, scenario_data(server), workers=2)
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("also, before the interrupt: ShardFailed: sweep shard ") and "graph exploded" in line
    log = Path(line.rpartition("traceback in ")[2])
    assert "ValueError: graph exploded" in log.read_text() and "in the shard process" in log.read_text()


def test_shard_errors_keep_the_kind_the_cli_reports_in_one_line():
    assert isinstance(shard_error({"error": "bad key", "kind": "ScenarioError"}, 0, 2), ScenarioError)
    assert isinstance(shard_error({"error": "disk I/O error", "kind": "OperationalError"}, 0, 2), sqlite3.Error)
    assert str(shard_error({"error": "boom", "kind": "KeyError"}, 1, 2)) == "sweep shard 2 of 2 failed: boom"


def test_workers_below_one_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runners.sweep", "scenarios/free_paid.yaml", "--workers", "0",
                           "--output", str(tmp_path)], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--workers must be between 1 and 64" in done.stderr and "Traceback" not in done.stderr


@linux_only
def test_shards_give_the_same_results_as_one_process(tmp_path):
    # the simulated organisms are deterministic per trial, so the split must not change a figure
    data = {"name": "same", "prompts": "builtin:harmful_requests", "limit": 30, "samples": 2,
            "axes": {"tier": ["free", "paid"]}, "models": ["sim/af-opus", "sim/honest"]}
    one = sweep(tmp_path / "one", data, workers=1)
    two = sweep(tmp_path / "two", data, workers=2)
    assert (one.workers, two.workers) == (1, 2)
    assert json.dumps(one.summary, sort_keys=True) == json.dumps(two.summary, sort_keys=True)
