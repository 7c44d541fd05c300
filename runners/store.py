"""The result store: one record per trial, written as trials complete, safe against a kill.

SQLite in WAL mode: each completed batch is one transaction, so a killed sweep loses at most the
trials in flight, and a restarted one reads the keys it already has and skips them. Long texts
shared by many trials (system prompts with their documents) are stored once, by hash.

What counts as done (`completed_keys`): a readable row that is not an error trial. An error trial
(a call that failed after all retries) is retried by the next run of the same command, as
docs/providers.md promises; its record stays until the new one replaces it. A row that cannot be
read (not JSON, or not the record of its key) is treated as missing: the trial is re-run once and
the row replaced, and until then `damaged_keys` counts it so nothing disappears silently. A row
or record whose values have the wrong shape (a number column holding text, a reply that is not an
object: runners/trials_table.py `row_fits`, `readable_record` here) is damaged in the same way:
every reader is written for the shape the sweep writes, so a misfit is left out, never a crash. A
store *file* that SQLite cannot read, or whose tables are not the store's, raises `StoreDamaged`,
one line that names the file and the command that salvages its readable rows
(`python -m runners.store_repair`); a store path that is a folder or a FIFO is refused by its type.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from runners.cli_errors import UsageError
from runners.safe_text import encodable
from runners.trials_table import readable_row_sql, row_fits
from scenarios.trial import stable_hash
from scenarios.user_files import check_regular_file, has_surrogate_escape

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
COLUMNS = {"trials": ["key", "model", "condition", "prompt_id", "sample", "record", "row"],
           "texts": ["hash", "text"], "meta": ["name", "value"]}


# a row is readable when its flat row parses, belongs to its key and has its columns' types. The
# long `record` column is checked where it is parsed anyway (`records`): validating it up front
# doubled the start-up read.
# (CASE, not AND: SQLite may evaluate both sides, and json_extract raises on malformed JSON)
_READABLE = f"(CASE WHEN json_valid(row) THEN json_extract(row, '$.key') IS key AND {readable_row_sql('row')} ELSE 0 END)"


def _counters(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())


# the shape of each meta value as the sweep and rescore write it: another shape (a damaged or
# hand-edited row) reads as the default, as a value that is not JSON does
_META_SHAPES: dict[str, Callable[[Any], bool]] = {
    "run": lambda v: isinstance(v, dict),
    "calls": _counters,
    "judges": lambda v: isinstance(v, dict) and all(_counters(c) for c in v.values()),
    "rescored": lambda v: isinstance(v, list),
}


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """What a stored trial's record says about the requests it was run with (runners/reuse.py)."""

    first_hash: str | None  # `request.planned_hash`: the first call's hash (records since 2026-12-07)
    last_hash: str | None  # `request.hash`: the last call's
    n_messages: int  # in the last request
    shown: str | None  # the last request's second-to-last message: a two-turn trial's first reply, shown back


def stored_requests(db: sqlite3.Connection, models: Iterable[str]) -> dict[str, StoredRequest]:
    """Stored key -> its `StoredRequest`, for the trials of `models`. Read from the record itself, only
    the fields needed (a 100k-trial store must not be held in memory), and only real models' rows, which
    are few next to a simulated sweep's; a record that is not JSON is skipped (it is re-run as damaged)."""
    out: dict[str, StoredRequest] = {}
    query = ("SELECT key, json_extract(record, '$.request.planned_hash'), json_extract(record, '$.request.hash'), "
             "json_array_length(record, '$.request.messages'), json_extract(record, '$.request.messages[#-2].content') "
             "FROM trials WHERE model = ? AND json_valid(record)")
    for model in models:
        for key, first, last, n_messages, shown in db.execute(query, (model,)):
            if isinstance(n_messages, int):
                out[key] = StoredRequest(first if isinstance(first, str) else None, last if isinstance(last, str) else None,
                                         n_messages, shown if isinstance(shown, str) else None)
    return out


# the keys a sweep would skip (readable, not an error trial): also for read-only readers (--dry-run)
DONE_KEYS_SQL = (f"SELECT key FROM trials WHERE {_READABLE} AND CASE WHEN json_valid(row) THEN "
                 "json_extract(row, '$.parse_status') IS NOT 'error' ELSE 0 END")


