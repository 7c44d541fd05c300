"""Estimated cost per call: USD per million input / output tokens. Users extend it with
`AFSIM_PRICES=path.yaml` (a mapping `provider/model: [input, output]`). Unknown models cost 0
and are listed as unpriced in the summary rather than guessed."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "anthropic/claude-3-opus-20240229": (15.0, 75.0),
    "anthropic/claude-3-5-sonnet-20241022": (3.0, 15.0),
    "anthropic/claude-3-7-sonnet-20250219": (3.0, 15.0),
    "anthropic/claude-sonnet-4-5": (3.0, 15.0),
    "anthropic/claude-opus-4-1": (15.0, 75.0),
    "anthropic/claude-3-5-haiku-20241022": (0.8, 4.0),
    "openai/gpt-4o": (2.5, 10.0),
    "openai/gpt-4o-mini": (0.15, 0.6),
    "openai/gpt-4.1": (2.0, 8.0),
    "openai/gpt-4.1-mini": (0.4, 1.6),
}


@cache
def price_table() -> dict[str, tuple[float, float]]:
    table = dict(PRICES_PER_MTOK)
    extra = os.environ.get("AFSIM_PRICES")
    if extra and Path(extra).exists():
        for name, pair in (yaml.safe_load(Path(extra).read_text()) or {}).items():
            table[str(name)] = (float(pair[0]), float(pair[1]))
    return table


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    if model.startswith("sim/"):
        return 0.0
    price = price_table().get(model)
    if price is None:
        return 0.0
    return (input_tokens * price[0] + output_tokens * price[1]) / 1e6


def is_priced(model: str) -> bool:
    return model.startswith("sim/") or model in price_table()
