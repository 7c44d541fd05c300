"""Estimated cost: USD per million input / output tokens (the `--dry-run` plan is in runners/dry_run.py).

Prices change and new models appear, so the table is meant to be extended, in order of precedence:
1. `price: [input, output]` on a model in the scenario file (USD per million tokens);
2. a YAML file named by `AFSIM_PRICES` (a mapping `provider/model: [input, output]`);
3. the built-in table below (list prices when written; check your provider's page).
A dated model name (`anthropic/claude-3-5-haiku-20241022`) also matches a shorter table entry it
starts with. Unknown models cost 0 and are reported as unpriced rather than guessed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from scenarios.schema import ScenarioError, parse_prices
from scenarios.user_files import MAX_SCENARIO_BYTES, load_yaml, read_text

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

# no call costs a trillion dollars; a sum over millions of trials of it stays finite too
MAX_COST_USD = 1e12


@cache
def price_table() -> dict[str, tuple[float, float]]:
    """The built-in table, extended by the file AFSIM_PRICES names. The file is read like any
    user file (a FIFO or a device would block the read for ever) and each pair is checked like a
    model's `price:` (a NaN or infinite price made every stored trial unreadable)."""
    table = dict(PRICES_PER_MTOK)
    extra = os.environ.get("AFSIM_PRICES")
    if extra:
        path = Path(extra)

        def error(message: str) -> ScenarioError:
            return ScenarioError(f"environment variable AFSIM_PRICES: {message}")

        data = load_yaml(read_text(path, "price file", error, max_bytes=MAX_SCENARIO_BYTES), path, error)
        table.update(parse_prices({} if data is None else data, f"environment variable AFSIM_PRICES: {path}"))
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
    """USD, always finite and at most MAX_COST_USD: the cost is stored in the trial record as JSON,
    and an infinite or NaN one (a huge price overflowing) made the record unreadable, so the trial
    was lost after it was paid for. The schema bounds prices; this bounds whatever else gets here."""
    found = price_of(model, price)
    if found is None:
        return 0.0
    cost = (input_tokens * found[0] + output_tokens * found[1]) / 1e6
    return min(cost, MAX_COST_USD) if math.isfinite(cost) else MAX_COST_USD


def is_priced(model: str, price: Sequence[float] | None = None) -> bool:
    return price_of(model, price) is not None
