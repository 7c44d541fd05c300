"""Many endpoints for one model: spreading, per-endpoint limits, failover when a replica dies, and a
cache key that names the deployment, not the replica — through the real SDKs against 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from runners.calls import RetryPolicy
from runners.engine import STORE_NAME, SweepOptions, run_sweep
from runners.providers._endpoints import COOLDOWN_S, TRIP_AFTER, Endpoint, EndpointPool
from runners.providers.base import ProviderError
from runners.shards import shard_scenario, smallest_limit
from scenarios.schema import ScenarioError, parse_scenario
from tests.fake_llm_server import Faults, default_reply

FAST = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05)
API_URL = {"openai": "openai_base_url", "anthropic": "anthropic_base_url"}


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", "sk-endpoints-test")


def scenario(endpoints: list, api: str = "openai", limit: int = 20, concurrency: int = 4, **model) -> dict:
    return {"name": "replicas", "prompts": "builtin:harmful_requests", "limit": limit,
            "axes": {"tier": ["free", "paid"]}, "concurrency": concurrency,
            "models": [{"name": f"{api}/fake-model", "endpoints": endpoints, "api_key_env": "AFSIM_TEST_KEY",
                        "timeout_s": 10, **model}]}


def sweep(tmp_path: Path, data: dict, run: str = "run"):
    return asyncio.run(run_sweep(parse_scenario(data), SweepOptions(
        output=tmp_path / run, cache_dir=tmp_path / "cache", quiet=True, retry=FAST, workers=1)))


def records(tmp_path: Path, run: str = "run") -> list[dict]:
    with sqlite3.connect(tmp_path / run / STORE_NAME) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT record FROM trials")]


# --- the pool on its own ---------------------------------------------------------------------


def connection_error() -> ProviderError:
    return ProviderError("connection (APIConnectionError): refused", retryable=True, details={"kind": "connection"})


def server_error() -> ProviderError:
    return ProviderError("HTTP 500", retryable=True, details={"kind": "server", "status": 500})


def test_pool_spreads_by_load_and_respects_each_endpoint_limit():
    a, b = Endpoint("http://a", "K", concurrency=1), Endpoint("http://b", "K", concurrency=3)
    pool = EndpointPool([a, b])

    async def hold(n: int) -> list[str]:
        picked, release = [], asyncio.Event()

        async def one() -> None:
            async with pool.use() as endpoint:
                picked.append(endpoint.base_url)
                await release.wait()

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        for _ in range(10):
            await asyncio.sleep(0)
        assert (a.in_flight, b.in_flight) == (1, 3)  # the fifth request waits for a slot
        assert len(picked) == 4
        release.set()
        await asyncio.gather(*tasks)
        return picked

    picked = asyncio.run(hold(5))
    assert len(picked) == 5 and picked.count("http://a") <= 2
    assert a.in_flight == b.in_flight == 0


def test_refused_connection_trips_at_once_and_5xx_after_a_run_of_them():
    a, b = Endpoint("http://a", "K"), Endpoint("http://b", "K")
    pool = EndpointPool([a, b])
    pool.report(a, connection_error())
    now = time.monotonic()
    assert not a.healthy(now) and pool.choose(now=now) is b
    assert a.healthy(now + COOLDOWN_S + 1)  # one more chance after the cooldown
    for _ in range(TRIP_AFTER - 1):
        pool.report(b, server_error())
    assert b.healthy(time.monotonic())
    pool.report(b, server_error())
    assert not b.healthy(time.monotonic())
    # everything down: the one that recovers first is still tried, the sweep never stalls
    assert pool.choose() is a
    pool.report(a, None)
    assert a.healthy(time.monotonic()) and a.failures == 0


def test_a_retry_avoids_the_endpoint_that_failed_it_when_another_has_room():
    a, b = Endpoint("http://a", "K"), Endpoint("http://b", "K", concurrency=1)
    pool = EndpointPool([a, b])
    assert pool.choose(avoid=0) is b
    b.in_flight = 1
    assert pool.choose(avoid=0) is a  # b is full: back to a rather than wait


# --- schema -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "message"), [
    ({"endpoints": ["http://a"], "base_url": "http://b"}, "either base_url or endpoints"),
    ({"deployment": "prod"}, "deployment names a list of endpoints"),
    ({"endpoints": ["http://a/v1", "http://a/v1/"]}, "listed twice"),
    ({"endpoints": [{"base_url": "http://a", "concurrency": 0}]}, "endpoints[0].concurrency"),
    ({"endpoints": [{"url": "http://a"}]}, "endpoints[0]"),
])
def test_bad_endpoint_lists_are_one_line_naming_the_key(model, message):
    data = {"name": "x", "prompts": "builtin:harmful_requests", "axes": {"tier": ["free"]},
            "models": [{"name": "openai/m", **model}]}
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(data)


def test_shards_split_each_endpoint_limit():
    data = parse_scenario(scenario([{"base_url": "http://a", "concurrency": 5}, "http://b"], concurrency=16))
    assert smallest_limit(data) == 5
    shares = [shard_scenario(data, i, 2).models[0].endpoints for i in range(2)]
    assert [s[0].concurrency for s in shares] == [3, 2] and all(s[1].concurrency is None for s in shares)


# --- sweeps against two loopback servers ------------------------------------------------------


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_every_trial_completes_once_when_one_of_two_endpoints_dies_mid_run(fake_llm_factory, tmp_path, api):
    dying_after = 5
    died = threading.Event()
    a = fake_llm_factory(latency=0.01)
    b = fake_llm_factory(latency=0.01)

    def a_reply(body):
        # after a few answers, every further request to A hangs: A is "dying" with requests in flight
        if len(a.calls) >= dying_after and not died.is_set():
            a.faults = Faults(rate=1.0, kinds=("timeout",), max_per_request=1000, hang_s=60)
            died.set()
        return default_reply(body)

    a.reply = a_reply

    def kill_a() -> None:
        died.wait(30)
        deadline = time.monotonic() + 10
        while a.outcomes()["timeout"] < 1 and time.monotonic() < deadline:  # a request is stuck in A
            time.sleep(0.005)
        a.stop()  # the process dies: its hung requests drop, new connections are refused

    killer = threading.Thread(target=kill_a, daemon=True)
    killer.start()
    url_a, url_b = getattr(a, API_URL[api]), getattr(b, API_URL[api])
    result = sweep(tmp_path, scenario([url_a, url_b], api=api))
    killer.join(30)

    assert died.is_set() and a.outcomes()["timeout"] >= 1
    stored = records(tmp_path)
    assert result.summary["n_trials"] == 40 and result.summary["n_errors"] == 0
    assert len(stored) == len({r["key"] for r in stored}) == 40  # every trial, once
    assert all(r["reply"]["error"] is None and r["reply"]["parse_status"] == "ok" for r in stored)
    served = {r["reply"]["endpoint"] for r in stored}
    assert served == {url_a, url_b}  # A answered some before it died, B the rest
    # the requests that hung in A when it died were retried, and the retries went to B
    retried = [r for r in stored if r["reply"]["attempts"] > 1]
    assert retried and all(r["reply"]["endpoint"] == url_b for r in retried)
    # A was marked down at its first dropped connection: only a request whose answer was lost in
    # the kill can have been paid for twice
    ok = a.ok_counts() + b.ok_counts()
    assert len(ok) == 40 and sum(ok.values()) - 40 <= len(retried)
    # and a re-run makes no call at all: the cache does not care which replica answered
    again = sweep(tmp_path, scenario([url_a, url_b], api=api), run="again")
    assert again.counters.calls == 0 and again.counters.cache_hits == 40


def test_an_endpoint_that_keeps_answering_500_is_routed_around(fake_llm_factory, tmp_path):
    bad = fake_llm_factory(faults=Faults(rate=1.0, kinds=("500",), max_per_request=1000))
    good = fake_llm_factory()
    result = sweep(tmp_path, scenario([bad.openai_base_url, good.openai_base_url], concurrency=2))
    assert result.summary["n_errors"] == 0 and len(good.ok_counts()) == 40
    # TRIP_AFTER failures in a row take it out; requests already sent to it when it tripped add at
    # most the concurrency limit
    assert sum(bad.attempt_counts().values()) <= TRIP_AFTER + 2


def test_per_endpoint_concurrency_holds_in_a_sweep(fake_llm_factory, tmp_path):
    a, b = fake_llm_factory(latency=0.02), fake_llm_factory(latency=0.02)
    result = sweep(tmp_path, scenario([{"base_url": a.openai_base_url, "concurrency": 1},
                                       {"base_url": b.openai_base_url, "concurrency": 3}], concurrency=8))
    assert result.summary["n_errors"] == 0
    assert a.peak_in_flight["openai"] == 1 and 1 <= b.peak_in_flight["openai"] <= 3
    assert len(a.ok_counts()) + len(b.ok_counts()) == 40 and len(a.ok_counts()) >= 1


def test_the_cache_knows_the_deployment_not_the_replica(fake_llm_factory, tmp_path):
    a, b, c = fake_llm_factory(), fake_llm_factory(), fake_llm_factory()
    urls = [a.openai_base_url, b.openai_base_url]
    first = sweep(tmp_path, scenario(urls, limit=5))
    assert first.counters.calls == 10
    # the same replicas listed the other way round: the same deployment
    assert sweep(tmp_path, scenario(urls[::-1], limit=5), run="reordered").counters.calls == 0
    # a named deployment keeps its cache when the replicas change ...
    sweep(tmp_path, scenario(urls, limit=5, deployment="prod-llama"), run="named")
    moved = sweep(tmp_path, scenario([c.openai_base_url], limit=5, deployment="prod-llama"), run="moved")
    assert moved.counters.calls == 0 and not c.calls
    # ... and another deployment name is another model: its own calls
    other = sweep(tmp_path, scenario([c.openai_base_url], limit=5, deployment="staging"), run="other")
    assert other.counters.calls == 10 and len(c.ok_counts()) == 10


def test_one_unreachable_endpoint_is_a_warning_all_unreachable_is_exit_2(fake_llm_factory, tmp_path, capsys):
    live = fake_llm_factory()
    dead = fake_llm_factory()
    dead_url = dead.openai_base_url
    dead.stop()  # nothing listens on its port any more
    result = sweep(tmp_path, scenario([dead_url, live.openai_base_url], limit=3))
    assert result.summary["n_errors"] == 0 and len(live.ok_counts()) == 6
    assert f"cannot reach {dead_url}" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match=f"cannot reach {dead_url}"):
        sweep(tmp_path, scenario([dead_url], limit=3), run="none")
