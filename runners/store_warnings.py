"""What a re-render from a run's store says about the trials its figures leave out.

`runners.rescore` (and `runners.report`) rebuild a run's files from the store without calling the
model under test, so unlike the sweep they cannot redo a trial that is missing. A store damaged,
emptied or replaced since the sweep would otherwise give a summary of fewer trials, or none, and
exit 0 in silence. These lines (for stderr) say how many trials the figures leave out and what
brings them back, in the words of the sweep's own warning about unreadable stored trials.
"""

from __future__ import annotations

from typing import Any

from runners.store import ResultStore


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
