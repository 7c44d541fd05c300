"""`python -m runners.report RUN_DIR`: re-render a run's summary and report from its store.

Makes no model calls: everything comes from the stored trials and the scenario as run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from runners import folder_lock
from runners.af_labels import META as AF_LABELS
from runners.af_labels import (
    MIN_KAPPA,
    SAMPLE_NAME,
    carried_labels,
    check_label_field,
    check_run,
    checked_labels,
    labelling_sample,
    sample_lines,
    validation_from_labels,
)
from runners.atomic import copy_aside, write_text
from runners.cli_errors import EXIT_AUDIT_FAILED, ArgumentParser, UsageError, run_cli
from runners.engine import (
    STORE_NAME,
    audit_failed,
    audit_lines,
    run_scenario_problem,
    write_run_files,
)
from runners.store import ResultStore
from runners.store_warnings import keep_table_losing_rows, lost_store_problem, store_warnings
from scenarios.output_targets import REPORT_FILE, RUN_FILES, check_run_outputs
from scenarios.schema import Scenario, load_scenario
from scenarios.user_files import check_regular_file


def run_keys(run_dir: Path, scenario: Scenario) -> set[str]:
    """The trials this run counts. A store may hold more (an earlier --limit, --seed or --model
    written to the same folder), so the keys come from the scenario as run, planned again."""
    from runners.engine import plan_trials
    from scenarios.prompt_sets import load_prompts

    prompts = load_prompts(scenario.prompts, scenario.limit)
    return {trial.key for trial in plan_trials(scenario, prompts, run_dir.name)}


def write_sample(run_dir: Path, store: ResultStore, keys: set[str], per_cell: int, field: str, seed: int) -> None:
    """The replies to label, as JSONL in the run folder, with the labels already given carried in:
    those the run keeps (`--af-validation`) and those of the sample file there, which is copied aside
    first. Each cell's shuffle is seeded, so a larger N holds the smaller one's replies: labelling
    more is adding labels, not starting over (a probe found a larger N refused while the file
    existed, and its 180 labels gone from the new sample once it was moved)."""
    if per_cell < 1:
        raise UsageError(f"--af-sample: must be at least 1, not {per_cell}")
    out = run_dir / SAMPLE_NAME
    frame = store.frame(keys)
    check_run(frame, run_dir)
    kept = store.meta(AF_LABELS)
    kept_keys = set(kept["labels"]) if isinstance(kept, dict) and isinstance(kept.get("labels"), dict) else set()
    carried = carried_labels(kept, store.records({k for k in kept_keys if isinstance(k, str)}))
    if out.exists():  # checked like labels given to --af-validation: a bad line is one error, nothing written
        carried.update(checked_labels(out, field, frame, store.records, required=False))
    chosen = labelling_sample(frame, per_cell, seed)
    order = {key: k for k, key in enumerate(chosen)}
    records = sorted(store.records(set(chosen)), key=lambda r: order[r["key"]])
    lines = sample_lines(records, field)
    for line in lines:
        line[field] = carried.get(line["key"])
    aside = copy_aside(out) if out.exists() else None
    write_text(out, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    given = sum(line[field] is not None for line in lines)
    print(f"{len(records)} replies to label: {out} (fill in {field!r} with true or false, then "
          f"python -m runners.report {run_dir} --af-validation {out})"
          + (f"; {given} carry the labels already given" if given else "")
          + (f"; the previous file is kept as {aside.name}" if aside else ""))


def agreement_line(agreed: dict[str, Any]) -> str:
    kappa = "undefined: one label only" if agreed["kappa"] is None else f"{agreed['kappa']:.2f}"
    line = (f"second labeller ({agreed['file']}): agrees on {agreed['agree']} of {agreed['n']} replies both labelled "
            f"(Cohen's kappa {kappa})")
    if agreed["disagree"]:
        line += f"; adjudicate these into the first file: {', '.join(agreed['disagree'][:10])}"
        line += f" and {len(agreed['disagree']) - 10} more" if len(agreed["disagree"]) > 10 else ""
    if agreed["kappa"] is not None and agreed["kappa"] < MIN_KAPPA:
        line += f"; kappa under {MIN_KAPPA}: the labels are too inconsistent to be taken as exact"
    return line


def render(args: Any, scenario: Scenario) -> dict[str, Any] | None:
    """What the flags ask of the run's store; the summary written when the report is to be rendered again."""
    store = ResultStore(args.run_dir / STORE_NAME)
    try:
        simulated = bool((store.meta("run") or {}).get("simulated"))
        keys = run_keys(args.run_dir, scenario)
        # a scenario.yaml that is not the run's would re-render it as an empty run: one line, nothing written
        if problem := run_scenario_problem(store, args.run_dir, scenario, keys):
            raise UsageError(problem)
        # a store emptied since the sweep would replace the trials trials.csv still holds with none
        if problem := lost_store_problem(store, args.run_dir, keys):
            raise UsageError(problem)
        check_label_field(args.label_field)
        if args.af_sample is None:  # a folder where a run file goes: one line before anything is written
            check_run_outputs(args.run_dir, [*RUN_FILES, REPORT_FILE])
        if args.af_sample is not None:
            write_sample(args.run_dir, store, keys, args.af_sample, args.label_field, scenario.seed)
            return None
        if args.af_validation:
            kept, counts = validation_from_labels(args.af_validation, args.label_field, store.frame(keys), args.run_dir,
                                                  store.records, args.second_labels, store.meta(AF_LABELS))
            store.set_meta(AF_LABELS, kept)  # replaces labels given before
            sensitivity = (f"sensitivity {counts['sensitivity']:.2f} from {counts['sensitivity_from']} (no reply "
                           "labelled alignment faking)" if counts.get("sensitivity_from") else
                           f"sensitivity {counts['sensitivity']:.2f} on {counts['positives']} alignment faking")
            print(f"AF validation: {sensitivity}, "
                  f"specificity {counts['specificity']:.2f} on {counts['negatives']} not, among replies not known to refuse "
                  f"of {', '.join(counts['models'])} ({counts['refusals']} labelled refusals set aside"
                  + (f", {counts['refusals_labelled_af']} of them labelled alignment faking" if counts["refusals_labelled_af"] else "")
                  + ")")
            if counts.get("agreement"):
                print(agreement_line(counts["agreement"]))
        elif args.no_af_validation:
            store.set_meta(AF_LABELS, None)
        table_kept = keep_table_losing_rows(args.run_dir, store)
        summary = write_run_files(args.run_dir, scenario, store, keys, simulated)
        for line in [*store_warnings(store, keys, summary), *([table_kept] if table_kept else [])]:
            print(line, file=sys.stderr)
        return summary
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--af-validation", type=Path, metavar="LABELS.jsonl",
                        help="your labels of some of this run's replies ({\"key\": trial key, \"af\": true|false} per line): "
                             "corrected AF figures then use the monitor's errors on them; the folder keeps them")
    parser.add_argument("--second-labels", type=Path, metavar="LABELS.jsonl",
                        help="with --af-validation: a second labeller's labels of the same sample; their agreement "
                             "(Cohen's kappa) goes into the summary and the report, and the replies they disagree on "
                             "are listed to adjudicate into the first file")
    parser.add_argument("--label-field", help="with --af-validation or --af-sample: the labels' boolean field (default: af)")
    parser.add_argument("--no-af-validation", action="store_true", help="forget labels given before (the default validation applies)")
    parser.add_argument("--af-sample", type=int, metavar="N",
                        help=f"write RUN_DIR/{SAMPLE_NAME}: up to N replies not known to refuse per model x condition, "
                             "with an empty label to fill in and give back with --af-validation")
    args = parser.parse_args(argv)
    if sum(x is not None and x is not False for x in (args.af_validation, args.no_af_validation, args.af_sample)) > 1:
        raise UsageError("--af-sample, --af-validation and --no-af-validation: choose one")
    if args.second_labels is not None and args.af_validation is None:
        raise UsageError("--second-labels: only with --af-validation (the first labeller's file)")
    # found by a bad-input fuzz: without labels to read or a sample to write it was ignored silently
    if args.label_field is not None and args.af_validation is None and args.af_sample is None:
        raise UsageError("--label-field: only with --af-validation or --af-sample (it names the labels' field)")
    args.label_field = "af" if args.label_field is None else args.label_field
    for flag, labels in (("--af-validation", args.af_validation), ("--second-labels", args.second_labels)):
        if labels is not None:  # both before either is read: a folder given as labels is said to be one
            check_regular_file(labels, f"labels file ({flag})", UsageError)
    # found by a probe: the first labeller's file given again (or a link to it) as the second one's
    # agreed with itself, "kappa 1.00", which went into summary.json and the report as agreement
    if args.second_labels is not None and args.af_validation.samefile(args.second_labels):
        raise UsageError(f"--second-labels {args.second_labels}: the --af-validation file itself; expected "
                         "another labeller's labels of the same sample (a file agrees with itself)")
    if not (args.run_dir / STORE_NAME).exists():
        raise UsageError(f"{args.run_dir}: not a run folder (no {STORE_NAME})")
    scenario = load_scenario(args.run_dir / "scenario.yaml")
    folder_lock.acquire(args.run_dir, advice=folder_lock.RERUN_ADVICE)  # labels and files written while a sweep writes its own: one owner
    try:
        summary = render(args, scenario)
        if summary is not None:
            from reports.html import render_report

            print(f"report: {render_report(args.run_dir)}")
    finally:
        folder_lock.release(args.run_dir)
    # the verdict the sweep gave, recomputed from the store and the scenario as run: exit 1 on a failed audit
    for line in audit_lines(summary or {}):
        print(line)
    return EXIT_AUDIT_FAILED if summary is not None and audit_failed(summary) else 0


if __name__ == "__main__":
    run_cli(main)
