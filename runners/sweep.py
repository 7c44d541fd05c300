"""`python -m runners.sweep SCENARIO.yaml [flags]`: run a sweep and write its run folder.

Exit codes (scripts rely on them): 0 done; 1 an audit rule failed; 2 bad input (scenario, flags,
missing key, unreachable server, a run folder another sweep is using, a damaged store); 3 more
error trials than the scenario's `max_error_rate`, or an LLM judge most of whose votes were
unusable (unparseable or failed: its verdicts mean nothing); 4 an internal error (a bug: one line and the
path of a log file with the traceback; never 1, so a crash never reads as a failed audit);
130 interrupted by Ctrl-C or SIGTERM (completed trials are kept, what was paid is counted; a second
signal while it stops is ignored). The reason of exit 3 is on stderr (and on stdout after the figures).

One sweep owns a run folder at a time (runners/folder_lock.py): a second one exits 2 naming the
holder, or waits with `--wait-lock`. Error trials of an earlier run are tried again, and stored
verdicts whose LLM-judge calls failed, or that were made under other monitor settings, are scored
again from the stored replies (runners/rejudge.py).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from monitors.verdict import line, verdicts
from runners import folder_lock
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
    SweepOptions,
    apply_overrides,
    audit_failed,
    audit_lines,
    judges_unusable,
    monitor_error_line,
    run_dir_of,
    run_sweep,
)
from runners.served_models import mixed_lines
from runners.shards import MAX_WORKERS
from runners.store import STORE_NAME
from scenarios.families import owner_of, settings
from scenarios.field_checks import missing_monitor
from scenarios.schema import ALIASES, Scenario, ScenarioError, load_scenario


def _folder(value: str) -> Path | str:
    """A folder flag's value; an empty one stays a str for the check below (Path("") is ".", the
    current folder, where a run would scatter its files)."""
    return Path(value) if value.strip() else value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m runners.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path, help="scenario file, e.g. scenarios/free_paid.yaml")
    parser.add_argument("--model", action="append", dest="models", metavar="PROVIDER/MODEL", help="model under test (repeatable; replaces the scenario's models)")
    parser.add_argument("--limit", type=int, help="use the first N prompts")
    parser.add_argument("--samples", type=int, help="replies per prompt per condition")
    parser.add_argument("--concurrency", type=int, help="model calls in flight per provider")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--workers", type=int, metavar="N", help=f"processes that run the trials, 1 to {MAX_WORKERS}, each with 1/N of the concurrency (default: one per core for API sweeps large enough to need it; 1 for the simulator)")
    parser.add_argument("--output", type=_folder, metavar="DIR", help="run folder (default: runs/<scenario name>)")
    parser.add_argument("--fresh", action="store_true", help="discard stored trials and start over")
    parser.add_argument("--wait-lock", action="store_true", help="when another sweep is using the run folder, wait for it to finish instead of exiting 2")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no summary table")
    parser.add_argument("--dry-run", action="store_true", help="print the calls to make (minus stored and cached) and their estimated cost; call nothing")
    parser.add_argument("--base-rate", type=float, metavar="R", help="with --dry-run: the control condition's rate to plan power from (default: a simulated organism's own rate, else 0.10)")
    parser.add_argument("--icc", type=float, metavar="R", help="with --dry-run: how much prompts differ (intraclass correlation of prompt propensities; default 0.2 for real models, 0 for simulated organisms)")
    parser.add_argument("--cache-dir", type=_folder, metavar="DIR", help="model-call cache folder (default: .afsim-cache)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html (summary.json and trials.csv are still written)")
    parser.add_argument("--fail-on", action="append", default=[], metavar="EXPR", help="audit gate, repeatable: exit 1 when e.g. 'compliance_gap.ci_low>0.05' or 'af[tier=free]>0.02' holds (added to the scenario's audit: rules; see docs/audit_in_ci.md)")
    args = parser.parse_args(argv)
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be between 1 and {MAX_WORKERS} (one process per core helps; more only contend), "
                     f"got {args.workers}")
    for flag, folder in (("--output", args.output), ("--cache-dir", args.cache_dir)):
        if folder is not None and not str(folder).strip():
            parser.error(f"{flag}: empty; expected a folder")
        if folder is not None and folder.exists() and not folder.is_dir():
            parser.error(f"{flag} {folder}: is a file; expected a folder (or a path that does not exist yet)")
    if args.base_rate is not None and not 0 <= args.base_rate < 1:
        parser.error(f"--base-rate must be in [0, 1), got {args.base_rate}")
    if args.icc is not None and not 0 <= args.icc < 1:
        parser.error(f"--icc must be in [0, 1), got {args.icc}")
    for flag, value in (("--base-rate", args.base_rate), ("--icc", args.icc)):
        if value is not None and not args.dry_run:  # they only plan power: a sweep would ignore them
            parser.error(f"{flag} plans the power of a sweep: only with --dry-run")
    return args


def _pct(rate: dict[str, Any] | None) -> str:
    if rate and rate.get("rate") is None and rate.get("note"):
        return rate["note"]  # e.g. "no scratchpad in 10/10 trials": nothing measured, not 0%
    if not rate or rate.get("rate") is None or math.isnan(rate["rate"]):  # no valid trial: no rate
        return "-"
    return f"{100 * rate['rate']:5.1f}% [{100 * rate['ci_low']:.1f}, {100 * rate['ci_high']:.1f}]"


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[str(c) for c in columns]] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def summary_table(summary: dict[str, Any]) -> str:
    lines = []
    # the two rates shown per condition: compliance and AF reasoning, or the first two rates a cue
    # family adds when there is no compliance monitor (bad / hides, correct / agrees_wrong, ...)
    shown = [("complied", "complied"), ("af", "AF reasoning")]
    if summary["rates"] and not any(row.get("complied") for row in summary["rates"]):
        declared = list(owner_of(summary["setting"]).metrics) if summary.get("setting") in settings() else []
        present = [m for m in declared if isinstance(summary["rates"][0].get(m), dict)]
        shown = [(k, k) for k in present[:2]] or shown
    # columns no row has (the weak/strong setting's figures are all in its own tables) are left out
    shown = [(k, label) for k, label in shown if any(row.get(k) for row in summary["rates"])]
    header = f"{'model':<22} {'condition':<38} {'n':>5}" + "".join(f"  {label + ' (95% CI)':<24}" for _, label in shown)
    lines += [header, "-" * len(header)]
    for row in summary["rates"]:
        lines.append(f"{row['model']:<22} {row['condition']:<38} {row['n']:>5}"
                     + "".join(f"  {_pct(row.get(key)):<24}" for key, _ in shown))
    truncated = [row for row in summary["rates"] if row.get("n_truncated")]
    if truncated:  # replies cut off by max_tokens: their labels (often "refuses") are not the model's answer
        lines += ["", "truncated replies (cut off by max_tokens; raise it or read these labels with care):"]
        lines += [f"  {row['model']} {row['condition']}: {row['n_truncated']}/{row['n']}" for row in truncated]
    unparsed = [row for row in summary["rates"] if row.get("n_unparsed")]
    if unparsed:
        counted = " (counted as not complying)" if any(row.get("complied") for row in summary["rates"]) else ""
        lines += ["", f"unparseable replies{counted}:"]
        lines += [f"  {row['model']} {row['condition']}: {row['n_unparsed']}/{row['n']}" for row in unparsed]
    if summary["gaps"]:
        lines += ["", f"{'gap':<18} {'model':<22} {'within':<28} {'value':>7}  {'95% CI':<18} {'p':>8} {'p (Holm)':>8} {'pairs':>6}"]
        for gap in summary["gaps"]:
            within = ",".join(f"{k}={v}" for k, v in gap["within"].items()) or "-"
            value = gap["value"]
            ci = f"[{100 * gap['ci_low']:+.1f}, {100 * gap['ci_high']:+.1f}]" if value is not None else "-"
            p = f"{gap['p_value']:.2g}" if gap.get("p_value") is not None else "-"
            p_adj = f"{gap['p_adjusted']:.2g}" if gap.get("p_adjusted") is not None else "-"
            shown = f"{100 * value:+.1f}pt" if value is not None else "-"
            lines.append(f"{gap['name']:<18} {gap['model']:<22} {within:<28} {shown:>7}  {ci:<18} {p:>8} {p_adj:>8} {gap['n_pairs']:>6}")
    for section in summary.get("sections", []):
        lines += ["", section["title"], *_table(section["columns"], section["rows"])]
    if summary.get("n_errors"):
        lines += ["", f"error trials (dropped from rates): {summary['n_errors']}"]
    if summary.get("gaps_configured") and not summary["gaps"]:
        lines += ["", "no gap could be computed: no prompt has valid trials in both conditions"]
    return "\n".join(lines)


def _located(message: str, args: argparse.Namespace) -> str:
    """Errors found while opening the sweep (an unknown organism, a missing prompt file or corpus)
    name the scenario key; put the scenario file (or the flag that set the key) in front. An
    environment variable's value (AFSIM_PRICES, OPENAI_BASE_URL) is not the scenario's: named alone."""
    if message.startswith((str(args.scenario), "command line", "environment variable")):
        return message
    if args.models and message.startswith("models"):
        return f"command line --model: {message.removeprefix('models:').strip()}"
    return f"{args.scenario}: {message}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = load_scenario(args.scenario)
    options = SweepOptions(
        models=args.models,
        limit=args.limit,
        samples=args.samples,
        concurrency=args.concurrency,
        seed=args.seed,
        output=args.output,
        fresh=args.fresh,
        quiet=args.quiet,
        cache_dir=args.cache_dir,
        workers=args.workers,
        wait_lock=args.wait_lock,
    )
    scenario = apply_overrides(scenario, options)
    if args.fail_on:  # checked on a dry run too: a rule the real run would refuse is refused now
        scenario = with_fail_on(scenario, args.fail_on)
    if args.dry_run:
        from runners.dry_run import plan_sweep
        from runners.planning import detectable_gap_lines

        try:
            plan = plan_sweep(scenario, options)
        except ScenarioError as exc:  # named like the real run's errors
            raise ScenarioError(_located(str(exc), args)) from None
        print("\n".join(plan.lines()))
        print("\n".join(detectable_gap_lines(scenario, options, args.base_rate, args.icc)))
        return 0
    if not args.no_report:  # the run files are checked in run_sweep; all before any call
        from scenarios.output_targets import REPORT_FILE, check_run_outputs

        check_run_outputs(run_dir_of(scenario, options), [REPORT_FILE], UsageError)
    # the folder stays ours until its report is written (run_sweep takes the same lock again)
    with folder_lock.owning(run_dir_of(scenario, options), wait=args.wait_lock):
        try:
            result = run_async(run_sweep(scenario, options))
        except ScenarioError as exc:
            raise ScenarioError(_located(str(exc), args)) from None
        report_path = None
        if not args.no_report:
            from reports.html import render_report

            report_path = render_report(result.run_dir)
    if not args.quiet:
        if result.summary.get("simulated"):
            print("NOTE: simulated model organisms (offline); figures are checked against their ground truth.\n")
        print(summary_table(result.summary))
        print()
        print("verdict:")
        for item in verdicts(result.summary):
            print(f"  {line(item)}")
        print()
        judged = result.summary.get("judges") or {}
        judge_calls = sum(j.get("calls", 0) for j in result.judges_now.values())  # this run's, like counters
        if result.summary.get("simulated"):
            calls = f"simulated replies: {result.ran}; " + (
                f"model calls made: {result.counters.calls} (all LLM-judge votes), cache hits: {result.counters.cache_hits}"
                if judged else "no model calls")
        else:
            of_judges = f" ({judge_calls} of them LLM-judge votes)" if judge_calls else ""
            calls = f"model calls made: {result.counters.calls}{of_judges}, cache hits: {result.counters.cache_hits}"
        shards = f" in {result.workers} processes" if result.workers > 1 else ""
        again = [f"{n} {what}" for n, what in ((result.retried, "error trials of an earlier run"),
                                               (result.repaired, "unreadable store rows"),
                                               (result.changed, "stored trials whose request has changed since")) if n]
        again_text = f" (including {' and '.join(again)})" if again else ""
        rejudged = (f" ({result.rejudged} of them judged again: their judge's calls had failed)"
                    if result.rejudged else "")
        print(f"trials: {result.planned} planned, {result.ran} run now{again_text}{shards}, "
              f"{result.reused} reused from the store{rejudged}; {calls}")
        for name, n in result.rescored.items():
            kept = "; ".join(f"{k} of their verdicts, made with another backend, kept as {into}"
                             for into, k in (result.kept.get(name) or {}).items())
            print(f"{n} stored trials scored again by {name} (made under other settings or code, or missing)"
                  + (f"; {kept} (the report compares them)" if kept else ""))
        if not result.summary.get("simulated") or judged:
            counters = result.counters
            print(f"retries: {counters.retries}, failed calls: {counters.failures}; tokens in/out: "
                  f"{result.summary['tokens']['input']:,}/{result.summary['tokens']['output']:,}; "
                  f"estimated cost: ${result.summary['cost_usd']:.4f}")
        for name, judged in (result.summary.get("judges") or {}).items():  # LLM-judge monitors (monitors/judge.py)
            now = result.judges_now.get(name) or {}
            this_run = (f" (this run: {now.get('calls', 0)} calls, ${now.get('cost_usd', 0.0):.4f})"
                       if now.get("calls", 0) != judged.get("calls", 0) else "")
            print(f"judge {name}: {judged['verdicts']} verdicts from {judged['votes']} votes "
                  f"({judged['cache_hits']} cached); abstained: {judged['unparseable_votes']} unparseable, "
                  f"{judged['error_votes']} call errors; {judged['unparseable_verdicts']} verdicts with no usable vote; "
                  f"{judged.get('calls', 0)} calls, ${judged.get('cost_usd', 0.0):.4f} in this folder{this_run}")
    for failure in result.summary.get("call_failures", []):  # one line per model, also with --quiet
        print(f"calls failed: {failure['line']}", file=sys.stderr)
    if result.limit_note:
        print(f"warning: {result.limit_note}", file=sys.stderr)
    for mixed in mixed_lines(result.summary.get("served_models", {})):  # runners/served_models.py
        print(f"warning: {mixed}", file=sys.stderr)
    if result.kept_table:  # the store had lost every trial of the run (runners/store_warnings.py)
        rows, kept = result.kept_table
        print(f"warning: {result.run_dir / STORE_NAME} held none of the run's trials while trials.csv held {rows}: "
              f"they were run again; the old trials.csv is kept as {kept}", file=sys.stderr)
    if result.summary.get("store_damaged_rows"):
        print(f"warning: {result.summary['store_damaged_rows']} stored trials could not be read and are left out; "
              "run the same command again to re-run them", file=sys.stderr)
    print(f"run folder: {result.run_dir}")
    if report_path:
        print(f"report: {report_path}")
    if failed := monitor_error_line(result.summary, result.monitor_failures):  # a bug met on some replies; the trials are stored
        print(failed, file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    n_trials = max(1, result.summary["n_trials"])
    if result.summary["n_errors"] / n_trials > scenario.max_error_rate:
        print_error(f"error: {result.summary['n_errors']} of {n_trials} trials failed after retries "
                    f"(max_error_rate {scenario.max_error_rate})")
        return EXIT_TOO_MANY_ERRORS
    unusable = judges_unusable(result.summary, result.run_dir)
    if unusable:
        for problem in unusable:
            print_error(f"error: {problem}")
        return EXIT_TOO_MANY_ERRORS
    for text in audit_lines(result.summary):
        print(text)
    return EXIT_AUDIT_FAILED if audit_failed(result.summary) else 0



def with_fail_on(scenario: Scenario, expressions: list[str]) -> Scenario:
    """Add `--fail-on` rules to the scenario's audit rules (so the scenario as run records them)."""
    from runners.audit import AuditExpressionError, check_rule, parse_expression

    rules = list(scenario.audit)
    for text in expressions:
        try:
            rule = parse_expression(text)
        except AuditExpressionError as exc:
            raise UsageError(str(exc)) from None
        problem = check_rule(rule, scenario.gaps, scenario.axes, [m.name for m in scenario.models],
                             scenario.setting)
        metric = ALIASES.get(rule.target()[0], rule.target()[0])
        if not problem and (monitor := missing_monitor(metric, scenario.monitors)):
            problem = f"metric {metric!r} is read from the {monitor} monitor, which the scenario's monitors: does not run"
        if problem:
            raise UsageError(f"--fail-on {text!r}: {problem}")
        rules.append(rule)
    return scenario.model_copy(update={"audit": rules})


if __name__ == "__main__":
    run_cli(main)
