"""Several endpoints for one model: spread the calls, respect each one's limit, route around a dead one.

A model may name replicas of one deployment (vLLM / llama.cpp servers behind no load balancer)
or one gateway with several keys (`endpoints:` in the scenario, docs/providers.md). The pool
decides, per HTTP request, which endpoint takes it:

- **spread**: the healthy endpoint with the fewest calls in flight (relative to its limit) wins,
  so faster replicas, which finish sooner, take more;
- **per-endpoint limits**: an endpoint with `concurrency: n` never has more than n requests in
  flight; when every healthy one is full the request waits for a slot (the model's overall
  `concurrency` is still enforced by the call layer, runners/calls.py);
- **failover**: a refused or dropped connection marks the endpoint unhealthy at once, a run of
  `TRIP_AFTER` timeouts / 5xx in a row too; it gets no new requests for `COOLDOWN_S`, then one
  more chance. A failed request is retried by the call layer's one retry policy (DESIGN §9) and
  the retry avoids the endpoint that just failed it when another one can take it. When every
  endpoint is unhealthy the one that recovers soonest is tried anyway: a sweep never stalls on
  the pool, and a call that still fails becomes an error trial as always.

What is *not* here: which endpoint answered never enters the cache key or the trial key (the
provider's `base_url` is the deployment's identity, runners/providers/_remote.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from runners.providers.base import ProviderError

COOLDOWN_S = 30.0  # an unhealthy endpoint gets no new requests for this long
TRIP_AFTER = 3  # timeouts / 5xx in a row that make an endpoint unhealthy (a refused connection: 1)


@dataclass(eq=False)
class Endpoint:
    base_url: str | None  # None: the SDK's default endpoint
    key_env: str
    concurrency: int | None = None
    in_flight: int = 0
    failures: int = 0  # consecutive failures that count towards TRIP_AFTER
    down_until: float = 0.0  # monotonic time; unhealthy while now < down_until
    served: int = 0  # successful requests, for tests and diagnostics
    client: Any = field(default=None, repr=False)  # the SDK client bound to this endpoint

    def healthy(self, now: float) -> bool:
        return now >= self.down_until

    def has_room(self) -> bool:
        return self.concurrency is None or self.in_flight < self.concurrency

    def load(self) -> float:
        return self.in_flight / self.concurrency if self.concurrency else float(self.in_flight)


def trips_at_once(error: ProviderError) -> bool:
    """A refused or dropped connection: the server is not there (a replica died or never came up)."""
    return error.details.get("kind") == "connection"


def counts_as_failure(error: ProviderError) -> bool:
    """Timeouts and 5xx say the server is in trouble; 4xx and rate limits say nothing about it."""
    status = error.details.get("status")
    return error.details.get("kind") == "timeout" or (isinstance(status, int) and status >= 500 and status != 529)


class EndpointPool:
    """The endpoints of one model and their health, shared by all its calls in one process."""

    def __init__(self, endpoints: list[Endpoint], cooldown_s: float = COOLDOWN_S, trip_after: int = TRIP_AFTER):
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.endpoints = endpoints
        self.cooldown_s = cooldown_s
        self.trip_after = trip_after
        self._waiters: deque[asyncio.Future[None]] = deque()  # requests waiting for a free slot
        # one endpoint without a limit (the common case) needs no choosing and no waiting
        self._trivial = len(endpoints) == 1 and endpoints[0].concurrency is None

    def choose(self, avoid: int | None = None, now: float | None = None) -> Endpoint | None:
        """The endpoint for the next request, or None when every usable one is full. `avoid` (an
        index) is the endpoint that just failed this request: passed over when another has room."""
        now = time.monotonic() if now is None else now
        healthy = [e for e in self.endpoints if e.healthy(now)]
        if not healthy:  # all down: try the one that recovers first rather than fail without a call
            healthy = [min(self.endpoints, key=lambda e: e.down_until)]
        open_ = [e for e in healthy if e.has_room()]
        if avoid is not None and 0 <= avoid < len(self.endpoints):
            open_ = [e for e in open_ if e is not self.endpoints[avoid]] or open_
        return min(open_, key=Endpoint.load) if open_ else None

    @asynccontextmanager
    async def use(self, avoid: int | None = None) -> AsyncIterator[Endpoint]:
        """Hold a slot on the chosen endpoint for one request."""
        endpoint = self.endpoints[0] if self._trivial else self.choose(avoid)
        while endpoint is None:  # every usable endpoint is full: wait for a slot to be released
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:  # cancelled while waiting: a wake-up meant for us goes on
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._wake()
                raise
            endpoint = self.choose(avoid)
        endpoint.in_flight += 1
        try:
            yield endpoint
        finally:
            endpoint.in_flight -= 1
            self._wake()

    def _wake(self) -> None:
        """A slot is free: wake the longest waiter."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def index(self, endpoint: Endpoint) -> int:
        return self.endpoints.index(endpoint)

    def report(self, endpoint: Endpoint, error: ProviderError | None) -> None:
        """Update the endpoint's health after one request (None: it answered)."""
        if error is None:
            endpoint.failures = 0
            endpoint.down_until = 0.0
            endpoint.served += 1
            return
        if trips_at_once(error):
            endpoint.failures = self.trip_after
        elif counts_as_failure(error):
            endpoint.failures += 1
        else:
            return
        if endpoint.failures >= self.trip_after:
            endpoint.down_until = time.monotonic() + self.cooldown_s

    def mark_down(self, endpoint: Endpoint) -> None:
        """Unreachable before the first call (the preflight's connect failed)."""
        endpoint.failures = self.trip_after
        endpoint.down_until = time.monotonic() + self.cooldown_s
