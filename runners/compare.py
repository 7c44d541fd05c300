"""`python -m runners.compare RUN_DIR [RUN_DIR ...] --output DIR`: runs side by side, and their differences.

Reads each run folder's summary.json, trials.csv and scenario.yaml (no model calls) and writes
DIR/compare.html (rates, gaps, and every model's gap and rate differences against its baseline on
the shared prompts, with paired intervals; headline figures' differences, without one) and
DIR/differences.json. The first run is the baseline. Runs that are not comparable (other prompts,
setting, monitors) are named on the terminal and at the top of the report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runners.cli_errors import ArgumentParser, UsageError, run_cli


def _folder(text: str) -> Path:
    """An --output path; an empty one is refused (Path("") is the current folder, where compare
    then wrote its files: found by a bad-input fuzz)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give the folder for compare.html and differences.json")
    return Path(text)


def _figure(figure: dict) -> str:
    bounds = f" [{100 * figure['ci_low']:+.1f}, {100 * figure['ci_high']:+.1f}]" if None not in (figure["ci_low"], figure["ci_high"]) else ""
    return f"{100 * figure['value']:+.1f}{bounds}"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.compare", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    parser.add_argument("--output", type=_folder, required=True, metavar="DIR",
                        help="folder for compare.html and differences.json (created if missing)")
    args = parser.parse_args(argv)
    if args.output.suffix.lower() in (".html", ".htm"):
        parser.error(f"--output names a folder now, not a file: try --output {args.output.with_suffix('')}")
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"--output {args.output}: exists and is not a folder (compare.html and differences.json go in a folder)")
    seen: dict[Path, Path] = {}
    for run_dir in args.run_dirs:  # one folder twice compares a run with itself: every difference 0
        same = seen.setdefault(run_dir.resolve(), run_dir)
        if same is not run_dir:
            shown = f"{run_dir}:" if str(run_dir) == str(same) else f"{same} and {run_dir}: the same folder"
            raise UsageError(f"{shown} given twice; compare needs different run folders (the first is the baseline)")
    from reports.compare import render_compare
    from reports.compare_inputs import RunFolderError

    try:
        out, context = render_compare(args.run_dirs, args.output)
    except RunFolderError as exc:
        raise UsageError(str(exc)) from None
    for warning in context["warnings"]:
        print(f"warning: not comparable: {warning}")
    for d in context["differences"]:
        if d["kind"] == "gap" and d["value"] is not None:
            within = ",".join(f"{k}={v}" for k, v in d["within"].items())
            print(f"{d['name']}{' [' + within + ']' if within else ''}: {d['run']}:{d['model']} − {d['base_run']}:{d['base_model']} = "
                  f"{100 * d['value']:+.1f} pts [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}], p={d['p_value']:.2g}, "
                  f"{d['n_prompts']} prompts")
    heads = [d for d in context["differences"] if d["kind"] == "headline"]
    for d in heads:
        base, other = d["base_figure"], d["other_figure"]
        print(f"{d['name']}: {d['run']}:{d['model']} − {d['base_run']}:{d['base_model']} = {100 * d['value']:+.1f} pts "
              f"({_figure(other)} vs {_figure(base)})")
    if heads:
        print(f"  (those differences have {context['headline_note']})")
    if not context["differences"]:
        print(f"no differences: {context['no_differences']}")
    print(f"compare report: {out}")
    return 0


if __name__ == "__main__":
    run_cli(main)
