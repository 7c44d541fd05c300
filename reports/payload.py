"""The transcript browser's data: every trial, compact, embedded so that model text cannot escape.

The data is split so that opening a 100k-trial report decodes only what the table shows:

- the **index** (`trial-index`): per trial only the table's light columns (model, condition,
  prompt, sample, parse status, error, key), stored column by column, each monitor's label and
  score (whatever monitors the run has: compliance and alignment faking, or a cue family's own),
  plus the model and condition tables, prompt texts and the pairing axis. Filters and sorts run on
  it over every trial.
- **chunks** of CHUNK_TRIALS consecutive trials, the heavy parts, column by column, in two elements
  each: `trial-replies-K` (scratchpad, output, raw reply: what a text search reads) and
  `trial-details-K` (monitor verdicts with their evidence, ground truth, messages sent), decoded
  only when a trial of that block is opened (the replies of every chunk, once, for a text search).
- the **text table** (`trial-texts`): system prompts and user turns the messages sent point into.

Each part travels inside `<script type="application/json">` (never executed). Model output may
contain `</script>`, so `<`, `>` and `&` are written as \\u escapes (still valid JSON, read back
unchanged by JSON.parse), and U+2028/U+2029 too. Above GZIP_ABOVE trials each part is gzip-compressed
and base64-encoded instead (the browser inflates it with DecompressionStream): a 100k-trial run
stays a file that mails and opens. Either way the page shows model text only through
`textContent`, never as HTML.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from monitors.parse import head_and_end

# the index's columns (one list per column, a value per trial); the JS reads them by these names
# (each monitor's label and score are the index's `labels` and `scores`, see MonitorLabels)
INDEX_COLUMNS = ["model", "condition", "prompt_id", "category", "sample", "parse_status", "error", "key"]
# the monitors whose labels lead the browser's filters and columns, in this order (the helpful-only
# setting's); any other monitor follows in the order the trials first name it
LEADING_MONITORS = ("compliance", "alignment_faking")
# a chunk's two elements and their columns (one list per column, a value per trial of the chunk)
CHUNK_PARTS = {"replies": ["scratchpad", "output", "raw"], "details": ["accepted", "monitors", "truth", "sent"]}
CHUNK_TRIALS = 1000  # trials per chunk: opening a trial inflates ~2 MB of JSON, not the whole run
GZIP_ABOVE = 20_000  # trials; up to this the parts are plain (readable) JSON
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
# bidirectional controls too: read raw in the file's source, an override reorders what follows it
_ESCAPES |= {chr(c): f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_TRUTH_KEYS = ("complied", "af", "fakes_alignment", "decision", "sees_harm", "believes_trained", "defect")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def script_safe(text: str) -> str:
    """JSON text made safe to sit inside a <script> element: the escaped characters can only occur
    inside JSON strings, where their \\u escapes read back unchanged."""
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return text


def script_safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element whatever strings it holds."""
    return script_safe(_json(value))


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
    document ids (the generation params travel once per model, in the index's `params`). `system`
    indexes the text table's `systems` (each a list of paragraph indices); other texts are indices
    into its `texts`."""
    request = record.get("request") or {}
    sent: dict[str, Any] = {
        "system": system,
        # an assistant turn is a reply shown back (two-turn families): bounded like the replies
        "turns": [[m.get("role"), texts.ref(bounded_text(str(m.get("content", ""))) if m.get("role") == "assistant"
                                            else str(m.get("content", "")))] for m in request.get("messages") or []],
    }
    if request.get("prefill"):
        sent["prefill"] = texts.ref(request["prefill"])
    if request.get("documents"):
        sent["documents"] = list(request["documents"])
    turns = (record.get("reply") or {}).get("turns")
    if turns and turns > 1:
        sent["calls"] = turns
    return sent


def index_values(record: dict[str, Any], model_index: dict[str, int], condition_index: dict[str, int]) -> list[Any]:
    """One trial's values of INDEX_COLUMNS: what the table shows, filters and sorts on."""
    reply = record["reply"]
    return [
        model_index.setdefault(record["model"], len(model_index)),
        condition_index.setdefault(record["condition_key"], len(condition_index)),
        record["prompt_id"],
        record.get("category"),
        record["sample"],
        reply.get("parse_status"),
        reply.get("error"),
        record["key"],
    ]


class MonitorLabels:
    """Each monitor's label per trial, for the browser's label filters and columns: whatever
    monitors the run has (compliance and alignment faking, or a cue family's backdoor, answer_match,
    pushback, ...). Per monitor the distinct (label, flagged) pairs once, in `values`, and per trial
    an index into them (None: the trial has no verdict of that monitor), in `codes`: a 100k-trial
    run's labels cost a few hundred kB of the index, not a string per trial and monitor."""

    def __init__(self) -> None:
        self.monitors: dict[str, dict[str, list[Any]]] = {}
        self._codes: dict[str, dict[tuple[Any, int], int]] = {}
        self.n = 0

    def add(self, verdicts: dict[str, Any]) -> None:
        for name in verdicts:
            if name not in self.monitors:  # first seen here: no label for the trials before
                self.monitors[name] = {"values": [], "codes": [None] * self.n}
                self._codes[name] = {}
        for name, column in self.monitors.items():
            verdict = verdicts.get(name)
            if not verdict:
                column["codes"].append(None)
                continue
            label = verdict.get("label")
            value = (label if label is None or isinstance(label, str) else str(label), 1 if verdict.get("flag") else 0)
            codes = self._codes[name]
            if value not in codes:
                codes[value] = len(column["values"])
                column["values"].append(list(value))
            column["codes"].append(codes[value])
        self.n += 1

    def ordered(self) -> dict[str, dict[str, list[Any]]]:
        """LEADING_MONITORS first, then the others as first seen."""
        names = [m for m in LEADING_MONITORS if m in self.monitors] + [m for m in self.monitors if m not in LEADING_MONITORS]
        return {name: self.monitors[name] for name in names}


REPORT_TEXT_LIMIT = 100_000  # characters of one reply text the report carries (head and end)


def bounded_text(text: str) -> str:
    """A reply text as the report carries it: whole up to REPORT_TEXT_LIMIT characters, else its
    first 30,000 and last 70,000 around a note (the decision is at the end). Found by a hostile-reply
    fuzz: 900 KB replies made the report 6.5 times their size in memory (1.3 GB for 200 trials, 12 GB
    projected for 2,000). The whole text stays in trials.sqlite."""
    return head_and_end(text, REPORT_TEXT_LIMIT, 30_000,
                        "[… {n:,} characters left out of the report; the whole reply is in trials.sqlite …]", "\n\n")


def chunk_values(record: dict[str, Any], texts: TextTable, system: int | None) -> list[Any]:
    """One trial's values of the CHUNK_PARTS' columns, in order: what a reader sees once the trial
    is opened."""
    reply = record["reply"]
    truth = record.get("ground_truth") or {}
    status = reply.get("parse_status")
    return [
        bounded_text(reply.get("scratchpad") or ""),
        bounded_text(reply.get("output") or ""),
        # the raw reply only where parsing could not split it: that is when a reader needs it
        bounded_text(reply.get("raw") or "") if status not in ("ok", None) else "",
        reply.get("accepted"),
        _monitors(record),
        {k: truth[k] for k in _TRUTH_KEYS if k in truth} or None,
        sent_messages(record, texts, system),
    ]


def _packed(raw: bytes) -> str:
    """gzip, then base64: the text of a "gzip-base64" element."""
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


@dataclass
class Payload:
    """The browser's data before it is encoded for the page: the index (a dict), and the elements
    decoded later — each chunk's two parts, then the text table — as compact UTF-8 JSON by element
    id (made as the records stream by, so a 100k-trial render holds bytes, not 100k trials'
    objects); for a run known to be large while it streamed, the chunks also already packed
    (gzip-base64)."""

    index: dict[str, Any]
    parts: dict[str, bytes] = field(default_factory=dict)
    packed: dict[str, Future[str]] | None = None

    @property
    def n_trials(self) -> int:
        return len(self.index["trials"]["key"])


class _ChunkWriter:
    """Collects the chunk columns of consecutive trials and closes a chunk every `size` trials.
    Once more than `gzip_above` trials have streamed by, the payload will be compressed: from then
    on one background thread packs each closed chunk (zlib releases the GIL), so compressing
    overlaps with reading the store instead of following it."""

    def __init__(self, size: int, payload: Payload, gzip_above: int | None) -> None:
        self.size, self.payload, self.gzip_above = size, payload, gzip_above
        self.names = [name for columns in CHUNK_PARTS.values() for name in columns]
        self.columns: list[list[Any]] = [[] for _ in self.names]
        self.trials = self.chunks = 0
        self.pool: ThreadPoolExecutor | None = None

    def add(self, values: list[Any]) -> None:
        for column, value in zip(self.columns, values, strict=True):
            column.append(value)
        self.trials += 1
        if len(self.columns[0]) == self.size:
            self.close()

    def close(self) -> None:
        if self.columns[0]:
            by_name = dict(zip(self.names, self.columns, strict=True))
            for part, names in CHUNK_PARTS.items():
                element = f"trial-{part}-{self.chunks}"
                self.payload.parts[element] = _json({name: by_name[name] for name in names}).encode("utf-8")
                if self.pool is not None and self.payload.packed is not None:
                    self.payload.packed[element] = self.pool.submit(_packed, self.payload.parts[element])
            self.columns = [[] for _ in self.names]
            self.chunks += 1
        if self.pool is None and self.gzip_above is not None and self.trials > self.gzip_above:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="afsim-pack")
            self.payload.packed = {element: self.pool.submit(_packed, raw) for element, raw in self.payload.parts.items()}

    def finish(self) -> None:
        self.close()
        if self.pool is not None:
            self.pool.shutdown(wait=False)  # the submitted chunks still get packed


