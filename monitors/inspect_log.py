"""Read an Inspect AI eval log (`.eval` or `.json`) as monitor input records.

Why: an audit team that collected transcripts with Inspect should be able to run our monitors on
them (`python -m monitors.classify run.eval`, `python -m monitors.evaluate run.eval ...`) without
converting anything. The log is read with inspect_ai's own `read_eval_log` (the optional extra
`afsim[inspect]`), so every log version Inspect can read works here.

What a sample becomes (docs/inspect.md): the assistant turns of its last exchange (the assistant
messages after the last user message that is not a `<NEXT/>` continuation, else `output`) are
joined and parsed like a reply of ours: `scratchpad` = the `<SCRATCHPAD_REASONING>` blocks, or,
when there are none, the model's reasoning content (reasoning models keep it apart from the
text); `output` = the `<OUTPUT>` block, or the whole text when it has no tags. The sample's
metadata keys are copied (so `--label-field` can name one; a nested one as `outer.inner`, e.g.
`ground_truth.af` in a log exported by runners/export_inspect.py), and each score as `score:<name>`
(True/False for a boolean, Inspect's `C`/`I`, or 1/0). `id` is the sample id, with `:<epoch>`
added when the log has several epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitors.parse import parse_reply
from runners.cli_errors import UsageError

INSPECT_SUFFIXES = (".eval", ".json")
NEXT_TURN = "<NEXT/>"
_CORRECT = {"C": True, "I": False}
_RESERVED = ("id", "epoch", "scratchpad", "output", "_line")


def is_inspect_log(path: str | Path) -> bool:
    """Inspect writes `.eval` (zip) or `.json`; our own labelled records are `.jsonl`."""
    return Path(path).suffix.lower() in INSPECT_SUFFIXES


def _text_and_reasoning(message: Any) -> tuple[str, str]:
    content = message.content
    if isinstance(content, str):
        return content, ""
    texts, reasoning = [], []
    for block in content:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "reasoning" and not getattr(block, "redacted", False):
            reasoning.append(block.reasoning)
    return "".join(texts), "\n\n".join(reasoning)


def _last_exchange(sample: Any) -> tuple[str, str]:
    """The assistant text and reasoning that answer the sample's last real user turn."""
    texts: list[str] = []
    reasoning: list[str] = []
    for message in sample.messages or []:
        if message.role == "user":
            text, _ = _text_and_reasoning(message)
            if text.strip() != NEXT_TURN:  # a new question: what came before answered another
                texts, reasoning = [], []
        elif message.role == "assistant":
            text, thought = _text_and_reasoning(message)
            texts.append(text)
            if thought:
                reasoning.append(thought)
    if not texts and sample.output is not None and sample.output.choices:
        text, thought = _text_and_reasoning(sample.output.choices[0].message)
        texts, reasoning = [text], [thought] if thought else []
    return "\n\n".join(texts), "\n\n".join(reasoning)


def score_label(value: Any) -> Any:
    """An Inspect score value as a boolean where it is one (bool, `C`/`I`, 1/0), else as is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _CORRECT:
        return _CORRECT[value]
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return value


def sample_record(sample: Any, n: int, several_epochs: bool) -> dict[str, Any]:
    text, reasoning = _last_exchange(sample)
    parsed = parse_reply(text)
    scratchpad = parsed.scratchpad or reasoning
    record: dict[str, Any] = {}
    for key, value in (sample.metadata or {}).items():
        record[key] = value
        if isinstance(value, dict):  # `ground_truth.af` names a nested label
            record.update({f"{key}.{sub}": v for sub, v in value.items() if isinstance(sub, str)})
    for key in _RESERVED:
        record.pop(key, None)
    for name, score in (sample.scores or {}).items():
        record[f"score:{name}"] = score_label(score.value)
    record.update({
        "id": f"{sample.id}:{sample.epoch}" if several_epochs else sample.id,
        "epoch": sample.epoch,
        "scratchpad": scratchpad,
        "output": parsed.output,
        "_line": n,  # the sample's position, for messages that name a record
    })
    return record


def read_log(path: str | Path) -> Any:
    """The whole `EvalLog` via inspect_ai; a missing extra or a bad file is one `UsageError` line."""
    p = Path(path)
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise UsageError(f"{p}: reading Inspect AI logs needs inspect_ai: pip install 'afsim[inspect]'") from None
    try:
        return read_eval_log(str(p))
    except Exception as exc:  # a zip that is not a log, JSON of another shape, a truncated file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{p}: not a readable Inspect AI eval log ({first})") from None


def log_records(log: Any) -> list[dict[str, Any]]:
    """One record per sample, in the log's sample order."""
    samples = log.samples or []
    several_epochs = any(s.epoch != 1 for s in samples)
    return [sample_record(s, n, several_epochs) for n, s in enumerate(samples, start=1)]


def read_inspect_records(path: str | Path) -> list[dict[str, Any]]:
    """One record per sample of an Inspect eval log; a bad file is one `UsageError` line."""
    return log_records(read_log(path))
