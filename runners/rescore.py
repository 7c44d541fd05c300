"""`python -m runners.rescore RUN_DIR --monitor NAME=BACKEND ...`: run other monitors on a stored run.

An audit often starts with the embedded monitor and adds an LLM judge once the figures matter, or
re-scores old runs with a new monitor version. The stored replies are all that is needed: this
command makes **no call to the model under test**, only the judges' calls (cached like a sweep's,
so a repeated re-score is free). Old verdicts are kept: a monitor that is re-scored under its own
name moves its previous verdict to `NAME@was-<backend>`, and the report shows how far the two
agree. Then summary.json, trials.csv and report.html are written again.

    python -m runners.rescore runs/free_paid --monitor alignment_faking@judge=openai/gpt-4o
    python -m runners.rescore runs/free_paid --monitor 'alignment_faking={backend: openai/gpt-4o, votes: 20}'
    python -m runners.rescore runs/free_paid --monitor alignment_faking=embedded   # new embedded version

An Inspect AI eval log instead of a run folder gets our verdicts added as scores, written to a new
log (runners/inspect_rescore.py, docs/inspect.md):

    python -m runners.rescore logs/collected.eval --monitor alignment_faking=embedded --out scored.eval
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitors.inspect_log import is_inspect_log
from monitors.judge import make_judge_factory
from monitors.registry import EMBEDDED, build_suite, kept_name
from runners import folder_lock
from runners.calls import CallCache, CallLayer, RetryPolicy
from runners.cli_errors import (
    EXIT_AUDIT_FAILED,
    EXIT_INTERNAL_ERROR,
    EXIT_TOO_MANY_ERRORS,
    ArgumentParser,
    UsageError,
    print_error,
    run_async,
    run_cli,
)
from runners.engine import (
    audit_failed,
    audit_lines,
    default_cache_dir,
    judges_unusable,
    monitor_error_line,
    run_scenario_problem,
    save_scenario,
    write_run_files,
)
from runners.providers import preflight
from runners.records import parsed_of
from runners.report import run_keys
from runners.store import STORE_NAME, ResultStore
from runners.store_warnings import keep_table_losing_rows, lost_store_problem, store_warnings
from scenarios.output_targets import REPORT_FILE, RUN_FILES, check_run_outputs
from scenarios.schema import MAX_CONCURRENCY, Scenario, ScenarioError, load_scenario, parse_scenario
from scenarios.user_files import check_regular_file, load_yaml

BATCH = 64  # replies judged together (a judge's votes for them run concurrently)


@dataclass
class RescoreResult:
    trials: int
    monitors: dict[str, str]  # name -> backend label as recorded
    kept: dict[str, str]  # re-scored name -> the name its previous verdicts now live under
    judge_calls: int = 0
    judge_cache_hits: int = 0
    judges: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # trials the figures leave out (stderr)
    summary: dict[str, Any] = field(default_factory=dict)  # as written to summary.json (its audit verdict)
    # (monitor, exception) of each verdict a monitor failed to make (MonitorSuite.failures)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)


def parse_monitor_flag(text: str) -> tuple[str, Any]:
    """`NAME=BACKEND`, BACKEND being `embedded`, `provider/model` or a YAML mapping of judge options."""
    name, sep, backend = text.partition("=")
    name, backend = name.strip(), backend.strip()
    if not sep or not name or not backend:
        raise UsageError(f"--monitor {text!r}: expected NAME=BACKEND, e.g. alignment_faking@judge=openai/gpt-4o")
    if backend.startswith("{"):
        # the scenario files' loader: bounded, and a number Python will not read is one line too
        value = load_yaml(backend, Path(f"--monitor {name}"), UsageError)
        if not isinstance(value, dict):
            raise UsageError(f"--monitor {name}: expected a mapping like {{backend: openai/gpt-4o, votes: 5}}")
        return name, value
    return name, backend


def _backend_label(value: Any) -> str:
    if isinstance(value, str):
        return "embedded" if value in EMBEDDED else value  # `heuristic` is the embedded backend's old name
    if isinstance(value, dict):
        return str(value.get("backend", "judge"))
    return str(getattr(value, "backend", "judge"))


PAID = ("calls", "input_tokens", "output_tokens", "cost_usd")  # what a judge's votes cost: stays once paid


def paid_kept(before: Any, now: dict[str, Any]) -> dict[str, Any]:
    """A re-scored judge's counters: the verdicts it keeps now (its verdict and vote counts replace the
    old ones), and every call paid for in the folder, before and now (a reviewer: a rescore whose votes
    all came from the cache set the folder's 18 paid calls to 0, though docs/results.md says they stay)."""
    if not isinstance(before, dict):
        return now
    out = dict(now)
    for key in PAID:
        if isinstance(before.get(key), int | float) and not isinstance(before.get(key), bool):
            out[key] = out.get(key, 0) + before[key]
    out["cost_usd"] = round(out.get("cost_usd", 0.0), 6)
    return out


def plan_monitors(scenario: Scenario, requested: dict[str, Any]) -> tuple[Scenario, dict[str, str]]:
    """The scenario with its `monitors:` section updated (validated like a scenario file: a bad name
    or backend is one line, exit 2, before any call) and the renames of replaced monitors."""
    data = scenario.model_dump(mode="json")
    monitors: dict[str, Any] = dict(data.get("monitors") or {})
    kept: dict[str, str] = {}
    for name, backend in requested.items():
        if name in monitors:
            kept[name] = kept_name(name, _backend_label(monitors[name]), set(monitors) | set(requested))
            monitors[kept[name]] = monitors[name]
        monitors[name] = backend
    data["monitors"] = monitors
    try:
        return parse_scenario(data, "--monitor"), kept
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None


async def rescore(run_dir: Path, requested: dict[str, Any], *, cache_dir: Path | None = None,
                  concurrency: int = 16, retry: RetryPolicy | None = None) -> RescoreResult:
    """Run `requested` monitors over the run's stored replies and write the run files again.

    The run folder is owned throughout (runners/folder_lock.py, as runners.report does): a rescore
    next to a sweep writing the same folder handled 12 of 40 trials and left a scenario.yaml
    naming a monitor most trials lacked."""
    run_dir = Path(run_dir)
    _check_run_folder(run_dir)
    with folder_lock.owning(run_dir, advice=folder_lock.RERUN_ADVICE):
        return await _rescore(run_dir, requested, cache_dir, concurrency, retry)


def _check_run_folder(run_dir: Path) -> None:
    """Before the folder is owned: owning a missing folder would create it."""
    if not (run_dir / STORE_NAME).exists():
        raise UsageError(f"{run_dir}: not a run folder (no {STORE_NAME})")


async def _rescore(run_dir: Path, requested: dict[str, Any], cache_dir: Path | None, concurrency: int,
                   retry: RetryPolicy | None) -> RescoreResult:
    scenario = load_scenario(run_dir / "scenario.yaml")
    updated, kept = plan_monitors(scenario, requested)
    new_config = {name: updated.monitors[name] for name in requested}
    calls = CallLayer(CallCache(Path(cache_dir or default_cache_dir()) / "calls.sqlite"), concurrency, retry)
    suite = build_suite(new_config, make_judge_factory(calls))
    store = ResultStore(run_dir / STORE_NAME)
    try:
        keys = run_keys(run_dir, updated)
        # before any judge call and any write: a scenario.yaml that is not the run's, or a store
        # emptied since the sweep, would re-score nothing and rewrite the run files as an empty run; a
        # folder where a run file goes would fail only after every judge call was paid for
        if problem := run_scenario_problem(store, run_dir, scenario, keys) or lost_store_problem(store, run_dir, keys):
            raise UsageError(problem)
        check_run_outputs(run_dir, RUN_FILES)
        await preflight(suite.judge_providers())  # a missing key or server: one line before any call
        done = 0
        batch: list[dict[str, Any]] = []

        async def flush() -> None:
            verdicts = await suite.classify_batch([parsed_of(r, r.get("setting") or updated.setting) for r in batch])
            for record, new in zip(batch, verdicts, strict=True):
                monitors = record.setdefault("monitors", {})
                for name, previous in kept.items():
                    # a trial re-scored by this command's interrupted run has its previous verdict kept
                    # already: `name` holds the new one (found by a review: it overwrote the kept one)
                    if name in monitors and previous not in monitors:
                        monitors[previous] = monitors[name]
                for name, verdict in new.items():
                    monitors[name] = verdict.as_dict()
            store.write(batch)

        for record in list(store.records(keys)):
            batch.append(record)
            if len(batch) >= BATCH:
                await flush()
                done += len(batch)
                batch = []
        if batch:
            await flush()
            done += len(batch)
        judges = dict(store.meta("judges", {}) or {})
        for name, judge in suite.judges.items():
            if hasattr(judge, "counters"):
                judges[name] = paid_kept(judges.get(name), judge.counters.as_dict())
        store.set_meta("judges", judges)
        history = list(store.meta("rescored", []) or [])
        history.append({"monitors": {n: suite.backends[n] for n in requested}, "kept": kept, "trials": done,
                        "judge_calls": calls.counters.calls, "judge_cache_hits": calls.counters.cache_hits})
        store.set_meta("rescored", history)
        save_scenario(run_dir, updated)
        simulated = bool((store.meta("run") or {}).get("simulated"))
        table_kept = keep_table_losing_rows(run_dir, store)
        summary = write_run_files(run_dir, updated, store, keys, simulated)
        warnings = [*store_warnings(store, keys, summary), *([table_kept] if table_kept else [])]
        if unscored := store.unreadable_records - store.damaged_keys():  # a damaged row is warned about above
            warnings.append(f"warning: {len(unscored)} stored transcripts could not be read and were not "
                            f"re-scored (their figures keep the verdicts they had); `python -m runners.store_repair "
                            f"{run_dir}`, then the sweep command, redoes them")
    finally:
        await suite.aclose()
        store.close()
        if calls.cache is not None:
            calls.cache.close()
    return RescoreResult(
        failures=suite.failures,
        trials=done,
        monitors={n: suite.backends[n] for n in requested},
        kept=kept,
        judge_calls=calls.counters.calls,
        judge_cache_hits=calls.counters.cache_hits,
        judges={n: j.counters.as_dict() for n, j in suite.judges.items() if hasattr(j, "counters")},
        warnings=warnings,
        summary=summary,
    )


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.rescore", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder, or an Inspect AI eval log (.eval/.json)")
    parser.add_argument("--monitor", action="append", required=True, metavar="NAME=BACKEND",
                        help="monitor to run, repeatable: alignment_faking@judge=openai/gpt-4o, "
                             "'alignment_faking={backend: openai/gpt-4o, votes: 20}', compliance=embedded")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", help="judge-call cache folder (default: .afsim-cache)")
    parser.add_argument("--concurrency", type=int, default=16, help="judge calls in flight per provider")
    parser.add_argument("--no-report", action="store_true", help="skip re-rendering report.html")
    parser.add_argument("--out", type=Path, metavar="FILE", help="Inspect logs only: where the re-scored log goes")
    args = parser.parse_args(argv)
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:  # a probe: 10**20 was accepted where the sweep caps it
        parser.error(f"--concurrency must be 1 to {MAX_CONCURRENCY}, got {args.concurrency}")
    requested: dict[str, Any] = {}
    for text in args.monitor:
        name, backend = parse_monitor_flag(text)
        if name in requested:
            raise UsageError(f"--monitor {name}: given twice")
        requested[name] = backend
    _check_target(args.run_dir)
    if is_inspect_log(args.run_dir) and not args.run_dir.is_dir():
        return _rescore_inspect(args, requested)
    if args.out is not None:
        raise UsageError("--out is for Inspect AI logs; a run folder is re-scored in place")
    _check_run_folder(args.run_dir)
    with folder_lock.owning(args.run_dir, advice=folder_lock.RERUN_ADVICE):  # the report too is rendered while the folder is ours
        return _rescore_folder(args, requested)


