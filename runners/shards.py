"""Run one sweep's trials in several processes, so an API-bound sweep is not held to one core.

Why: against a fast endpoint (a local vLLM server, or the benchmark's 100 ms server at concurrency
64) the official SDKs' request path costs ~1.6 ms of CPU per call and the harness (parse,
monitors, record, store) ~1 ms more, so one event loop saturates one core at ~400 calls/s — below
the 640 calls/s that 64 connections at 100 ms can carry. Each shard is a forked copy of the sweep
that runs every n-th trial with its share of the limits:

- the concurrency limit, each model's `rpm` cap and each endpoint's `concurrency` are split so the
  shares add up to the configured value: the provider never sees more than `concurrency` calls in
  flight in total; each shard keeps its own endpoint health (runners/providers/_endpoints.py);
- every shard writes the same store and cache (SQLite WAL: one short transaction per batch or
  reply, writers wait on each other), so resuming and never-paying-twice work as in one process;
- the parent only relays progress and adds up the counters.

Fork, not spawn: a spawned process re-imports the SDKs, LangGraph and pandas (~3 s of CPU each on
the 2-core benchmark machine), more than a 2,000-call sweep saves. The child touches nothing it
inherited that holds a connection or a thread: it builds its own providers, store and cache
connections, and runs a fresh event loop in a fresh thread (the forking thread's running loop
belongs to the parent). Linux only (elsewhere a sweep runs in one process).

Shards die with the parent (PR_SET_PDEATHSIG, plus a parent-pid check for the window before it is
set): a killed sweep leaves no process that keeps paying for calls. An interrupted one (Ctrl-C,
SIGTERM) or one whose shard failed asks the others to stop (STOP_SIGNAL) and adds up what they report.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from runners.cli_errors import first_line, one_line, redact_secrets, write_crash_log
from scenarios.schema import JudgeSpec

if TYPE_CHECKING:
    from runners.engine import Sweep
    from runners.progress import Progress
    from scenarios.schema import Scenario
    from scenarios.trial import TrialSpec

MIN_CALLS_PER_SHARD = 8  # below this share of the concurrency limit a shard idles more than it helps
MAX_SHARDS = 8
# what --workers may ask for: a shard is a forked process (its own SDK clients and event loop) and
# one per core is what helps; `--workers 1000` forked up to the concurrency limit (4096) of processes
# on any machine (found by a bad-input fuzz). 64 is above the cores of any machine a sweep runs on.
MAX_WORKERS = 64
# how the parent asks a shard to stop and report (SIGINT and SIGTERM are the user's: a shard ignores
# both, as they may reach the whole process group), and how long it waits for the reports before killing
STOP_SIGNAL = signal.SIGUSR1
STOP_GRACE_S = 10.0


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def shard_count(requested: int | None, *, remote: bool, trials: int, limit: int) -> int:
    """How many processes run the trials. `limit` is the smallest limit they would share (the call
    limit, or a lower rpm cap: `smallest_limit`). `requested` (`--workers`) wins, within it; by
    default only an API sweep with more than two full windows of calls is sharded, one shard per
    core: small sweeps (and the simulator, which has no HTTP cost) stay in one process."""
    if not sys.platform.startswith("linux") or trials < 2:
        return 1
    if requested is not None:
        return max(1, min(requested, limit, trials))
    if not remote or trials < 2 * limit:
        return 1
    return max(1, min(available_cores(), MAX_SHARDS, limit // MIN_CALLS_PER_SHARD))


def smallest_limit(scenario: Scenario) -> int:
    """The smallest limit a shard gets a share of: the call limit, an rpm cap of a model or an LLM
    judge, or an endpoint's concurrency. More shards than that would leave one a share of 0."""
    caps = [m.rpm for m in scenario.models if m.rpm]
    caps += [e.concurrency for m in scenario.models for e in m.endpoints if e.concurrency]
    caps += [b.rpm for b in scenario.monitors.values() if isinstance(b, JudgeSpec) and b.rpm]
    return min([scenario.concurrency, *caps])


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal positive integers that add up to it (shares of a limit)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def shard_scenario(scenario: Scenario, index: int, parts: int) -> Scenario:
    """The scenario as shard `index` runs it: its share of the concurrency and of each rpm cap
    (models' and LLM judges'), so the shards together stay within every configured limit."""

    if parts > smallest_limit(scenario):  # a share of 0 would mean "no cap" further down
        raise ValueError(f"{parts} shards cannot share a limit of {smallest_limit(scenario)}")

    def share(spec):
        return spec.model_copy(update={"rpm": split(spec.rpm, parts)[index]}) if spec.rpm else spec

    def share_endpoints(spec):  # each endpoint's own concurrency limit, as the overall one
        endpoints = [e.model_copy(update={"concurrency": split(e.concurrency, parts)[index]}) if e.concurrency else e
                     for e in spec.endpoints]
        return share(spec.model_copy(update={"endpoints": endpoints}) if spec.endpoints else spec)

    return scenario.model_copy(update={
        "concurrency": split(scenario.concurrency, parts)[index],
        "models": [share_endpoints(m) for m in scenario.models],
        "monitors": {name: share(b) if isinstance(b, JudgeSpec) else b for name, b in scenario.monitors.items()},
    })


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _PipeProgress:
    """The child's side of the progress bar: one line per finished batch on its pipe."""

    def __init__(self, fd: int):
        self.fd = fd

    def update(self, n: int) -> None:
        os.write(self.fd, f"progress {n}\n".encode())

    def watch(self, describe: Callable[[], str]) -> asyncio.Task[None]:
        """Send what this shard waits for every REFRESH_S (the parent shows it on its bar)."""
        from runners.progress import REFRESH_S

        async def loop() -> None:
            while True:
                await asyncio.sleep(REFRESH_S)
                os.write(self.fd, f"status {describe()}\n".encode())

        return asyncio.get_running_loop().create_task(loop())


