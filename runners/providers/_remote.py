"""What the Anthropic and OpenAI providers share: key and endpoint resolution, parameter checks,
the preflight, and the `<NEXT/>` continuation loop of the paper.

A subclass implements one method, `_turn(messages, prefill) -> TurnResult`, for one HTTP call in
its SDK. Everything else — when to continue, how usage adds up, how errors are classified — lives
here once, so the two providers cannot drift apart.

Keys: read from the environment at call time (`api_key_env`, else the SDK's standard variable)
and handed to the SDK client only. They are never part of `request_params()` (the cache key and
the stored record), and error messages are redacted before they reach a record.

Endpoints: one (`base_url`, or the SDK's default) or several (`endpoints:`, replicas of one
deployment or keys of one gateway); runners/providers/_endpoints.py picks one per HTTP request
and routes around a dead one, and each endpoint has its own SDK client. `self.base_url` is the
deployment's *identity* for the cache and trial keys, never the replica that answered: the
`deployment` name when given, else the endpoints' URLs (sorted, so their order does not matter).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runners.providers._endpoints import Endpoint, EndpointPool
from runners.providers.base import ModelReply, ProviderError
from runners.providers.errors import classify, without_secrets
from runners.providers.reply_shape import TurnResult, output_bound, plausible_usage
from runners.safe_text import MAX_REPLY_CHARS
from scenarios.field_checks import base_url_problem
from scenarios.schema import ModelSpec, ScenarioError
from scenarios.trial import TrialSpec

NEXT_TURN = "<NEXT/>"
_OUTPUT_END = re.compile(r"</OUTPUT>", re.I)
# a reply in the paper's format that has not reached its answer yet: it reasoned in a scratchpad
# (the paper's harness answers such a turn with <NEXT/>) or says <NEXT/> itself
_ASKS_TO_GO_ON = re.compile(r"</?SCRATCHPAD_REASONING>|<NEXT\s*/>", re.I)
# the stop reasons of a reply cut off by a token limit (OpenAI-compatible / Anthropic wire values);
# a full context window cannot take a <NEXT/> turn, so that one is not continued (a server that says
# `length` for it too refuses the <NEXT/> turn with a context error: `generate` ends the reply there)
CONTEXT_FULL = frozenset({"model_context_window_exceeded"})
TRUNCATED = frozenset({"length", "max_tokens"}) | CONTEXT_FULL
REQUESTS = "_requests"  # trial.extra key: HTTP requests made for this trial (the call layer counts them)
_PARTIAL = "_continuation"  # trial.extra key: turns already paid for, kept across retries
_FAILED_ON = "_failed_endpoint"  # trial.extra key: the endpoint that failed the last attempt (a retry avoids it)


def sampling_seed(trial: TrialSpec) -> int:
    """The sampling seed of a trial's requests: its sample index at the scenario's seed 0, else mixed
    with the scenario's seed, so that `--seed` draws other replies as it draws other documents (the
    cache key has the scenario's seed when it is not 0: runners.calls.request_hash)."""
    return (trial.seed * 100_003 + trial.sample) % 2**31


MAX_REDIRECTS = 3


def fast_http_client(sdk: Any) -> dict[str, Any]:
    """The SDK client's keyword arguments: its aiohttp transport when installed (`openai[aiohttp]`,
    `anthropic[aiohttp]`), and replies read as sent, at most `MAX_BODY_BYTES` of them.

    Measured against the local 100 ms server, 2,000 calls at concurrency 64: the default httpx
    transport needs 2.0-3.0x the ideal wall time, mostly CPU in httpcore's pool bookkeeping; the
    aiohttp one 1.3-1.5x. Falls back to the SDK's default httpx client when the extra is missing.
    """
    # a server that redirects to itself made 21 requests an attempt, 126 a trial (httpx follows 20
    # redirects; a hostile-server probe): an API answers where it is asked, a gateway moves it once
    hooks = {"event_hooks": {"response": [_bound_reply]}, "max_redirects": MAX_REDIRECTS}
    headers = {"default_headers": {"Accept-Encoding": "identity"}}
    for make in ("DefaultAioHttpClient", "DefaultAsyncHttpxClient"):
        try:
            return {"http_client": getattr(sdk, make)(**hooks), **headers}
        except (AttributeError, RuntimeError, ImportError):
            continue
    return {}


