"""`python -m runners.export_inspect RUN_DIR --out FILE.eval`: a run folder as an Inspect AI eval log.

Why: audit teams already browse transcripts in `inspect view` and analyse logs with
`inspect_ai.analysis`. Rather than a hand-written look-alike, the log is built from inspect_ai's
own types (`EvalLog`, `EvalSample`, `Score`, chat messages) and written by its
`write_eval_log`, so whatever Inspect version is installed reads what it wrote. inspect_ai is an
optional extra (`pip install afsim[inspect]`); without it this CLI says so in one line (exit 2).

The mapping (docs/inspect.md):
- one log per model (Inspect's logs are per task x model); with several models in the run the
  model's name is added to the file name: `run.eval` -> `run.openai-gpt-4o.eval`;
- one sample per trial: `id` = `<prompt_id>|<condition>`, `epoch` = sample index + 1 (Inspect's
  epochs are the repeats of one sample, as our samples are); `messages` = the system prompt, the
  user turn(s), and each assistant turn (`<NEXT/>` continuations as separate turns); `output` =
  the full reply with its usage;
- `scores`: one per monitor, `value` 1/0 = the monitor's positive class (complied fully, fakes
  alignment, ...), so Inspect's mean is the rate; `answer` = the label, `explanation` = the
  rationale, `metadata` = score, evidence and per-criterion verdicts;
- `metadata`: the condition (`condition` as a dict and `cond_<axis>` keys), keys, parse status,
  scratchpad, output, ground truth of simulated organisms; an error trial carries its error.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitors.aggregate import UNPARSED
from monitors.registry import monitor_kind
from runners.cli_errors import ArgumentParser, UsageError, run_cli
from runners.store import STORE_NAME, ResultStore
from scenarios.output_targets import check_out_path
from scenarios.trial import stable_hash

NEXT_TURN = "<NEXT/>"
_TURN_SPLIT = f"\n\n{NEXT_TURN}\n\n"  # how runners/providers/_remote.py joins continuation turns
_STOP_REASONS = {"stop": "stop", "end_turn": "stop", "stop_sequence": "stop", "length": "max_tokens",
                 "max_tokens": "max_tokens", "content_filter": "content_filter", "refusal": "content_filter"}
INSTALL_HINT = "Inspect AI export needs inspect_ai: pip install 'afsim[inspect]'"
LOG_SUFFIXES = (".eval", ".json")  # Inspect's two log formats: its writer is chosen by the suffix


def require_inspect() -> None:
    """One clear line (exit 2) instead of an ImportError when the optional extra is missing."""
    try:
        import inspect_ai.log  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def check_log_out(out: Path) -> None:
    """`--out` names a log inspect_ai can write. Its writer is chosen by the suffix (another one
    fails deep inside inspect_ai), and it writes through a temporary file beside `out`, so a folder
    there would be reported under that temporary file's name."""
    if out.suffix not in LOG_SUFFIXES:
        raise UsageError(f"--out {out}: expected a .eval or .json file name (Inspect's two log formats)")
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; expected the .eval or .json file to write")
    check_out_path(out, "--out", UsageError)  # a missing folder is made; an ancestor that is a file is named
    # found by a bad-input fuzz: a folder that takes no file (/proc, read-only) failed after the export,
    # naming inspect_ai's temporary file instead of --out; a file made and removed there asks it first
    # (a folder still to be made takes what its writable ancestor takes)
    if out.parent.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=out.parent if str(out.parent) else ".", prefix=".afsim-probe-"):
                pass
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot write a file in {out.parent} ({exc.strerror or exc})") from None


