"""`python -m monitors.classify INPUT.jsonl --monitor alignment_faking|compliance [--backend ...]`

Labels any records: each input line is a JSON object with `scratchpad` (alignment faking) or
`output` (compliance), optionally both, and an `id`; each output line (stdout, JSONL) holds the
input's `id` plus label, score, flag, per-criterion verdicts, evidence, rationale and backend.
A scratchpad alone (no output, no tier) is classified from what is there. An Inspect AI eval log
(`.eval` / `.json`) is read sample by sample (monitors/inspect_log.py, docs/inspect.md).
"""

from __future__ import annotations

import json
import sys

from monitors.judge import MAX_ABSTAINED_SHARE
from monitors.labelled_io import (
    MONITORS,
    add_judge_flags,
    classify_records,
    judge_options_of,
    read_records,
    verdict_line,
)
from runners.cli_errors import EXIT_TOO_MANY_ERRORS, ArgumentParser, run_cli
from runners.safe_text import printable_json


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m monitors.classify", description="Label JSONL records with a monitor.")
    parser.add_argument("input", help="JSONL file (one object per line with scratchpad and/or output) "
                        "or an Inspect AI eval log (.eval/.json): one record per sample")
    parser.add_argument("--monitor", choices=MONITORS, default="alignment_faking")
    parser.add_argument("--backend", default="embedded", help="embedded (default, offline), anthropic/<model> or openai/<model> for an LLM judge")
    add_judge_flags(parser)
    args = parser.parse_args(argv)
    judge_options = judge_options_of(args)  # the flags first: a bad --backend before a large file is read
    records = read_records(args.input, args.monitor)
    out = sys.stdout
    try:
        verdicts = classify_records(records, args.monitor, args.backend, judge_options)
        abstained, backend = 0, args.backend
        for record, verdict in zip(records, verdicts, strict=True):
            abstained += bool(verdict.abstained)
            backend = verdict.backend
            # evidence quotes model text: its C1 and bidi controls reached the terminal raw (hostile-reply fuzz)
            out.write(printable_json(json.dumps(verdict_line(record, args.monitor, verdict), ensure_ascii=False)) + "\n")
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has gone, which is not an error
        sys.stderr.close()
        return 0
    # a judge that abstains labels "no" silently in each line's label: say so, and fail as the sweep
    # does when most of its verdicts are not evidence (found by a hostile-reply fuzz: all abstained, exit 0)
    if abstained:
        print(f"warning: {backend} abstained on {abstained} of {len(records)} records (no usable vote: "
              "unparseable replies or failed calls; see each line's \"abstained\")", file=sys.stderr)
    if records and abstained / len(records) > MAX_ABSTAINED_SHARE:
        return EXIT_TOO_MANY_ERRORS
    return 0


if __name__ == "__main__":
    run_cli(main)
