"""Output targets checked before any call is paid for: a run folder's files and an `--out` path.

Found by a bad-input fuzz: a sweep whose report.html (or summary.json, trials.csv, trials.parquet)
was a directory made every call and then exited 2; `--out /etc/hostname/x.eval` and
`scenarios.make_documents --out /etc/hostname/sub/docs.jsonl` made all their judge or writer calls
first. Each is now one line naming the file or the flag, exit 2, before the first call.
In the scenario layer (it imports nothing of runners), so scenarios.make_documents can use it too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from scenarios.errors import ScenarioError

# what every run-files write replaces (runners/engine.py write_run_files, save_scenario)
RUN_FILES = ("summary.json", "trials.csv", "trials.parquet", "scenario.yaml")
REPORT_FILE = "report.html"


def check_run_outputs(run_dir: Path, names: Iterable[str], error: Callable[[str], Exception] = ScenarioError) -> None:
    """Each `run_dir/name` absent or a regular file (a symlink is replaced, not followed)."""
    for name in names:
        path = Path(run_dir) / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise error(f"{path}: cannot be replaced ({exc.strerror}); the run writes this file") from None
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a directory; the run writes this file there (move or delete it)")
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            raise error(f"{path}: not a regular file (a FIFO, socket or device); the run writes this file there")


def check_out_path(out: Path, flag: str = "--out", error: Callable[[str], Exception] = ScenarioError) -> None:
    """`out` can be written: not a folder itself, and its parent a folder that exists or can be made
    (the nearest existing ancestor a writable folder)."""
    out = Path(out)
    if out.is_dir():
        raise error(f"{flag} {out}: is a folder; expected a file name")
    if out.exists() and not out.is_file():
        raise error(f"{flag} {out}: not a regular file")
    ancestor = out.absolute().parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise error(f"{flag} {out}: {ancestor} is not a folder, so {out.parent} cannot be made")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise error(f"{flag} {out}: {ancestor} is not writable")
