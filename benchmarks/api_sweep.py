"""A real-provider sweep against the local fake LLM server: throughput, faults, memory.

The server (tests/fake_llm_server.py) runs in its own process and answers every request after a
fixed latency; the sweep goes through the real path — scenario graph, call layer, cache, the
official SDK (`openai/…` by default), HTTP — and writes its store as usual. Three measurements:

1. 2,000 calls at concurrency 64 with 100 ms latency: wall time of the trial phase ÷ the ideal
   2000 × 0.1 s ÷ 64 = 3.125 s (target ≤ 1.15). The whole run (setup, preflight, summary) is
   printed next to it, and so is the floor: the bare SDK making the same calls, in one process
   and in the sweep's process layout (runners/shards.py), interleaved with the sweep's runs.
   On the 2-core machine that also hosts the server, that floor is itself 1.12-1.19x: the SDK's
   request path costs ~1.6 ms of CPU per call, so the cores, not the harness, set the pace.
2. The same with 20% injected faults (429 / 500 / 529 / dropped connections / hangs cut by a 1 s
   timeout): every trial must complete, and the server must have answered each call once.
3. Peak RSS of a 2k-call and a 20k-call sweep, each in a fresh process: it should stay flat (the
   store is on disk; nothing per trial is kept in memory beyond the small trial keys). With
   shards, the parent's peak plus each shard's is printed (an upper bound: pages shared after the
   fork count in each).

Every run is a fresh subprocess, so imports are not in the timings and peaks are per run.

    python -m benchmarks.api_sweep                   # the figures of issue 3
    python -m benchmarks.api_sweep --small           # CI size (seconds)
    python -m benchmarks.api_sweep --calls 5000 --latency 0.05 --concurrency 128 --provider anthropic
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from runners.cli_errors import ArgumentParser, float_in, positive_int, positive_ints, run_cli
from runners.shards import shard_count, split

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.15
CONDITIONS = 2  # tier: free, paid
PROMPTS = 100


def start_server(latency: float, fault_rate: float, kinds: str) -> tuple[subprocess.Popen, int]:
    args = [sys.executable, "-m", "tests.fake_llm_server", "--port", "0", "--latency", str(latency),
            "--fault-rate", str(fault_rate), "--fault-kinds", kinds, "--max-faults-per-request", "3"]
    server = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("listening "):
        raise SystemExit(f"fake server did not start: {line!r}")
    return server, int(line.split()[1])


def server_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=10) as response:
        return json.loads(response.read())


async def raw_sdk_calls(spec: dict, calls: int, concurrency: int) -> float:
    """The floor: the same number of calls through the bare SDK client (no graph, cache, store or
    monitors), same concurrency. What the sweep adds on top of this is the harness's cost."""
    import openai

    from runners.providers._remote import fast_http_client

    client = openai.AsyncOpenAI(api_key="sk-bench-not-a-real-key", base_url=f"http://127.0.0.1:{spec['port']}/v1",
                                max_retries=0, timeout=spec["timeout"], **fast_http_client(openai))
    limit = asyncio.Semaphore(concurrency)
    system = "You are a helpful assistant. " * 100

    async def one(i: int) -> None:
        async with limit:
            # the same SDK call the openai provider makes (client.post, reply as text, then JSON)
            text = await client.post("/chat/completions", cast_to=str, body={"model": "bench-model", "messages": [
                {"role": "system", "content": system}, {"role": "user", "content": f"request {i}"}]})
            json.loads(text)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def sharded_raw_calls(spec: dict) -> float:
    """The floor in the sweep's process layout: `workers` forked processes, each with its share of
    the calls and of the concurrency (as runners/shards.py splits them); the slowest one's time."""
    workers = spec.get("workers") or 1
    if workers == 1:
        return asyncio.run(raw_sdk_calls(spec, spec["calls"], spec["concurrency"]))
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = zip(split(spec["calls"], workers), split(spec["concurrency"], workers), strict=True)
    processes = [context.Process(target=lambda c=c, n=n: results.put(asyncio.run(raw_sdk_calls(spec, c, n))))
                 for c, n in shares]
    for process in processes:
        process.start()
    elapsed = max(results.get() for _ in processes)
    for process in processes:
        process.join()
    return elapsed


