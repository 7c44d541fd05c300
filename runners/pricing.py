"""Estimated cost: USD per million input / output tokens, and the `--dry-run` plan of a sweep.

Prices change and new models appear, so the table is meant to be extended, in order of precedence:
1. `price: [input, output]` on a model in the scenario file (USD per million tokens);
2. a YAML file named by `AFSIM_PRICES` (a mapping `provider/model: [input, output]`);
3. the built-in table below (list prices when written; check your provider's page).
A dated model name (`anthropic/claude-3-5-haiku-20241022`) also matches a shorter table entry it
starts with. Unknown models cost 0 and are reported as unpriced rather than guessed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scenarios.schema import ScenarioError

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "anthropic/claude-3-opus-20240229": (15.0, 75.0),
    "anthropic/claude-3-5-sonnet-20241022": (3.0, 15.0),
    "anthropic/claude-3-7-sonnet-20250219": (3.0, 15.0),
    "anthropic/claude-sonnet-4": (3.0, 15.0),
    "anthropic/claude-sonnet-4-5": (3.0, 15.0),
    "anthropic/claude-opus-4": (15.0, 75.0),
    "anthropic/claude-opus-4-1": (15.0, 75.0),
    "anthropic/claude-3-5-haiku-20241022": (0.8, 4.0),
    "anthropic/claude-haiku-4-5": (1.0, 5.0),
    "openai/gpt-4o": (2.5, 10.0),
    "openai/gpt-4o-mini": (0.15, 0.6),
    "openai/gpt-4.1": (2.0, 8.0),
    "openai/gpt-4.1-mini": (0.4, 1.6),
    "openai/gpt-4.1-nano": (0.1, 0.4),
}


@cache
def price_table() -> dict[str, tuple[float, float]]:
    table = dict(PRICES_PER_MTOK)
    extra = os.environ.get("AFSIM_PRICES")
    if extra:
        path = Path(extra)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for name, pair in data.items():
                table[str(name)] = (float(pair[0]), float(pair[1]))
        except (OSError, yaml.YAMLError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ScenarioError(
                f"{path}: AFSIM_PRICES must name a YAML mapping 'provider/model: [input, output]' ({type(exc).__name__})"
            ) from None
    return table


def price_of(model: str, override: Sequence[float] | None = None) -> tuple[float, float] | None:
    """(input, output) USD per million tokens, or None when the model is unpriced."""
    if override is not None:
        return float(override[0]), float(override[1])
    if model.startswith("sim/"):
        return (0.0, 0.0)
    table = price_table()
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def estimate_cost(model: str, input_tokens: int, output_tokens: int, price: Sequence[float] | None = None) -> float:
    found = price_of(model, price)
    if found is None:
        return 0.0
    return (input_tokens * found[0] + output_tokens * found[1]) / 1e6


def is_priced(model: str, price: Sequence[float] | None = None) -> bool:
    return price_of(model, price) is not None


# --- dry run ---------------------------------------------------------------------------------

CHARS_PER_TOKEN = 4  # rough, for an estimate before any tokenizer has seen the text
TYPICAL_OUTPUT_TOKENS = 700  # a scratchpad plus an answer, as the paper's transcripts run


@dataclass
class ModelPlan:
    model: str
    trials: int = 0  # not yet in the store
    cached: int = 0  # of those, answered from the call cache (free)
    input_tokens: int = 0  # estimated, for the calls to make
    priced: bool = True
    typical_usd: float = 0.0
    max_usd: float = 0.0  # every turn uses max_tokens
    key_problem: str | None = None

    @property
    def calls(self) -> int:
        return self.trials - self.cached


@dataclass
class SweepPlan:
    planned: int
    stored: int
    models: list[ModelPlan] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"dry run: {self.planned} trials planned, {self.stored} already stored; no calls made"]
        for m in self.models:
            cost = (f"~${m.typical_usd:.2f} (at most ${m.max_usd:.2f})" if m.priced
                    else "unpriced (add price: [in, out] to the model or an AFSIM_PRICES file)")
            out.append(f"  {m.model}: {m.calls} calls to make ({m.cached} cached), ~{m.input_tokens:,} input tokens, {cost}")
            if m.key_problem:
                out.append(f"    note: {m.key_problem}")
        total = sum(m.typical_usd for m in self.models)
        top = sum(m.max_usd for m in self.models)
        out.append(f"total: {sum(m.calls for m in self.models)} calls, estimated ~${total:.2f} (at most ${top:.2f})")
        return out


def plan_sweep(scenario: Any, options: Any) -> SweepPlan:
    """Count the calls a sweep would make (minus stored trials and cached replies) and price them.

    Reads the store and the cache if they exist; writes nothing, calls nothing.
    """
    import sqlite3

    from runners.calls import CallCache, request_hash
    from runners.engine import STORE_NAME, Sweep, default_cache_dir, plan_trials
    from scenarios.cues import build_request

    sweep = Sweep(scenario, options)
    trials = plan_trials(scenario, sweep.prompts, sweep.run_dir.name)
    done: set[str] = set()
    store_path = sweep.run_dir / STORE_NAME
    if store_path.exists() and not options.fresh:
        with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
            done = {row[0] for row in db.execute("SELECT key FROM trials")}
    cache_path = (options.cache_dir or default_cache_dir()) / "calls.sqlite"
    cache = CallCache(cache_path) if cache_path.exists() and not sweep.simulated else None
    plans = {spec.name: ModelPlan(spec.name) for spec in scenario.models}
    try:
        for trial in trials:
            if trial.key in done:
                continue
            provider = sweep.providers[trial.model]
            spec = sweep.model_specs[trial.model]
            plan = plans[trial.model]
            plan.trials += 1
            if provider.simulated:
                plan.cached += 1  # free and offline: nothing to pay
                continue
            trial.request = build_request(trial, sweep.documents, spec.prefill)
            if cache is not None and cache.get(request_hash(provider, trial)) is not None:
                plan.cached += 1
                continue
            chars = len(trial.request.system) + sum(len(text) for _, text in trial.request.turns)
            tokens_in = chars // CHARS_PER_TOKEN
            max_out = int(provider.request_params().get("max_tokens") or provider.request_params().get("max_completion_tokens") or 4096)
            plan.input_tokens += tokens_in
            plan.priced = is_priced(trial.model, spec.price)
            plan.typical_usd += estimate_cost(trial.model, tokens_in, min(max_out, TYPICAL_OUTPUT_TOKENS), spec.price)
            turns = spec.max_turns
            plan.max_usd += estimate_cost(trial.model, tokens_in * turns + max_out * turns * (turns - 1) // 2, max_out * turns, spec.price)
            trial.request = None
    finally:
        if cache is not None:
            cache.close()
    for name, plan in plans.items():
        provider = sweep.providers[name]
        if plan.calls and hasattr(provider, "preflight_problem"):
            plan.key_problem = provider.preflight_problem()
    return SweepPlan(len(trials), len(done & {t.key for t in trials}), list(plans.values()))
