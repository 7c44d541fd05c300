"""A progress bar on the terminal during a sweep; silent with --quiet or when stderr is not a TTY.

Next to the count, the bar says what the sweep is waiting for (`watch`): which model's calls are
in flight and for how long, which are in backoff after an error. A sweep stuck on a hung endpoint
then reads as such ("openai/x: 16 calling (oldest 110 s)") rather than as a frozen bar.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from tqdm import tqdm

REFRESH_S = 1.0  # how often the waiting line is redrawn


class Progress:
    def __init__(self, total: int, done: int, quiet: bool = False):
        self.bar = None
        self._watcher: asyncio.Task[None] | None = None
        self._status: dict[str, str] = {}
        if not quiet and sys.stderr.isatty() and total > done:
            self.bar = tqdm(total=total, initial=done, unit="trial", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def status(self, text: str, source: str = "") -> None:
        """What the sweep waits for, from `source` (a shard; "" for this process)."""
        if self.bar is None:
            return
        if text:
            self._status[source] = text
        else:
            self._status.pop(source, None)
        self.bar.set_postfix_str(" | ".join(self._status[k] for k in sorted(self._status)), refresh=True)

    def watch(self, describe: Callable[[], str]) -> asyncio.Task[None] | None:
        """Redraw `describe()` every REFRESH_S while the sweep runs (the bar only moves when a
        batch completes, so a hung call would otherwise leave it frozen without a word). The
        caller cancels the returned task when the trials are done (`close` does too)."""
        if self.bar is None:
            return None

        async def loop() -> None:
            while True:
                await asyncio.sleep(REFRESH_S)
                self.status(describe())

        self._watcher = asyncio.get_running_loop().create_task(loop())
        return self._watcher

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self.bar is not None:
            self.bar.close()
