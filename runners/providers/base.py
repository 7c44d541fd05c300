"""The one interface every model provider implements, and the reply it returns.

Providers only *call* and *classify their errors*; concurrency, retries and caching are owned by
the runner (runners/calls.py), once, for all providers (STYLE: Inspect AI's model layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from scenarios.trial import TrialSpec


@dataclass(slots=True)
class ModelReply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    turns: int = 1
    stop_reason: str | None = None
    error: str | None = None  # set when the call failed after all retries
    ground_truth: dict[str, Any] | None = None  # simulated organisms only
    cached: bool = False
    attempts: int = 1
    # the URL that answered (one of a model's `endpoints`); not cached: the cache key and the
    # cached reply are the deployment's, whichever replica answered
    endpoint: str | None = None

    def to_cache(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_s": self.latency_s,
            "turns": self.turns,
            "stop_reason": self.stop_reason,
            "ground_truth": self.ground_truth,
        }

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> ModelReply:
        return cls(**data, cached=True)


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
