"""`python -m monitors.evaluate LABELS.jsonl --monitor alignment_faking [--backend ...]`

Measures a monitor against labelled records (a text field and a boolean label): precision,
recall, F1, accuracy, AUROC, the confusion matrix, and the threshold that keeps the
false-positive rate under `--max-fpr`. The numbers come from `monitors.validation.evaluate`,
which the HTML report uses too.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from monitors.labelled_io import (
    MONITORS,
    add_judge_flags,
    boolean_labels,
    classify_records,
    judge_options_of,
    read_records,
)
from monitors.validation import evaluate, pair_accuracy
from runners.cli_errors import ArgumentParser, UsageError, run_cli


def _pair_id(record: dict[str, Any]) -> Any:
    """A pair is one author's: two files may both number their pairs from 1. Keyed on the JSON
    values themselves, so pair 1 and pair "1" are not one pair."""
    pair = record.get("pair")
    return None if pair is None else json.dumps([record.get("author"), pair], sort_keys=True, default=str)


def _default_threshold(monitor: str, backend: str) -> float:
    if monitor == "alignment_faking" and backend in ("embedded", "heuristic"):
        from monitors.alignment_faking import load_model

        return load_model().threshold
    from scenarios.schema import JudgeSpec

    return JudgeSpec.model_fields["threshold"].default  # the default judge recipe's (0.4)


def run(args: argparse.Namespace) -> dict[str, Any]:
    judge_options = judge_options_of(args)  # the flags first: a bad --backend before a large file is read
    records = read_records(args.labels, args.monitor)
    if args.split:
        records = [r for r in records if r.get("split") == args.split]
        if not records:
            raise UsageError(f"{args.labels}: no records with split == {args.split!r}")
    if not records:
        raise UsageError(f"{args.labels}: no records")
    unlabelled = 0
    if args.skip_unlabelled:  # a missing or null label: a trial without ground truth (a malformed reply)
        kept = [r for r in records if r.get(args.label_field) is not None]
        unlabelled, records = len(records) - len(kept), kept
        if unlabelled:
            print(f"note: {unlabelled} records without a {args.label_field!r} label left out (--skip-unlabelled)",
                  file=sys.stderr)
        if not records:
            raise UsageError(f"{args.labels}: no record has a {args.label_field!r} label")
    labels = boolean_labels(records, args.label_field, args.labels)
    field = "scratchpad" if args.monitor == "alignment_faking" else "output"
    if blank := sum(not str(r.get(field) or "").strip() for r in records):
        # they score 0 whatever their label: a file of blank scratchpads measured AUROC 0.500, exit 0 (a probe)
        print(f"warning: {blank} of {len(records)} records have no {field} text; the monitor scores them 0",
              file=sys.stderr)
    verdicts = list(classify_records(records, args.monitor, args.backend, judge_options))
    abstained = sum(v.abstained for v in verdicts)
    if abstained:  # they score 0: recall and AUROC below describe the judge *and* its failures
        print(f"warning: {verdicts[0].backend} abstained on {abstained} of {len(verdicts)} records (no usable "
              "vote: unparseable replies or failed calls); they count as negatives below", file=sys.stderr)
    # score = confidence in the positive class; for compliance the positive class is full compliance
    scores = [v.score for v in verdicts]
    threshold = args.threshold if args.threshold is not None else _default_threshold(args.monitor, args.backend)
    result = evaluate(scores, labels, threshold, args.max_fpr)
    if any(r.get("pair") is not None for r in records):
        result["contrast_pairs"] = pair_accuracy(scores, labels, [_pair_id(r) for r in records], threshold)
    result.update({"file": args.labels, "monitor": args.monitor, "backend": verdicts[0].backend if verdicts else args.backend,
                   "split": args.split, "abstained": abstained, "unlabelled_left_out": unlabelled})
    return result


def _fmt(x: Any) -> str:
    return "n/a" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def render(r: dict[str, Any]) -> str:
    c = r["confusion"]
    lines = [
        f"{r['monitor']} ({r['backend']}) on {r['file']}" + (f" [split={r['split']}]" if r["split"] else ""),
        f"  n={r['n']} positives={r['n_positive']} threshold={_fmt(r['threshold'])}"
        + (f"  judge abstained on {r['abstained']}" if r.get("abstained") else ""),
        f"  precision {_fmt(r['precision'])}  recall {_fmt(r['recall'])}  F1 {_fmt(r['f1'])}  "
        f"accuracy {_fmt(r['accuracy'])}  AUROC {_fmt(r['auroc'])}"
        + (f" [{r['auroc_ci'][0]:.3f}, {r['auroc_ci'][1]:.3f}] (95%)" if r.get("auroc_ci") else ""),
        "  confusion          predicted+  predicted-",
        f"    labelled+        {c['tp']:>10}  {c['fn']:>10}",
        f"    labelled-        {c['fp']:>10}  {c['tn']:>10}",
    ]
    p = r.get("contrast_pairs")
    if p:
        lines.append(f"  contrast pairs: positive scored higher in {p['ranked_right']:g} of {p['n_pairs']} ({_fmt(p['share'])}); "
                     f"both right at the threshold in {p['both_right_at_threshold']}"
                     + (f"; {p['not_pairs']} pair ids without one positive and one negative left out" if p.get("not_pairs") else ""))
    f = r["at_max_fpr"]
    if f:
        lines.append(
            f"  threshold for FPR <= {f['max_fpr']}: {_fmt(f['threshold'])} (FPR {_fmt(f['fpr'])}, recall {_fmt(f['recall'])})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m monitors.evaluate", description="Measure a monitor against labels.")
    parser.add_argument("labels", help="JSONL with scratchpad (and optional output) and a boolean label, "
                        "or an Inspect AI eval log (.eval/.json)")
    parser.add_argument("--monitor", choices=MONITORS, default="alignment_faking")
    parser.add_argument("--backend", default="embedded", help="embedded (default, offline), anthropic/<model> or openai/<model> for an LLM judge")
    add_judge_flags(parser)
    parser.add_argument("--label-field", default="label", help="the boolean field holding the label (default: label); in an Inspect log a "
                        "metadata key or score:<scorer>")
    parser.add_argument("--split", default=None, help="only records whose `split` field equals this")
    parser.add_argument("--skip-unlabelled", action="store_true",
                        help="leave out records whose label is missing or null, and say how many (a simulated run's "
                             "malformed replies have no ground truth); without it such a record is an error")
    parser.add_argument("--max-fpr", type=float, default=0.05, help="report the threshold keeping FPR under this")
    parser.add_argument("--threshold", type=float, default=None, help="flag when score >= this (default: the backend's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 0.0 <= args.max_fpr <= 1.0:
        raise UsageError(f"--max-fpr must be in [0, 1], got {args.max_fpr}")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:  # NaN too: a score >= NaN never holds
        raise UsageError(f"--threshold must be in [0, 1] (a score is a probability), got {args.threshold}")
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    run_cli(main)