def _rescore_folder(args: Any, requested: dict[str, Any]) -> int:
    if not args.no_report:  # the run files are checked in rescore(); all before any judge call
        check_run_outputs(args.run_dir, [REPORT_FILE])
    result = run_async(rescore(args.run_dir, requested, cache_dir=args.cache_dir, concurrency=args.concurrency))
    for name, backend in result.monitors.items():
        moved = f" (previous verdicts kept as {result.kept[name]})" if name in result.kept else ""
        print(f"re-scored {result.trials} trials with {name}: {backend}{moved}")
    for name, judged in result.judges.items():
        print(f"judge {name}: {judged['verdicts']} verdicts from {judged['votes']} votes; abstained: "
              f"{judged['unparseable_votes']} unparseable, {judged['error_votes']} call errors")
    print(f"calls to the model under test: 0; judge calls made: {result.judge_calls}, "
          f"from the cache: {result.judge_cache_hits}")
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if not args.no_report:
        from reports.html import render_report

        print(f"report: {render_report(args.run_dir)}")
    print(f"run folder: {args.run_dir}")
    # a judge of this re-score most of whose votes abstained: exit 3, as the sweep (found by a hostile-reply
    # fuzz: a judge that answered nonsense to every vote replaced the verdicts and exited 0)
    if failed := monitor_error_line(result.summary, result.failures):  # a bug met on some replies; the trials are stored
        print(failed, file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    if unusable := judges_unusable({"judges": result.judges}, args.run_dir):
        for problem in unusable:
            print_error(f"error: {problem}")
        return EXIT_TOO_MANY_ERRORS
    # the audit verdict of the scenario as run, over the new verdicts: exit 1 on a failed audit, as the sweep
    for line in audit_lines(result.summary):
        print(line)
    return EXIT_AUDIT_FAILED if audit_failed(result.summary) else 0


def _check_target(path: Path) -> None:
    """A file of a run folder (its summary.json, trials.csv, ...) is neither a run folder nor an
    Inspect AI log: say which folder to give, not that an Inspect log needs --out."""
    if path.is_dir() or not path.exists():
        return
    in_run = (path.parent / STORE_NAME).exists()  # an exported log may sit there (runners.export_inspect)
    if path.name == "summary.json" or (in_run and not is_inspect_log(path)):
        raise UsageError(f"{path}: a file of the run folder {path.parent}, not a run folder or an Inspect AI log; "
                         f"give the run folder {path.parent}")


def _rescore_inspect(args: Any, requested: dict[str, Any]) -> int:
    from runners.inspect_rescore import rescore_inspect_log

    check_regular_file(args.run_dir, "run folder or Inspect AI log", UsageError)
    if args.out is None:
        raise UsageError(f"{args.run_dir}: an Inspect AI log is not changed in place; give --out FILE.eval")
    result = run_async(rescore_inspect_log(args.run_dir, requested, args.out, cache_dir=args.cache_dir,
                                             concurrency=args.concurrency))
    for name, backend in result.monitors.items():
        moved = f" (the log's own {name} score kept as {result.kept[name]})" if name in result.kept else ""
        print(f"scored {result.samples} samples with {name}: {backend}{moved}")
    print(f"calls to the model under test: 0; judge calls made: {result.judge_calls}, "
          f"from the cache: {result.judge_cache_hits}")
    print(f"inspect log: {result.out}")
    return 0


if __name__ == "__main__":
    run_cli(main)
