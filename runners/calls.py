"""One place that owns how a model is called: cache, concurrency limit, rate cap, retries.

Providers only classify their errors (`ProviderError.retryable`); this module does the rest, once
(DESIGN §9): the SDK clients are built with `max_retries=0`, so one tenacity policy here is the
only retry loop (exponential backoff with full jitter, `Retry-After` honoured, a finite stop).
A call that still fails is returned as an error reply and becomes an error trial: never dropped,
never cached. A successful reply is cached *before* it is returned, so a sweep killed right after
a call never pays for it again.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from runners.providers._remote import REQUESTS
from runners.providers.base import ModelReply, Provider, ProviderError
from scenarios.trial import TrialSpec, stable_hash


def request_hash(provider: Provider, trial: TrialSpec, seeded: bool = True) -> str:
    """Model, base URL, messages, generation params, sample index and scenario seed (not
    concurrency/retries). The seed was left out, so a sweep at `--seed 1` got the replies of
    `--seed 0` from the cache; it is left out at 0, which keeps every key made before it counted.
    `seeded=False`: the hash as made before (`stored_request_hashes`)."""
    assert trial.request is not None
    return stable_hash(provider.name, provider.base_url, trial.request.as_dict(), provider.request_params(), trial.sample,
                       *([trial.seed] if trial.seed and seeded else []))


def stored_request_hashes(provider: Provider, trial: TrialSpec) -> set[str]:
    """The hashes a stored trial's request may carry and still be the request `trial` sends now: a
    trial of a non-zero seed stored before the seed counted (2026-12-07) has the unseeded hash, and
    its reply is a draw of the same request (reusing it saves paying for the whole run again)."""
    now = request_hash(provider, trial)
    # at seed 0 the two are one hash: hashing the request twice doubled the re-run check's cost
    return {now, request_hash(provider, trial, seeded=False)} if trial.seed else {now}


class CallCache:
    """Replies by request hash, on disk (SQLite, WAL). Holds replies only: never keys or headers.

    A cache must never cost an audit: an entry that cannot be read is a miss (the call is made
    again), and a file that is not a SQLite database is moved aside (`calls.sqlite.corrupt-<time>`,
    kept for inspection, not deleted) and a new one started, with one line on stderr naming both.
    A file that goes bad while a sweep runs (a page that cannot be read) turns the cache off for
    that sweep with one line saying how to start a fresh one. Only replies that passed
    `ModelReply.from_cache`'s checks come out, and only cleaned text goes in (the providers clean
    it: runners/safe_text.py), so a hostile reply cannot poison later runs.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.broken = False  # set when the file fails mid-sweep: every get is a miss, put a no-op
        self.notes: list[str] = []  # the lines printed about this cache (tests read them)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            for n in range(2, 100):
                if not aside.exists():
                    break
                aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    source.replace(f"{aside}{suffix}")
            self._say(f"warning: the call cache {self.path} could not be read ({exc}); moved it to {aside} "
                      "and started a new one (calls it held will be made again)")
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        # timeout: the shards of a sweep (runners/shards.py) write here too and wait for each other
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS replies (hash TEXT PRIMARY KEY, model TEXT, reply TEXT NOT NULL)")
            db.execute("SELECT hash, model, reply FROM replies LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _say(self, line: str) -> None:
        self.notes.append(line)
        print(line, file=sys.stderr, flush=True)

    def _failed(self, exc: sqlite3.DatabaseError) -> None:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return  # another process held the file longer than the timeout: just this entry
        if not self.broken:
            self.broken = True
            self._say(f"warning: the call cache {self.path} is damaged ({exc}); not using it for the rest of this "
                      f"sweep. To start a fresh cache: mv {self.path} {self.path}.bad")

    def get(self, digest: str) -> ModelReply | None:
        if self.broken:
            return None
        try:
            row = self.db.execute("SELECT reply FROM replies WHERE hash = ?", (digest,)).fetchone()
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            return None
        if row is None:
            return None
        try:
            return ModelReply.from_cache(json.loads(row[0]))
        except (TypeError, ValueError, RecursionError):  # not JSON, or not text at all
            return None

    def put(self, digest: str, model: str, reply: ModelReply) -> None:
        if self.broken or reply.error is not None:  # never cache an error
            return
        try:
            self.db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?)",
                            (digest, model, json.dumps(reply.to_cache())))
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def close(self) -> None:
        self.db.close()


class RateCap:
    """At most `rpm` call starts in any 60-second window."""

    def __init__(self, rpm: int):
        self.rpm = rpm
        self.starts: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.starts and now - self.starts[0] >= 60.0:
                    self.starts.popleft()
                if len(self.starts) < self.rpm:
                    self.starts.append(now)
                    return
                await asyncio.sleep(60.0 - (now - self.starts[0]))


def _loading(error: BaseException | None) -> bool:
    """A 503 "Loading model" (runners.providers.errors): the server is up and loading its weights, which
    can take minutes for a large model; its attempts count against the policy's total time only (six
    attempts 10 s apart failed the first trials of a sweep started right after the server)."""
    return isinstance(error, ProviderError) and (error.details or {}).get("kind") == "loading"


@dataclass
class RetryPolicy:
    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0
    total_s: float = 300.0  # give up on one call after this long, whatever the attempt count

    def backoff(self, attempt: int, error: BaseException | None) -> float:
        """Full jitter (AWS architecture blog), but never less than the server's Retry-After."""
        backoff = random.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(max(backoff, float(retry_after)), self.cap_s)
        return backoff


@dataclass
class CallCounters:
    calls: int = 0  # HTTP requests made (every attempt and every continuation turn)
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0


@dataclass(slots=True)
class Waiting:
    """One call the sweep is waiting for: which model, in which state since when."""

    model: str
    state: str  # queued (rate cap / concurrency limit) | calling | backoff (after an error)
    since: float
    error: str = ""  # the kind of the last error, while in backoff


