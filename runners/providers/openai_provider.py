"""`openai/<model>`: chat completions through the official async SDK — OpenAI itself or any
OpenAI-compatible server (vLLM, Ollama, llama.cpp, a gateway) named by `base_url`.

`max_retries=0`: the call layer's tenacity policy is the only retry loop (DESIGN §9). A local
server usually needs no key; give it `api_key_env` naming any variable with a dummy value (the SDK
refuses to start without one). The system prompt goes first as a `system` message, which every
compatible server understands.
"""

from __future__ import annotations

import inspect
from typing import Any

from runners.providers._remote import RemoteProvider, fast_http_client
from runners.providers.reply_shape import TurnResult, openai_turn


def refuses_seed(exc: BaseException) -> bool:
    """Whether a failed call is a server refusing the request's `seed` field (HTTP 400/422 naming it)."""
    if getattr(exc, "status_code", None) not in (400, 422):
        return False
    # the SDK's message holds the body's `error.message` only when the body is an object; Google's
    # is a list of errors, in `body`
    return "seed" in f"{exc} {getattr(exc, 'body', '')}".lower()


class OpenAIProvider(RemoteProvider):
    key_env_default = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    sends_seed = True  # until the server refuses the field (`_turn`)

    def default_base_url(self) -> str:
        return "https://api.openai.com/v1"

    def _create_signature(self) -> inspect.Signature:
        from openai.resources.chat.completions import AsyncCompletions

        return inspect.signature(AsyncCompletions.create)

    def _new_client(self, base_url: str | None, api_key: str | None) -> Any:
        import openai

        return openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=self.timeout_s,
            **fast_http_client(openai),
        )

    async def _turn(self, client: Any, messages: list[dict[str, str]], system: str, prefill: str | None,
                    seed: int) -> TurnResult:
        sent = [{"role": "system", "content": system}, *messages] if system else messages
        # `seed` (the trial's sampling seed), unless the scenario's params set one (they override it in
        # `body`). Without it the samples of one prompt (and a judge's votes) are the same request, and
        # a server that seeds every request alike (llama-server started with --seed N) sent the same
        # reply to each: 20 votes were one vote 20 times. What it is made of is in the cache key.
        # The SDK's documented `client.post` for the same endpoint, with the reply as parsed JSON
        # (`cast_to=str`, then json): the same wire request, auth and error handling as `create`, without its
        # per-call TypedDict transform of the messages and pydantic model of the reply, which cost
        # ~1.5 ms of CPU per call (benchmarks/api_sweep.py: 1.4x -> 1.12x the ideal for the bare
        # client). Parameter names are still checked against `create` up front.
        if not self.sends_seed:
            body_text = await client.post("/chat/completions", body=self.body(model=self.model, messages=sent), cast_to=str)
            return openai_turn(body_text)
        try:
            body_text = await client.post(
                "/chat/completions", body=self.body(model=self.model, messages=sent, seed=seed), cast_to=str
            )
        except Exception as exc:
            if "seed" in self.params or not refuses_seed(exc):
                raise
            # a server that refuses the field (Google's OpenAI-compatible API answers 400
            # INVALID_ARGUMENT to a seed) is sent none from now on: its own sampling tells samples apart
            self.sends_seed = False
            body_text = await client.post("/chat/completions", body=self.body(model=self.model, messages=sent), cast_to=str)
        return openai_turn(body_text)
