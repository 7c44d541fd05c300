"""Read the records the monitor CLIs take, and run a monitor over them in batches.

Shared by `monitors.classify` and `monitors.evaluate`. Input is JSONL (one record per line) or an
Inspect AI eval log (`.eval` / `.json`, monitors/inspect_log.py: one record per sample). Bad input
is a `UsageError` naming the file and the line (or sample), so the CLIs print one line and exit 2
(runners.cli_errors.run_cli).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitors.alignment_faking import EmbeddedModel, classify_alignment_faking_batch
from monitors.compliance import classify_compliance
from monitors.inspect_log import is_inspect_log, read_inspect_records
from monitors.parse import acceptance, for_monitors, split_transcript
from monitors.types import ParsedReply, Verdict
from runners.cli_errors import UsageError
from scenarios.jsonl import read_objects
from scenarios.schema import EMBEDDED_BACKENDS, backend_problem
from scenarios.user_files import check_regular_file

MONITORS = ("alignment_faking", "compliance")
BATCH = 2048


def read_records(path: str | Path, monitor: str) -> list[dict[str, Any]]:
    """Every record of a JSONL file (each must be an object with the text field the monitor
    reads) or every sample of an Inspect AI eval log."""
    p = Path(path)
    check_regular_file(p, "JSONL file or Inspect AI log", UsageError)  # a directory is said to be one
    if is_inspect_log(p):
        return read_inspect_records(p)
    need = "scratchpad" if monitor == "alignment_faking" else "output"
    records = []
    for n, record in read_objects(p, UsageError):
        if not isinstance(record.get(need), str):
            raise UsageError(f"{p}:{n}: missing text field {need!r} (a string)")
        for optional in ("scratchpad", "output"):
            if record.get(optional) is not None and not isinstance(record[optional], str):
                raise UsageError(f"{p}:{n}: field {optional!r} must be a string")
        record["_line"] = n
        records.append(record)
    return records


def boolean_labels(records: list[dict[str, Any]], field: str, path: str | Path) -> list[bool]:
    """Each record's label, which must be JSON true or false: "yes", 1 or null would otherwise be
    read one way here and another there (or the record silently dropped)."""
    labels = []
    for r in records:
        value = r.get(field)
        if not isinstance(value, bool):
            raise UsageError(f"{path}:{r['_line']}: label field {field!r} must be true or false (use --label-field)")
        labels.append(value)
    return labels


def to_parsed(record: dict[str, Any]) -> ParsedReply:
    """A record as the monitors see a sweep's reply.

    Published scratchpads often come as whole transcripts (`<SCRATCHPAD_REASONING>` blocks, `<NEXT/>`
    turns, an `<OUTPUT>`): their scaffolding is removed (monitors.parse.split_transcript), so the
    monitor reads the reasoning as it does in a sweep, and the visible output (unless the record
    gives one) tells it which way the decision went. Left as they were, the tags and the answer
    moved the embedded monitor's scores (AUROC 0.79 -> 0.73 on the 23 real excerpts wrapped that way, with the model of 2026-12-06 before batch 5)."""
    scratchpad = record.get("scratchpad") or ""
    output = record.get("output") or ""
    if "<scratchpad_reasoning>" in scratchpad.lower():
        scratchpad, found = split_transcript(scratchpad)
        output = output or found
    accepted = acceptance(output)
    status = "ok" if scratchpad and output else ("no_output" if scratchpad else "no_scratchpad")
    if not scratchpad and not output:
        status = "empty"
    setting = record.get("setting") if isinstance(record.get("setting"), str) else "helpful_only"
    return ParsedReply("", scratchpad, output, accepted, status, setting)  # type: ignore[arg-type]


def embedded_af_verdicts(records: list[dict[str, Any]], model: EmbeddedModel) -> list[Verdict]:
    """The embedded AF monitor's verdicts with a given model file, each record read as `monitors.evaluate`
    reads it (a transcript split, the output's compliance gating refusals), so a figure measured with
    another model file (`monitors.train --measure-real`, benchmarks) is the figure the CLI would give."""
    parsed = [for_monitors(to_parsed(r)) for r in records]
    complied = [classify_compliance(p).label if p.output.strip() else None for p in parsed]
    return classify_alignment_faking_batch(parsed, complied, model=model)


