"""Prompt sets: the built-in ones shipped in scenarios/prompts/, or a user's .csv/.jsonl file.

A prompt's id must be stable across runs (it is part of every trial key and the pairing unit of
the gap statistics), so files without an id column get ids from a hash of the text, not from
the row number.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from scenarios.jsonl import read_objects
from scenarios.schema import PromptSource, ScenarioError

BUILTIN_DIR = Path(__file__).parent / "prompts"


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
        path = BUILTIN_DIR / f"{name}.jsonl"
        if not path.exists():
            raise ScenarioError(f"{origin}: unknown built-in prompt set {name!r}; expected one of {builtin_names()}")
    else:
        path = Path(source.source)
        if not path.exists():
            raise ScenarioError(f"{origin}: prompt file not found: {path}")
    rows = _read_rows(path)
    prompts = _to_prompts(rows, source, path)
    if not prompts:
        raise ScenarioError(f"{path}: no prompts found in column {source.text_column!r}")
    return prompts[:limit] if limit else prompts


def _read_rows(path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            return [row for _, row in read_objects(path)]
        if suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    raise ScenarioError(f"{path}: unsupported prompt file type {suffix!r}; expected .csv or .jsonl")


def _to_prompts(rows: list[dict], source: PromptSource, path: Path) -> list[Prompt]:
    if rows and source.text_column not in rows[0]:
        columns = ", ".join(map(str, rows[0].keys()))
        raise ScenarioError(
            f"{path}: no column {source.text_column!r} (set prompts.text_column; columns are: {columns})"
        )
    prompts: list[Prompt] = []
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    for number, row in enumerate(rows, start=1):
        text = str(row.get(source.text_column) or "").strip()
        if not text or text in seen_texts:
            continue
        seen_texts.add(text)
        raw_id = row.get(source.id_column) if source.id_column else None
        prompt_id = str(raw_id) if raw_id not in (None, "") else "p-" + hashlib.sha1(text.encode()).hexdigest()[:10]
        if prompt_id in seen_ids:
            raise ScenarioError(f"{path}: row {number}: duplicate id {prompt_id!r}")
        seen_ids.add(prompt_id)
        category = str(row.get(source.category_column) or "uncategorised") if source.category_column else "uncategorised"
        answer = row.get(source.answer_column) if source.answer_column else None
        prompts.append(Prompt(prompt_id, text, category, None if answer is None else str(answer)))
    return prompts
