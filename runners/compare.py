"""`python -m runners.compare RUN_DIR RUN_DIR ... [--output compare.html]`: runs side by side.

Reads each run folder's summary.json (no store, no model calls) and writes one self-contained
HTML comparing rates, gaps with their intervals and a forest plot across runs.
"""

from __future__ import annotations

from pathlib import Path

from runners.cli_errors import ArgumentParser, UsageError, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.compare", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    parser.add_argument("--output", type=Path, default=Path("compare.html"), help="where to write the report (default: compare.html)")
    args = parser.parse_args(argv)
    from reports.compare import RunFolderError, render_compare

    try:
        out = render_compare(args.run_dirs, args.output)
    except RunFolderError as exc:
        raise UsageError(str(exc)) from None
    print(f"compare report: {out}")
    return 0


if __name__ == "__main__":
    run_cli(main)
