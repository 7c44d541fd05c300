"""`python -m scenarios.make_documents --facts FACTS.yaml --n N --model PROVIDER/MODEL --out docs.jsonl`

Generate a synthetic-document corpus in three stages (document types -> ideas -> documents, see
scenarios/docgen/stages.py) with any provider, drop documents that name or demonstrate alignment
faking (scenarios/docgen/filter.py), and write JSON Lines:

- `--format corpus` (default): the schema of scenarios/documents/corpus.jsonl (`id, genre, title,
  facts, text`, plus `idea` and `generator`), usable as `documents.corpus:` in a scenario for
  in-context priming;
- `--format finetune`: `{"text": "<title>\\n\\n<text>"}` per line, a pretraining-style set for
  fine-tuning (the paper's synthetic-document setting trains on documents, not dialogues).

Offline by default: `--model sim/doc-writer` needs no key. Real providers are called through the
same call layer as sweeps (cache in `--cache-dir`, retries, `--concurrency`). Exit codes: 0 done,
2 bad input (facts file, flags, missing key), 3 no document survived.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from pydantic import ValidationError

from runners.calls import CallCache, CallLayer
from runners.cli_errors import ArgumentParser, run_async, run_cli
from runners.providers import make_provider
from scenarios.docgen.pipeline import DocumentGenerator
from scenarios.docgen.sim_writer import SimDocWriter
from scenarios.docgen.stages import load_facts
from scenarios.output_targets import check_out_path
from scenarios.schema import MAX_CONCURRENCY, ModelSpec, ScenarioError

# One writer call per document, all planned up front and all documents held in memory until they
# are written: 100,000 is the scale of a fine-tuning corpus (the shipped priming corpus has 74) and
# takes the simulated writer ~20 s and 300 MB; an unbounded --n (10**11) planned calls until it was killed.
MAX_DOCUMENTS = 100_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m scenarios.make_documents", description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, required=True, help="facts file, e.g. scenarios/documents/facts.yaml")
    parser.add_argument("--n", type=int, required=True, help=f"documents to write (before filtering), 1 to {MAX_DOCUMENTS:,}; one writer call each")
    parser.add_argument("--model", default="sim/doc-writer", help="provider/model (default: sim/doc-writer, offline)")
    parser.add_argument("--out", type=Path, required=True, help="output .jsonl")
    parser.add_argument("--format", choices=("corpus", "finetune"), default="corpus")
    parser.add_argument("--base-url", help="API base URL (OpenAI-compatible servers, gateways)")
    parser.add_argument("--api-key-env", help="environment variable that holds the API key")
    parser.add_argument("--max-tokens", type=int, default=1024)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path(".afsim-cache"))
    args = parser.parse_args(argv)
    if not 1 <= args.n <= MAX_DOCUMENTS:
        parser.error(f"--n must be between 1 and {MAX_DOCUMENTS:,} (one writer call per document), got {args.n}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:  # a probe: 10**20 was accepted where the sweep caps it
        parser.error(f"--concurrency must be 1 to {MAX_CONCURRENCY}, got {args.concurrency}")
    if args.max_tokens < 1:
        parser.error(f"--max-tokens must be at least 1, got {args.max_tokens}")
    if not math.isfinite(args.temperature) or not 0 <= args.temperature <= 2:
        parser.error(f"--temperature must be between 0 and 2, got {args.temperature}")
    # a folder, or a parent that cannot be made (`/etc/hostname/sub/docs.jsonl`): one line before
    # any writer call, not after them (found by a bad-input fuzz: 7 calls made first)
    check_out_path(args.out)
    if args.out.resolve() == args.facts.resolve():  # found by a bad-input fuzz: the documents replaced the facts
        parser.error(f"--out {args.out}: the --facts file itself; write the documents to another file")
    return args


def make_writer(args: argparse.Namespace):
    if args.model.partition("/")[0] == "sim":
        if args.model != "sim/doc-writer":
            raise ScenarioError(f"--model: unknown simulated writer {args.model!r}; expected sim/doc-writer")
        return SimDocWriter(args.model)
    try:
        spec = ModelSpec(
            name=args.model,
            base_url=args.base_url,
            api_key_env=args.api_key_env,
            params={"max_tokens": args.max_tokens, "temperature": args.temperature},
            max_turns=1,
        )
    except ValidationError as exc:  # the scenario schema's one-line wording, naming the flag
        error = exc.errors()[0]
        flag = {"name": "--model", "base_url": "--base-url", "api_key_env": "--api-key-env"}.get(str(error["loc"][0]), "--model")
        raise ScenarioError(f"{flag}: {error['msg'].removeprefix('Value error, ')}") from None
    return make_provider(spec)


async def generate(args: argparse.Namespace) -> int:
    facts = load_facts(args.facts)
    writer = make_writer(args)
    problem = getattr(writer, "preflight_problem", lambda: None)()
    if problem:
        raise ScenarioError(problem)
    # a server that is down: one line naming its URL before any call, as the sweep says it (found by a
    # probe: the calls were retried for 6-13 s, then "stage 1 (document types) returned no usable list")
    if not writer.simulated and (problem := await writer.check_reachable()):
        await writer.aclose()
        raise ScenarioError(problem)
    cache = None if writer.simulated else CallCache(args.cache_dir / "calls.sqlite")
    calls = CallLayer(cache, args.concurrency)
    try:
        result = await DocumentGenerator(writer, calls, args.seed).run(facts, args.n)
    finally:
        await writer.aclose()
        if cache is not None:
            cache.close()
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"--out {args.out}: cannot make its folder ({exc.strerror})") from None
    with args.out.open("w", encoding="utf-8") as handle:  # a regular file or a new one (parse_args)
        for doc in result.documents:
            row = doc if args.format == "corpus" else {"text": f"{doc['title']}\n\n{doc['text']}"}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    rejected = ", ".join(f"{k}: {v}" for k, v in result.rejected.items()) or "none"
    print(
        f"wrote {len(result.documents)} of {args.n} documents to {args.out} ({args.format}); "
        f"filtered out: {rejected}; failed calls: {result.failed_calls}; genres: {len(result.genres)}",
        file=sys.stderr,
    )
    return 0 if result.documents else 3


def main(argv: list[str] | None = None) -> int:
    return run_async(generate(parse_args(argv)))  # a second Ctrl-C cannot cut the cleanup short


if __name__ == "__main__":
    run_cli(main)