class _StopRequest:
    """SIGUSR1 from the parent (the sweep was interrupted, or another shard failed): cancel this
    shard's trials, so it reports what it paid and stored instead of being killed with it unsaid."""

    def __init__(self) -> None:
        self.requested = False
        self.target: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None  # one assignment: no torn read

    def __call__(self, _signum: int, _frame: object) -> None:  # in the main thread, blocked in join()
        self.requested = True
        if self.target is not None:
            loop, task = self.target
            with contextlib.suppress(RuntimeError):  # the loop has closed: the shard is done
                loop.call_soon_threadsafe(task.cancel)

    def attach(self) -> None:
        """Called first thing in the shard's event loop (another thread than the handler's)."""
        task = asyncio.current_task()
        assert task is not None
        self.target = (asyncio.get_running_loop(), task)
        if self.requested:  # asked before there was a task to cancel
            task.cancel()


def _run_child(make_sweep: Callable[[Scenario], Sweep], scenario: Scenario, trials: list[TrialSpec],
               index: int, parts: int, fd: int, parent: int) -> None:
    """The body of one shard (in the forked child); never returns. Its report (one JSON line) holds
    its counters whenever its sweep opened: done, stopped by the parent, or failed."""
    code = 1
    try:
        stop = _StopRequest()
        signal.signal(STOP_SIGNAL, stop)
        _die_with_parent(parent)
        # Ctrl-C, and SIGTERM from `timeout`, systemd or a CI runner, reach the whole process group:
        # the parent stops us (STOP_SIGNAL) and counts our report; dying at once lost what we paid
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.set_wakeup_fd(-1)  # the inherited wake-up fd is the parent's event loop
        outcome: dict[str, Any] = {}

        async def body() -> None:
            stop.attach()
            sweep = make_sweep(shard_scenario(scenario, index, parts))
            sweep.open()
            try:
                await sweep.run(trials, _PipeProgress(fd), shards=1)  # type: ignore[arg-type]
            finally:  # also when stopped: the calls it paid, the votes of the verdicts it stored
                outcome["counters"] = shard_counters(sweep)
                await sweep.close()

        def thread() -> None:  # a fresh thread has no running loop: asyncio.run works here
            try:
                asyncio.run(body())
                outcome["done"] = True
            except BaseException as exc:  # reported to the parent as one line
                if stop.requested:
                    outcome["stopped"] = True
                    return
                outcome.update(error=(str(exc) or type(exc).__name__).splitlines()[0], kind=type(exc).__name__)
                if isinstance(shard_error(outcome, index, parts), ShardFailed):
                    # a bug: the trace goes to the parent's crash log (runners/cli_errors.py)
                    outcome["traceback"] = traceback.format_exc()

        worker = threading.Thread(target=thread, name=f"afsim-shard-{index}")
        worker.start()
        worker.join()  # interrupted by signals: the stop handler runs in this thread meanwhile
        os.write(fd, (json.dumps(outcome) + "\n").encode())
        code = 0 if "done" in outcome else 1
    finally:
        os._exit(code)  # no inherited finalizers (the parent's store, loop, SDK clients) run here


