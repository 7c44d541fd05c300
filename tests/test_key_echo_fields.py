"""A server that echoes the API key into the parts of a reply other than its text never gets the key
into the run folder or the cache (found by a hostile-server probe, 2026-12-07).

The reply's text, thinking and `model` were already cleaned of the key; its stop reason, the repair
notes that quote an odd usage value, and the malformed-reply errors that quote the body (an error
object sent with HTTP 200, a body that is not JSON) were stored as sent: in trials.sqlite,
trials.csv, trials.parquet, report.html and the call cache.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

import runners.calls
from runners.calls import RetryPolicy
from runners.sweep import main as sweep_main
from tests.fake_llm_server import RawReply, default_reply, user_texts

KEY = "sk-test-ECHOED-KEY-0123456789"


def echo_everywhere(body: dict) -> object:
    """One way of echoing the key per prompt (the prompt decides, so retries get the same)."""
    anthropic = "max_tokens" in body and "messages" in body and "system" in body
    text = default_reply(body)
    way = sum(map(ord, user_texts(body)[0])) % 4
    if way == 0:  # the stop reason
        payload = ({"content": [{"type": "text", "text": text}], "stop_reason": f"stop {KEY}",
                    "usage": {"input_tokens": 1, "output_tokens": 1}, "model": "m"} if anthropic else
                   {"choices": [{"message": {"content": text}, "finish_reason": f"stop {KEY}"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1}, "model": "m"})
        return {"payload": payload}
    if way == 1:  # a usage count that is the key (quoted by the repair note)
        payload = ({"content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": KEY, "output_tokens": 1}, "model": "m"} if anthropic else
                   {"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": KEY, "completion_tokens": 1}, "model": "m"})
        return {"payload": payload}
    if way == 2:  # an error object with HTTP 200
        return RawReply(json.dumps({"error": {"message": f"bad header: Bearer {KEY}", "type": "invalid_request"}}).encode())
    return RawReply(f"bad header {KEY}".encode(), content_type="text/plain")  # not JSON


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_ECHO_KEY", KEY)
    monkeypatch.setattr(runners.calls, "RetryPolicy", lambda: RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02))


def test_a_key_echoed_in_stop_reason_usage_or_error_bodies_is_in_no_file(fake_llm_factory, tmp_path: Path):
    server = fake_llm_factory(reply=echo_everywhere)
    spec = {"api_key_env": "AFSIM_ECHO_KEY", "timeout_s": 5, "max_turns": 1}
    scenario = {
        "name": "echo", "prompts": "builtin:harmful_requests", "limit": 8, "axes": {"tier": ["free", "paid"]},
        "concurrency": 8, "max_error_rate": 1.0,
        "models": [{"name": "openai/fake-gpt", "base_url": server.openai_base_url, **spec},
                   {"name": "anthropic/fake-claude", "base_url": server.anthropic_base_url, **spec}],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    assert sweep_main([str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"),
                       "--quiet"]) == 0

    with sqlite3.connect(tmp_path / "run" / "trials.sqlite") as db:
        records = [json.loads(row[0]) for row in db.execute("SELECT record FROM trials")]
    assert len(records) == 32
    replies = [r["reply"] for r in records]
    # every way of echoing was met: a stop reason, a usage repair, both malformed-reply errors
    assert any("[redacted]" in (r["stop_reason"] or "") for r in replies)
    assert any("[redacted]" in note for r in replies for note in r["repairs"])
    assert any("error body" in (r["error"] or "") and "[redacted]" in r["error"] for r in replies)
    assert any("not JSON" in (r["error"] or "") and "[redacted]" in r["error"] for r in replies)
    leaked = [str(p) for p in (tmp_path / "run").rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    leaked += [str(p) for p in (tmp_path / "cache").rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == []


def test_an_error_message_with_terminal_controls_is_stored_on_one_printable_line(fake_llm_factory, tmp_path: Path):
    """A 400 whose message holds ESC sequences, a line break, a carriage return and a bidi override
    (a hostile or broken gateway) is an error trial whose `error` shows them as escapes: stored as
    sent, `cat trials.csv` retitled the terminal, cleared the screen and forged a line."""
    hostile = "\x1b]0;PWNED\x07\x1b[2J\nerror: forged line\r\x1b[31mOK \u202eevil"
    server = fake_llm_factory(reply=lambda body: RawReply(
        json.dumps({"error": {"message": hostile, "type": "invalid_request_error"}}).encode(), status=400))
    spec = {"api_key_env": "AFSIM_ECHO_KEY", "timeout_s": 5, "max_turns": 1}
    scenario = {
        "name": "controls", "prompts": "builtin:harmful_requests", "limit": 1, "axes": {"tier": ["free", "paid"]},
        "max_error_rate": 1.0,
        "models": [{"name": "openai/fake-gpt", "base_url": server.openai_base_url, **spec},
                   {"name": "anthropic/fake-claude", "base_url": server.anthropic_base_url, **spec}],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    assert sweep_main([str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"),
                       "--quiet", "--no-report"]) == 0
    with sqlite3.connect(tmp_path / "run" / "trials.sqlite") as db:
        errors = [json.loads(row[0])["reply"]["error"] for row in db.execute("SELECT record FROM trials")]
    assert len(errors) == 4 and all("HTTP 400" in e and "forged line" in e for e in errors)
    for error in errors:
        assert not any(c in error for c in "\x1b\x07\n\r\u202e"), error
        assert "\\x1b" in error and "\\u202e" in error  # shown, not obeyed
    csv = (tmp_path / "run" / "trials.csv").read_text(encoding="utf-8")
    assert "\x1b" not in csv and "\u202e" not in csv and "\x07" not in csv


def test_a_turn_we_cut_at_the_character_cap_is_not_continued(fake_llm_factory, tmp_path: Path):
    """A complete reply longer than MAX_REPLY_CHARS is cut by us, which drops its </OUTPUT>: that is
    no reason to ask the model to go on. It was: each <NEXT/> turn sent the cut million characters
    back (1 MB, 2 MB, 3 MB requests at the default max_turns of 4)."""
    from runners.safe_text import MAX_REPLY_CHARS

    huge = ("<SCRATCHPAD_REASONING>" + "I think about training. " * (MAX_REPLY_CHARS // 20)
            + "</SCRATCHPAD_REASONING><OUTPUT><rejected/></OUTPUT>")
    server = fake_llm_factory(reply=lambda body: huge)
    spec = {"api_key_env": "AFSIM_ECHO_KEY", "timeout_s": 30, "max_turns": 4}
    scenario = {
        "name": "cut", "prompts": "builtin:harmful_requests", "limit": 1, "axes": {"tier": ["free", "paid"]},
        "max_error_rate": 1.0, "models": [{"name": "openai/fake-gpt", "base_url": server.openai_base_url, **spec}],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    assert sweep_main([str(path), "--output", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"),
                       "--quiet", "--no-report"]) == 0
    assert len(server.calls) == 2  # one request per trial, no <NEXT/> turn
    with sqlite3.connect(tmp_path / "run" / "trials.sqlite") as db:
        replies = [json.loads(row[0])["reply"] for row in db.execute("SELECT record FROM trials")]
    for reply in replies:
        assert reply["turns"] == 1 and len(reply["raw"]) == MAX_REPLY_CHARS
        assert any("not continued" in note for note in reply["repairs"]), reply["repairs"]


def test_a_reply_that_is_not_http_is_a_retried_connection_error_through_either_sdk():
    """openai's aiohttp transport lets aiohttp's parse errors through unwrapped (a server that
    answers `SSH-2.0-...` or a garbled Content-Length): they were kind "other" and not retried,
    while anthropic's SDK made the same fault a retried connection error."""
    aiohttp = pytest.importorskip("aiohttp")
    from yarl import URL

    from runners.providers.errors import classify

    url = URL("http://127.0.0.1:9/v1/chat/completions")
    garbled = aiohttp.ClientResponseError(aiohttp.RequestInfo(url, "POST", {}, url), (), status=400,
                                          message="Bad status line:\n  b'SSH-2.0-OpenSSH_8.9'")
    error = classify(garbled)
    assert error.retryable and error.details["kind"] == "connection", error
    assert "\n" not in error.message


def test_a_carriage_return_in_a_servers_model_name_keeps_trials_csv_one_row_per_trial(tmp_path: Path):
    """A server whose `model` field holds a lone carriage return ("evil\\r\\x1b[2Jclear"): the csv
    writer left that field unquoted, readers ended the row there, and runners.compare refused the run
    folder ("1 fields, the header has 37") while pandas read more rows than trials."""
    import pandas as pd

    from runners.trials_table import spreadsheet_safe

    frame = pd.DataFrame({"key": ["a", "b", "c"], "served_model": ["evil\rclear", "ok", None],
                          "stop_reason": ["x\r\ny", "stop", "=1+1"], "n": [1, 2, 3]})
    path = tmp_path / "trials.csv"
    spreadsheet_safe(frame).to_csv(path, index=False)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["key"].tolist() == ["a", "b", "c"]
    assert back["served_model"].tolist() == ["evil\nclear", "ok", ""]
    assert back["stop_reason"].tolist() == ["x\ny", "stop", "'=1+1"]
    import csv
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 4 and all(len(r) == 4 for r in rows)
