"""Retries, error trials and limits, through the real SDKs against a faulty 127.0.0.1 server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runners.calls import CallLayer, RateCap, RetryPolicy
from runners.engine import STORE_NAME, SweepOptions, run_sweep
from runners.providers import make_provider
from runners.sweep import main as sweep_main
from scenarios.schema import ModelSpec, parse_scenario
from tests.fake_llm_server import Faults

FAST = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05)


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", "sk-resilience-test")


def models(server, **extra) -> list[dict]:
    return [
        {"name": "openai/fake-gpt", "base_url": server.openai_base_url, "api_key_env": "AFSIM_TEST_KEY", **extra},
        {"name": "anthropic/fake-claude", "base_url": server.anthropic_base_url, "api_key_env": "AFSIM_TEST_KEY",
         "prefill": "<", **extra},
    ]


def data(server, limit: int = 10, **extra) -> dict:
    return {"name": "resilience", "prompts": "builtin:harmful_requests", "limit": limit,
            "axes": {"tier": ["free", "paid"]}, "models": models(server, timeout_s=0.5), "concurrency": 8, **extra}


def sweep(tmp_path: Path, scenario: dict, retry: RetryPolicy = FAST, **options):
    return asyncio.run(run_sweep(parse_scenario(scenario), SweepOptions(
        output=tmp_path / "run", cache_dir=tmp_path / "cache", quiet=True, retry=retry, **options)))


def stored_records(tmp_path: Path) -> list[dict]:
    with sqlite3.connect(tmp_path / "run" / STORE_NAME) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT record FROM trials")]


def test_every_trial_completes_under_a_high_rate_of_transient_faults(fake_llm_factory, tmp_path):
    # Half of all requests fail (429, 500, 529, hangs, dropped connections); each request is
    # faulted at most 3 times and the policy allows 6 attempts, so every trial must get through.
    server = fake_llm_factory(faults=Faults(rate=0.5, max_per_request=3, hang_s=30))
    result = sweep(tmp_path, data(server))
    assert result.summary["n_trials"] == 40 and result.summary["n_errors"] == 0
    assert set(server.outcomes()) >= {"ok", "429", "500", "529", "timeout", "drop"}
    assert result.counters.retries > 0 and result.counters.failures == 0
    ok = server.ok_counts()
    assert len(ok) == 40 and max(ok.values()) == 1  # no trial was paid for twice
    records = stored_records(tmp_path)
    assert all(r["reply"]["error"] is None and r["reply"]["parse_status"] == "ok" for r in records)
    assert max(r["reply"]["attempts"] for r in records) > 1


def test_quota_429_is_not_retried_and_becomes_error_trials_and_exit_3(fake_llm_factory, tmp_path, capsys):
    server = fake_llm_factory(faults=Faults(rate=1.0, kinds=("quota",), max_per_request=100))
    scenario = data(server, limit=3, max_error_rate=0.1)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    code = sweep_main([str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"), "--no-report"])
    assert code == 3
    out, err = capsys.readouterr()
    line = "error: 12 of 12 trials failed after retries (max_error_rate 0.1)"
    assert line in out and err.splitlines().count(line) == 1  # an exit's reason is on stderr too
    assert max(server.attempt_counts().values()) == 1  # one attempt each: a spend cap will not lift
    records = stored_records(tmp_path)
    assert len(records) == 12
    assert all(r["reply"]["parse_status"] == "error" and "quota" in r["reply"]["error"] for r in records)


def test_errors_are_never_cached_so_a_rerun_retries_them(fake_llm_factory, tmp_path):
    server = fake_llm_factory(faults=Faults(rate=1.0, kinds=("500",), max_per_request=100))
    first = sweep(tmp_path, data(server, limit=2), retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02))
    assert first.summary["n_errors"] == 8
    server.faults = Faults()
    second = sweep(tmp_path, data(server, limit=2), fresh=True)
    assert second.summary["n_errors"] == 0 and second.counters.cache_hits == 0 and second.counters.calls == 8


def test_a_server_that_never_answers_gives_error_trials_in_bounded_time(fake_llm_factory, tmp_path):
    server = fake_llm_factory(faults=Faults(rate=1.0, kinds=("timeout",), max_per_request=1000, hang_s=60))
    scenario = data(server, limit=2)
    scenario["models"] = models(server, timeout_s=0.2)
    result = sweep(tmp_path, scenario, retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02))
    assert result.summary["n_trials"] == 8 and result.summary["n_errors"] == 8
    assert all("timeout" in r["reply"]["error"] for r in stored_records(tmp_path))
    assert max(server.attempt_counts().values()) == 2


def test_a_server_loading_its_model_is_waited_for_beyond_the_attempt_count(fake_llm_factory, monkeypatch):
    """llama-server answers 503 "Loading model" until its weights are loaded: six attempts 10 s apart
    failed the first trials of a sweep started right after a server whose model loads for a minute
    or more. Those attempts now count against the policy's total time only; other failures (a 503
    without those words) still spend attempts."""
    from runners.providers.errors import LOADING_WAIT_S
    from tests.fake_llm_server import RawReply, default_reply
    from tests.test_providers_http import trial

    assert LOADING_WAIT_S == 10.0  # what a real sweep waits; the policy's cap_s shortens it here
    loading = json.dumps({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}).encode()
    other = json.dumps({"error": {"code": 503, "message": "Service Unavailable", "type": "unavailable_error"}}).encode()

    def run(body: bytes, failures: int, policy: RetryPolicy):
        seen = []

        def reply(request):
            seen.append(1)
            return RawReply(body, status=503) if len(seen) <= failures else default_reply(request)

        server = fake_llm_factory(reply=reply)
        provider = make_provider(ModelSpec(name="openai/fake", base_url=server.openai_base_url, api_key_env="AFSIM_TEST_KEY"))

        async def go():
            try:
                return await CallLayer(None, concurrency=1, policy=policy).call(provider, trial("loading"))
            finally:
                await provider.aclose()

        return asyncio.run(go()), len(seen)

    answered, calls = run(loading, 15, FAST)  # 15 loading replies, 6 attempts
    assert answered.error is None and calls == 16
    failed, calls = run(other, 15, FAST)
    assert failed.error is not None and calls == 6
    never, calls = run(loading, 10**6, RetryPolicy(attempts=6, base_s=0.01, cap_s=0.01, total_s=0.3))
    assert never.error is not None and "Loading model" in never.error and calls > 6


def test_concurrency_limit_is_shared_by_every_call_to_one_provider(fake_llm_factory):
    server = fake_llm_factory(latency=0.05)
    in_flight, peak = 0, 0
    provider = make_provider(ModelSpec(name="openai/fake", base_url=server.openai_base_url, api_key_env="AFSIM_TEST_KEY"))
    real_generate = provider.generate

    async def counting_generate(trial):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await real_generate(trial)
        finally:
            in_flight -= 1

    provider.generate = counting_generate  # type: ignore[method-assign]
    layer = CallLayer(None, concurrency=3, policy=FAST)
    from tests.test_providers_http import trial

    async def go():
        await asyncio.gather(*(layer.call(provider, trial(f"request {i}")) for i in range(12)))
        await provider.aclose()

    asyncio.run(go())
    assert peak == 3 and len(server.calls) == 12


def test_rate_cap_admits_rpm_starts_per_minute(monkeypatch):
    clock = [1000.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr("runners.calls.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("runners.calls.asyncio.sleep", fake_sleep)
    cap = RateCap(3)

    async def go():
        for _ in range(4):
            await cap.wait()

    asyncio.run(go())
    assert slept == [60.0]  # the 4th start waits for the first to leave the window


def test_an_exit_reason_is_on_stderr_and_stdout_and_once_where_they_are_one_file():
    """`print_error` (exit 3's reason): stderr has it for a script or CI log, stdout keeps it; a terminal,
    where both go to one place, shows it once."""
    code = ["-c", "from runners.cli_errors import print_error; print_error('error: the reason')"]
    root = Path(__file__).resolve().parent.parent
    apart = subprocess.run([sys.executable, *code], cwd=root, capture_output=True, text=True, check=True)
    assert apart.stdout == apart.stderr == "error: the reason\n"
    together = subprocess.run([sys.executable, *code], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=True)
    assert together.stdout == "error: the reason\n"


def test_a_second_command_in_the_same_process_is_interrupted_as_the_first():
    """Found by a review: after one `run_cli` was interrupted, its handler (ignoring later signals
    while the process ends) stayed installed, and the next `run_cli` or `run_async` in the process
    (tests run many) took it for an outer command's: its SIGTERM was ignored and it exited 0, as if
    done. Each command now stops at its own first signal; an uninterrupted one restores the
    handlers there were before the first. In a spawned interpreter: signal handlers are per process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        codes, restored = pool.submit(_two_commands_interrupted).result(timeout=120)
    assert codes == [130, 130, 130, 0]
    assert restored


def _two_commands_interrupted() -> tuple[list[int | None], bool]:
    import os
    import signal

    from runners.cli_errors import run_async, run_cli

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def terminated() -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        return 0

    async def cancelled() -> int:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(asyncio.Event().wait(), 60)  # never set: the signal cancels it (or exit 4)
        return 0

    codes: list[int | None] = []
    for main in (terminated, terminated, lambda: run_async(cancelled()), lambda: 0):
        try:
            run_cli(main)
        except SystemExit as exc:
            codes.append(exc.code)  # type: ignore[arg-type]
    restored = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    return codes, restored


def test_a_signal_as_the_command_task_ends_still_stops_the_command():
    """Found by a review: a Ctrl-C or SIGTERM handled as `run_async`'s task returned cancelled
    nothing (the task was done), and the command went on to write its report with every later
    signal ignored: the user's Ctrl-C did nothing. Now it stops the command there (exit 130)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        code, after = pool.submit(_signalled_as_it_returns).result(timeout=120)
    assert (code, after) == (130, False)


def _signalled_as_it_returns() -> tuple[int | None, bool]:
    import os
    import signal

    from runners.cli_errors import run_async, run_cli

    went_on: list[bool] = []

    async def signalled_last() -> int:
        os.kill(os.getpid(), signal.SIGTERM)  # handled here: its cancel comes once the task is done
        return 0

    def command() -> int:
        run_async(signalled_last())
        went_on.append(True)  # the report would be written here
        return 0

    try:
        run_cli(command)
    except SystemExit as exc:
        return exc.code, bool(went_on)  # type: ignore[return-value]
    return None, bool(went_on)