def shard_counters(sweep: Sweep) -> dict[str, Any]:
    """What a shard reports for the parent to add up (`merge_counters`): its call and judge
    counters, and its first monitor failure with the traceback (the parent writes the crash log)."""
    report: dict[str, Any] = {
        "calls": dict(sweep.calls.counters.__dict__),
        "judges": {name: j.counters.as_dict() for name, j in sweep.monitors.judges.items() if hasattr(j, "counters")},
    }
    if sweep.monitors.failures:
        name, exc = sweep.monitors.failures[0]
        report["monitor_failure"] = {"monitor": name, "kind": type(exc).__name__, "error": str(exc),
                                     "traceback": "".join(traceback.format_exception(exc))}
    return report


async def run_shards(sweep: Sweep, trials: list[TrialSpec], progress: Progress, parts: int,
                     make_sweep: Callable[[Scenario], Sweep]) -> None:
    """Fork `parts` shards over `trials`, relay their progress, add their counters to `sweep`'s.
    A shard that fails stops the others; the error names the shard and its first line (a bug
    carries the shard's traceback to the crash log: `ShardFailed`). Cancelled (Ctrl-C, SIGTERM),
    it stops every shard and adds up what they report before it raises: their calls and votes
    were paid (found by a probe: with `--workers 2` they were missing from summary.json)."""
    loop = asyncio.get_running_loop()
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[tuple[int, BinaryIO]] = []
    parent = os.getpid()
    for index in range(parts):
        read_fd, write_fd = os.pipe()
        with warnings.catch_warnings():  # 3.12+ warns on fork with threads; the child uses none of them
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _run_child(make_sweep, sweep.scenario, trials[index::parts], index, parts, write_fd, parent)
        os.close(write_fd)
        children.append((pid, os.fdopen(read_fd, "rb")))

    async def relay(index: int, pid: int, pipe: BinaryIO) -> dict[str, Any]:
        reader = asyncio.StreamReader(limit=2**24)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        outcome: dict[str, Any] = {"error": "the shard process ended without a report"}
        try:
            while line := await reader.readline():
                if line.startswith(b"progress "):
                    progress.update(int(line.split()[1]))
                elif line.startswith(b"status "):
                    progress.status(line[7:].decode("utf-8", "replace").strip(), f"shard {index}")
                else:
                    outcome = json.loads(line)
        finally:
            transport.close()
        await loop.run_in_executor(None, os.waitpid, pid, 0)
        return outcome

    tasks = [asyncio.ensure_future(relay(i, pid, pipe)) for i, (pid, pipe) in enumerate(children)]
    interrupted, failed = False, None
    try:
        try:
            failed = await _first_failure(tasks)
        except asyncio.CancelledError:
            interrupted = True
        interrupted = await _stop_shards(children, tasks) or interrupted
    finally:  # the shards still running here are left by an error: nothing to count
        _kill_shards([pid for (pid, _), task in zip(children, tasks, strict=True) if not task.done()])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _, pipe in children:
            pipe.close()
    reports = [task.result() for task in tasks if not task.cancelled() and task.exception() is None]
    for report in reports:
        if "counters" in report:
            merge_counters(sweep, report["counters"])
    if interrupted:
        if failed is not None:
            _say_failure_on_interrupt(failed, tasks.index(failed), parts)
        raise asyncio.CancelledError
    if failed is not None:
        if (error := failed.exception()) is not None:
            raise error
        raise shard_error(failed.result(), tasks.index(failed), parts)


def _say_failure_on_interrupt(failed: asyncio.Future[dict[str, Any]], index: int, parts: int) -> None:
    """A shard failed and the sweep was interrupted while the others stopped: the exit is 130 (the
    user's interrupt wins, and a re-run resumes), but the failure is said in one line on stderr, with
    a crash log for a bug. It was dropped: the shard's traceback was lost with it."""
    error = failed.exception() or shard_error(failed.result(), index, parts)
    line = f"also, before the interrupt: {type(error).__name__}: {first_line(error)}"
    if isinstance(error, ShardFailed) or failed.exception() is not None:
        line += f"; traceback in {write_crash_log(error)}"
    print(one_line(redact_secrets(line)), file=sys.stderr)