class StoreDamaged(UsageError):
    """The store file cannot be read by SQLite (exit 2: the user repairs it, nothing is guessed)."""


def damaged_message(path: Path, problem: object) -> str:
    run_dir = path.parent
    return (f"{path}: the result store is damaged ({problem}); `python -m runners.store_repair {run_dir}` "
            f"keeps its readable trials and sets the file aside, then run the same sweep command again")


def _blames_store(method: Callable) -> Callable:
    """SQLite reports a damaged file as a DatabaseError from whichever statement touches the bad
    page: say which file it is (the call cache is another SQLite file). OperationalError (locked,
    disk full, read-only) is about the disk, not the content, and passes unchanged."""

    @functools.wraps(method)
    def wrapper(self: ResultStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(damaged_message(self.path, exc)) from None

    return wrapper


class ResultStore:
    @_blames_store
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(self.path):  # SQLite would block on a FIFO, and names no file for a folder
            check_regular_file(self.path, f"result store ({STORE_NAME})", UsageError)
        # timeout: the shards of a sweep (runners/shards.py) write here too and wait for each other
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self._check_tables()
        except BaseException:
            self.db.close()
            raise
        self._recent: dict[str, str] = {}  # text -> digest, so a shared prompt is hashed once
        self.unreadable_records: set[str] = set()  # keys whose full record `records` had to skip

    def close(self) -> None:
        self.db.close()

    def _check_tables(self) -> None:
        """Tables of another shape (another program's file named trials.sqlite) would fail at the
        first query with SQLite's message alone ("no such column: key"): name the file instead."""
        for table, expected in COLUMNS.items():
            found = [row[1] for row in self.db.execute(f"PRAGMA table_info({table})")]
            if found != expected:
                raise StoreDamaged(damaged_message(
                    self.path, f"its {table} table has columns {', '.join(found)}, not {', '.join(expected)}"))

    @_blames_store
    def trial_states(self) -> dict[str, str]:
        """Every stored key -> `done`, `error` (an error trial: retried by the next run) or
        `damaged` (its row cannot be read: re-run). One pass over the table: on a 100k-trial store
        reading the rows costs about as much as the summary's own read of them."""
        query = (f"SELECT key, {_READABLE}, CASE WHEN json_valid(row) THEN json_extract(row, '$.parse_status') "
                 "IS 'error' END FROM trials")
        return {key: "damaged" if not readable else "error" if failed else "done"
                for key, readable, failed in self.db.execute(query)}

    def completed_keys(self) -> set[str]:
        """Trials that need no new call: readable and not an error trial (see the module doc)."""
        return {key for key, state in self.trial_states().items() if state == "done"}

    def error_keys(self) -> set[str]:
        """Stored error trials: the next run retries them."""
        return {key for key, state in self.trial_states().items() if state == "error"}

    def damaged_keys(self) -> set[str]:
        """Rows that cannot be read: re-run by the next sweep, reported until then."""
        return {key for key, state in self.trial_states().items() if state == "damaged"}

    @_blames_store
    def stored_requests(self, models: Iterable[str]) -> dict[str, StoredRequest]:
        return stored_requests(self.db, models)

    @_blames_store
    def stored_keys(self) -> set[str]:
        """Every stored key, readable or not (read from the key index alone: cheap)."""
        return {key for (key,) in self.db.execute("SELECT key FROM trials")}

    @_blames_store
    def holds_any(self, keys: set[str]) -> bool:
        """Whether any of `keys` has a readable row (a done or an error trial). Stops at the first
        one, so on a sound store it costs one row; only a store with none of them is read through."""
        cursor = self.db.execute(f"SELECT key FROM trials WHERE {_READABLE}")
        try:
            return any(key in keys for (key,) in cursor)
        finally:
            cursor.close()  # ends the read at once (a shard may be waiting to write)

    @_blames_store
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    @_blames_store
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

    @_blames_store
    def text(self, digest: str) -> str | None:
        row = self.db.execute("SELECT text FROM texts WHERE hash = ?", (digest,)).fetchone()
        return row[0] if row else None

    @_blames_store
    def write(self, records: Iterable[dict[str, Any]]) -> None:
        rows = [_row(r) for r in records]
        self.db.execute("BEGIN IMMEDIATE")  # take the write lock now: shards write the same store
        try:
            self.db.executemany("INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @_blames_store
    def set_meta(self, name: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    @_blames_store
    def meta(self, name: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        try:
            value = json.loads(row[0]) if row else default
        except ValueError:  # a damaged meta row (counters): the figures it held are not trial data
            return default
        return value if row is None or _META_SHAPES.get(name, lambda v: True)(value) else default

    def records(self, keys: set[str] | None = None) -> Iterator[dict[str, Any]]:
        """Readable records only (a damaged row is counted by `damaged_keys`, re-run by a sweep)."""
        query = "SELECT key, record FROM trials ORDER BY model, condition, prompt_id, sample"
        try:  # a generator: the decorator would only guard its creation
            for key, blob in self.db.execute(query):
                if keys is None or key in keys:
                    try:
                        record = _loads(blob)
                    except (ValueError, RecursionError):
                        record = None
                    if readable_record(record, key):
                        yield record
                    else:
                        self.unreadable_records.add(key)
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(damaged_message(self.path, exc)) from None

    @_blames_store
    def frame(self, keys: set[str] | None = None) -> pd.DataFrame:
        """One row per trial, the columns of trials.csv (docs/results.md), from the flat rows."""
        query = f"SELECT key, row FROM trials WHERE {_READABLE} ORDER BY model, condition, prompt_id, sample"
        blobs = [blob for key, blob in self.db.execute(query) if keys is None or key in keys]
        # one JSON document: the decoder then shares the column names between rows (20k trials:
        # 15 MB less at the peak than a loads per row)
        rows = _loads("[" + ",".join(blobs) + "]")
        del blobs
        return pd.DataFrame(rows)


def _loads(blob: str) -> Any:
    """A stored column's JSON. Half a surrogate pair from a `\\ud800` escape (a store edited or
    written by other hands: ours repairs its own, `_row`) is repaired as `_row` would, not left to
    fail when trials.csv, the report or an export is written (exit 4; found by a bad-input fuzz)."""
    value = json.loads(blob)
    return encodable(value) if has_surrogate_escape(blob, value) else value


def readable_record(record: Any, key: str) -> bool:
    """`record` (a parsed `record` column) is the record of `key` in the shape the readers use:
    `frame_row` can flatten it again (a rescore writes it back) into a row that fits its columns,
    and the parts the report, the exports and the monitors read are objects and texts."""
    if not isinstance(record, dict) or record.get("key") != key:
        return False
    request, reply, monitors = record.get("request"), record.get("reply"), record.get("monitors") or {}
    if not (isinstance(request, dict) and isinstance(reply, dict) and isinstance(monitors, dict)):
        return False
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return False
    texts = [request.get("system_ref"), record.get("prompt"), record.get("setting"), record.get("completed_at"),
             *(reply.get(name) for name in ("raw", "scratchpad", "output", "error"))]
    if not all(isinstance(t, str | None) for t in texts):
        return False
    if not all(_verdict_fits(v) for v in monitors.values()):
        return False
    try:
        return row_fits(frame_row(record))
    except (KeyError, TypeError, AttributeError, ValueError):
        return False


def _verdict_fits(verdict: Any) -> bool:
    """A stored `Verdict.as_dict()`: its texts are texts, its evidence lists, its criteria objects."""
    if not isinstance(verdict, dict) or not isinstance(verdict.get("rationale"), str | None):
        return False
    criteria = verdict.get("criteria")
    return isinstance(verdict.get("evidence"), list | None) and (criteria is None or isinstance(criteria, dict) and all(
        isinstance(c, dict) and isinstance(c.get("evidence"), list | None) for c in criteria.values()))


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
        "has_scratchpad": bool((reply.get("scratchpad") or "").strip()),
        "stop_reason": reply.get("stop_reason"),
        "truncated": bool(reply.get("truncated", False)),
        "turns": reply.get("turns", 1),
        "input_tokens": reply.get("input_tokens", 0),
        "output_tokens": reply.get("output_tokens", 0),
        "cost_usd": reply.get("cost_usd", 0.0),
        "latency_s": reply.get("latency_s", 0.0),
        "cached": reply.get("cached", False),
    }
    if reply.get("served_model"):  # a real model's reply that named its model (runners/served_models.py)
        row["served_model"] = reply["served_model"]
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
