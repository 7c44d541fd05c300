"""Reading JSONL files that users hand us (prompt sets, document corpora, labelled scratchpads).

One reader, so every bad line is reported the same way: one line naming the file and the line
number (`path:N: ...`, as compilers do), raised as the caller's error type so each CLI keeps its
own exit path. Encoding, file type and nesting are checked by scenarios/user_files.py: a UTF-8
BOM is accepted (Excel writes one), UTF-16, binary, directories and symlink loops are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scenarios.errors import ScenarioError
from scenarios.user_files import iter_lines, json_value


def read_objects(path: str | Path, error: Callable[[str], Exception] = ScenarioError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; blank lines are skipped. NaN and Infinity are
    refused: these are files a user hands us, and what is read from them is written out again."""
    for number, line in iter_lines(Path(path), "JSONL file", error):
        if not line.strip():
            continue
        if "\r" in line.rstrip("\r\n"):  # JSON has no raw CR inside a line: the file's line breaks are bare CRs
            raise error(f"{path}:{number}: the line breaks are bare carriage returns (\\r, an old Mac file); "
                        "save it with \\n line endings")
        row = json_value(line, f"{path}:{number}", error, unique_keys=True, finite=True)
        if not isinstance(row, dict):
            raise error(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        yield number, row
