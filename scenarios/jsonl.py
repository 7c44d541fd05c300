"""Reading JSONL files that users hand us (prompt sets, document corpora, labelled scratchpads).

One reader, so every bad line is reported the same way: one line naming the file and the line
number (`path:N: ...`, as compilers do), raised as the caller's error type so each CLI keeps its
own exit path. Encoding, file type and nesting are checked by scenarios/user_files.py: a UTF-8
BOM is accepted (Excel writes one), UTF-16, binary, directories and symlink loops are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scenarios.errors import ScenarioError
from scenarios.user_files import iter_lines, json_value


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def check_unique_keys(line: str, where: str, error: Callable[[str], Exception]) -> None:
    """A key twice in one object is refused (json.loads keeps the last value silently; the YAML
    loader refuses duplicates too). `line` is JSON `json_value` has accepted, so it parses."""
    if line.count('"') < 4:  # no object with two keys
        return
    try:
        json.loads(line, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise error(f"{where}: duplicate key {exc.key!r} in one JSON object; expected each key once") from None


def read_objects(path: str | Path, error: Callable[[str], Exception] = ScenarioError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; blank lines are skipped."""
    for number, line in iter_lines(Path(path), "JSONL file", error):
        if not line.strip():
            continue
        row = json_value(line, f"{path}:{number}", error)
        if not isinstance(row, dict):
            raise error(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        check_unique_keys(line, f"{path}:{number}", error)
        yield number, row
