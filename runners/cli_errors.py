"""Bad input ends a CLI with one clear line and exit code 2, never a traceback (DESIGN §8)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from typing import NoReturn

from scenarios.schema import ScenarioError

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A CLI argument the user must fix (a missing run folder, a bad flag value)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (no usage dump) through `run_cli`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def run_cli(main: Callable[[], int]) -> None:
    try:
        code = main()
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except OSError as exc:  # an output folder that is a file, a read-only or missing path
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except sqlite3.DatabaseError as exc:  # a run folder whose store is not a SQLite database
        print(f"error: the run folder's store cannot be read ({exc}); use another --output or --fresh",
              file=sys.stderr)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: completed trials are stored; run the same command again to resume", file=sys.stderr)
        code = 130
    sys.exit(code)