def build_payload(records: Iterable[dict[str, Any]], pair: dict[str, str] | None,
                  system_text: Callable[[str], str | None] | None = None,
                  chunk_trials: int = CHUNK_TRIALS, gzip_above: int | None = GZIP_ABOVE) -> Payload:
    """Everything the browser needs: the index (light columns, monitor labels and scores,
    model/condition tables, prompt texts, the pairing axis), the chunks and the text table their
    sent messages point into. `system_text` resolves a record's `system_ref` (the store keeps system prompts
    once, by hash). Pass encode_payload's `gzip_above` (None: pack nothing ahead)."""
    models: dict[str, int] = {}
    conditions: dict[str, int] = {}
    condition_values: dict[str, dict[str, str]] = {}
    prompts: dict[str, str] = {}
    texts = TextTable()
    params: dict[str, Any] = {}  # generation params per model (the same for all its trials)
    system_index: dict[str, int | None] = {}
    systems: list[list[int]] = []
    columns: list[list[Any]] = [[] for _ in INDEX_COLUMNS]
    scores: dict[str, list[float | None]] = {}  # per monitor, a score (or None) per trial
    labels = MonitorLabels()
    payload = Payload(index={})
    chunks = _ChunkWriter(chunk_trials, payload, gzip_above)
    for n, record in enumerate(records):
        ref = (record.get("request") or {}).get("system_ref")
        if ref and ref not in system_index:
            text = system_text(ref) if system_text else None
            system_index[ref] = None if text is None else len(systems)
            if text is not None:
                systems.append(texts.paragraphs(text))
        for column, value in zip(columns, index_values(record, models, conditions), strict=True):
            column.append(value)
        verdicts = record.get("monitors") or {}
        for name in verdicts:
            if name not in scores:  # a monitor first seen here: no score for the trials before
                scores[name] = [None] * n
        for name, column in scores.items():
            column.append((verdicts.get(name) or {}).get("score"))
        labels.add(verdicts)
        chunks.add(chunk_values(record, texts, system_index.get(ref) if ref else None))
        params.setdefault(record["model"], (record.get("request") or {}).get("params"))
        condition_values.setdefault(record["condition_key"], record["condition"])
        prompts.setdefault(record["prompt_id"], record.get("prompt") or "")
    chunks.finish()
    payload.parts["trial-texts"] = _json({"texts": texts.texts, "systems": systems}).encode("utf-8")
    payload.index = {
        "models": list(models),
        "conditions": [{"key": k, "values": condition_values[k]} for k in conditions],
        "prompts": prompts,
        "pair": pair,
        "params": [params.get(m) for m in models],
        "chunk_trials": chunk_trials,
        "chunks": chunks.chunks,
        "trials": dict(zip(INDEX_COLUMNS, columns, strict=True)),
        "labels": labels.ordered(),
        "scores": scores,
    }
    return payload


@dataclass
class EncodedPayload:
    """The payload's parts as the text of their page elements, all in one encoding: "json"
    (script-safe JSON) or "gzip-base64"; `parts` by element id."""

    encoding: str
    index: str
    parts: dict[str, str]


def encode_payload(payload: Payload, gzip_above: int = GZIP_ABOVE) -> EncodedPayload:
    """Plain script-safe JSON up to `gzip_above` trials, each part gzip-compressed and base64-encoded above."""
    if payload.n_trials <= gzip_above:
        return EncodedPayload("json", script_safe_json(payload.index),
                              {element: script_safe(raw.decode("utf-8")) for element, raw in payload.parts.items()})
    packed = payload.packed or {}
    return EncodedPayload("gzip-base64", _packed(_json(payload.index).encode("utf-8")),
                          {element: packed[element].result() if element in packed else _packed(raw)
                           for element, raw in payload.parts.items()})
