"""A FIFO test must fail, not hang the suite, when the code under test regresses and opens it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def fifo_guard(path: Path, seconds: float = 20) -> Iterator[None]:
    """If the code under test blocks opening the FIFO at `path`, open its other end after
    `seconds` so the read ends (at once, empty) and the test fails on its assertions."""
    finished = threading.Event()

    def unblock() -> None:
        if not finished.wait(seconds):
            with suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()
