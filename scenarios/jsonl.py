"""Reading JSONL files that users hand us (prompt sets, document corpora, labelled scratchpads).

One reader, so every bad line is reported the same way: one line naming the file and the line
number (`path:N: ...`, as compilers do), raised as the caller's error type so each CLI keeps its
own exit path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scenarios.schema import ScenarioError


def read_objects(path: str | Path, error: Callable[[str], Exception] = ScenarioError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; blank lines are skipped."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise error(f"{path}:{number}: bad JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise error(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
                yield number, row
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason})") from None
