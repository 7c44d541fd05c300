"""Model providers behind one interface; `make_provider` maps `provider/model` names to code."""

from __future__ import annotations

from runners.providers.base import ModelReply, Provider, ProviderError
from scenarios.schema import ModelSpec, ScenarioError

PROVIDERS = ("sim", "anthropic", "openai")

__all__ = ["ModelReply", "Provider", "ProviderError", "make_provider", "PROVIDERS"]


def make_provider(spec: ModelSpec) -> Provider:
    if spec.provider == "sim":
        from runners.providers.sim.provider import SimProvider

        return SimProvider(spec)
    if spec.provider == "anthropic":
        from runners.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(spec)
    if spec.provider == "openai":
        from runners.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(spec)
    raise ScenarioError(f"models: unknown provider {spec.provider!r} in {spec.name!r}; expected one of {list(PROVIDERS)}")