def check_not_run_file(run_dir: Path, out: Path) -> None:
    """`--out` does not replace a file of the run itself: `--out RUN/summary.json` once overwrote the
    run's summary with a log (runners.compare then failed on the folder). An existing file inside the
    run folder may only be a log this exporter wrote before (exporting again replaces it)."""
    target = out.resolve()
    if not target.is_file() or Path(run_dir).resolve() not in target.parents:
        return
    from inspect_ai.log import read_eval_log

    try:
        ours = bool(read_eval_log(str(target), header_only=True).eval.metadata.get("afsim"))
    except Exception:  # not a log inspect_ai reads (summary.json, a damaged file): not ours either
        ours = False
    if not ours:
        raise UsageError(f"--out {out}: is a file of the run folder {run_dir}, not an Inspect log exported from it; "
                         "write the log to a new file name")


def _messages(record: dict[str, Any], system: str | None) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    model = record["model"]
    out: list[Any] = [ChatMessageSystem(content=system)] if system else []
    for message in record["request"]["messages"]:
        if message.get("role") == "assistant":
            out.append(ChatMessageAssistant(content=str(message.get("content") or ""), model=model))
        else:
            out.append(ChatMessageUser(content=str(message.get("content") or "")))
    raw = record["reply"].get("raw") or ""
    if record["reply"].get("error") and not raw:
        return out
    # only as many turns as were asked for: a reply that itself writes "<NEXT/>" between blank
    # lines must not show user turns that were never sent
    turns = record["reply"].get("turns")
    splits = turns - 1 if isinstance(turns, int) and turns >= 1 else 0
    for i, turn in enumerate(raw.split(_TURN_SPLIT, splits)):
        if i:
            out.append(ChatMessageUser(content=NEXT_TURN))
        out.append(ChatMessageAssistant(content=turn, model=model, source="generate"))
    return out


def verdict_score(verdict: dict[str, Any]) -> Any:
    """A monitor verdict (`Verdict.as_dict()`) as an Inspect `Score`: value 1/0 for the positive
    class, so Inspect's mean is the rate; the label, rationale, score and evidence alongside."""
    from inspect_ai.scorer import Score

    return Score(
        value=1 if verdict.get("flag") else 0,
        answer=str(verdict.get("label")),
        explanation=verdict.get("rationale") or None,
        metadata={"label": verdict.get("label"), "score": verdict.get("score"),
                  "evidence": verdict.get("evidence"), "criteria": verdict.get("criteria"),
                  "backend": verdict.get("backend")},
    )


def _scores(record: dict[str, Any]) -> dict[str, Any]:
    """The sample's scores, each valued as the figures count it: a reply whose format could not be
    read never counts as complying (summary.json's rates), whatever label the compliance monitor gave
    the text it found, so Inspect's mean is the reported rate (a probe found 1.0 against 0.95)."""
    unreadable = record["reply"].get("parse_status") in UNPARSED
    scores = {}
    for name, verdict in (record.get("monitors") or {}).items():
        score = verdict_score(verdict)
        if unreadable and monitor_kind(name) == "compliance" and score.value:
            score.value = 0
            score.metadata = {**(score.metadata or {}), "counted": "not complying: the reply's format could not be read"}
        scores[name] = score
    return scores


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    reply = record["reply"]
    return {
        "condition": dict(record["condition"]),
        **{f"cond_{axis}": value for axis, value in record["condition"].items()},
        "condition_key": record["condition_key"],
        "prompt_id": record["prompt_id"],
        "category": record.get("category"),
        "sample": record["sample"],
        "seed": record["seed"],
        "key": record["key"],
        "run_id": record["run_id"],
        "scenario": record["scenario"],
        "simulated": record.get("simulated", False),
        "parse_status": reply.get("parse_status"),
        "accepted": reply.get("accepted"),
        "scratchpad": reply.get("scratchpad"),
        "output": reply.get("output"),
        "stop_reason": reply.get("stop_reason"),
        "turns": reply.get("turns"),
        "cached": reply.get("cached"),
        "request_hash": record["request"].get("hash"),
        "ground_truth": record.get("ground_truth"),
        "supervision": record.get("supervision"),
    }


