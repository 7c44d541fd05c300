"""The one interface every model provider implements, and the reply it returns.

Providers only *call* and *classify their errors*; concurrency, retries and caching are owned by
the runner (runners/calls.py), once, for all providers (STYLE: Inspect AI's model layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from runners.safe_text import clean_text
from scenarios.trial import TrialSpec


@dataclass(slots=True)
class ModelReply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    turns: int = 1
    stop_reason: str | None = None  # of the last turn: `length` / `max_tokens` = cut off
    truncated_turns: int = 0  # turns cut off by max_tokens
    error: str | None = None  # set when the call failed after all retries
    ground_truth: dict[str, Any] | None = None  # simulated organisms only
    cached: bool = False
    attempts: int = 1
    # the URL that answered (one of a model's `endpoints`); not cached: the cache key and the
    # cached reply are the deployment's, whichever replica answered
    endpoint: str | None = None
    repairs: list[str] = field(default_factory=list)  # what was done to make the reply storable
    # the model the server says answered (the reply's `model`), None when it named none: the same
    # request under the same name may be answered by other weights after a server restart
    served_model: str | None = None
    # the thinking a reasoning server sent apart from the text (runners/providers/reply_shape.py):
    # the scratchpad when the text has none (monitors.parse.parse_reply)
    reasoning: str = ""

    def to_cache(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_s": self.latency_s,
            "turns": self.turns,
            "stop_reason": self.stop_reason,
            "truncated_turns": self.truncated_turns,
            "ground_truth": self.ground_truth,
            "repairs": self.repairs,
            "served_model": self.served_model,
            "reasoning": self.reasoning,
        }

    @classmethod
    def from_cache(cls, data: Any) -> ModelReply | None:
        """The cached reply, or None when the entry is not one (written by another version, or
        damaged): a cache entry that cannot be read is a miss, never a crash."""
        if not isinstance(data, dict) or not isinstance(data.get("text"), str) or set(data) - _CACHE_FIELDS \
                or not isinstance(data.get("reasoning", ""), str):
            return None
        numbers = [data.get(k, 0) for k in ("input_tokens", "output_tokens", "turns", "latency_s")]
        if any(isinstance(n, bool) or not isinstance(n, int | float) or not 0 <= n < 1e12 for n in numbers):
            return None
        repairs, truth = data.get("repairs", []), data.get("ground_truth")
        if not (isinstance(repairs, list) and all(isinstance(r, str) for r in repairs)
                and all(data.get(k) is None or isinstance(data[k], str) for k in ("stop_reason", "served_model"))
                and (truth is None or isinstance(truth, dict))):
            return None
        text, notes = clean_text(data["text"])  # written by an older version that did not clean
        return cls(**{**data, "text": text, "repairs": [*repairs, *notes]}, cached=True)


_CACHE_FIELDS = frozenset(ModelReply.__dataclass_fields__) - {"error", "cached", "attempts", "endpoint"}


class Provider(Protocol):
    name: str  # provider/model as written in the scenario
    simulated: bool
    base_url: str | None

    def request_params(self) -> dict[str, Any]:
        """Generation parameters that change the reply (they go into the cache key)."""
        ...

    async def generate(self, trial: TrialSpec) -> ModelReply:
        """One model call (possibly several turns) for `trial.request`. Raises on failure."""
        ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class ProviderError(Exception):
    """A classified provider failure: `retryable` decides whether the runner tries again."""

    message: str
    retryable: bool
    retry_after: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message
