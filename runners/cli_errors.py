"""How a CLI ends: bad input is one clear line and exit 2, never a traceback (DESIGN §8); a bug
is one line, exit 4 and a log file holding the traceback — never exit 1, which scripts and CI read
as "the audit failed" (DESIGN §10: a crash must never read as a verdict)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import select
import signal
import sqlite3
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from runners.safe_text import printable
from scenarios.schema import ScenarioError

EXIT_AUDIT_FAILED = 1  # the only exit code that is a verdict: an audit rule failed (docs/audit_in_ci.md)
EXIT_BAD_INPUT = 2
EXIT_TOO_MANY_ERRORS = 3  # calls failed or a judge's votes were mostly unusable: the figures are not evidence
EXIT_INTERNAL_ERROR = 4
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # the reader of stdout left (`| head`): what a shell reports for it
# environment variables whose values never reach a crash log (API keys, tokens)
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)
_KEY_SHAPED = re.compile(r"\b(sk|key|api|tok)[-_][A-Za-z0-9_\-*.]{6,}", re.I)
T = TypeVar("T")


class UsageError(Exception):
    """A CLI argument the user must fix (a missing run folder, a bad flag value)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (no usage dump) through `run_cli`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def positive_int(text: str) -> int:
    """An argparse type for a count (trials, replicates, sizes): a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def seed_int(text: str) -> int:
    """An argparse type for a random seed: a whole number from 0 to 2**64 - 1 (numpy's generators
    refuse a negative seed with a ValueError, which reached the user as an internal error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**64 - 1, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**64 - 1, got {value}")
    return value


def positive_ints(text: str) -> list[int]:
    """An argparse type for a list of counts written `2000,20000`: each a whole number of at least 1
    (read when the flag is parsed, so a typo is refused before a long run, not after it)."""
    return [positive_int(part.strip()) for part in text.split(",")]


def float_in(low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse type for a finite number in [low, high] (no upper bound when `high` is None):
    `float` alone lets NaN, infinities and out-of-range values through to a crash or an endless run."""
    expected = f"a number from {low:g} to {high:g}" if high is not None else f"a number of at least {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (math.isfinite(value) and value >= low and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


# line breaks, other control characters and bidirectional overrides, as they may come in a path, a key
# or a value the user gave: an error must stay one line, and read as it is
def one_line(message: str) -> str:
    """`message` with every line break, control character and bidirectional override written as an
    escape (found by a bad-input fuzz: a path with a newline made every entry point's error two
    lines, and U+202E reversed what followed it): `safe_text.printable`, which does the same for a
    server's text on the terminal."""
    return printable(message)


class _Interrupt:
    """The handler of Ctrl-C and SIGTERM while a command runs: the first one stops it (raises
    KeyboardInterrupt, or inside `run_async` cancels the command's task), every later one is
    ignored, so the cleanup that counts what was paid and writes the run files is not cut short."""

    def __init__(self) -> None:
        self.seen = False
        self.active = True  # while its command runs; after it, an interrupted one stays installed, ignoring
        self.previous: dict[int, Any] = {}  # the handlers before the first command's: the next command restores them
        self.cancel: Callable[[], object] | None = None  # set by `run_async` while its loop runs

    def __call__(self, _signum: int, _frame: object) -> None:
        if self.seen:
            return
        self.seen = True
        if self.cancel is not None:
            self.cancel()
            return
        raise KeyboardInterrupt


@contextlib.contextmanager
def interrupted_once() -> Iterator[_Interrupt | None]:
    """SIGTERM (`kill`, a CI job's time limit, `docker stop`) stops a command as Ctrl-C does, and
    only the first of them counts: a sweep cancels its trials and shards, counts what it paid and
    says how to resume (exit 130). Found by fuzzes: a sweep killed with SIGTERM died at once, and the
    judge calls it had paid were missing from summary.json; a second SIGTERM or Ctrl-C during that
    cleanup raised in the middle of it, or (after the "interrupted" line) killed the process (exit -15).

    Only in the main thread (where Python runs signal handlers). Without an interrupt the previous
    handlers come back (a test calling `run_cli` gets its own back); after one they stay ignored:
    the process is ending (or, in a test, until the next command, which starts afresh). Nested
    (`run_async` inside `run_cli`), the outer handler is used."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    current = signal.getsignal(signal.SIGINT)
    if isinstance(current, _Interrupt) and current.active:
        yield current
        return
    # an earlier command in this process that was interrupted left its handler ignoring: not nested
    # in it (found by a review: a second `run_cli` ignored its SIGTERM and exited 0), and what it replaced
    # is what comes back
    stale = current.previous if isinstance(current, _Interrupt) else None
    handler = _Interrupt()
    installed = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    handler.previous = stale or installed
    try:
        yield handler
    finally:
        handler.active = False
        if not handler.seen:
            for signum, before in handler.previous.items():
                signal.signal(signum, before)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` for a command: the first Ctrl-C or SIGTERM cancels `main`, whose cleanup
    runs to its end (asyncio's own handler raised KeyboardInterrupt at a second Ctrl-C wherever that
    cleanup was), then raises KeyboardInterrupt, also when `main` ended as the signal came; later
    ones are ignored (`interrupted_once`)."""
    with interrupted_once() as interrupt:
        if interrupt is None:
            return asyncio.run(main)
        with asyncio.Runner() as runner:
            loop = runner.get_loop()
            task = loop.create_task(main)
            interrupt.cancel = lambda: loop.call_soon_threadsafe(task.cancel)
            try:
                result = loop.run_until_complete(task)
                if interrupt.seen:  # handled as the task ended: its cancel found it done (found by a review)
                    raise KeyboardInterrupt
                return result
            except asyncio.CancelledError:
                if interrupt.seen:
                    raise KeyboardInterrupt from None
                raise
            finally:
                interrupt.cancel = None


def run_cli(main: Callable[[], int]) -> None:
    try:
        with interrupted_once():
            code = main()
    except BrokenPipeError as exc:
        if not _reader_gone(sys.stdout):  # another pipe (a shard's, a socket's): a bug like any other
            code = _internal_error(exc)
        else:
            # `... --dry-run | head` closed stdout: nothing is wrong with the input ("error: Broken pipe",
            # exit 2, said so), and what was collected is stored. Quiet, as Unix tools are; stdout to
            # /dev/null so the interpreter's last flush does not print a traceback.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = EXIT_BROKEN_PIPE
    except (ScenarioError, UsageError) as exc:
        print(one_line(f"error: {exc}"), file=sys.stderr)
        code = EXIT_BAD_INPUT
    except OSError as exc:  # an output folder that is a file, a read-only or missing path
        where = f"{exc.filename}: " if exc.filename else ""
        print(one_line(f"error: {where}{_os_reason(exc)}"), file=sys.stderr)
        code = EXIT_BAD_INPUT
    except sqlite3.DatabaseError as exc:  # a SQLite file neither the store nor the cache recognised
        # the store and the call cache name their own file; this is any other SQLite file
        print(one_line(f"error: a database file cannot be read ({exc})"), file=sys.stderr)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: completed trials are stored; run the same command again to resume", file=sys.stderr)
        code = 130
    except Exception as exc:
        code = _internal_error(exc)
    sys.exit(code)


def _os_reason(exc: OSError) -> str:
    """The OS's reason, or what it means for a path that is a symbolic link to nothing (a dangling or
    looping link given as --output said "File exists": found by a probe)."""
    name = exc.filename if isinstance(exc.filename, str) else None
    if name and os.path.islink(name) and not os.path.exists(name):
        try:
            target = os.readlink(name)
        except OSError:
            target = "?"
        return f"a symbolic link to {target!r}, which does not exist (or loops); give a folder or a new path"
    return str(exc.strerror or exc)


def _internal_error(exc: BaseException) -> int:
    """A bug: one line, the traceback in a file, its own exit code."""
    log = write_crash_log(exc)
    print(one_line(f"internal error (a bug in afsim, not an audit result): {type(exc).__name__}: "
                   f"{redact_secrets(first_line(exc))}; traceback in {log}"), file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _reader_gone(stream: Any) -> bool:
    """True when `stream` is a pipe whose reader has closed it (poll reports an error on the write end)."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def first_line(exc: BaseException) -> str:
    """What a one-line report of a bug quotes of it: its message's first line (or its type), cut."""
    return (str(exc) or type(exc).__name__).splitlines()[0][:300]


def print_error(line: str) -> None:
    """The reason of a non-zero exit that is not a crash (exit 3): on stderr, where a script or a CI
    log looks for errors (found by a probe: it was on stdout only), and on stdout as before, where
    the sweep's figures are and scripts read it; once when both go to the same place (a terminal)."""
    line = one_line(line)
    if not _same_destination(sys.stdout, sys.stderr):
        print(line)
        sys.stdout.flush()  # before the stderr copy, in order in a log that holds both
    print(line, file=sys.stderr)


def _same_destination(out: Any, err: Any) -> bool:
    try:
        return os.path.sameopenfile(out.fileno(), err.fileno())
    except (OSError, ValueError, AttributeError):  # a stream without a file (a test's capture)
        return False


def redact_secrets(text: str) -> str:
    """Remove the values of secret-named environment variables and key-shaped tokens."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name):
            text = text.replace(value, "[redacted]")
    return _KEY_SHAPED.sub("[redacted]", text)


def write_crash_log(exc: BaseException) -> Path:
    """The traceback (and a forked shard's, carried as `exc.remote_traceback`) in a temp file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = f"afsim internal error at {stamp}\ncommand: {' '.join(sys.argv)}\n\n"
    text += "".join(traceback.format_exception(exc))
    if remote := getattr(exc, "remote_traceback", None):
        text += f"\nin the shard process:\n{remote}"
    fd, path = tempfile.mkstemp(prefix=f"afsim-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
        handle.write(redact_secrets(text))
    return Path(path)
