"""Model providers behind one interface; `make_provider` maps `provider/model` names to code."""

from __future__ import annotations

import asyncio

from runners.providers.base import ModelReply, Provider, ProviderError
from scenarios.schema import ModelSpec, ScenarioError

PROVIDERS = ("sim", "anthropic", "openai")

__all__ = ["ModelReply", "Provider", "ProviderError", "make_provider", "preflight", "PROVIDERS"]


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


async def preflight(providers: list[Provider], check_network: bool = True) -> None:
    """Before any trial: every real provider has its key and its server accepts connections.

    Raises `ScenarioError` with one line per problem (the CLI prints it and exits 2). Only a TCP
    connect is tried, never a request, so the preflight costs nothing.
    """
    remote = [p for p in providers if not p.simulated and hasattr(p, "preflight_problem")]
    problems = [line for p in remote if (line := p.preflight_problem())]
    if not problems and check_network:
        seen: dict[tuple[str, int], Provider] = {}
        for provider in remote:
            seen.setdefault(provider.endpoint(), provider)
        results = await asyncio.gather(*(p.check_reachable() for p in seen.values()))
        problems = [line for line in results if line]
    if problems:
        raise ScenarioError("; ".join(problems))
