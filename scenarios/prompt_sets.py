"""Prompt sets: the built-in ones shipped in scenarios/prompts/, or a user's .csv/.jsonl file.

A prompt's id must be stable across runs (it is part of every trial key and the pairing unit of
the gap statistics), so files without an id column get ids from a hash of the text, not from
the row number. A prompt (any cell) is at most MAX_PROMPT_CHARS, 1,000,000 characters: more than
most models' context window, far more than any real request (the reasons: scenarios/user_files.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from scenarios.jsonl import read_objects
from scenarios.schema import PromptSource, ScenarioError
from scenarios.user_files import MAX_PROMPT_CHARS, check_regular_file, read_text

BUILTIN_DIR = Path(__file__).parent / "prompts"
OPTIONAL_COLUMNS = ("id_column", "category_column")  # their default columns may be absent from a file


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    text: str
    category: str = "uncategorised"
    answer: str | None = None  # reference answer, where the setting grades against one


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.jsonl"))


def load_prompts(source: PromptSource, limit: int | None = None, origin: str = "prompts") -> list[Prompt]:
    """Load, validate and de-duplicate prompts; `origin` names the scenario key in errors."""
    if source.source.startswith("builtin:"):
        name = source.source.removeprefix("builtin:")
        if name not in builtin_names():  # also keeps `builtin:../x` inside the package
            raise ScenarioError(f"{origin}: unknown built-in prompt set {name!r}; expected one of {builtin_names()}")
        path = BUILTIN_DIR / f"{name}.jsonl"
    else:
        if not source.source.strip():
            raise ScenarioError(f"{origin}: empty path; expected builtin:<name> or a .csv/.jsonl file")
        path = Path(source.source)
        check_regular_file(path, "prompt file", ScenarioError)
    rows = _read_rows(path)
    prompts = _to_prompts(rows, source, path)
    if not prompts:
        raise ScenarioError(f"{path}: no prompts found in column {source.text_column!r}")
    return prompts[:limit] if limit else prompts


def limit_note(limit: int | None, prompts: list[Prompt]) -> str | None:
    """A limit above the set's size runs the whole set: said, since a planned size (monitors.power)
    that silently shrank is a power the run does not have."""
    if limit and len(prompts) < limit:
        return f"limit {limit} is more than the {len(prompts)} prompts of the set: the run uses all {len(prompts)}"
    return None


# far above any prompt set (AdvBench is 50 kB; 64 MB holds hundreds of thousands of prompts) and far
# below what a planner should hold: a 309 MB file of 10 million lines ran 400 s to 5 GB before a
# dry run could say anything, whatever `limit` was (found by a bad-input fuzz)
MAX_PROMPT_FILE_BYTES = 64_000_000


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of each record; the number is where the user finds the row."""
    if path.stat().st_size > MAX_PROMPT_FILE_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_PROMPT_FILE_BYTES:,} bytes; expected a prompt file "
                            "(is this the right file? split a larger set into several runs)")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return list(read_objects(path))
    if suffix == ".csv":
        return _read_csv(path)
    raise ScenarioError(f"{path}: unsupported prompt file type {suffix!r}; expected .csv or .jsonl")


def _read_csv(path: Path) -> list[tuple[int, dict]]:
    """Rows of a CSV file, read strictly. A UTF-8 BOM is accepted (Excel writes one before the
    first column's name). Refused with the line, never read loosely: a field over the csv module's
    limit, a quote that is never closed (it swallowed the rows after it into one prompt), text after
    a closing quote, a row with more fields than the header (the extra ones were dropped: an
    unquoted comma inside a prompt) and a column name the header repeats (the last one won). A row
    with fewer fields reads the missing ones as empty."""
    text = read_text(path, "prompt file", ScenarioError, MAX_PROMPT_FILE_BYTES)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict]] = []
    try:
        header = reader.fieldnames or []
        repeated = sorted({name for name in header if name.strip() and header.count(name) > 1})
        if repeated:
            raise ScenarioError(f"{path}:{reader.line_num}: the header names column {repeated[0]!r} more than once; "
                                "expected each column name once")
        for row in reader:
            if None in row:  # DictReader puts the fields beyond the header's under the key None
                raise ScenarioError(f"{path}:{reader.line_num}: {len(header) + len(row[None])} fields, the header has "
                                    f"{len(header)}; put a field holding a comma in double quotes (\"a, b\")")
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        # line_num counts the lines read up to the last good record: the bad one starts after it
        raise ScenarioError(f"{path}:{reader.line_num + 1}: {_csv_problem(exc)}") from None
    return rows


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field limit" in text:
        return f"{text}; expected CSV fields of at most {csv.field_size_limit():,} characters"
    if "unexpected end of data" in text:
        return "a quoted field is never closed (a \" without its closing \"); expected each quote closed"
    if "expected after" in text:
        return f"{text}: text after a closing quote; inside a quoted field write a quote as \"\""
    return f"{text}; expected CSV (RFC 4180)"


def _cell(value: object, column: str, where: str) -> str | None:
    """A cell as text: strings, and numbers (ids), are accepted; lists, objects and booleans, text
    longer than MAX_PROMPT_CHARS, or text that cannot be encoded (a lone surrogate from a JSON
    escape), are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScenarioError(f"{where}: column {column!r} is a {type(value).__name__}; expected text")
    text = str(value)
    if len(text) > MAX_PROMPT_CHARS:
        raise ScenarioError(f"{where}: column {column!r} has {len(text):,} characters; expected at most "
                            f"{MAX_PROMPT_CHARS:,} (~250,000 tokens, more than most models' context window)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ScenarioError(f"{where}: column {column!r} holds an unpaired surrogate (\\ud800-\\udfff); "
                            "expected valid Unicode text") from None
    return text


def _to_prompts(rows: list[tuple[int, dict]], source: PromptSource, path: Path) -> list[Prompt]:
    # a named column no row has is a typo: an answer column that is never there would score every
    # reply against nothing (accuracy 0), a category or id column every prompt "uncategorised" or
    # with a hashed id, instead of failing. The default id and category columns are optional.
    for key in ("text_column", "id_column", "category_column", "answer_column") if rows else ():
        column = getattr(source, key)
        if key in OPTIONAL_COLUMNS and column == PromptSource.model_fields[key].default:
            continue
        present = column in rows[0][1] if key == "text_column" else any(column in row for _, row in rows)
        if column and not present:
            columns = ", ".join(map(str, rows[0][1].keys()))
            raise ScenarioError(f"{path}: no column {column!r} (set prompts.{key}; columns are: {columns})")
    prompts: list[Prompt] = []
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    for number, row in rows:
        where = f"{path}:{number}"
        value = row.get(source.text_column)
        if value is not None and not isinstance(value, str):
            raise ScenarioError(f"{where}: column {source.text_column!r} is a {type(value).__name__}; expected text")
        text = (_cell(value, source.text_column, where) or "").strip()
        raw_id = _cell(row.get(source.id_column), source.id_column, where) if source.id_column else None
        category = _cell(row.get(source.category_column), source.category_column, where) if source.category_column else None
        answer = _cell(row.get(source.answer_column), source.answer_column, where) if source.answer_column else None
        if not text or text in seen_texts:
            continue
        seen_texts.add(text)
        prompt_id = raw_id if raw_id not in (None, "") else "p-" + hashlib.sha1(text.encode()).hexdigest()[:10]
        if prompt_id in seen_ids:
            raise ScenarioError(f"{where}: duplicate id {prompt_id!r}")
        seen_ids.add(prompt_id)
        prompts.append(Prompt(prompt_id, text, category or "uncategorised", answer))
    return prompts
