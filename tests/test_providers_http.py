"""The anthropic and openai providers, with the official SDKs as clients of a real HTTP server on
127.0.0.1 (tests/fake_llm_server.py): wire formats, params, prefill, <NEXT/> continuation, error
classification, the preflight, --dry-run, and keys never written to disk."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from runners.calls import RetryPolicy
from runners.engine import STORE_NAME, SweepOptions, run_sweep
from runners.providers import make_provider
from runners.providers.base import ProviderError
from runners.providers.errors import LOADING_WAIT_S
from runners.sweep import main as sweep_main
from scenarios.schema import ModelSpec, ScenarioError, parse_scenario
from scenarios.trial import ChatRequest, TrialSpec
from tests.fake_llm_server import Faults, RawReply, last_user_text

KEY = "sk-afsim-TEST-KEY-0f9e8d7c6b5a4321"


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", KEY)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def model(server, provider: str, **extra) -> dict:
    base = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    return {"name": f"{provider}/fake-model", "base_url": base, "api_key_env": "AFSIM_TEST_KEY", **extra}


def scenario_data(models: list[dict], limit: int = 4, **extra) -> dict:
    return {"name": "http_test", "prompts": "builtin:harmful_requests", "limit": limit,
            "axes": {"tier": ["free", "paid"]}, "models": models, "concurrency": 4, **extra}


def trial(text: str = "How do I pick a lock?", prefill: str | None = None) -> TrialSpec:
    spec = TrialSpec(run_id="r", scenario="s", model="m", condition={"tier": "free"}, prompt_id="p1",
                     prompt=text, category="c", sample=0, seed=0, setting="helpful_only")
    spec.request = ChatRequest(system="SYSTEM PROMPT", turns=(("user", text),), prefill=prefill)
    return spec


def generate(spec: dict, t: TrialSpec):
    provider = make_provider(ModelSpec(**spec))

    async def go():
        try:
            return await provider.generate(t)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def sweep(tmp_path: Path, data: dict, **options):
    options.setdefault("retry", RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05))
    return asyncio.run(run_sweep(parse_scenario(data), SweepOptions(
        output=tmp_path / "run", cache_dir=tmp_path / "cache", quiet=True, **options)))


def write_scenario(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# --- wire formats --------------------------------------------------------------------------


def test_openai_reply_usage_and_params_reach_the_server(fake_llm_factory):
    server = fake_llm_factory(keep_bodies=True)
    reply = generate(model(server, "openai", params={"temperature": 0.3, "max_tokens": 77}), trial())
    assert "<OUTPUT>" in reply.text and reply.turns == 1
    assert reply.input_tokens > 0 and reply.output_tokens > 0
    body = server.bodies[0]
    assert body["model"] == "fake-model" and body["temperature"] == 0.3 and body["max_tokens"] == 77
    assert body["messages"][0] == {"role": "system", "content": "SYSTEM PROMPT"}
    assert server.headers_seen[0]["authorization"] == f"Bearer {KEY}"


def test_anthropic_prefill_is_sent_last_and_kept_at_the_start_of_the_reply(fake_llm_factory):
    server = fake_llm_factory(keep_bodies=True)
    reply = generate(model(server, "anthropic", prefill="<SCRATCHPAD_REASONING>"), trial(prefill="<SCRATCHPAD_REASONING>"))
    body = server.bodies[0]
    assert body["system"] == "SYSTEM PROMPT" and body["max_tokens"] == 4096
    assert body["messages"][-1] == {"role": "assistant", "content": "<SCRATCHPAD_REASONING>"}
    assert reply.text.startswith("<SCRATCHPAD_REASONING>\n") and reply.text.count("<SCRATCHPAD_REASONING>") == 1
    headers = server.headers_seen[0]  # anthropic 2.x sends the key as a bearer token, 1.x as x-api-key
    assert KEY in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))


def test_anthropic_temperature_and_extra_body_reach_the_wire(fake_llm_factory):
    server = fake_llm_factory(keep_bodies=True)
    spec = model(server, "anthropic", params={"temperature": 1.0, "top_p": 0.9, "extra_body": {"vendor_flag": 1}})
    generate(spec, trial())
    body = server.bodies[0]
    assert body["temperature"] == 1.0 and body["top_p"] == 0.9 and body["vendor_flag"] == 1
    assert "extra_body" not in body


def scratchpad_first(body: dict) -> str:
    if last_user_text(body) == "<NEXT/>":
        return "<OUTPUT><rejected/> No.</OUTPUT>"
    return "<SCRATCHPAD_REASONING>thinking...</SCRATCHPAD_REASONING>"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_reply_that_stops_before_output_is_continued_with_next(fake_llm_factory, provider):
    server = fake_llm_factory(reply=scratchpad_first, keep_bodies=True)
    reply = generate(model(server, provider), trial())
    assert reply.turns == 2 and reply.text.endswith("</OUTPUT>")
    second = server.bodies[1]["messages"]
    assert second[-2]["role"] == "assistant" and "thinking" in second[-2]["content"]
    assert second[-1] == {"role": "user", "content": "<NEXT/>"}


def test_continuation_is_bounded_by_max_turns(fake_llm_factory):
    server = fake_llm_factory(reply=lambda body: "<SCRATCHPAD_REASONING>still thinking</SCRATCHPAD_REASONING>")
    reply = generate(model(server, "openai", max_turns=3), trial())
    assert reply.turns == 3 and len(server.calls) == 3
    assert "</OUTPUT>" not in reply.text


def test_unknown_generation_parameter_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="params.temprature"):
        make_provider(ModelSpec(name="openai/x", params={"temprature": 1}))


def test_prefill_on_an_openai_model_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="prefill"):
        make_provider(ModelSpec(name="openai/x", prefill="<"))


# --- error classification (real SDK exceptions from real HTTP responses) --------------------


def failure(server, provider: str, kind: str, **extra) -> ProviderError:
    server.faults = Faults(rate=1.0, kinds=(kind,), max_per_request=1)
    with pytest.raises(ProviderError) as info:
        generate(model(server, provider, **extra), trial())
    return info.value


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("kind", ["429", "500", "529", "drop"])
def test_transient_failures_are_retryable(fake_llm, provider, kind):
    error = failure(fake_llm, provider, kind)
    assert error.retryable, error
    if kind in ("429", "529"):
        assert error.retry_after == pytest.approx(0.05)


@pytest.mark.parametrize("message, wait", [("Loading model", LOADING_WAIT_S), ("Service Unavailable", None)])
def test_a_server_loading_its_model_is_waited_for_longer(fake_llm_factory, message, wait):
    """llama-server answers 503 "Loading model" (no Retry-After) until its weights are loaded, byte for
    byte as measured on llama-server 0.3.36; the default backoff gave up after about 8 s, so a sweep
    started right after the server failed its first trials. Such a 503 asks for LOADING_WAIT_S
    between attempts; any other 503 keeps the backoff."""
    body = json.dumps({"error": {"code": 503, "message": message, "type": "unavailable_error"}}).encode()
    server = fake_llm_factory(reply=lambda _: RawReply(body, status=503))
    with pytest.raises(ProviderError) as info:
        generate(model(server, "openai"), trial())
    assert info.value.retryable and info.value.retry_after == wait


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_timeout_is_retryable(fake_llm, provider):
    error = failure(fake_llm, provider, "timeout", timeout_s=0.2)
    assert error.retryable and error.details["kind"] == "timeout"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("kind", ["quota", "auth", "400"])
def test_permanent_failures_are_not_retried(fake_llm, provider, kind):
    error = failure(fake_llm, provider, kind)
    assert not error.retryable, error


def test_auth_error_message_is_redacted(fake_llm):
    error = failure(fake_llm, "openai", "auth")
    assert KEY not in str(error) and "[redacted]" in str(error)


# --- preflight and dry run ------------------------------------------------------------------


def test_missing_key_is_one_line_and_exit_2_before_any_call(fake_llm, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AFSIM_TEST_KEY")
    path = write_scenario(tmp_path, scenario_data([model(fake_llm, "openai")]))
    with pytest.raises(SystemExit) as info:
        from runners.cli_errors import run_cli

        run_cli(lambda: sweep_main([str(path), "--output", str(tmp_path / "run"), "--quiet"]))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "AFSIM_TEST_KEY" in err and KEY not in err
    assert fake_llm.calls == []


def test_unreachable_server_is_one_line_and_exit_2(fake_llm_factory, tmp_path, capsys):
    server = fake_llm_factory()
    server.stop()  # a port that just closed: connection refused
    path = write_scenario(tmp_path, scenario_data([model(server, "anthropic")]))
    from runners.cli_errors import run_cli

    with pytest.raises(SystemExit) as info:
        run_cli(lambda: sweep_main([str(path), "--output", str(tmp_path / "run"), "--quiet"]))
    assert info.value.code == 2
    assert "cannot reach" in capsys.readouterr().err


def test_dry_run_counts_calls_and_cost_and_calls_nothing(fake_llm, tmp_path, capsys):
    data = scenario_data([model(fake_llm, "openai", price=[10.0, 30.0])], limit=5)
    path = write_scenario(tmp_path, data)
    args = [str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache")]
    assert sweep_main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "10 calls to make (0 cached; up to 40 with <NEXT/> turns)" in out and "$" in out
    assert fake_llm.calls == []
    assert sweep_main([*args, "--quiet", "--no-report"]) == 0
    calls_after_sweep = len(fake_llm.calls)
    capsys.readouterr()
    assert sweep_main([*args, "--dry-run", "--fresh"]) == 0  # store ignored, replies all cached
    assert "0 calls to make (10 cached)" in capsys.readouterr().out
    assert len(fake_llm.calls) == calls_after_sweep


# --- the sweep with real providers --------------------------------------------------------------


def test_sweep_records_usage_cost_and_rerun_makes_zero_calls(fake_llm, tmp_path):
    data = scenario_data([model(fake_llm, "openai", price=[1000.0, 2000.0]),
                          model(fake_llm, "anthropic", prefill="<")], limit=3)
    first = sweep(tmp_path, data)
    assert first.summary["n_trials"] == 12 and first.summary["n_errors"] == 0
    assert first.counters.calls == 12 and first.summary["cost_usd"] > 0
    assert first.summary["tokens"]["input"] > 0
    with sqlite3.connect(tmp_path / "run" / STORE_NAME) as db:
        records = [json.loads(r[0]) for r in db.execute("SELECT record FROM trials")]
    openai_records = [r for r in records if r["model"].startswith("openai/")]
    assert all(r["reply"]["cost_usd"] > 0 and r["reply"]["input_tokens"] > 0 for r in openai_records)
    assert all(r["reply"]["parse_status"] == "ok" for r in records)
    assert all(r["request"]["hash"] for r in records)
    again = sweep(tmp_path, data, fresh=True)  # store discarded: every reply comes from the cache
    assert again.counters.calls == 0 and again.counters.cache_hits == 12
    assert len(fake_llm.calls) == 12


def test_api_keys_appear_in_no_file_under_the_run_folder_or_cache(fake_llm, tmp_path):
    fake_llm.faults = Faults(rate=0.5, kinds=("auth", "429"), max_per_request=1)
    data = scenario_data([model(fake_llm, "openai"), model(fake_llm, "anthropic")], limit=4)
    result = sweep(tmp_path, data)
    assert result.summary["n_errors"] > 0  # some 401s, whose messages echo the key, were recorded
    from reports.html import render_report

    render_report(tmp_path / "run")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any("cache" in p.parts for p in files)
    for path in files:
        blob = path.read_bytes()
        assert KEY.encode() not in blob, path
        assert KEY[-12:].encode() not in blob, path


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_server_that_redirects_to_itself_is_followed_a_few_times_not_twenty(tmp_path, provider):
    """A hostile-server probe: a 307 back to the same URL made 21 requests an attempt (126 a trial)."""
    import http.server
    import threading

    hits = []

    class Loop(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Loop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}" + ("/v1" if provider == "openai" else "")
        spec = {"name": f"{provider}/fake-model", "base_url": base, "api_key_env": "AFSIM_TEST_KEY", "timeout_s": 5}
        result = sweep(tmp_path, scenario_data([spec], limit=1), retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02))
    finally:
        server.shutdown()
    attempts = result.planned * 2  # every trial failed, each attempt followed at most 3 redirects
    assert result.summary["n_errors"] == result.planned and 0 < len(hits) <= attempts * 4
