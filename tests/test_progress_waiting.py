"""The progress line says what a sweep waits for: calls in flight per model and how old the oldest
is, calls in backoff and why (issue 10: a hung endpoint must not look like a frozen bar)."""

from __future__ import annotations

import asyncio
import io

import pytest
from tqdm import tqdm

from runners.calls import CallLayer, RetryPolicy, Waiting, describe_waiting
from runners.progress import Progress
from runners.providers import make_provider
from scenarios.schema import ModelSpec
from scenarios.trial import ChatRequest, TrialSpec
from tests.fake_llm_server import Hostile


def test_the_waiting_line_groups_calls_by_model_with_their_state_and_age():
    waiting = [
        Waiting("openai/gpt-4o", "calling", 10.0), Waiting("openai/gpt-4o", "calling", 80.0),
        Waiting("openai/gpt-4o", "backoff", 99.0, "timeout"), Waiting("openai/gpt-4o", "backoff", 99.0, "server"),
        Waiting("anthropic/claude", "queued", 95.0),
    ]
    assert describe_waiting(waiting, now=105.0) == (
        "openai/gpt-4o: 2 calling (oldest 95 s), 2 in backoff (server, timeout); anthropic/claude: 1 queued")
    assert describe_waiting([], now=1.0) == ""


def test_a_call_to_a_stalled_server_shows_as_calling_until_it_ends(fake_llm_factory, monkeypatch):
    monkeypatch.setenv("AFSIM_TEST_KEY", "sk-progress-test")
    server = fake_llm_factory(reply=lambda body: Hostile("stall_after_headers"))
    provider = make_provider(ModelSpec(name="openai/fake-gpt", base_url=server.openai_base_url,
                                       api_key_env="AFSIM_TEST_KEY", timeout_s=0.3))
    trial = TrialSpec(run_id="r", scenario="s", model="openai/fake-gpt", condition={"tier": "free"},
                      prompt_id="p", prompt="hi", category="c", sample=0, seed=0, setting="helpful_only")
    trial.request = ChatRequest(system="S", turns=(("user", "hi"),), prefill=None)
    layer = CallLayer(None, concurrency=2, policy=RetryPolicy(attempts=1))

    async def go() -> tuple[str, str]:
        task = asyncio.create_task(layer.call(provider, trial))
        for _ in range(20):  # yields only: the state is set before the first network wait
            await asyncio.sleep(0)
        during = layer.waiting_line()
        reply = await task
        await provider.aclose()
        assert reply.error is not None and "timeout" in reply.error
        return during, layer.waiting_line()

    during, after = asyncio.run(go())
    assert during.startswith("openai/fake-gpt: 1 calling (oldest 0 s)")
    assert after == ""


def test_the_bar_shows_each_shards_status_and_drops_an_empty_one():
    progress = Progress(10, 0, quiet=True)
    progress.bar = tqdm(total=10, file=io.StringIO())
    progress.status("openai/x: 3 calling (oldest 40 s)", "shard 0")
    progress.status("openai/x: 1 in backoff (timeout)", "shard 1")
    assert progress.bar.postfix == "openai/x: 3 calling (oldest 40 s) | openai/x: 1 in backoff (timeout)"
    progress.status("", "shard 0")
    assert progress.bar.postfix == "openai/x: 1 in backoff (timeout)"
    progress.close()


@pytest.mark.parametrize("quiet", [True, False])
def test_no_bar_means_no_watcher(quiet):
    # under pytest stderr is not a TTY: no bar, nothing redrawn, nothing to cancel
    progress = Progress(10, 0, quiet=quiet)

    async def go():
        return progress.watch(lambda: "x")

    assert asyncio.run(go()) is None
    progress.close()
