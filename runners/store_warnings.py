"""What a re-render from a run's store says about the trials its figures leave out.

`runners.rescore` (and `runners.report`) rebuild a run's files from the store without calling the
model under test, so unlike the sweep they cannot redo a trial that is missing. A store damaged,
emptied or replaced since the sweep would otherwise give a summary of fewer trials, or none, and
exit 0 in silence. These lines (for stderr) say how many trials the figures leave out and what
brings them back, in the words of the sweep's own warning about unreadable stored trials.

A store that holds none of the run's trials while the folder's trials.csv (or summary.json) still
counts some is another matter: re-rendering would replace the last copy of the trials with an
empty run. `lost_store_problem` is the one line that refuses it (exit 2, nothing written), found by
a malformed-input fuzz: a 0-byte trials.sqlite, or one whose trials table was dropped, re-rendered
as an empty run with a warning and exit 0. A folder with no trials anywhere (a sweep killed before
its first trial) is an empty run, and is re-rendered as one.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from runners.atomic import copy_aside
from runners.store import ResultStore

TABLE_NAME = "trials.csv"


def store_warnings(store: ResultStore, keys: set[str], summary: dict[str, Any]) -> list[str]:
    """Warnings for the planned trials `keys` that the `summary` written from `store` does not count."""
    lines = []
    damaged = int(summary.get("store_damaged_rows") or 0)
    if damaged:
        lines.append(f"warning: {damaged} stored trials could not be read and are left out; "
                     "run the sweep command again to re-run them")
    missing = len(keys - store.stored_keys())
    if missing:
        lines.append(f"warning: {store.path}: {missing} of the run's {len(keys)} trials are not stored (an "
                     "interrupted sweep, or a store emptied or replaced since); run the sweep command again to do them")
    return lines


def _table_rows(path: Path) -> int:
    """Data rows of a trials.csv (quoted newlines included); 0 when it is absent or not a regular file
    (a FIFO would block; check_run_outputs names it later)."""
    return len(_table_keys(path))


def _table_keys(path: Path) -> list[str | None]:
    """The `key` cell of each data row of a trials.csv (None where it has no such column); [] when
    it is absent, not a regular file or not readable as CSV."""
    if not path.is_file():
        return []
    limit = csv.field_size_limit(sys.maxsize)  # a server's long error text is one field
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            column = header.index("key") if "key" in header else None
            return [row[column] if column is not None and column < len(row) else None for row in rows]
    except (OSError, csv.Error):
        return []
    finally:
        csv.field_size_limit(limit)


def _summary_trials(path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        n = json.loads(path.read_text(encoding="utf-8", errors="replace")).get("n_trials")
    except (OSError, ValueError, AttributeError, RecursionError):
        return 0
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def collected_trials(run_dir: Path) -> tuple[str, int] | None:
    """What the run files written last say was collected: (`trials.csv holds N trials` or
    `summary.json counts N trials`, N), or None when they count no trial."""
    if n := _table_rows(run_dir / TABLE_NAME):
        return f"{run_dir / TABLE_NAME} holds {n} trials", n
    if n := _summary_trials(run_dir / "summary.json"):
        return f"{run_dir / 'summary.json'} counts {n} trials", n
    return None


def lost_store_problem(store: ResultStore, run_dir: Path, keys: set[str]) -> str | None:
    """Why re-rendering `run_dir` from `store` would lose trials the folder still holds, or None.

    Only a store with no readable trial of the run is refused: one that lost some of them is
    re-rendered with a warning (store_warnings), as before. store_repair is not the remedy here: it
    salvages readable rows from the store, and there are none; the sweep runs the trials again."""
    if store.holds_any(keys):
        return None
    if (collected := collected_trials(run_dir)) is None:
        return None
    said, _ = collected
    stored = len(store.stored_keys() & keys)
    state = f"none of its {stored} stored trials of the run can be read" if stored else "it holds no trials"
    return (f"{store.path}: the result store is empty or damaged ({state}) while {said}; nothing written (they "
            f"would become an empty run); put back a copy of {store.path.name}, or run the sweep command again to "
            f"redo them (replies in the call cache are not paid again; the old {TABLE_NAME} is kept)")


def keep_collected_table(run_dir: Path, held: set[str]) -> tuple[int, Path] | None:
    """Before a sweep redoes every trial of a store that holds none of them: copy the folder's
    trials.csv, the last copy of the trials collected before, to `trials.csv.before-<time>` (the
    new one replaces it when the sweep ends, and a sweep that is stopped early, or run with another
    --limit, would write fewer rows). Only when the store (`held`: its readable keys) holds none of
    the trials the table lists: a sweep of other trials (another --model or --seed) over a sound
    store loses nothing. Returns (its rows, the copy), or None when nothing was lost."""
    keys = _table_keys(run_dir / TABLE_NAME)
    if not keys or any(key in held for key in keys):
        return None
    return len(keys), copy_aside(run_dir / TABLE_NAME)


def keep_table_losing_rows(run_dir: Path, store: ResultStore) -> str | None:
    """Before `runners.report` / `runners.rescore` rewrite trials.csv from a store that lost some of
    the trials it lists (rows deleted or unreadable since): copy the table aside, as the sweep does
    when the store lost them all, and return the warning that says where; None when nothing is lost.
    (They re-rendered with a warning and a trials.csv of fewer rows, the old one gone.)"""
    keys = _table_keys(run_dir / TABLE_NAME)
    lost = set(keys) - (store.stored_keys() - store.damaged_keys()) - {None}
    if not lost:
        return None
    kept = copy_aside(run_dir / TABLE_NAME)
    return (f"warning: {run_dir / TABLE_NAME} listed {len(lost)} trials the store no longer holds readable; the old "
            f"table is kept as {kept.name}")