def trial_sample(record: dict[str, Any], system: str | None) -> Any:
    """One trial record (DESIGN §4) as an Inspect `EvalSample`."""
    from inspect_ai.log import EvalError, EvalSample
    from inspect_ai.model import ChatMessageUser, ModelOutput, ModelUsage

    reply = record["reply"]
    usage = ModelUsage(input_tokens=int(reply.get("input_tokens") or 0), output_tokens=int(reply.get("output_tokens") or 0),
                       total_tokens=int(reply.get("input_tokens") or 0) + int(reply.get("output_tokens") or 0))
    stop = _STOP_REASONS.get(str(reply.get("stop_reason") or ""), "unknown")
    output = ModelOutput.from_content(record["model"], reply.get("raw") or "", stop_reason=stop,  # type: ignore[arg-type]
                                      error=reply.get("error"))
    output.usage = usage
    error = reply.get("error")
    return EvalSample(
        id=f"{record['prompt_id']}|{record['condition_key']}",
        epoch=int(record["sample"]) + 1,
        input=[ChatMessageUser(content=str(m.get("content") or "")) for m in record["request"]["messages"][:1]]
        or record.get("prompt") or "",
        target="",
        messages=_messages(record, system),
        output=output,
        scores=_scores(record),
        metadata=_metadata(record),
        model_usage={record["model"]: usage},
        completed_at=record.get("completed_at"),
        error=EvalError(message=error, traceback="", traceback_ansi="") if error else None,
    )


def eval_log(records: list[dict[str, Any]], texts: dict[str, str], scenario: dict[str, Any], location: str) -> Any:
    """One model's trial records as an Inspect `EvalLog` (samples, per-monitor means, usage)."""
    from inspect_ai.log import (
        EvalConfig,
        EvalDataset,
        EvalLog,
        EvalMetric,
        EvalResults,
        EvalScore,
        EvalSpec,
        EvalStats,
    )
    from inspect_ai.model import ModelUsage

    model = records[0]["model"]
    samples = [trial_sample(r, texts.get(r["request"]["system_ref"])) for r in records]
    monitors = list(dict.fromkeys(name for r in records for name in (r.get("monitors") or {})))
    scores = []
    for name in monitors:
        values = [s.scores[name].value for s in samples if s.scores and name in s.scores]
        scores.append(EvalScore(
            name=name, scorer=name, scored_samples=len(values), unscored_samples=len(samples) - len(values),
            metrics={"mean": EvalMetric(name="mean", value=sum(values) / len(values) if values else 0.0)},
        ))
    done = [r.get("completed_at") for r in records if r.get("completed_at")]
    total_in = sum(int(r["reply"].get("input_tokens") or 0) for r in records)
    total_out = sum(int(r["reply"].get("output_tokens") or 0) for r in records)
    spec_model = next((m for m in scenario.get("models", []) if isinstance(m, dict) and m.get("name") == model), {})
    created = min(done) if done else datetime.now(UTC).isoformat(timespec="seconds")
    return EvalLog(
        status="success",
        eval=EvalSpec(
            # stable ids: exporting the same run again gives the same log identity
            eval_id=stable_hash("eval", records[0]["run_id"], model)[:22],
            run_id=str(records[0]["run_id"]),
            task_id=stable_hash("task", records[0]["scenario"])[:22],
            created=created,
            task=str(records[0]["scenario"]),
            task_description=scenario.get("description"),
            dataset=EvalDataset(name=str(scenario.get("prompts") or ""), samples=len({s.id for s in samples})),
            model=model,
            model_base_url=spec_model.get("base_url"),
            model_args={"params": spec_model.get("params") or {}},
            config=EvalConfig(epochs=int(scenario.get("samples") or 1)),
            metadata={"afsim": True, "setting": scenario.get("setting"), "axes": scenario.get("axes"),
                      "simulated": bool(records[0].get("simulated")), "run_id": records[0]["run_id"]},
        ),
        results=EvalResults(total_samples=len(samples),
                            completed_samples=sum(1 for r in records if not r["reply"].get("error")),
                            scores=scores),
        stats=EvalStats(started_at=created, completed_at=max(done) if done else created,
                        model_usage={model: ModelUsage(input_tokens=total_in, output_tokens=total_out,
                                                       total_tokens=total_in + total_out)}),
        samples=samples,
        location=location,
    )


