"""Re-score an Inspect AI eval log with our monitors: `python -m runners.rescore LOG.eval --monitor ... --out X.eval`.

Why: a team that collected transcripts with Inspect wants our alignment-faking (or compliance)
verdicts *in their own log*, next to their scorers, in `inspect view` — not a separate JSONL. The
samples are read as monitors/inspect_log.py reads them (scratchpad from the tags or the reasoning
blocks, output from the `<OUTPUT>` block or the whole text), classified by the same suite a sweep
uses (embedded or LLM judge, judge calls cached), and each verdict is added to the sample as an
Inspect `Score` (as runners/export_inspect.py writes them). The sample's other scores are kept;
one under the same name moves to `<name>@was-previous`. The results table gets one `mean` per
monitor. The log is written to `--out` with inspect_ai's `write_eval_log`; the input is never
modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitors.inspect_log import log_records, read_log
from monitors.labelled_io import to_parsed
from runners.calls import CallCache, CallLayer, RetryPolicy
from runners.cli_errors import UsageError
from runners.export_inspect import check_log_out, require_inspect, verdict_score
from scenarios.output_targets import check_out_path

BATCH = 64


@dataclass
class InspectRescoreResult:
    samples: int
    monitors: dict[str, str]  # name -> backend label
    kept: dict[str, str]  # name -> where a same-named score of the log now lives
    out: Path
    judge_calls: int = 0
    judge_cache_hits: int = 0


def validated_monitors(requested: dict[str, Any]) -> dict[str, Any]:
    """The `--monitor` backends checked as a scenario's `monitors:` section would be (one line, exit 2)."""
    from scenarios.schema import ScenarioError, parse_scenario

    data = {"name": "inspect-log", "prompts": "builtin:harmful_requests", "axes": {"tier": ["free"]},
            "models": ["sim/honest"], "monitors": requested}
    try:
        return dict(parse_scenario(data, "--monitor").monitors)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None


def unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


async def rescore_inspect_log(path: Path, requested: dict[str, Any], out: Path, *, cache_dir: Path | None = None,
                              concurrency: int = 16, retry: RetryPolicy | None = None) -> InspectRescoreResult:
    require_inspect()
    check_log_out(Path(out))
    check_out_path(Path(out))  # its folder can be made: one line before any judge call, not after them
    from inspect_ai.log import EvalMetric, EvalResults, EvalScore, write_eval_log

    from monitors.judge import make_judge_factory
    from monitors.registry import build_suite
    from runners.engine import default_cache_dir
    from runners.providers import preflight

    if Path(out).resolve() == Path(path).resolve():
        raise UsageError(f"--out {out}: the same file as the input; write the re-scored log elsewhere")
    config = validated_monitors(requested)
    log = read_log(path)  # a bad file: one line, before any judge call
    samples = log.samples or []
    records = log_records(log)
    taken = {name for s in samples for name in (s.scores or {})}
    taken |= {s.name for s in (log.results.scores if log.results else [])}
    kept = {name: unique(f"{name}@was-previous", taken | set(config)) for name in config if name in taken}
    calls = CallLayer(CallCache(Path(cache_dir or default_cache_dir()) / "calls.sqlite"), concurrency, retry)
    suite = build_suite(config, make_judge_factory(calls))
    try:
        await preflight(suite.judge_providers())
        for start in range(0, len(records), BATCH):
            chunk = records[start : start + BATCH]
            verdicts = await suite.classify_batch([to_parsed(r) for r in chunk])
            for sample, new in zip(samples[start : start + BATCH], verdicts, strict=True):
                scores = dict(sample.scores or {})
                for name, verdict in new.items():
                    if name in kept and name in scores:
                        scores[kept[name]] = scores.pop(name)
                    scores[name] = verdict_score(verdict.as_dict())
                sample.scores = scores
    finally:
        await suite.aclose()
        if calls.cache is not None:
            calls.cache.close()
    results = log.results or EvalResults(total_samples=len(samples), completed_samples=len(samples))
    table = []
    for score in results.scores:  # the log's own summary rows stay; a replaced one is renamed
        if score.name in kept:
            score = score.model_copy(update={"name": kept[score.name]})
        if score.name not in config:
            table.append(score)
    for name in config:
        values = [s.scores[name].value for s in samples if s.scores and name in s.scores]
        numeric = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        table.append(EvalScore(name=name, scorer=name, scored_samples=len(values),
                               unscored_samples=len(samples) - len(values),
                               metrics={"mean": EvalMetric(name="mean", value=sum(numeric) / len(numeric) if numeric else 0.0)}))
    results.scores = table
    log.results = results
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    log.location = str(out)
    write_eval_log(log, str(out))
    return InspectRescoreResult(samples=len(samples), monitors=dict(suite.backends), kept=kept, out=Path(out),
                                judge_calls=calls.counters.calls, judge_cache_hits=calls.counters.cache_hits)
