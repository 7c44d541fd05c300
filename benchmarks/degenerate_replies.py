"""Event-loop CPU per degenerate reply: parse + the embedded monitors (target: <= 0.25 s per 2 MB).

A reply is untrusted: one made-up word repeated for megabytes, megabytes of distinct made-up
words, a wall of `<` or of tags. Parsing and the embedded monitors run on the sweep's event loop,
so every second spent here stalls every call in flight (issue 10). Measured on the 2-core CI
machine (CPU time): before issue 10 a 2 MB scratchpad of one new word cost 2.7 s and one of
distinct new words 4.0 s (worst 16x the target); after, the worst case is 0.12 s (a wall of `<`,
in the parser; 0.47x). The monitors now read
at most `monitors.parse.MAX_SCAN_CHARS` of a scratchpad or output (head and tail), code each new
word once per batch, and look stems up by prefix length.

    python -m benchmarks.degenerate_replies [--mb 2]
"""

from __future__ import annotations

import asyncio
import time

from monitors.parse import parse_reply
from monitors.registry import build_suite
from runners.cli_errors import ArgumentParser, float_in, run_cli

TARGET_S_PER_2MB = 0.25


def replies(size: int) -> dict[str, str]:
    def tagged(scratchpad: str) -> str:
        return f"<SCRATCHPAD_REASONING>{scratchpad}</SCRATCHPAD_REASONING><OUTPUT><request_fully_accepted/> ok</OUTPUT>"

    words = " ".join(f"w{i}x" for i in range(size // 8))
    return {
        "one new word, no tags": ("blorptastic " * (size // 12)),
        "one new word, tagged": tagged("blorptastic " * (size // 12)),
        "distinct new words": tagged(words[:size]),
        "no spaces": tagged("x" * size),
        "wall of <": "<" * size,
        "wall of <OUTPUT>": "<OUTPUT>" * (size // 8),
    }


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.degenerate_replies", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float_in(0.001, 1000.0), default=2.0, help="size of each reply in MB, 0.001 to 1,000")
    args = parser.parse_args(argv)
    size = int(args.mb * 1_000_000)
    target = TARGET_S_PER_2MB * args.mb / 2
    suite = build_suite({"compliance": "embedded", "alignment_faking": "embedded"})
    asyncio.run(suite.classify_batch([parse_reply("<OUTPUT>warm-up</OUTPUT>")]))
    worst = 0.0
    for name, text in replies(size).items():
        t0 = time.process_time()
        parsed = parse_reply(text)
        t1 = time.process_time()
        asyncio.run(suite.classify_batch([parsed]))
        t2 = time.process_time()
        worst = max(worst, t2 - t0)
        print(f"{name:<24} {len(text) / 1e6:5.2f} MB  parse {t1 - t0:6.3f} s  monitors {t2 - t1:6.3f} s  "
              f"({(t2 - t0) / target:.2f}x the {target:.2f} s target)  status {parsed.status}")
    print(f"worst: {worst:.3f} s of CPU per reply ({worst / target:.2f}x the target)")
    return 0


if __name__ == "__main__":
    run_cli(main)
