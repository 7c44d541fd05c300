"""`python -m runners.store_repair RUN_DIR`: salvage a damaged result store.

When SQLite cannot read a run folder's `trials.sqlite` (a disk fault, a copy cut short), the sweep
stops with one line that names this command instead of guessing; a report whose transcripts could
not all be read names it too. It copies every row it can still read (trials whose record parses,
shared texts, meta) into a new store, keeps the damaged file as
`trials.sqlite.damaged-<time>` (nothing is deleted), and says how many trials it kept. Running
the sweep command again then does only the missing trials; replies in the call cache are not paid
for again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from runners.cli_errors import ArgumentParser, UsageError, run_cli
from runners.folder_lock import owning
from runners.store import SCHEMA, STORE_NAME, readable_record
from runners.trials_table import row_fits
from scenarios.user_files import check_regular_file

TABLES = {"trials": "key", "texts": "hash", "meta": "name"}


def _readable_trial(row: tuple) -> bool:
    """Both JSON columns parse, belong to the row's key and have the shape the store's readers
    need (trials: key, ..., record, row): what the store would count as damaged is left out."""
    key, record, flat = row[0], row[-2], row[-1]
    try:
        record, flat = json.loads(record), json.loads(flat)
    except (ValueError, TypeError, RecursionError):
        return False
    return readable_record(record, key) and isinstance(flat, dict) and flat.get("key") == key and row_fits(flat)


def _salvage_table(old: sqlite3.Connection, new: sqlite3.Connection, table: str, key: str) -> tuple[int, int]:
    """Copy the rows of `table` one key at a time, so a bad page loses only the rows on it."""
    try:
        keys = [row[0] for row in old.execute(f"SELECT {key} FROM {table}")]
    except sqlite3.DatabaseError:
        keys = []
        try:  # the key index is damaged: walk the table by rowid instead
            for (rowid,) in old.execute(f"SELECT rowid FROM {table}"):
                keys.append(rowid)
            key = "rowid"
        except sqlite3.DatabaseError:
            pass
    kept = lost = 0
    for value in keys:
        try:
            row = old.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,)).fetchone()
        except sqlite3.DatabaseError:
            lost += 1
            continue
        if row is None:
            continue
        if table == "trials" and not _readable_trial(row):  # left out: the next sweep re-runs it
            lost += 1
            continue
        new.execute(f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * len(row))})", row)
        kept += 1
    return kept, lost


def repair(run_dir: Path) -> tuple[int, int, Path]:
    """Salvage `run_dir`'s store; returns (trials kept, trials lost, where the damaged file went)."""
    store = run_dir / STORE_NAME
    if not os.path.lexists(store):
        raise UsageError(f"{run_dir}: not a run folder (no {STORE_NAME})")
    check_regular_file(store, "trial store", UsageError)  # a FIFO hung the repair (found by a bad-input fuzz)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = run_dir / f"{STORE_NAME}.damaged-{stamp}"
    store.rename(aside)
    for suffix in ("-wal", "-shm"):  # the log belongs to the damaged file: keep them together
        part = run_dir / (STORE_NAME + suffix)
        if part.exists():
            part.rename(run_dir / (aside.name + suffix))
    new = sqlite3.connect(run_dir / (STORE_NAME + ".repairing"), isolation_level=None)
    new.executescript(SCHEMA)
    kept = lost = 0
    try:
        old = sqlite3.connect(f"file:{aside}?mode=ro", uri=True)
        try:
            new.execute("BEGIN")
            for table, key in TABLES.items():
                try:
                    counts = _salvage_table(old, new, table, key)
                except sqlite3.DatabaseError:  # not a database at all: nothing to salvage
                    counts = (0, 0)
                if table == "trials":
                    kept, lost = counts
            new.execute("COMMIT")
        finally:
            old.close()
    finally:
        new.close()
    (run_dir / (STORE_NAME + ".repairing")).rename(store)
    return kept, lost, aside


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.store_repair", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args(argv)
    if not (args.run_dir / STORE_NAME).exists():
        raise UsageError(f"{args.run_dir}: not a run folder (no {STORE_NAME})")
    with owning(args.run_dir):  # never under a running sweep
        kept, lost, aside = repair(args.run_dir)
    print(f"{args.run_dir}: kept {kept} stored trials ({lost} unreadable); the damaged file is kept as {aside}; "
          "run the sweep command again to do the missing trials")
    return 0


if __name__ == "__main__":
    run_cli(main)
