"""What the Anthropic and OpenAI providers share: key and endpoint resolution, parameter checks,
the preflight, and the `<NEXT/>` continuation loop of the paper.

A subclass implements one method, `_turn(messages, prefill) -> TurnResult`, for one HTTP call in
its SDK. Everything else — when to continue, how usage adds up, how errors are classified — lives
here once, so the two providers cannot drift apart.

Keys: read from the environment at call time (`api_key_env`, else the SDK's standard variable)
and handed to the SDK client only. They are never part of `request_params()` (the cache key and
the stored record), and error messages are redacted before they reach a record.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from runners.providers.base import ModelReply
from runners.providers.errors import classify
from scenarios.schema import ModelSpec, ScenarioError
from scenarios.trial import TrialSpec

NEXT_TURN = "<NEXT/>"
_OUTPUT_END = re.compile(r"</OUTPUT>", re.I)
_PARTIAL = "_continuation"  # trial.extra key: turns already paid for, kept across retries


def fast_http_client(sdk: Any) -> dict[str, Any]:
    """The SDK's aiohttp transport when installed (`openai[aiohttp]`, `anthropic[aiohttp]`).

    Measured against the local 100 ms server, 2,000 calls at concurrency 64: the default httpx
    transport needs 2.0-3.0x the ideal wall time, mostly CPU in httpcore's pool bookkeeping; the
    aiohttp one 1.3-1.5x. Falls back to the default client when the extra is missing.
    """
    try:
        return {"http_client": sdk.DefaultAioHttpClient()}
    except (AttributeError, RuntimeError, ImportError):
        return {}


@dataclass(slots=True)
class TurnResult:
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None


@dataclass(slots=True)
class _Progress:
    """Turns completed so far for one trial: a retry resumes here instead of paying again."""

    messages: list[dict[str, str]]
    texts: list[str]
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None


class RemoteProvider:
    """Base of the HTTP providers. Subclasses set the class attributes and implement `_turn`."""

    simulated = False
    key_env_default = ""  # e.g. ANTHROPIC_API_KEY
    base_url_env = ""  # e.g. ANTHROPIC_BASE_URL
    default_params: dict[str, Any] = {}
    supports_prefill = False
    # accepted by the HTTP API though the installed SDK's `create` may not list them
    wire_params: frozenset[str] = frozenset()

    def __init__(self, spec: ModelSpec):
        self.name = spec.name
        self.model = spec.name.partition("/")[2]
        self.spec = spec
        self.key_env = spec.api_key_env or self.key_env_default
        # The endpoint is part of the cache key (DESIGN §9): the same model name on another server
        # is another model. None means the SDK's default endpoint.
        self.base_url: str | None = spec.base_url or os.environ.get(self.base_url_env) or None
        self.params: dict[str, Any] = {**self.default_params, **spec.params}
        self.max_turns = spec.max_turns
        self.timeout_s = spec.timeout_s
        if spec.prefill and not self.supports_prefill:
            raise ScenarioError(f"models: {spec.name}: prefill is supported for anthropic/ models only")
        self._client: Any = None
        self._check_params()

    # --- configuration ----------------------------------------------------------------------

    def _create_signature(self) -> inspect.Signature:
        raise NotImplementedError

    def _check_params(self) -> None:
        """Unknown generation parameters are a scenario error now, not a TypeError per call."""
        accepted = set(self._create_signature().parameters) | self.wire_params
        reserved = {"model", "messages", "system", "stream", "timeout", "extra_headers", "extra_query"}
        for key in self.params:
            if key in reserved or key not in accepted:
                hint = "; server-specific parameters go under extra_body: {...}" if "extra_body" in accepted else ""
                raise ScenarioError(f"models: {self.name}: params.{key} is not a parameter of this provider's API{hint}")

    def body(self, **request: Any) -> dict[str, Any]:
        """The JSON body of one call: the request, the generation params, and `extra_body`'s keys
        merged in (the providers post the body through the SDK's `client.post`, which sends it
        as is, so `extra_body` must be flattened here, as `create` would)."""
        params = dict(self.params)
        extra = params.pop("extra_body", None) or {}
        return {**request, **params, **extra}

    def request_params(self) -> dict[str, Any]:
        """What changes the reply (the cache key): generation params and the turn bound."""
        return {**self.params, "max_turns": self.max_turns}

    def api_key(self) -> str | None:
        return os.environ.get(self.key_env) or None

    def preflight_problem(self) -> str | None:
        """One line to print (exit 2) when this provider cannot work, checked before any trial."""
        if not self.api_key():
            return (f"{self.name}: no API key: set the environment variable {self.key_env}"
                    + ("" if self.spec.api_key_env else " (or api_key_env: in the scenario)"))
        return None

    def endpoint(self) -> tuple[str, int]:
        parts = urlsplit(self.base_url or self.default_base_url())
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return parts.hostname or "localhost", port

    def default_base_url(self) -> str:
        raise NotImplementedError

    async def check_reachable(self, timeout: float = 5.0) -> str | None:
        """A TCP connect to the endpoint (no request, nothing billed); a problem line or None."""
        host, port = self.endpoint()
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
            return f"{self.name}: cannot reach {self.base_url or self.default_base_url()} ({reason})"
        writer.close()
        return None

    # --- calling ----------------------------------------------------------------------------

    async def _turn(self, messages: list[dict[str, str]], system: str, prefill: str | None) -> TurnResult:
        raise NotImplementedError

    async def generate(self, trial: TrialSpec) -> ModelReply:
        """One trial's exchange: the first reply, then `<NEXT/>` turns while it has not closed
        `</OUTPUT>`, at most `max_turns` calls. Turns already answered survive a retry (kept on
        the trial), so a failure in turn 3 does not pay for turns 1-2 again."""
        request = trial.request
        assert request is not None
        progress: _Progress = trial.extra.get(_PARTIAL) or _Progress(messages=request.messages(), texts=[])
        trial.extra[_PARTIAL] = progress
        started = time.monotonic()
        while len(progress.texts) < self.max_turns:
            prefill = request.prefill if not progress.texts and self.supports_prefill else None
            try:
                turn = await self._turn(progress.messages, request.system, prefill)
            except Exception as exc:  # every SDK failure becomes a classified ProviderError
                raise classify(exc, (self.api_key() or "",)) from None
            text = (prefill or "") + turn.text
            progress.texts.append(text)
            progress.input_tokens += turn.input_tokens
            progress.output_tokens += turn.output_tokens
            progress.stop_reason = turn.stop_reason
            if _OUTPUT_END.search(text) or not turn.text.strip():
                break
            progress.messages = [*progress.messages, {"role": "assistant", "content": text.rstrip()},
                                 {"role": "user", "content": NEXT_TURN}]
        trial.extra.pop(_PARTIAL, None)
        return ModelReply(
            text=f"\n\n{NEXT_TURN}\n\n".join(progress.texts),
            input_tokens=progress.input_tokens,
            output_tokens=progress.output_tokens,
            latency_s=time.monotonic() - started,
            turns=len(progress.texts),
            stop_reason=progress.stop_reason,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
