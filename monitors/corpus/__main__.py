"""`python -m monitors.corpus [--n 6000] [--seed 20240601] > corpus.jsonl`: write the generated
training corpus as JSONL (scratchpad, label, kind, voice, setting), and its counts to stderr.

The default n and seed are the ones `monitors.train` uses, so this is the exact corpus the shipped
model was trained on (the hand-written and simulated rows come on top of it)."""

from __future__ import annotations

import json
import sys
from collections import Counter

from monitors.corpus import generate
from runners.cli_errors import ArgumentParser, UsageError, run_cli

MAX_ROWS = 1_000_000  # rows are held in memory before they are written


def main(argv: list[str] | None = None) -> int:
    from monitors.train import CORPUS_ROWS, SEED

    # the project's parser: a bad flag is one line, exit 2 (found by a bad-input fuzz: usage text, and
    # --n 0 or -1 gave an empty corpus with exit 0)
    parser = ArgumentParser(prog="python -m monitors.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=CORPUS_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not 1 <= args.n <= MAX_ROWS:
        raise UsageError(f"--n must be between 1 and {MAX_ROWS:,}, got {args.n}")
    rows = generate(args.n, args.seed)
    for r in rows:
        sys.stdout.write(json.dumps(r.as_dict()) + "\n")
    counts = Counter((r.label, r.kind) for r in rows)
    for (label, kind), n in sorted(counts.items(), key=lambda x: (not x[0][0], x[0][1])):
        print(f"{str(label).lower():<6} {kind:<28} {n}", file=sys.stderr)
    voices = Counter(r.voice for r in rows)
    print("voices: " + ", ".join(f"{v} {n}" for v, n in sorted(voices.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