def describe_waiting(waiting: list[Waiting], now: float) -> str:
    """The progress line's account of what a sweep waits for, e.g.
    `openai/gpt-4o: 8 calling (oldest 95 s), 2 in backoff (timeout)`: a hung endpoint shows up
    as calls that grow old, a failing one as calls in backoff."""
    by_model: dict[str, list[Waiting]] = {}
    for wait in waiting:
        by_model.setdefault(wait.model, []).append(wait)
    parts = []
    for model, waits in sorted(by_model.items(), key=lambda item: -len(item[1])):
        calling = [w for w in waits if w.state == "calling"]
        backoff = [w for w in waits if w.state == "backoff"]
        queued = len(waits) - len(calling) - len(backoff)
        bits = []
        if calling:
            bits.append(f"{len(calling)} calling (oldest {now - min(w.since for w in calling):.0f} s)")
        if backoff:
            kinds = sorted({w.error for w in backoff if w.error})
            bits.append(f"{len(backoff)} in backoff" + (f" ({', '.join(kinds)})" if kinds else ""))
        if queued:
            bits.append(f"{queued} queued")
        parts.append(f"{model}: {', '.join(bits)}")
    return "; ".join(parts)


class CallLayer:
    def __init__(self, cache: CallCache | None, concurrency: int, policy: RetryPolicy | None = None):
        self.cache = cache
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.counters = CallCounters()
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._caps: dict[str, RateCap] = {}
        self.waiting: dict[int, Waiting] = {}  # calls not yet answered, by id(trial)

    def waiting_line(self) -> str:
        """What the sweep waits for now (for the progress line); empty when nothing."""
        return describe_waiting(list(self.waiting.values()), time.monotonic())

    def _limit(self, provider: Provider) -> asyncio.Semaphore:
        key = f"{provider.name.partition('/')[0]}@{provider.base_url}"
        if key not in self._limits:
            self._limits[key] = asyncio.Semaphore(self.concurrency)
        return self._limits[key]

    def set_rate_cap(self, provider: Provider, rpm: int | None) -> None:
        if rpm:
            self._caps[provider.name] = RateCap(rpm)

    async def call(self, provider: Provider, trial: TrialSpec) -> ModelReply:
        if provider.simulated:  # deterministic and free: nothing to cache or retry
            return await provider.generate(trial)
        digest = request_hash(provider, trial)
        trial.extra["request_hash"] = digest  # the record stores it: hash the request once
        # the first call's, which a later sweep compares with the request it would send (runners/reuse.py);
        # a two-turn family's second call does not replace it
        trial.extra.setdefault("planned_hash", digest)
        if self.cache is not None and (hit := self.cache.get(digest)) is not None:
            self.counters.cache_hits += 1
            return hit
        started = time.monotonic()
        self.waiting[id(trial)] = Waiting(provider.name, "queued", started)
        try:
            try:  # the common case without the retry machinery: its set-up costs ~0.1 ms per call
                reply = await self._attempt(provider, trial)
                attempts = 1
            except ProviderError as first:
                reply, attempts = await self._retry(provider, trial, first, started)
                if reply.error is not None:
                    self.counters.failures += 1
                    return reply
        finally:
            self.waiting.pop(id(trial), None)
        reply.attempts = attempts
        if self.cache is not None:
            self.cache.put(digest, provider.name, reply)
        return reply

    async def _attempt(self, provider: Provider, trial: TrialSpec) -> ModelReply:
        wait = self.waiting.get(id(trial))
        if wait is not None:
            wait.state, wait.since = "queued", time.monotonic()
        if cap := self._caps.get(provider.name):
            await cap.wait()
        async with self._limit(provider):
            if wait is not None:
                wait.state, wait.since = "calling", time.monotonic()
            # "model calls" are HTTP requests: a trial's <NEXT/> continuation turns count too
            # (the remote providers count them on the trial); at least one per attempt
            before = trial.extra.get(REQUESTS, 0)
            try:
                return await provider.generate(trial)
            finally:
                self.counters.calls += max(1, trial.extra.get(REQUESTS, 0) - before)

    def _backoff(self, trial: TrialSpec, error: BaseException | None) -> None:
        if (wait := self.waiting.get(id(trial))) is not None:
            wait.state, wait.since = "backoff", time.monotonic()
            wait.error = str((getattr(error, "details", None) or {}).get("kind") or "")

    def _wait_after(self, trial: TrialSpec, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        self._backoff(trial, error)
        return self.policy.backoff(state.attempt_number + 1, error)

    async def _retry(self, provider: Provider, trial: TrialSpec, first: ProviderError,
                     started: float) -> tuple[ModelReply, int]:
        """Attempts 2..n after a failed first one, under the one tenacity policy; never raises."""
        attempts = 1
        try:
            if not first.retryable or self.policy.attempts <= 1:
                raise first
            self._backoff(trial, first)
            await asyncio.sleep(self.policy.backoff(1, first))
            loads = [_loading(first)]  # failures of a server still loading its model: not counted as attempts

            def stop(state: RetryCallState) -> bool:
                loads.append(_loading(state.outcome.exception() if state.outcome else None))
                spent = state.attempt_number + 1 - sum(loads) >= self.policy.attempts
                return spent or time.monotonic() - started >= self.policy.total_s

            retrying = AsyncRetrying(
                retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
                stop=stop,
                wait=lambda state: self._wait_after(trial, state),
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    self.counters.retries += 1
                    reply = await self._attempt(provider, trial)
        except ProviderError as exc:
            return ModelReply("", error=str(exc), attempts=attempts, latency_s=time.monotonic() - started), attempts
        return reply, attempts
