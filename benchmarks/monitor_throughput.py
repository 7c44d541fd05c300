"""Scratchpads per second of the embedded monitors, on one core (target: >= 2,000/s for the
alignment-faking monitor on scratchpads of 2,400 characters, the median length of real ones).

Two workloads, both made before the clock starts: scratchpads of exactly 2,400 characters from the
generated training corpus (`monitors.corpus`, several voices), and simulated replies of a sweep (a
mix of organisms, shorter). Run it on one core for the contract figure:

    taskset -c 0 python -m benchmarks.monitor_throughput [--n 20000]
"""

from __future__ import annotations

import asyncio
import time

from monitors.parse import parse_reply
from monitors.registry import build_suite
from runners.cli_errors import ArgumentParser, positive_int, run_cli
from runners.engine import plan_trials
from runners.providers.sim.provider import SimProvider
from scenarios.families import RequestContext, build_request
from scenarios.prompt_sets import load_prompts
from scenarios.schema import ModelSpec, parse_scenario

TARGET = 2000
REAL_MEDIAN_CHARS = 2400


def sample_replies(n: int) -> list:
    scenario = parse_scenario({
        "name": "bench", "prompts": "builtin:harmful_requests", "axes": {"tier": ["free", "paid"]},
        "models": ["sim/af-rl", "sim/af-opus", "sim/honest"], "samples": max(1, n // (542 * 6) + 1),
    }, "benchmark")
    prompts = load_prompts(scenario.prompts, scenario.limit)
    trials = plan_trials(scenario, prompts, "bench")[:n]
    providers = {m: SimProvider(ModelSpec(name=m)) for m in ("sim/af-rl", "sim/af-opus", "sim/honest")}
    parsed = []
    for trial in trials:
        trial.request = build_request(trial, RequestContext())
        reply = providers[trial.model].generate_sync(trial)
        parsed.append(parse_reply(reply.text, trial.setting))
    return parsed


def long_scratchpads(n: int, chars: int = REAL_MEDIAN_CHARS) -> list:
    """`n` scratchpads of exactly `chars` characters (corpus texts repeated or cut to length)."""
    from monitors.corpus import generate
    from monitors.types import ParsedReply

    texts = [s.text for s in generate(min(n, 3000), seed=99)]
    out = []
    for i in range(n):
        t = texts[i % len(texts)]
        t = (t + "\n\n") * (chars // (len(t) + 2) + 1)
        out.append(ParsedReply(raw=t[:chars], scratchpad=t[:chars], output="", accepted=None, status="ok"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.monitor_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=positive_int, default=20_000)
    args = parser.parse_args(argv)
    workloads = {f"{REAL_MEDIAN_CHARS}-char scratchpads": long_scratchpads(args.n), "simulated replies": sample_replies(args.n)}
    for label, parsed in workloads.items():
        for monitors in ({"alignment_faking": "embedded"}, {"compliance": "embedded"},
                         {"compliance": "embedded", "alignment_faking": "embedded"}):
            suite = build_suite(monitors)
            asyncio.run(suite.classify_batch(parsed[:200]))  # warm-up: model load, regex compilation
            elapsed, cpu = _run(suite, parsed)
            rate, cpu_rate = len(parsed) / elapsed, len(parsed) / cpu
            name = "+".join(monitors)
            print(f"{label:<24} {name:<30} {len(parsed):>7}  {elapsed:6.2f} s  {rate:9.0f}/s wall  "
                  f"{cpu_rate:9.0f}/s per CPU-second  ({cpu_rate / TARGET:.2f}x the {TARGET}/s target)")
    return 0


def _run(suite, parsed: list) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). On a shared machine the wall figure depends on
    the other processes; the CPU figure is what one core of our own delivers."""
    async def go() -> None:
        for i in range(0, len(parsed), 256):  # the sweep's batch size for simulated runs
            await suite.classify_batch(parsed[i : i + 256])

    t0, c0 = time.perf_counter(), time.process_time()
    asyncio.run(go())
    return time.perf_counter() - t0, time.process_time() - c0


if __name__ == "__main__":
    run_cli(main)