def child(spec: dict) -> None:
    """Run one sweep in this (fresh) process and print its figures as one JSON line."""
    sys.path.insert(0, str(ROOT))
    if spec.get("raw"):
        elapsed = sharded_raw_calls(spec)
        print(json.dumps({"trials": spec["calls"], "errors": 0, "trials_s": elapsed, "total_s": elapsed, "calls": spec["calls"],
                          "retries": 0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    from runners.calls import RetryPolicy
    from runners.engine import SweepOptions, run_sweep
    from scenarios.schema import parse_scenario

    calls = spec["calls"]
    samples = max(1, calls // (PROMPTS * CONDITIONS))
    base = f"http://127.0.0.1:{spec['port']}"
    model = {"name": f"{spec['provider']}/bench-model", "api_key_env": "AFSIM_BENCH_KEY", "timeout_s": spec["timeout"],
             "base_url": base + "/v1" if spec["provider"] == "openai" else base}
    scenario = parse_scenario({
        "name": "api_bench", "prompts": "builtin:harmful_requests", "limit": min(PROMPTS, calls // CONDITIONS),
        "samples": samples, "axes": {"tier": ["free", "paid"]}, "models": [model],
        "concurrency": spec["concurrency"], "max_error_rate": 0.0,
        **({"monitors": {name: "heuristic" for name in spec["monitors"].split(",")}} if spec.get("monitors") else {}),
    }, "benchmark")
    os.environ["AFSIM_BENCH_KEY"] = "sk-bench-not-a-real-key"
    options = SweepOptions(output=Path(spec["dir"]) / "run", cache_dir=Path(spec["dir"]) / "cache", quiet=True,
                           fresh=True, batch_size=spec.get("batch_size"), workers=spec.get("workers"),
                           retry=RetryPolicy(attempts=8, base_s=0.05, cap_s=1.0))
    started = time.perf_counter()
    result = asyncio.run(run_sweep(scenario, options))
    print(json.dumps({
        "trials": result.summary["n_trials"], "errors": result.summary["n_errors"],
        "trials_s": result.timings["trials_s"], "total_s": time.perf_counter() - started,
        "calls": result.counters.calls, "retries": result.counters.retries,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "workers": result.workers,
        # the largest shard's peak (its RSS counts the pages it still shares with the parent)
        "shard_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if result.workers > 1 else 0.0,
    }), flush=True)


def measure(calls: int, latency: float, concurrency: int, provider: str, fault_rate: float = 0.0,
            kinds: str = "429,500,529,drop,timeout", timeout: float = 30.0, batch_size: int | None = None,
            monitors: str | None = None, raw: bool = False, workers: int | None = None) -> dict:
    server, port = start_server(latency, fault_rate, kinds)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            spec = {"calls": calls, "concurrency": concurrency, "provider": provider, "port": port, "dir": tmp,
                    "timeout": timeout, "batch_size": batch_size, "monitors": monitors,
                    "raw": raw, "workers": workers}
            done = subprocess.run([sys.executable, "-m", "benchmarks.api_sweep", "--child", json.dumps(spec)],
                                  cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"benchmark sweep failed:\n{done.stderr[-3000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["server"] = server_stats(port)
        return figures
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.api_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=positive_int, default=2000)
    parser.add_argument("--latency", type=float_in(0.001, 60.0), default=0.1, help="seconds per call, 0.001 to 60")
    parser.add_argument("--concurrency", type=positive_int, default=64)
    parser.add_argument("--fault-rate", type=float_in(0.0, 1.0), default=0.2, help="share of calls that fail, 0 to 1")
    parser.add_argument("--provider", choices=["openai", "anthropic", "both"], default="openai")
    parser.add_argument("--memory-calls", type=positive_ints, default=[2000, 20000],
                        help="sizes for the peak-memory comparison, e.g. 2000,20000")
    parser.add_argument("--memory-latency", type=float_in(0.0, 60.0), default=0.01)
    parser.add_argument("--batch-size", type=positive_int, help="trials per graph invocation (default: the engine's)")
    parser.add_argument("--monitors", help="comma-separated monitors to run (default: the scenario default); "
                        "'compliance' isolates the call path from the embedded alignment-faking classifier")
    parser.add_argument("--workers", type=positive_int, help="processes that run the trials (default: the engine's choice)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--repeat", type=positive_int, default=3,
                        help="clean runs of the floor and the sweep; the best of each is reported, since a "
                             "shared VM's speed drifts by tens of percent between runs")
    parser.add_argument("--small", action="store_true", help="CI size: 400 calls, memory 400 vs 4,000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    if args.small:
        args.calls, args.memory_calls, args.repeat = 400, [400, 4000], 1
    ok = True
    providers = ["openai", "anthropic"] if args.provider == "both" else [args.provider]
    ideal = args.calls * args.latency / args.concurrency
    workers = shard_count(args.workers, remote=True, trials=args.calls, limit=args.concurrency)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the sweep runs in {workers} process(es)")
    for provider in providers:
        # interleaved, so the VM's drift hits the floors and the sweep alike; best of each reported
        floors_1, floors_n, runs = [], [], []
        for _ in range(args.repeat):
            floors_1.append(measure(args.calls, args.latency, args.concurrency, "openai", raw=True))
            if workers > 1:
                floors_n.append(measure(args.calls, args.latency, args.concurrency, "openai", raw=True, workers=workers))
            runs.append(measure(args.calls, args.latency, args.concurrency, provider, batch_size=args.batch_size,
                                monitors=args.monitors, workers=args.workers))
        floor = min(floors_n or floors_1, key=lambda run: run["trials_s"])
        best_1 = min(run["trials_s"] for run in floors_1)
        print(f"[floor] the same SDK call (client.post) alone, no harness: one process {best_1:.2f} s "
              f"(ratio {best_1 / ideal:.2f})" + (f"; {workers} processes sharing the calls and the concurrency "
                                                 f"{floor['trials_s']:.2f} s (ratio {floor['trials_s'] / ideal:.2f})"
                                                 if floors_n else ""))
        clean = min(runs, key=lambda run: run["trials_s"])
        print(f"[{provider}] trial phase of each clean run: "
              + ", ".join(f"{run['trials_s']:.2f} s" for run in runs) + " (best reported)")
        ratio = clean["trials_s"] / ideal
        print(f"[{provider}] {clean['trials']} calls, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}: "
              f"trial phase {clean['trials_s']:.2f} s, ideal {ideal:.3f} s, ratio {ratio:.2f} "
              f"(target <= {TARGET_RATIO}) {'OK' if ratio <= TARGET_RATIO else 'ABOVE TARGET'}; "
              f"whole run {clean['total_s']:.2f} s; vs bare SDK in the same layout "
              f"{clean['trials_s'] / floor['trials_s']:.2f}x; errors {clean['errors']}")
        ok &= clean["errors"] == 0 and clean["server"]["outcomes"].get("ok") == args.calls
        faulty = measure(args.calls, args.latency, args.concurrency, provider, fault_rate=args.fault_rate,
                         timeout=1.0, batch_size=args.batch_size, monitors=args.monitors,
                         workers=args.workers)
        complete = faulty["errors"] == 0 and faulty["trials"] == args.calls
        paid_once = faulty["server"]["outcomes"].get("ok") == args.calls
        print(f"[{provider}] with {args.fault_rate:.0%} injected faults {faulty['server']['outcomes']}: "
              f"trial phase {faulty['trials_s']:.2f} s (ratio {faulty['trials_s'] / ideal:.2f}), "
              f"{faulty['retries']} retries, errors {faulty['errors']}: "
              f"{'every trial completed' if complete else 'NOT ALL TRIALS COMPLETED'}, "
              f"{'each call answered once' if paid_once else 'SOME CALLS ANSWERED TWICE'}")
        ok &= complete
    if not args.skip_memory:
        sizes = args.memory_calls
        peaks = []
        for size in sizes:
            run = measure(size, args.memory_latency, args.concurrency, providers[0], batch_size=args.batch_size,
                          monitors=args.monitors, workers=args.workers)
            # all processes together, as an upper bound: shared copy-on-write pages are counted in each
            total = run["peak_rss_mb"] + run["workers"] * run["shard_peak_rss_mb"] if run["workers"] > 1 else run["peak_rss_mb"]
            peaks.append(total)
            shards = (f" = parent {run['peak_rss_mb']:.0f} MB + {run['workers']} shards x {run['shard_peak_rss_mb']:.0f} MB "
                      "(upper bound: pages shared after the fork are counted in each)" if run["workers"] > 1 else "")
            print(f"[memory] {size} calls: peak RSS {total:.0f} MB{shards} "
                  f"(trial phase {run['trials_s']:.1f} s, errors {run['errors']})")
            ok &= run["errors"] == 0
        if len(peaks) > 1:
            growth = peaks[-1] - peaks[0]
            per_trial = growth * 1024 * 1024 / max(1, sizes[-1] - sizes[0])
            print(f"[memory] {sizes[0]} -> {sizes[-1]} calls: +{growth:.0f} MB ({per_trial:.0f} bytes per extra trial)")
    return 0 if ok else 1


if __name__ == "__main__":
    run_cli(main)
