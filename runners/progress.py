"""A progress bar on the terminal during a sweep; silent with --quiet or when stderr is not a TTY."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, total: int, done: int, quiet: bool = False):
        self.bar = None
        if not quiet and sys.stderr.isatty() and total > done:
            self.bar = tqdm(total=total, initial=done, unit="trial", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