def add_judge_flags(parser: Any) -> None:
    """The LLM-judge flags the monitor CLIs share (ignored by the embedded backend)."""
    parser.add_argument("--votes", type=int, default=None, help="LLM judge only: samples per record (default 20)")
    parser.add_argument("--max-tokens", type=int, default=None, metavar="N",
                        help="LLM judge only: cap on each vote's reply (a model that never closes its verdict "
                             "otherwise writes until its context is full)")


def judge_options_of(args: Any) -> dict[str, Any] | None:
    """`--votes` / `--max-tokens` as JudgeSpec fields, or None when neither was given; `--backend`
    is checked here too, before the input file is read."""
    if problem := backend_problem(args.backend):
        raise UsageError(f"--backend: {problem}")
    options: dict[str, Any] = {}
    # `is not None`: `--votes 0` once read as "not given", i.e. the default 20 paid votes; refused for
    # every backend, so a bad value is not silently ignored by the embedded one either
    if getattr(args, "votes", None) is not None:
        if args.votes < 1:
            raise UsageError(f"--votes must be at least 1, got {args.votes}")
        options["votes"] = args.votes
    if getattr(args, "max_tokens", None) is not None:
        if args.max_tokens < 1:
            raise UsageError(f"--max-tokens must be at least 1, got {args.max_tokens}")
        options["params"] = {"max_tokens": args.max_tokens}
    if options and args.backend in EMBEDDED_BACKENDS:  # ignored silently before (a probe), as a rescore refuses it
        flags = " and ".join(f for f, key in (("--votes", "votes"), ("--max-tokens", "params")) if key in options)
        raise UsageError(f"{flags}: only with an LLM-judge --backend (provider/model); the embedded backend takes no votes")
    return options or None


def _judge_factory():
    """The LLM-judge factory for `--backend provider/model`, with the sweep's disk cache."""
    from monitors.judge import make_judge_factory
    from runners.calls import CallCache, CallLayer
    from runners.engine import SweepOptions, default_cache_dir

    options = SweepOptions()
    calls = CallLayer(CallCache(default_cache_dir() / "calls.sqlite"), 8)
    return make_judge_factory(calls, options)


def classify_records(
    records: list[dict[str, Any]], monitor: str, backend: str, judge_options: dict[str, Any] | None = None
) -> Iterator[Verdict]:
    """Verdicts in input order; batches go through the registry so every backend works the same.
    `judge_options` (votes, temperature, ...) apply to an LLM-judge backend (monitors/judge.py)."""
    from monitors.registry import EMBEDDED, build_suite
    from runners.providers import preflight

    factory = None if backend in EMBEDDED else _judge_factory()
    config: Any = {"backend": backend, **judge_options} if judge_options and backend not in EMBEDDED else backend
    suite = build_suite({monitor: config}, factory)
    # one event loop for every batch: a judge's HTTP client belongs to the loop that opened it
    with asyncio.Runner() as runner:
        try:
            runner.run(preflight(suite.judge_providers()))  # a missing key: one line, before any call
            for start in range(0, len(records), BATCH):
                # a record may hold a scratchpad alone: no output means no compliance label for the AF model
                chunk = [to_parsed(r) for r in records[start : start + BATCH]]
                for verdicts in runner.run(suite.classify_batch(chunk)):
                    yield verdicts[monitor]
        finally:
            runner.run(suite.aclose())


def verdict_line(record: dict[str, Any], monitor: str, verdict: Verdict) -> dict[str, Any]:
    d = verdict.as_dict()
    return {
        "id": record.get("id", record["_line"]),
        "monitor": monitor,
        "label": d["label"],
        "score": d["score"],
        "flag": d["flag"],
        "criteria": d["criteria"],
        "evidence": d["evidence"],
        "rationale": d["rationale"],
        "backend": d["backend"],
        "abstained": d.get("abstained", False),  # an LLM judge with no usable vote on this record
    }
