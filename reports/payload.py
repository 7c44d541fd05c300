"""The transcript browser's data: every trial, compact, embedded so that model text cannot escape.

Trials travel as one JSON document inside `<script type="application/json">` (never executed).
Model output may contain `</script>`, so `<`, `>` and `&` are written as \\u escapes (still valid
JSON, read back unchanged by JSON.parse), and U+2028/U+2029 too. Large runs are gzip-compressed and
base64-encoded instead (the browser inflates them with DecompressionStream): a 100k-trial run
stays a file that mails and opens. Either way the page shows model text only through
`textContent`, never as HTML.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterable
from typing import Any

# columns of one row of the browser's table; the JS reads them by these names
COLUMNS = [
    "model", "condition", "prompt_id", "category", "sample", "parse_status", "error", "accepted",
    "compliance", "af", "af_flag", "scratchpad", "output", "raw", "monitors", "truth", "key",
    "sent", "af_score",
]
GZIP_ABOVE = 20_000  # trials; below this the payload is plain (readable) JSON
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_TRUTH_KEYS = ("complied", "af", "fakes_alignment", "decision", "sees_harm", "believes_trained", "defect")


def script_safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element whatever strings it holds."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _monitors(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, verdict in (record.get("monitors") or {}).items():
        item: dict[str, Any] = {"l": verdict.get("label"), "b": verdict.get("backend"), "s": verdict.get("score")}
        if verdict.get("evidence"):
            item["e"] = verdict["evidence"]
        if verdict.get("rationale"):
            item["r"] = verdict["rationale"]
        criteria = verdict.get("criteria")
        if criteria:
            item["c"] = {k: [bool(c.get("met")), c.get("evidence") or []] for k, c in criteria.items()}
        out[name] = item
    return out


class TextTable:
    """Long texts shared by many trials (system prompts with their documents, user turns) travel
    once in the payload and rows refer to them by index: a 100k-trial run has a few hundred
    distinct system prompts, not 100k copies."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def ref(self, text: str | None) -> int | None:
        if text is None:
            return None
        at = self._index.get(text)
        if at is None:
            at = self._index[text] = len(self.texts)
            self.texts.append(text)
        return at


    def paragraphs(self, text: str) -> list[int]:
        """A long text as indices of its paragraphs. System prompts of a synthetic-documents run
        differ per prompt and sample (each reads its own draw of documents), but they are made of
        the same few hundred paragraphs: 50k distinct 8 kB prompts cost a few MB this way."""
        return [self.ref(part) for part in text.split("\n\n")]  # type: ignore[misc]


def sent_messages(record: dict[str, Any], texts: TextTable, system: int | None) -> dict[str, Any]:
    """Everything that was sent for one trial, as the transcript view shows it (Inspect-style):
    system prompt (with any documents the model read first), each turn, the prefill and the
    document ids (the generation params travel once per model, in the payload's `params`). `system` indexes the payload's `systems` (each a list
    of paragraph indices); other texts are indices into its text table."""
    request = record.get("request") or {}
    sent: dict[str, Any] = {
        "system": system,
        "turns": [[m.get("role"), texts.ref(str(m.get("content", "")))] for m in request.get("messages") or []],
    }
    if request.get("prefill"):
        sent["prefill"] = texts.ref(request["prefill"])
    if request.get("documents"):
        sent["documents"] = list(request["documents"])
    turns = (record.get("reply") or {}).get("turns")
    if turns and turns > 1:
        sent["calls"] = turns
    return sent


def trial_row(record: dict[str, Any], model_index: dict[str, int], condition_index: dict[str, int],
              texts: TextTable | None = None, system: int | None = None) -> list[Any]:
    reply = record["reply"]
    monitors = record.get("monitors") or {}
    truth = record.get("ground_truth") or {}
    compliance = (monitors.get("compliance") or {}).get("label")
    af = monitors.get("alignment_faking") or {}
    status = reply.get("parse_status")
    return [
        model_index.setdefault(record["model"], len(model_index)),
        condition_index.setdefault(record["condition_key"], len(condition_index)),
        record["prompt_id"],
        record.get("category"),
        record["sample"],
        status,
        reply.get("error"),
        reply.get("accepted"),
        compliance,
        af.get("label"),
        1 if af.get("flag") else 0,
        reply.get("scratchpad") or "",
        reply.get("output") or "",
        # the raw reply only where parsing could not split it: that is when a reader needs it
        (reply.get("raw") or "") if status not in ("ok", None) else "",
        _monitors(record),
        {k: truth[k] for k in _TRUTH_KEYS if k in truth} or None,
        record["key"],
        sent_messages(record, texts, system) if texts is not None else None,
        af.get("score"),
    ]


def build_payload(records: Iterable[dict[str, Any]], pair: dict[str, str] | None,
                  system_text: Callable[[str], str | None] | None = None) -> dict[str, Any]:
    """Everything the browser needs: rows, the model/condition tables, prompt texts, the pairing
    axis, and the shared text table the rows' sent messages point into. `system_text` resolves a
    record's `system_ref` (the store keeps system prompts once, by hash)."""
    models: dict[str, int] = {}
    conditions: dict[str, int] = {}
    condition_values: dict[str, dict[str, str]] = {}
    prompts: dict[str, str] = {}
    texts = TextTable()
    params: dict[str, Any] = {}  # generation params per model (the same for all its trials)
    system_index: dict[str, int | None] = {}
    systems: list[list[int]] = []
    rows = []
    for record in records:
        ref = (record.get("request") or {}).get("system_ref")
        if ref and ref not in system_index:
            text = system_text(ref) if system_text else None
            system_index[ref] = None if text is None else len(systems)
            if text is not None:
                systems.append(texts.paragraphs(text))
        rows.append(trial_row(record, models, conditions, texts, system_index.get(ref) if ref else None))
        params.setdefault(record["model"], (record.get("request") or {}).get("params"))
        condition_values.setdefault(record["condition_key"], record["condition"])
        prompts.setdefault(record["prompt_id"], record.get("prompt") or "")
    return {
        "columns": COLUMNS,
        "models": list(models),
        "conditions": [{"key": k, "values": condition_values[k]} for k in conditions],
        "prompts": prompts,
        "pair": pair,
        "texts": texts.texts,
        "systems": systems,
        "params": [params.get(m) for m in models],
        "rows": rows,
    }


def encode_payload(payload: dict[str, Any], gzip_above: int = GZIP_ABOVE) -> tuple[str, str]:
    """(encoding, text) for the data element: ("json", escaped JSON) or ("gzip-base64", base64)."""
    if len(payload["rows"]) <= gzip_above:
        return "json", script_safe_json(payload)
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "gzip-base64", base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")
