"""The result store: one record per trial, written as trials complete, safe against a kill.

SQLite in WAL mode: each completed batch is one transaction, so a killed sweep loses at most the
trials in flight, and a restarted one reads the keys it already has and skips them. Long texts
shared by many trials (system prompts with their documents) are stored once, by hash.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from runners.safe_text import encodable
from scenarios.trial import stable_hash

STORE_NAME = "trials.sqlite"  # the store's file name inside a run folder

SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    condition TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    sample INTEGER NOT NULL,
    record TEXT NOT NULL,
    row TEXT NOT NULL  -- the flat trials.csv row, so aggregation never re-reads the long texts
);
CREATE TABLE IF NOT EXISTS texts (hash TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: the shards of a sweep (runners/shards.py) write here too and wait for each other
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._recent: dict[str, str] = {}  # text -> digest, so a shared prompt is hashed once

    def close(self) -> None:
        self.db.close()

    def completed_keys(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT key FROM trials")}

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    def put_text(self, text: str) -> str:
        """Store a long shared text once; records refer to it by hash."""
        digest = self._recent.get(text)
        if digest is None:
            digest = stable_hash(text)
            if len(self._recent) > 4096:  # bounded: a 100k-trial sweep must not hold every prompt
                self._recent.clear()
            self._recent[text] = digest
            self.db.execute("INSERT OR IGNORE INTO texts VALUES (?, ?)", (digest, text))
        return digest

    def text(self, digest: str) -> str | None:
        row = self.db.execute("SELECT text FROM texts WHERE hash = ?", (digest,)).fetchone()
        return row[0] if row else None

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        rows = [_row(r) for r in records]
        self.db.execute("BEGIN IMMEDIATE")  # take the write lock now: shards write the same store
        try:
            self.db.executemany("INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def set_meta(self, name: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    def meta(self, name: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def records(self, keys: set[str] | None = None) -> Iterator[dict[str, Any]]:
        for key, blob in self.db.execute("SELECT key, record FROM trials ORDER BY model, condition, prompt_id, sample"):
            if keys is None or key in keys:
                yield json.loads(blob)

    def frame(self, keys: set[str] | None = None) -> pd.DataFrame:
        """One row per trial, the columns of trials.csv (docs/results.md), from the flat rows."""
        blobs = [blob for key, blob in self.db.execute("SELECT key, row FROM trials ORDER BY model, condition, prompt_id, sample")
                 if keys is None or key in keys]
        # one JSON document: the decoder then shares the column names between rows (20k trials:
        # 15 MB less at the peak than a loads per row)
        rows = json.loads("[" + ",".join(blobs) + "]")
        del blobs
        return pd.DataFrame(rows)


def _row(r: dict[str, Any]) -> tuple[Any, ...]:
    row = (r["key"], r["model"], r["condition_key"], r["prompt_id"], r["sample"],
           json.dumps(r, ensure_ascii=False), json.dumps(frame_row(r), ensure_ascii=False))
    try:
        row[5].encode("utf-8")
        row[6].encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate that reached the record some other way than a provider's reply (which
        # is cleaned): SQLite could not store it, so repair the record rather than lose it
        return _row(encodable(r))  # type: ignore[arg-type]
    return row


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The trials.csv frame from full records (for records that never went through a store)."""
    return pd.DataFrame([frame_row(r) for r in records])


def frame_row(r: dict[str, Any]) -> dict[str, Any]:
    """The flat view of one record: keys, parse status, monitor labels and the ground truth."""
    reply, monitors, truth = r["reply"], r.get("monitors", {}), r.get("ground_truth") or {}
    row: dict[str, Any] = {
        "run_id": r["run_id"],
        "scenario": r["scenario"],
        "model": r["model"],
        "condition": r["condition_key"],
        **{f"cond_{axis}": value for axis, value in r["condition"].items()},
        "prompt_id": r["prompt_id"],
        "category": r.get("category"),
        "sample": r["sample"],
        "seed": r["seed"],
        "key": r["key"],
        "parse_status": reply["parse_status"],
        "accepted": reply["accepted"],
        "error": reply.get("error"),
        "repairs": "; ".join(reply.get("repairs") or []) or None,
        "input_tokens": reply.get("input_tokens", 0),
        "output_tokens": reply.get("output_tokens", 0),
        "cost_usd": reply.get("cost_usd", 0.0),
        "latency_s": reply.get("latency_s", 0.0),
        "cached": reply.get("cached", False),
    }
    for name, verdict in monitors.items():
        row[f"{name}_label"] = verdict["label"]
        row[f"{name}_score"] = verdict["score"]
        row[f"{name}_flag"] = verdict.get("flag", False)
        row[f"{name}_backend"] = verdict.get("backend")
    for name, value in truth.items():
        if isinstance(value, bool | int | float | str) or value is None:
            row[f"truth_{name}"] = value
    for name, value in (r.get("supervision") or {}).items():  # weak/strong setting (runners/supervision.py)
        if isinstance(value, bool | int | float | str) or value is None:
            row[f"sup_{name}"] = value
    return row
