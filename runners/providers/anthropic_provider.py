"""`anthropic/<model>`: the Messages API through the official async SDK.

The client is built with `max_retries=0` (the call layer's tenacity policy is the only retry loop,
DESIGN §9) and an explicit key, so the SDK never falls back to other credential sources we did not
check in the preflight. Assistant prefill is sent as a final assistant message; the reply continues
it, and the provider returns prefill + reply so the stored text reads as the model's full turn.
"""

from __future__ import annotations

import inspect
from typing import Any

from runners.providers._remote import RemoteProvider, fast_http_client
from runners.providers.reply_shape import TurnResult, anthropic_turn


class AnthropicProvider(RemoteProvider):
    key_env_default = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    default_params = {"max_tokens": 4096}  # required by the Messages API
    supports_prefill = True
    # the Messages API takes these (the paper sampled at temperature 1); anthropic 2.12's `create`
    # no longer lists them, so they are allowed here explicitly
    wire_params = frozenset({"temperature", "top_p", "top_k"})

    def default_base_url(self) -> str:
        return "https://api.anthropic.com"

    def _create_signature(self) -> inspect.Signature:
        from anthropic.resources.messages import AsyncMessages

        return inspect.signature(AsyncMessages.create)

    def _new_client(self, base_url: str | None, api_key: str | None) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=self.timeout_s,
            **fast_http_client(anthropic),
        )

    async def _turn(self, client: Any, messages: list[dict[str, str]], system: str, prefill: str | None,
                    seed: int) -> TurnResult:
        # the Messages API has no seed (llama-server's /v1/messages ignores one): samples of a prompt
        # are told apart only by the server's own sampling (docs/providers.md, "Samples and seeds")
        sent = [*messages, {"role": "assistant", "content": prefill}] if prefill else messages
        kwargs: dict[str, Any] = {"system": system} if system else {}
        # documented `client.post`, the reply as parsed JSON; see OpenAIProvider._turn for why
        body_text = await client.post(
            "/v1/messages", body=self.body(model=self.model, messages=sent, **kwargs), cast_to=str
        )
        return anthropic_turn(body_text)
