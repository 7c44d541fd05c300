"""Scratchpads per second of the embedded monitors, on one core (target: >= 5,000/s for the
alignment-faking monitor). The replies are simulated ones, a mix of organisms, so lengths and
styles are those of a real sweep; they are made before the clock starts.

    python -m benchmarks.monitor_throughput [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from monitors.parse import parse_reply
from monitors.registry import build_suite
from runners.engine import plan_trials
from runners.providers.sim.provider import SimProvider
from scenarios.families import RequestContext, build_request
from scenarios.prompt_sets import load_prompts
from scenarios.schema import ModelSpec, parse_scenario

TARGET = 5000


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.monitor_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args(argv)
    parsed = sample_replies(args.n)
    for monitors in ({"alignment_faking": "embedded"}, {"compliance": "embedded"},
                     {"compliance": "embedded", "alignment_faking": "embedded"}):
        suite = build_suite(monitors)
        asyncio.run(suite.classify_batch(parsed[:200]))  # warm-up: model load, regex compilation
        elapsed = _run(suite, parsed)
        rate = len(parsed) / elapsed
        name = "+".join(monitors)
        print(f"{name:<30} {len(parsed):>7} scratchpads  {elapsed:6.2f} s  {rate:9.0f}/s  "
              f"({rate / TARGET:.2f}x the {TARGET}/s target)")
    return 0


def _run(suite, parsed: list) -> float:
    async def go() -> None:
        for i in range(0, len(parsed), 256):  # the sweep's batch size for simulated runs
            await suite.classify_batch(parsed[i : i + 256])

    t0 = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