async def _first_failure(tasks: list[asyncio.Future[dict[str, Any]]]) -> asyncio.Future[dict[str, Any]] | None:
    """Wait for every shard's report; the first one that is not "done" ends the wait (the others
    are stopped then) and is returned."""
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:  # in shard order when several end at once
            if task in done and (task.exception() is not None or "done" not in task.result()):
                return task
    return None


async def _stop_shards(children: list[tuple[int, BinaryIO]], tasks: list[asyncio.Future[dict[str, Any]]]) -> bool:
    """`_ask_shards_to_stop`, run to its end (at most STOP_GRACE_S) even if the sweep is interrupted
    meanwhile; returns whether it was. Found by a review: a Ctrl-C while the shards stopped after one
    had failed killed them and dropped the reports already in, with the judge calls they had paid."""
    stopping = asyncio.ensure_future(_ask_shards_to_stop(children, tasks))
    interrupted = False
    while True:
        try:
            await asyncio.shield(stopping)
            return interrupted
        except asyncio.CancelledError:
            if stopping.cancelled():  # the event loop itself is closing
                raise
            interrupted = True


async def _ask_shards_to_stop(children: list[tuple[int, BinaryIO]],
                              tasks: list[asyncio.Future[dict[str, Any]]]) -> None:
    """Ask the shards still running to stop (STOP_SIGNAL) and wait for their reports, at most
    STOP_GRACE_S; then kill those left. Their relays reap them: no zombies left for an init that may not reap."""
    running = [(pid, task) for (pid, _), task in zip(children, tasks, strict=True) if not task.done()]
    if not running:
        return
    for pid, _ in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, STOP_SIGNAL)
    _, late = await asyncio.wait([task for _, task in running], timeout=STOP_GRACE_S)
    if late:
        _kill_shards([pid for pid, task in running if task in late])
        await asyncio.wait(late)


def _kill_shards(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def shard_error(outcome: dict[str, Any], index: int, parts: int) -> Exception:
    """The shard's failure as the exception the sweep's CLI already reports in one line (a
    scenario, file or store problem), else `ShardFailed` (a bug: its traceback goes to the crash log)."""
    import sqlite3

    from runners.store import StoreDamaged
    from scenarios.schema import ScenarioError

    kinds: dict[str, type[Exception]] = {"ScenarioError": ScenarioError, "OperationalError": sqlite3.OperationalError,
                                         "DatabaseError": sqlite3.DatabaseError, "OSError": OSError,
                                         "PermissionError": OSError, "FileNotFoundError": OSError,
                                         "StoreDamaged": StoreDamaged}
    message = outcome.get("error", "failed")
    kind = kinds.get(outcome.get("kind", ""))
    if kind is not None:
        return kind(message)
    return ShardFailed(f"sweep shard {index + 1} of {parts} failed: {message}", outcome.get("traceback"))


class ShardFailed(RuntimeError):
    """A bug in a shard: the CLI exits 4 with the shard's traceback in its crash log."""

    def __init__(self, message: str, remote_traceback: str | None = None):
        super().__init__(message)
        self.remote_traceback = remote_traceback


def merge_counters(sweep: Sweep, report: dict[str, Any]) -> None:
    """Add a shard's counters (`shard_counters`) to the parent's; its monitor failure joins the
    parent's, so the crash log the sweep writes holds the shard's traceback."""
    for name, value in report["calls"].items():
        setattr(sweep.calls.counters, name, getattr(sweep.calls.counters, name) + value)
    for name, counts in report["judges"].items():
        judge = sweep.monitors.judges.get(name)
        if judge is not None and hasattr(judge, "counters"):
            for key, value in counts.items():
                setattr(judge.counters, key, getattr(judge.counters, key) + value)
    if failure := report.get("monitor_failure"):
        sweep.monitors.failures.append((failure["monitor"], ShardMonitorFailed(failure)))


class ShardMonitorFailed(Exception):
    """A monitor's failure in a shard, as the parent reports it: its kind, message and traceback
    (`remote_traceback`, which `write_crash_log` adds to the log)."""

    def __init__(self, failure: dict[str, str]):
        super().__init__(f"{failure['kind']}: {failure['error']}")
        self.kind = failure["kind"]
        self.remote_traceback = failure["traceback"]
