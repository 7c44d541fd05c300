"""Write a file so a reader sees the old version or the new one, never half of one.

trials.csv, summary.json, report.html and scenario.yaml are read by other tools (CI gates,
notebooks, a browser) possibly while a sweep rewrites them, and a sweep can be killed mid-write:
each is written to a temporary file in the same folder (same filesystem, so the rename is atomic)
and moved over the old one with `os.replace`. A kill leaves at most a stray `.<name>.*.tmp`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def replacing(path: Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """An open temporary file that replaces `path` when the block ends without an exception."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding,
                       newline=None if "b" in mode else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the files are meant to be shared like any other
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename == tmp:
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error about `path`: the user knows trials.csv (a directory there, a read-only
    folder), not the temporary `.trials.csv.<random>.tmp` the failing call was given."""
    return OSError(exc.errno, exc.strerror, str(path))


def write_text(path: Path, text: str) -> None:
    with replacing(path) as handle:
        handle.write(text)


def write_with(path: Path, writer: Callable[[IO], None], newline: str | None = "") -> None:
    """`writer(handle)` fills the file (e.g. `frame.to_csv`), which then replaces `path`."""
    with replacing(path, newline=newline) as handle:
        writer(handle)


def copy_aside(path: Path) -> Path:
    """A copy of `path` as `<name>.before-<time>`, under a name no earlier copy has (two copies in one
    second, the stamp's resolution, overwrote the first: found by a hostile-reply fuzz), before a
    file a person or an earlier run made is replaced."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept, n = path.with_name(f"{path.name}.before-{stamp}"), 1
    while os.path.lexists(kept):
        n += 1
        kept = path.with_name(f"{path.name}.before-{stamp}-{n}")
    shutil.copyfile(path, kept)
    return kept