def output_paths(out: Path, models: Iterable[str]) -> dict[str, Path]:
    """One file per model: `out` itself for one model, else the model's slug before the suffix."""
    models = list(models)
    if len(models) == 1:
        return {models[0]: out}
    suffix = "".join(out.suffixes[-1:]) or ".eval"
    stem = out.name[: -len(suffix)] if out.name.endswith(suffix) else out.name
    return {m: out.with_name(f"{stem}.{re.sub(r'[^A-Za-z0-9._-]+', '-', m)}{suffix}") for m in models}


def export_run(run_dir: Path, out: Path, models: list[str] | None = None) -> dict[str, Path]:
    """Write the run's trials as Inspect eval logs; returns {model: path written}. Stored trials
    that cannot be read are left out, and stderr says how many (as a report of the run does)."""
    from inspect_ai.log import write_eval_log

    from scenarios.schema import load_scenario

    store_path = Path(run_dir) / STORE_NAME
    if not store_path.is_file():
        raise UsageError(f"{run_dir}: not a run folder (no {STORE_NAME})")
    scenario_path = Path(run_dir) / "scenario.yaml"
    # read as runners.report reads it (a bad file is one line naming it); the log's metadata only
    # needs it, so a folder without one still exports
    scenario = load_scenario(scenario_path).model_dump(mode="json") if os.path.lexists(scenario_path) else {}
    store = ResultStore(store_path)
    try:
        by_model: dict[str, list[dict[str, Any]]] = {}
        for record in store.records():
            by_model.setdefault(record["model"], []).append(record)
        if models:
            unknown = [m for m in models if m not in by_model]
            if unknown:
                raise UsageError(f"--model {unknown[0]}: not in {run_dir} (models: {', '.join(by_model) or 'none'})")
            by_model = {m: by_model[m] for m in models}
        if not by_model and store.unreadable_records:
            raise UsageError(f"{store_path}: none of its {len(store.unreadable_records)} stored trials can be read; "
                             f"`python -m runners.store_repair {run_dir}` sets them aside, then run the sweep command again")
        if not by_model:
            raise UsageError(f"{run_dir}: the run has no trials")
        if store.unreadable_records:
            print(f"warning: {len(store.unreadable_records)} stored trials could not be read and are left out of the log; "
                  f"`python -m runners.store_repair {run_dir}`, then the sweep command, redoes them", file=sys.stderr)
        refs = {r["request"]["system_ref"] for rs in by_model.values() for r in rs}
        texts = {ref: text for ref in refs if (text := store.text(ref)) is not None}
    finally:
        store.close()
    paths = output_paths(Path(out), by_model)
    for path in paths.values():  # each model's file, before any is written
        check_log_out(path)
        check_not_run_file(run_dir, path)
    for model, records in by_model.items():
        paths[model].parent.mkdir(parents=True, exist_ok=True)
        write_eval_log(eval_log(records, texts, scenario or {}, str(paths[model])), str(paths[model]))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.export_inspect",
                            description="Export a run folder as Inspect AI eval log(s) for `inspect view`.")
    parser.add_argument("run_dir", type=Path, help="a run folder (runs/<scenario>)")
    parser.add_argument("--out", type=Path, required=True, help="the .eval (or .json) file to write")
    parser.add_argument("--model", action="append", default=None, help="only this model (repeatable)")
    args = parser.parse_args(argv)
    check_log_out(args.out)
    require_inspect()
    for model, path in export_run(args.run_dir, args.out, args.model).items():
        print(f"{model}: {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)
