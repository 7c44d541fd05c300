"""The call cache (runners/calls.py) can never crash a sweep or poison a later run (issue 10):
an entry that cannot be read is a miss, a file that is not a database is moved aside with one
line saying so, a file that breaks while in use turns the cache off with one line, and only
cleaned replies go in. Sweeps run through the official SDKs against tests/fake_llm_server.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from runners.calls import CallCache, RetryPolicy
from runners.engine import SweepOptions, run_sweep
from runners.providers.base import ModelReply
from runners.store import STORE_NAME
from scenarios.schema import parse_scenario

FAST = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02)


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFSIM_TEST_KEY", "sk-cache-test")


def sweep(server, tmp_path: Path, limit: int = 3, fresh: bool = False, reply_chars: int = 0):
    data = {"name": "cache_test", "prompts": "builtin:harmful_requests", "limit": limit,
            "axes": {"tier": ["free", "paid"]}, "concurrency": 4,
            "models": [{"name": "openai/fake-gpt", "base_url": server.openai_base_url, "api_key_env": "AFSIM_TEST_KEY"}]}
    return asyncio.run(run_sweep(parse_scenario(data), SweepOptions(
        output=tmp_path / "run", cache_dir=tmp_path / "cache", quiet=True, retry=FAST, fresh=fresh, workers=1)))


def stored(tmp_path: Path) -> list[dict]:
    with sqlite3.connect(tmp_path / "run" / STORE_NAME) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT record FROM trials")]


def cache_rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT hash, reply FROM replies").fetchall()


# --- entries -------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", [
    "not json at all", "", "[1, 2]", '"text"', "null", "{}", '{"text": 5}', '{"text": "x", "bogus": 1}',
    '{"text": "x", "input_tokens": -3}', '{"text": "x", "input_tokens": true}', '{"text": "x", "turns": "2"}',
    '{"text": "x", "repairs": "not a list"}', '{"text": "x", "stop_reason": 7}', '{"text": "x", "ground_truth": [1]}',
    "[" * 100_000,  # deeper than the JSON decoder's recursion limit
])
def test_a_cache_entry_that_cannot_be_read_is_a_miss(tmp_path, entry):
    cache = CallCache(tmp_path / "calls.sqlite")
    cache.db.execute("INSERT INTO replies VALUES (?, ?, ?)", ("h", "openai/m", entry))
    assert cache.get("h") is None
    assert cache.notes == [] and not cache.broken  # an odd entry is not a damaged file
    cache.close()


def test_a_poisoned_entry_from_an_older_version_comes_out_clean(tmp_path):
    # what the cache held before issue 10: a lone surrogate, cached, crashing store.write later
    cache = CallCache(tmp_path / "calls.sqlite")
    cache.db.execute("INSERT INTO replies VALUES (?, ?, ?)",
                     ("h", "openai/m", json.dumps({"text": "<OUTPUT>bad \ud800 NUL\x00</OUTPUT>", "input_tokens": 3})))
    reply = cache.get("h")
    assert reply is not None and reply.cached
    assert reply.text == "<OUTPUT>bad \ufffd NUL\ufffd</OUTPUT>"
    reply.text.encode("utf-8")
    assert reply.repairs == ["1 lone surrogate(s) replaced", "1 NUL/control character(s) replaced"]
    cache.close()


def test_errors_and_clean_replies(tmp_path):
    cache = CallCache(tmp_path / "calls.sqlite")
    cache.put("err", "openai/m", ModelReply("", error="HTTP 500"))
    assert cache.get("err") is None  # never cache an error
    cache.put("ok", "openai/m", ModelReply("hello", 3, 4, repairs=["usage.prompt_tokens was int -1; stored 0"]))
    got = cache.get("ok")
    assert got is not None and (got.text, got.input_tokens, got.output_tokens) == ("hello", 3, 4)
    assert got.repairs == ["usage.prompt_tokens was int -1; stored 0"]
    cache.close()


def test_garbage_entries_in_a_real_sweep_are_misses_and_are_called_again(fake_llm, tmp_path):
    first = sweep(fake_llm, tmp_path)
    assert first.counters.calls == 6
    path = tmp_path / "cache" / "calls.sqlite"
    with sqlite3.connect(path) as db:
        hashes = [h for h, _ in cache_rows(path)]
        for i, digest in enumerate(hashes):
            db.execute("UPDATE replies SET reply = ? WHERE hash = ?", (["{", "[]", '{"text": 1}'][i % 3], digest))
    second = sweep(fake_llm, tmp_path, fresh=True)
    assert second.counters.cache_hits == 0 and second.counters.calls == 6
    assert len(stored(tmp_path)) == 6 and all(r["reply"]["error"] is None for r in stored(tmp_path))
    third = sweep(fake_llm, tmp_path, fresh=True)  # the entries were written again, readable
    assert third.counters.cache_hits == 6 and third.counters.calls == 0


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("garbage", [b"this is not a database\n" * 200, b"\x00" * 4096, b"SQLite format 3\x00" + b"\xff" * 5000])
def test_a_cache_file_that_is_not_a_database_is_moved_aside_with_one_line(fake_llm, tmp_path, capsys, garbage):
    path = tmp_path / "cache" / "calls.sqlite"
    path.parent.mkdir()
    path.write_bytes(garbage)
    result = sweep(fake_llm, tmp_path)
    assert result.counters.calls == 6 and len(stored(tmp_path)) == 6
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "moved it to" in err[0] and "Traceback" not in err[0]
    aside = [p for p in path.parent.iterdir() if p.name.startswith("calls.sqlite.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # kept, not deleted
    assert len(cache_rows(path)) == 6  # the new cache works


def test_an_empty_cache_file_is_simply_a_new_cache(fake_llm, tmp_path, capsys):
    path = tmp_path / "cache" / "calls.sqlite"
    path.parent.mkdir()
    path.touch()
    assert sweep(fake_llm, tmp_path).counters.calls == 6
    assert capsys.readouterr().err == ""


def test_a_truncated_cache_file_never_crashes_a_sweep(fake_llm, tmp_path, capsys):
    # enough entries to span many pages, then the file cut in half (a full disk, a bad copy)
    fake_llm.reply = lambda body: "<OUTPUT>" + "long answer " * 2000 + "</OUTPUT>"
    sweep(fake_llm, tmp_path, limit=20)
    path = tmp_path / "cache" / "calls.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    assert size > 100_000
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    result = sweep(fake_llm, tmp_path, limit=20, fresh=True)
    records = stored(tmp_path)
    assert len(records) == 40 and all(r["reply"]["error"] is None for r in records)
    assert result.counters.cache_hits + result.counters.calls == 40
    # SQLite finds the damage when the file is opened: moved aside (kept), one line naming both
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "malformed" in err[0] and "moved it to" in err[0]
    assert len(list(path.parent.glob("calls.sqlite.corrupt-*[0-9]"))) == 1


def test_a_cache_that_breaks_mid_sweep_is_turned_off_with_one_line(tmp_path, capsys):
    cache = CallCache(tmp_path / "calls.sqlite")
    cache.put("a", "openai/m", ModelReply("hello"))
    cache.db.close()
    cache.db = sqlite3.connect(":memory:")  # a handle whose table is gone: every query fails
    assert cache.get("a") is None and cache.broken
    cache.put("b", "openai/m", ModelReply("x"))  # a no-op, not an exception
    assert cache.get("b") is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "calls.sqlite" in err[0] and "mv " in err[0]