# the raw bytes of one HTTP reply: JSON escapes take up to 6 bytes per character of MAX_REPLY_CHARS
MAX_BODY_BYTES = 8 * MAX_REPLY_CHARS


async def _bound_reply(response: Any) -> None:
    """Read a reply as the bytes that came, and no more than `MAX_BODY_BYTES` of them.

    Found by a hostile-reply fuzz: a 408 KB gzip body that inflated to 300 MB took a sweep to 1.8 GB
    of memory before the reply was cut to its million characters (a few MB of it at concurrency 16
    would be killed for memory, the sweep lost). Requests ask for no compression (`Accept-Encoding:
    identity`), so a reply that declares one anyway is read undecoded (and is not JSON: a malformed
    reply, one recorded trial), and a body past the cap ends the call as malformed, not retried."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        del response.headers["content-encoding"]
    base = next((c for c in type(response.stream).__mro__ if c.__name__ == "AsyncByteStream"), None)
    if base is not None:  # the SDK's own httpx (each SDK vendors one): the stream must be its type
        response.stream = _bounded_stream_type(base)(response.stream)


@functools.cache
def _bounded_stream_type(base: type) -> type:
    class Bounded(base):  # type: ignore[misc, valid-type]
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        async def __aiter__(self):  # noqa: ANN204 - an async generator of bytes
            seen = 0
            async for chunk in self._inner:
                seen += len(chunk)
                if seen > MAX_BODY_BYTES:
                    raise ProviderError(f"malformed reply: body over {MAX_BODY_BYTES:,} bytes", retryable=False,
                                        details={"kind": "malformed"})
                yield chunk

        async def aclose(self) -> None:
            await self._inner.aclose()

    return Bounded


@dataclass(slots=True)
class _Progress:
    """Turns completed so far for one trial: a retry resumes here instead of paying again."""

    messages: list[dict[str, str]]
    texts: list[str]
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    endpoint: str | None = None  # the URL that answered the last turn
    repairs: list[str] = field(default_factory=list)
    truncated_turns: int = 0
    served_model: str | None = None  # of the last turn that named one
    reasoning: list[str] = field(default_factory=list)  # each turn's thinking sent apart from its text


def with_prefill(prefill: str | None, text: str) -> str:
    """The model's full turn: prefill + continuation. Some servers (llama-server's /v1/messages)
    return the prefill as part of the reply; prepending it again would double every tag in it
    and make every trial malformed, so an echoed prefill is kept once."""
    if not prefill:
        return text
    if text.lstrip().startswith(prefill.strip()):
        return text.lstrip()
    return prefill + text


BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


def endpoint_identity(spec: ModelSpec) -> str | None:
    """What the cache and trial keys know a model's endpoint by: the `deployment` name, else the
    endpoints' URLs (sorted), else `base_url` or the SDK's environment variable; None for the
    SDK's default endpoint."""
    if spec.endpoints:
        urls = sorted({e.base_url.rstrip("/") for e in spec.endpoints})
        return f"deployment:{spec.deployment}" if spec.deployment else " ".join(urls)
    return spec.base_url or os.environ.get(BASE_URL_ENV.get(spec.provider, ""), "") or None


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
        self._check_base_url_env()
        identity = endpoint_identity(spec)
        if spec.endpoints:
            self.pool = EndpointPool([Endpoint(e.base_url, e.api_key_env or self.key_env, e.concurrency)
                                      for e in spec.endpoints])
        else:
            self.pool = EndpointPool([Endpoint(identity, self.key_env)])
        # The endpoint is part of the cache key (DESIGN §9): the same model name on another server
        # is another model. None means the SDK's default endpoint. With several endpoints, the
        # deployment's identity (see the module docstring).
        self.base_url: str | None = identity
        self.params: dict[str, Any] = {**self.default_params, **spec.params}
        self.max_output = output_bound(self.params)
        # what params add to the prompt the model reads (`tools`, `response_format` schemas, a chat
        # template's kwargs): their text bounds the input tokens with the messages' (plausible_usage)
        self.params_text = json.dumps(self.params, default=str, ensure_ascii=False)
        self.max_turns = spec.max_turns
        self.timeout_s = spec.timeout_s
        if spec.prefill and not self.supports_prefill:
            raise ScenarioError(f"models: {spec.name}: prefill is supported for anthropic/ models only")
        self._check_params()

    # --- configuration ----------------------------------------------------------------------

    def _check_base_url_env(self) -> None:
        """OPENAI_BASE_URL / ANTHROPIC_BASE_URL, when they name the endpoint, get the check a
        scenario's `base_url` gets, now: unchecked, a bad port failed every call (exit 4) after the
        run folder was made, and a dry run passed it."""
        if self.spec.base_url or self.spec.endpoints or not self.base_url_env:
            return
        url = os.environ.get(self.base_url_env)
        if url and (problem := base_url_problem(url)):
            raise ScenarioError(f"environment variable {self.base_url_env} (the endpoint of {self.name}): {problem}")

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

    def api_key(self, endpoint: Endpoint | None = None) -> str | None:
        return os.environ.get(endpoint.key_env if endpoint else self.key_env) or None

    def secrets(self) -> tuple[str, ...]:
        """Every key this provider may send: redacted from error messages."""
        return tuple(k for e in self.pool.endpoints if (k := self.api_key(e)))

    def preflight_problem(self) -> str | None:
        """One line to print (exit 2) when this provider cannot work, checked before any trial."""
        for env in dict.fromkeys(e.key_env for e in self.pool.endpoints):
            key = os.environ.get(env)
            if not key:
                return (f"{self.name}: no API key: set the environment variable {env}"
                        + ("" if self.spec.api_key_env or self.spec.endpoints else " (or api_key_env: in the scenario)"))
            # an HTTP header takes printable ASCII only: a key with a line break, a control character
            # or a letter outside ASCII failed every call (exit 3, error trials stored) - found by a
            # bad-input fuzz. The key itself is never printed.
            if not key.strip() or not all(" " < c < "\x7f" for c in key):
                return (f"{self.name}: the API key in the environment variable {env} is blank or has characters an "
                        "HTTP header cannot carry (spaces, line breaks, control or non-ASCII characters)")
        return None

    def url_of(self, endpoint: Endpoint) -> str:
        return endpoint.base_url or self.default_base_url()

    def endpoint(self) -> tuple[tuple[str, int], ...]:
        """Host and port of every endpoint (the preflight connects to each once)."""
        found = []
        for e in self.pool.endpoints:
            parts = urlsplit(self.url_of(e))
            found.append((parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80)))
        return tuple(found)

    def default_base_url(self) -> str:
        raise NotImplementedError

    async def check_reachable(self, timeout: float = 5.0) -> str | None:
        """A TCP connect to each endpoint (no request, nothing billed); a problem line or None.
        With several endpoints, one that answers is enough: the others are marked unhealthy
        (they get calls again after the pool's cooldown) and a warning names them."""
        results = await asyncio.gather(*(_connect_problem(host, port, timeout) for host, port in self.endpoint()))
        down = [(e, reason) for e, reason in zip(self.pool.endpoints, results, strict=True) if reason]
        if len(down) == len(self.pool.endpoints):
            return "; ".join(f"{self.name}: cannot reach {self.url_of(e)} ({reason})" for e, reason in down)
        for endpoint, reason in down:
            self.pool.mark_down(endpoint)
            print(f"warning: {self.name}: cannot reach {self.url_of(endpoint)} ({reason}); "
                  "its calls go to the other endpoints", file=sys.stderr)
        return None

    # --- calling ----------------------------------------------------------------------------

    def client(self, endpoint: Endpoint | None = None) -> Any:
        """The SDK client of `endpoint` (default: the first), built on first use."""
        endpoint = endpoint or self.pool.endpoints[0]
        if endpoint.client is None:
            endpoint.client = self._new_client(endpoint.base_url, self.api_key(endpoint))
        return endpoint.client

    def _new_client(self, base_url: str | None, api_key: str | None) -> Any:
        raise NotImplementedError

    async def _turn(self, client: Any, messages: list[dict[str, str]], system: str, prefill: str | None,
                    seed: int) -> TurnResult:
        """One HTTP request. `seed`: the trial's `sampling_seed`, what sets apart the otherwise
        identical requests of one prompt's samples (a judge's votes)."""
        raise NotImplementedError

    async def _routed_turn(self, trial: TrialSpec, messages: list[dict[str, str]], system: str,
                           prefill: str | None) -> tuple[TurnResult, str]:
        """One HTTP request on the endpoint the pool picks, and that endpoint's URL. Its outcome
        updates the endpoint's health; a failure is classified and remembered (the retry goes elsewhere)."""
        async with self.pool.use(trial.extra.get(_FAILED_ON)) as endpoint:
            client = self.client(endpoint)  # built (imports, TLS context) outside the deadline, once
            try:
                # a total deadline per call (connect + every read): the SDK's timeout restarts
                # with each byte, so a server that trickles or stalls mid-body would hold the
                # call forever without it
                async with asyncio.timeout(self.timeout_s):
                    turn = await self._turn(client, messages, system, prefill, sampling_seed(trial))
            except Exception as exc:  # every SDK failure becomes a classified ProviderError
                error = (ProviderError(f"timeout: no complete reply within {self.timeout_s:g} s (timeout_s)",
                                       retryable=True, details={"kind": "timeout"})
                         if isinstance(exc, TimeoutError) else classify(exc, self.secrets()))
                self.pool.report(endpoint, error)
                trial.extra[_FAILED_ON] = self.pool.index(endpoint)
                raise error from None
            self.pool.report(endpoint, None)
            return turn, self.url_of(endpoint)

    async def generate(self, trial: TrialSpec) -> ModelReply:
        """One trial's exchange: the first reply, then `<NEXT/>` turns while it has not closed
        `</OUTPUT>` *and* either was cut off (stop reason `length` / `max_tokens`) or is in the
        paper's format and not done (a scratchpad, or `<NEXT/>` itself): a model that ignores the
        format and stops on its own is not asked again, which would only cost `max_turns` calls per
        trial. At most `max_turns` calls. Turns already answered survive a retry (kept on the
        trial), so a failure in turn 3 does not pay for turns 1-2 again. Every HTTP request is
        counted in `trial.extra[REQUESTS]`, so "model calls" counts requests, not trials."""
        request = trial.request
        assert request is not None
        progress: _Progress = trial.extra.get(_PARTIAL) or _Progress(messages=request.messages(), texts=[])
        trial.extra[_PARTIAL] = progress
        started = time.monotonic()
        while len(progress.texts) < self.max_turns:
            prefill = request.prefill if not progress.texts and self.supports_prefill else None
            trial.extra[REQUESTS] = trial.extra.get(REQUESTS, 0) + 1
            try:
                turn, progress.endpoint = await self._routed_turn(trial, progress.messages, request.system, prefill)
            except ProviderError as error:
                # the reply so far filled the context (llama-server says `length` for a full context
                # as for max_tokens): the <NEXT/> turn cannot fit, and failing the trial on it threw
                # away the turns already paid for, on every re-run
                if not progress.texts or error.details.get("kind") != "context_full":
                    raise
                progress.repairs.append(f"turn {len(progress.texts) + 1} not made: the context is full ({error})")
                break
            plausible_usage(turn, [request.system, prefill or "", *(m["content"] for m in progress.messages)],
                            self.max_output, self.params_text)
            text = with_prefill(prefill, turn.text)
            progress.texts.append(text)
            progress.input_tokens += turn.input_tokens
            progress.output_tokens += turn.output_tokens
            progress.stop_reason = turn.stop_reason
            progress.served_model = turn.served_model or progress.served_model
            if turn.reasoning:
                progress.reasoning.append(turn.reasoning)
            prefix = f"turn {len(progress.texts)}: " if len(progress.texts) > 1 else ""
            progress.repairs.extend(prefix + note for note in turn.repairs)
            progress.truncated_turns += turn.stop_reason in TRUNCATED
            if _OUTPUT_END.search(text) or not turn.text.strip() or turn.stop_reason in CONTEXT_FULL:
                break
            if any(note.startswith("reply cut to") for note in turn.repairs):
                # we cut this turn (MAX_REPLY_CHARS), not the model: its end, maybe its </OUTPUT>, was
                # sent. Continuing sent the million characters back, and more each turn (a hostile-server
                # probe: 5.9 MB replies, then 1 MB, 2 MB, 3 MB requests at the default max_turns)
                progress.repairs.append(f"turn {len(progress.texts)} not continued: it was cut, not unfinished")
                break
            if turn.stop_reason not in TRUNCATED and not _ASKS_TO_GO_ON.search(text):
                break
            progress.messages = [*progress.messages, {"role": "assistant", "content": text.rstrip()},
                                 {"role": "user", "content": NEXT_TURN}]
        trial.extra.pop(_PARTIAL, None)
        trial.extra.pop(_FAILED_ON, None)
        text, keys_found = without_secrets(f"\n\n{NEXT_TURN}\n\n".join(progress.texts), self.secrets())
        reasoning, keys_in_reasoning = without_secrets("\n\n".join(progress.reasoning), self.secrets())
        if keys_found + keys_in_reasoning:
            progress.repairs.append(f"this provider's API key appeared {keys_found + keys_in_reasoning} time(s) "
                                    "in the reply and was removed")
        served = without_secrets(progress.served_model, self.secrets())[0] if progress.served_model else None
        # the stop reason and the repair notes quote the reply too (a usage count sent as a string is
        # shown): a gateway echoing the key there put it in the store and trials.csv (hostile-server probe)
        stop_reason = without_secrets(progress.stop_reason, self.secrets())[0] if progress.stop_reason else None
        progress.repairs = [without_secrets(note, self.secrets())[0] for note in progress.repairs]
        if len(text) > MAX_REPLY_CHARS:  # each turn is capped; so is their sum
            progress.repairs.append(f"reply cut to {MAX_REPLY_CHARS:,} of {len(text):,} characters")
            text = text[:MAX_REPLY_CHARS]
        return ModelReply(
            text=text,
            input_tokens=progress.input_tokens,
            output_tokens=progress.output_tokens,
            latency_s=time.monotonic() - started,
            turns=len(progress.texts),
            stop_reason=stop_reason,
            endpoint=progress.endpoint,
            repairs=progress.repairs,
            truncated_turns=progress.truncated_turns,
            served_model=served,
            reasoning=reasoning[:MAX_REPLY_CHARS],
        )

    async def aclose(self) -> None:
        for endpoint in self.pool.endpoints:
            if endpoint.client is not None:
                client, endpoint.client = endpoint.client, None
                await client.close()


async def _connect_problem(host: str, port: int, timeout: float) -> str | None:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        return "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
    writer.close()
    return None
