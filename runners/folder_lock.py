"""One sweep at a time per run folder: an exclusive `flock` on `<run folder>/.afsim.lock`.

Why: two sweeps on one folder both saw the same trials missing, so both paid for every call (200
of 200 twice in issue 10's measurement) and their exports tore each other. The second sweep now
refuses at once, naming the holder (pid, host, since when), or waits for it (`--wait-lock`).

Why `flock`: the kernel releases it when the holder dies, SIGKILL included, so a stale lock can
never block a folder; the pid/host/time written into the file only *describe* the holder. A lock
file that still holds a description but is free was left by a sweep that died (its description is
cleared on a clean exit): the next sweep takes it over and says so; if the sweep was killed a
moment ago, its shards may still hold the lock while they die, so a sweep whose described holder
no longer exists waits for them (up to DYING_HOLDER_S) instead of refusing. The shards of a sweep
(runners/shards.py) are forked while the lock is held: they share its open file, so the folder
stays owned until the last of them is gone, and a shard opening its own `Sweep` finds the lock
already held by its process tree (`_held`) instead of waiting for itself. A sweep that created
the folder and stops before writing anything in it (bad input) removes it again.

Limits: `flock` is per host on most network filesystems (NFS may even ignore it); keep a run
folder on a local disk or run one sweep per folder by hand there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runners.cli_errors import UsageError

LOCK_NAME = ".afsim.lock"
WAIT_POLL_S = 0.2  # how often a waiting sweep tries again (flock has no timeout of its own)
DYING_HOLDER_S = 10.0  # how long the shards of a killed sweep may take to die before we say "busy"
DESCRIBE_WAIT_S = 0.5  # how long a refused sweep waits for a new holder to describe itself
MAX_DESCRIPTION_BYTES = 4096  # what a holder writes is ~150 bytes


class FolderBusy(UsageError):
    """Another sweep holds the run folder (exit 2, one line)."""


@dataclass
class _Held:
    fd: int
    depth: int
    created: bool  # this sweep made the run folder: remove it if it stays empty (bad input)


_held: dict[Path, _Held] = {}  # folders this process (or the sweep that forked it) holds


def _holder(path: Path) -> dict:
    """What the holder wrote into the lock file ({} when nothing readable is written). Read
    without following a symlink or waiting, from a regular file only and at most
    MAX_DESCRIPTION_BYTES: a FIFO there hung the sweep and the report, a symlink to /dev/zero
    the report."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        data = os.read(fd, MAX_DESCRIPTION_BYTES) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        info = json.loads(data.decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    return info if isinstance(info, dict) and "pid" in info else {}


def _describe(path: Path) -> str:
    info = _holder(path)
    return f"pid {info.get('pid')} on {info.get('host', '?')}, since {info.get('since', '?')}" if info else ""


def _describe_holder(path: Path) -> str:
    """`_describe` of a lock just found held: its holder writes the description right after it
    locks, so a sweep refused in between read nothing and named "another process" (seen when two
    sweeps started at once); the description is awaited for a moment."""
    deadline = time.monotonic() + DESCRIBE_WAIT_S
    while not (text := _describe(path)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return text


def _holder_is_dead(path: Path) -> bool:
    """The described holder was a process on this host that no longer exists: what still holds
    the lock are its shards, which die with it (runners/shards.py) within moments."""
    info = _holder(path)
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    try:  # a zombie is dead too: killed, not yet reaped by its parent
        with open(f"/proc/{info['pid']}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


SWEEP_ADVICE = "wait for it to finish, or pass --wait-lock to wait, or use another --output"
# runners.report and runners.rescore have neither --wait-lock nor --output (found by a probe: their
# refusal told the user to pass a flag they reject)
RERUN_ADVICE = "wait for it to finish, then run this command again"


def acquire(run_dir: Path, *, wait: bool = False, advice: str = SWEEP_ADVICE) -> None:
    """Own `run_dir` (re-entrant in this process). Raises FolderBusy when another sweep holds it
    and `wait` is false; with `wait`, blocks until it is free (Ctrl-C stops the wait). Waiting and
    taking over a stale lock are said on stderr, also under --quiet: they explain a delay or a
    crash the user should know about."""
    key = run_dir.resolve()
    if key in _held:
        _held[key].depth += 1
        return
    created = not run_dir.exists()
    path = run_dir / LOCK_NAME
    while True:
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = _lock(run_dir, path, wait, advice)
        except FileNotFoundError:  # the folder was removed by an owner that refused (see `release`)
            continue
        try:  # a releasing owner may have removed the file we locked: lock the one that is there
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    _held[key] = _Held(fd, 1, created)


def _lock(run_dir: Path, path: Path, wait: bool, advice: str = SWEEP_ADVICE) -> int:
    """Open and flock the lock file (see `acquire`); returns the locked descriptor."""
    try:  # not through a symlink and without waiting: see `_not_a_lock_file`
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a symlink; a socket
            raise _not_a_lock_file(path) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_a_lock_file(path)
        deadline = time.monotonic() + DYING_HOLDER_S
        while not (locked := _try_lock(fd)) and _holder_is_dead(path) and time.monotonic() < deadline:
            time.sleep(0.01)  # a SIGKILLed sweep's shards are still on their way out
        if not locked:
            holder = _describe_holder(path) or "another process"
            if not wait:
                raise FolderBusy(f"{run_dir}: another sweep is using this run folder ({holder}); {advice}")
            print(f"waiting for {run_dir}: another sweep is using it ({holder})", file=sys.stderr, flush=True)
            while not _try_lock(fd):
                time.sleep(WAIT_POLL_S)
        elif stale := _describe(path):
            print(f"note: {run_dir}: the previous sweep ({stale}) ended without releasing the folder "
                  "(killed?); taking over, its stored trials are kept", file=sys.stderr, flush=True)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"), "command": sys.argv[:1]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _not_a_lock_file(path: Path) -> UsageError:
    """The lock file is a FIFO, device, socket or symlink: refused (nothing we write can describe
    a holder there, and reading it could block), as user_files.check_regular_file words it."""
    return UsageError(f"{path}: not a regular file (a FIFO, socket, device or symlink); "
                      "expected the run folder's lock file: remove it and run again")


def release(run_dir: Path) -> None:
    """Give up one level of ownership; the last one clears the description and unlocks."""
    key = run_dir.resolve()
    held = _held.get(key)
    if held is None:
        return
    held.depth -= 1
    if held.depth > 0:
        return
    del _held[key]
    with contextlib.suppress(OSError):
        os.ftruncate(held.fd, 0)  # a clean exit: the next sweep finds no stale description
        if held.created and os.listdir(run_dir) == [LOCK_NAME]:  # refused before writing anything
            (run_dir / LOCK_NAME).unlink()
            run_dir.rmdir()
    os.close(held.fd)  # closing the last descriptor of the open file releases the flock


@contextlib.contextmanager
def owning(run_dir: Path, *, wait: bool = False, advice: str = SWEEP_ADVICE) -> Iterator[None]:
    acquire(run_dir, wait=wait, advice=advice)
    try:
        yield
    finally:
        release(run_dir)
