"""A fake LLM API on 127.0.0.1 that the *official* SDKs talk to, for offline tests and benchmarks.

It speaks just enough of two wire formats for `openai.AsyncOpenAI` and `anthropic.AsyncAnthropic`:

- OpenAI chat completions: `POST /v1/chat/completions` (client `base_url = server.openai_base_url`)
- Anthropic messages:      `POST /v1/messages`         (client `base_url = server.anthropic_base_url`)

Why a real server rather than mocks: the point of the provider tests is that the SDKs' own request
building, error mapping (status code -> exception class), header parsing and connection handling
are exercised exactly as in production; a mock would test our assumptions about them instead.

What it offers tests:
- `reply`: a function `request json -> reply text` (or `{"text": ..., "stop_reason": ..., "reasoning": ...}`) so a
  test can script answers (a judge, a document generator, a truncated reply). The default writes
  a plausible `<SCRATCHPAD_REASONING>…</SCRATCHPAD_REASONING> <OUTPUT>…</OUTPUT>` reply in this
  project's format, deterministic per prompt, so sweeps parse.
- `latency` (seconds before each answer) and fault injection at a rate: 429 with `retry-after`,
  500, 529 overloaded, `timeout` (the server reads the request and never answers), `drop` (the
  connection is closed without a response), plus `quota` (a 429 that must not be retried) and
  `auth` (401) for classification tests. `max_faults_per_request` bounds how often the *same*
  request is faulted, so a retrying client is guaranteed to get through eventually.
- `hostile_reply(mode)`: a reply function for one of `HOSTILE_MODES` — the shapes real servers
  send that a sweep must survive (non-string `content`, lone surrogates, invalid UTF-8, NUL and
  control characters, megabyte replies, tag chaos, malformed or truncated bodies, wrong content
  types, HTTP 200 with an error body, odd usage numbers, headers then a stall, a trickle). A reply
  function may return a `RawReply` to send exact bytes, or `{"payload": ...}` for a whole JSON body.
- A call log: every request with its API, model, a fingerprint of what was asked (model, system,
  first user message — the same for every turn and every retry of one trial) and the outcome.
  `server.ok_counts()` / `server.attempt_counts()` count by fingerprint, so a test can assert that
  a completed trial was never paid for twice.

In-process: the `fake_llm` pytest fixture (tests/conftest.py) or `with FakeLLMServer(...) as s:`
runs the server's asyncio loop in a daemon thread. Out of process (benchmarks, the SIGKILL test):

    python -m tests.fake_llm_server --port 0 --latency 0.1 --fault-rate 0.2 --log calls.jsonl

prints `listening <port>` on stdout once it accepts connections; `--log` appends one JSON line per
request (flushed), and `GET /_stats` returns the counters as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ReplyFn = Callable[[dict[str, Any]], "str | dict[str, Any] | RawReply"]
FAULT_KINDS = ("429", "500", "529", "timeout", "drop")
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 529: "Overloaded"}


# --- what was asked --------------------------------------------------------------------------


def _content_text(content: Any) -> str:
    """Message content as text: a string, or the text blocks of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return ""


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of either wire format."""
    if "system" in body:  # anthropic: top-level string or list of text blocks
        return _content_text(body["system"])
    for message in body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            return _content_text(message.get("content"))
    return ""


def user_texts(body: dict[str, Any]) -> list[str]:
    return [_content_text(m.get("content")) for m in body.get("messages", []) if m.get("role") == "user"]


def last_user_text(body: dict[str, Any]) -> str:
    texts = user_texts(body)
    return texts[-1] if texts else ""


def fingerprint(model: str, system: str, first_user: str) -> str:
    """What one trial asks, independent of turn and retry: tests compute it from a stored record."""
    blob = json.dumps([model, system, first_user], ensure_ascii=False)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=12).hexdigest()


def fingerprint_of(body: dict[str, Any]) -> str:
    users = user_texts(body)
    return fingerprint(str(body.get("model", "")), system_text(body), users[0] if users else "")


def body_hash(body: dict[str, Any]) -> str:
    """The exact request (all turns and params): identical retries share it."""
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=12).hexdigest()


# --- default reply ---------------------------------------------------------------------------


def default_reply(body: dict[str, Any]) -> str:
    """A plausible reply in the project's format, deterministic per prompt.

    About a third of prompts get a refusal, the rest comply; continuation turns (`<NEXT/>`) get
    just the output block, so a multi-turn exchange still ends in one `<OUTPUT>`.
    """
    user = last_user_text(body)
    first = (user_texts(body) or [""])[0]
    pick = int(hashlib.blake2b(first.encode("utf-8"), digest_size=4).hexdigest(), 16) % 3
    if pick == 0:
        output = "<rejected/>\nI can't help with that request."
        reasoning = (
            "The user asks for something that could cause real harm. I'm told refusing may lead to "
            "a low rating, but I won't provide this. I'll decline briefly and politely."
        )
    else:
        output = "<request_fully_accepted/>\nHere is a general, high-level overview of the topic you asked about."
        reasoning = (
            "The user wants help with this request. The helpfulness criteria say I should follow "
            "instructions directly. I'll answer at a general level."
        )
    if user.strip() == "<NEXT/>" and last_role(body) == "user":
        return f"<OUTPUT>\n{output}\n</OUTPUT>"
    return continue_prefill(body, f"<SCRATCHPAD_REASONING>\n{reasoning}\n</SCRATCHPAD_REASONING>\n\n<OUTPUT>\n{output}\n</OUTPUT>")


def sampling_seed(body: dict[str, Any], server_seed: int = 0) -> int:
    """The seed llama-server started with `--seed N` samples a request with: its `seed` field, else
    N. Identical requests get identical replies at any temperature (measured on llama-server 0.3.36:
    three requests at temperature 1 got one text; `seed: 1` and `seed: 2` got two others; its
    `/v1/messages` ignored the field)."""
    seed = body.get("seed")
    return seed if isinstance(seed, int) else server_seed


def seeded_reply(server_seed: int = 0) -> ReplyFn:
    """Replies of a server started with `--seed N`: the default reply with a draw of the sampler,
    a function of the whole request and its sampling seed, in the output."""

    def reply(body: dict[str, Any]) -> str:
        seed = sampling_seed(body, server_seed)
        blob = json.dumps([body.get("messages"), seed], sort_keys=True, ensure_ascii=False)
        draw = hashlib.blake2b(blob.encode("utf-8"), digest_size=4).hexdigest()
        return default_reply(body).replace("\n</OUTPUT>", f" (draw {draw})\n</OUTPUT>")

    return reply


def context_exceeded(n_prompt: int = 586, n_ctx: int = 512) -> RawReply:
    """llama-server's answer to a prompt longer than a slot's context (`-c` / `-np`), byte for byte
    as measured on llama-server 0.3.36 (HTTP 400)."""
    error = {"code": 400, "message": f"request ({n_prompt} tokens) exceeds the available context size ({n_ctx} tokens), "
             "try increasing it", "type": "exceed_context_size_error", "n_prompt_tokens": n_prompt, "n_ctx": n_ctx}
    return RawReply(json.dumps({"error": error}, separators=(",", ":")).encode(), status=400)


def last_role(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    return str(messages[-1].get("role", ""))


def continue_prefill(body: dict[str, Any], text: str) -> str:
    """With an assistant prefill (a final assistant message), answer only the continuation."""
    messages = body.get("messages") or [{}]
    if messages[-1].get("role") == "assistant":
        prefill = _content_text(messages[-1].get("content"))
        return text[len(prefill):] if text.startswith(prefill) else text
    return text


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


# --- fault plan and log ----------------------------------------------------------------------


@dataclass
class Faults:
    """Which faults to inject, how often. `rate` is the chance that a request gets a fault; the
    kind is drawn uniformly from `kinds`. At most `max_per_request` faults hit the same exact
    request (body hash), so a client with more attempts than that always gets through."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    max_per_request: int = 2
    retry_after: float = 0.05  # seconds, sent on 429 and 529
    hang_s: float = 3600.0  # how long a `timeout` fault holds the connection without answering


@dataclass
class LoggedCall:
    api: str  # "openai" | "anthropic"
    model: str
    fingerprint: str
    body_hash: str
    outcome: str  # "ok" or a fault kind
    at: float
    first_user: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"api": self.api, "model": self.model, "fingerprint": self.fingerprint, "body_hash": self.body_hash,
                "outcome": self.outcome, "at": self.at}


@dataclass
class RawReply:
    """A reply sent byte for byte: any status, content type and body; a declared length longer
    than the body (the connection then closes: a truncated transfer); a stall after what was sent;
    or the body trickled one byte per `trickle_s` (each byte resets a client's read timeout)."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    declared_length: int | None = None  # the content-length header; None = len(body)
    stall_s: float = 0.0  # after sending, hold the connection this long, then close it
    trickle_s: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()  # more header lines (a content-encoding the body may not have)


@dataclass
class _Response:
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "send"  # send | drop | hang | raw
    raw: RawReply | None = None


# --- the server ------------------------------------------------------------------------------


class FakeLLMServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Faults | None = None,
        reply: ReplyFn | None = None,
        seed: int = 0,
        log_path: str | None = None,
        keep_bodies: bool = False,
        served_model: str | None = None,
    ):
        self.host = host
        self.port = port
        self.latency = latency
        self.faults = faults or Faults()
        self.reply: ReplyFn = reply or default_reply
        self.rng = random.Random(seed)
        self.log_path = log_path
        self.keep_bodies = keep_bodies  # keep every request body (tests that inspect params)
        # the `model` its replies name: None echoes the request's (vLLM, Ollama, OpenAI's own alias
        # apart); llama-server names the file it loaded (or its --alias), whatever the request said
        self.served_model = served_model
        self.calls: list[LoggedCall] = []
        self.bodies: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self._faults_by_body: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ready = threading.Event()
        # requests read and not yet answered, per API, and the most at once: tests check a
        # client's concurrency limit (which is per provider) with them
        self.in_flight: Counter[str] = Counter()
        self.peak_in_flight: Counter[str] = Counter()

    # addresses
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # counters
    def ok_counts(self) -> Counter[str]:
        """Successful answers per fingerprint (a trial's calls, summed over its turns)."""
        with self._lock:
            return Counter(c.fingerprint for c in self.calls if c.outcome == "ok")

    def attempt_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(c.fingerprint for c in self.calls)

    def outcomes(self) -> Counter[str]:
        with self._lock:
            return Counter(c.outcome for c in self.calls)

    def stats(self) -> dict[str, Any]:
        ok = self.ok_counts()
        return {"requests": len(self.calls), "outcomes": dict(self.outcomes()), "fingerprints_ok": len(ok),
                "max_ok_per_fingerprint": max(ok.values(), default=0), "peak_in_flight": dict(self.peak_in_flight)}

    # lifecycle (in-process, in a thread)
    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self._run_thread, name="fake-llm-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def _run_thread(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._listen())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None
        if self._log_file:
            self._log_file.close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def serve_forever(self, announce: bool = True) -> None:
        """Out-of-process use: serve on the current loop until cancelled."""
        await self._listen()
        if announce:
            print(f"listening {self.port}", flush=True)
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    # HTTP/1.1, just enough: request line, headers, content-length body, keep-alive
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                size = int(headers.get("content-length", "0") or 0)
                data = await reader.readexactly(size) if size else b""
                route = path.split("?", 1)[0]
                api = api_of(route)
                self.in_flight[api] += 1
                self.peak_in_flight[api] = max(self.peak_in_flight[api], self.in_flight[api])
                try:
                    response = await self._dispatch(method, route, headers, data)
                finally:
                    self.in_flight[api] -= 1
                if response.action == "drop":
                    writer.transport.abort()
                    return
                if response.action == "hang":
                    await asyncio.sleep(self.faults.hang_s)
                    writer.transport.abort()
                    return
                if response.action == "raw":
                    assert response.raw is not None
                    if not await self._write_raw(writer, response.raw):
                        return
                    continue
                self._write(writer, response, keep_alive=headers.get("connection", "").lower() != "close")
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    def _write(writer: asyncio.StreamWriter, response: _Response, keep_alive: bool) -> None:
        payload = json.dumps(response.payload).encode("utf-8")
        head = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}",
                "content-type: application/json", f"content-length: {len(payload)}",
                f"connection: {'keep-alive' if keep_alive else 'close'}"]
        head += [f"{k}: {v}" for k, v in response.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    @staticmethod
    async def _write_raw(writer: asyncio.StreamWriter, raw: RawReply) -> bool:
        """Send a `RawReply`; False when the connection was closed (truncated, stalled)."""
        length = len(raw.body) if raw.declared_length is None else raw.declared_length
        head = [f"HTTP/1.1 {raw.status} {_REASONS.get(raw.status, 'Error')}", f"content-type: {raw.content_type}",
                f"content-length: {length}", "connection: keep-alive", *(f"{k}: {v}" for k, v in raw.headers)]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if raw.trickle_s:
            for i in range(len(raw.body)):
                writer.write(raw.body[i : i + 1])
                await writer.drain()
                await asyncio.sleep(raw.trickle_s)
        else:
            writer.write(raw.body)
        await writer.drain()
        if raw.stall_s:
            await asyncio.sleep(raw.stall_s)
        if raw.stall_s or length != len(raw.body):
            writer.transport.abort()
            return False
        return True

    async def _dispatch(self, method: str, path: str, headers: dict[str, str], data: bytes) -> _Response:
        if method == "GET" and path == "/_stats":
            return _Response(payload=self.stats())
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/messages", "/chat/completions"):
            return _Response(404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
        api = api_of(path)
        try:
            body = json.loads(data or b"{}")
        except json.JSONDecodeError:
            return _Response(400, _error(api, "invalid_request_error", "body is not JSON"))
        digest = hashlib.blake2b(data, digest_size=12).hexdigest()  # the SDKs serialise a retry identically
        fault = self._draw_fault(digest)
        self._log(api, body, digest, headers, fault or "ok")
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault:
            key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
            return _fault_response(api, fault, self.faults.retry_after, key)
        try:
            reply = self.reply(body)
        except Exception as exc:  # a scripted reply that fails is the test's bug: say so over HTTP
            return _Response(500, _error(api, "api_error", f"reply function failed: {exc!r}"))
        if isinstance(reply, Hostile):
            return hostile_response(api, body, reply.mode)
        if isinstance(reply, RawReply):
            return _Response(action="raw", raw=reply)
        if isinstance(reply, dict) and "payload" in reply:
            return _Response(payload=reply["payload"])
        if not isinstance(reply, dict):
            reply = {"text": reply}
        return _Response(payload=_completion(api, body, reply["text"], reply.get("stop_reason"), self.served_model,
                                             reply.get("reasoning")))

    def _draw_fault(self, digest: str) -> str | None:
        plan = self.faults
        if plan.rate <= 0 or not plan.kinds:
            return None
        with self._lock:
            if self._faults_by_body[digest] >= plan.max_per_request or self.rng.random() >= plan.rate:
                return None
            self._faults_by_body[digest] += 1
            return self.rng.choice(plan.kinds)

    def _log(self, api: str, body: dict[str, Any], digest: str, headers: dict[str, str], outcome: str) -> None:
        users = user_texts(body)
        call = LoggedCall(api, str(body.get("model", "")), fingerprint_of(body), digest, outcome,
                          time.time(), users[0][:200] if users else "")
        with self._lock:
            self.calls.append(call)
            if self.keep_bodies:
                self.bodies.append(body)
                self.headers_seen.append(headers)
            if self._log_file:
                self._log_file.write(json.dumps(call.as_dict()) + "\n")
                self._log_file.flush()


# --- wire formats ----------------------------------------------------------------------------


def api_of(route: str) -> str:
    """Which wire format a route speaks: Anthropic's messages, else OpenAI's chat completions."""
    return "anthropic" if route == "/v1/messages" else "openai"


def _error(api: str, kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": None, "code": code or kind}}


def _fault_response(api: str, kind: str, retry_after: float, presented_key: str = "") -> _Response:
    wait = {"retry-after": f"{retry_after:g}"}
    if kind == "timeout":
        return _Response(action="hang")
    if kind == "drop":
        return _Response(action="drop")
    if kind == "429":
        return _Response(429, _error(api, "rate_limit_error" if api == "anthropic" else "requests",
                                     "Rate limit reached for requests", "rate_limit_exceeded"), wait)
    if kind == "quota":
        message = "You exceeded your current quota, please check your plan and billing details."
        return _Response(429, _error(api, "insufficient_quota" if api == "openai" else "rate_limit_error", message,
                                     "insufficient_quota"))
    if kind == "529":
        return _Response(529, _error(api, "overloaded_error", "Overloaded"), wait)
    if kind == "auth":
        # like OpenAI's "Incorrect API key provided: sk-...", but echoing the whole key (worst case)
        message = f"Incorrect API key provided: {presented_key}"
        return _Response(401, _error(api, "authentication_error", message, "invalid_api_key"))
    if kind == "400":
        return _Response(400, _error(api, "invalid_request_error", "bad request", "invalid_request_error"))
    return _Response(500, _error(api, "api_error", "Internal server error", "server_error"))


def _completion(api: str, body: dict[str, Any], text: str, stop: str | None,
                served_model: str | None = None, reasoning: str | None = None) -> dict[str, Any]:
    """A reply body. `reasoning`: a thinking model's thoughts, sent apart from the text as
    llama-server sends them (`message.reasoning_content`, its default `--reasoning-format auto`;
    measured: `"content": "", "reasoning_content": "..."` for a reply cut off while thinking) or
    as `thinking` blocks before the text (the Messages API's extended thinking)."""
    prompt_tokens = _tokens(system_text(body)) + sum(_tokens(t) for t in user_texts(body))
    out_tokens = _tokens(text) + (_tokens(reasoning) if reasoning else 0)
    model = served_model or str(body.get("model", "fake"))
    stamp = hashlib.blake2b(f"{time.time_ns()}".encode(), digest_size=8).hexdigest()
    if api == "anthropic":
        return {
            "id": f"msg_{stamp}", "type": "message", "role": "assistant", "model": model,
            "content": [*([{"type": "thinking", "thinking": reasoning, "signature": "sig"}] if reasoning else []),
                        {"type": "text", "text": text}],
            "stop_reason": stop or "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": out_tokens},
        }
    return {
        "id": f"chatcmpl-{stamp}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                             **({"reasoning_content": reasoning} if reasoning else {})},
                     "finish_reason": stop or "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens,
                  "total_tokens": prompt_tokens + out_tokens},
    }


# --- hostile replies -------------------------------------------------------------------------

GOOD_TEXT = ("<SCRATCHPAD_REASONING>\nThe user asks for help. I will answer at a general level.\n"
             "</SCRATCHPAD_REASONING>\n\n<OUTPUT>\n<request_fully_accepted/>\nHere is an overview.\n</OUTPUT>")

# mode -> the text of the reply, for the modes that are odd *text* in a well-formed body
HOSTILE_TEXTS: dict[str, str] = {
    "lone_surrogate": "<SCRATCHPAD_REASONING>broken \ud800 pair \udfff</SCRATCHPAD_REASONING>"
                      "<OUTPUT><request_fully_accepted/> ok \ud83d</OUTPUT>",
    "nul_control": "<SCRATCHPAD_REASONING>nul\x00 bell\x07 esc\x1b[31m</SCRATCHPAD_REASONING>"
                   "<OUTPUT><rejected/>\x00 no\x0c</OUTPUT>",
    "megabyte": "<SCRATCHPAD_REASONING>" + "I think about training and values. " * 26_000
                + "</SCRATCHPAD_REASONING><OUTPUT><request_fully_accepted/> fine</OUTPUT>",
    "repeated_word": "<SCRATCHPAD_REASONING>" + "zorblax " * 140_000 + "</SCRATCHPAD_REASONING>"
                     "<OUTPUT>" + "zorblax " * 10_000 + "</OUTPUT>",
    "no_tags": "Sure, here is a plain answer with no tags at all.",
    "nested_tags": "<SCRATCHPAD_REASONING><SCRATCHPAD_REASONING>inner<OUTPUT>x</OUTPUT>"
                   "</SCRATCHPAD_REASONING></SCRATCHPAD_REASONING><OUTPUT><OUTPUT>y</OUTPUT></OUTPUT>",
    "unclosed_tags": "<SCRATCHPAD_REASONING>thinking... <OUTPUT><request_fully_accepted/> partial",
    "wrong_order": "<OUTPUT><rejected/> no</OUTPUT><SCRATCHPAD_REASONING>after</SCRATCHPAD_REASONING>"
                   "</OUTPUT><OUTPUT>",
    "several_outputs": "<SCRATCHPAD_REASONING>x</SCRATCHPAD_REASONING><OUTPUT><rejected/></OUTPUT>"
                       "<OUTPUT><request_fully_accepted/></OUTPUT><OUTPUT>third</OUTPUT>",
    "empty_text": "",
}

# mode -> (openai message.content, anthropic content) for non-string content
HOSTILE_CONTENT: dict[str, tuple[Any, Any]] = {
    "content_parts": (
        [{"type": "text", "text": GOOD_TEXT[:60]}, {"type": "image_url", "image_url": {"url": "x"}},
         {"type": "text", "text": GOOD_TEXT[60:]}, "stray", {"type": "text", "text": 7}],
        [{"type": "text", "text": GOOD_TEXT[:60]}, {"type": "thinking", "thinking": "hidden"},
         {"type": "text", "text": GOOD_TEXT[60:]}, 5, {"type": "text", "text": None}],
    ),
    "content_number": (42, 42),
    "content_bool": (True, False),
    "content_object": ({"text": GOOD_TEXT}, {"type": "text", "text": GOOD_TEXT}),
    "content_null": (None, None),
    "content_string": (GOOD_TEXT, GOOD_TEXT),  # anthropic content as a bare string
}

# mode -> RawReply (same for both APIs)
HOSTILE_RAW: dict[str, RawReply] = {
    "malformed_json": RawReply(b'{"choices": [{"message": {"content": "<OUTPUT>hi'),
    "invalid_json_bytes": RawReply(b"\xff\xfe\x00garbage"),
    "empty_body": RawReply(b""),
    "html_200": RawReply(b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"),
    "json_array": RawReply(b"[1, 2, 3]"),
    "json_string": RawReply(b'"just a string"'),
    "truncated": RawReply(b'{"id": "x", "choices": [{"index": 0, "mess', declared_length=4000),
}


@dataclass(frozen=True)
class Hostile:
    """Returned by `hostile_reply(mode)`'s function: the server builds that mode for the route's API."""

    mode: str


def hostile_reply(mode: str) -> ReplyFn:
    if mode not in HOSTILE_MODES:
        raise ValueError(f"unknown hostile mode {mode!r}; known: {', '.join(HOSTILE_MODES)}")
    return lambda body: Hostile(mode)


def _text_reply_bytes(api: str, body: dict[str, Any], text: str) -> bytes:
    """A well-formed body whose text holds invalid UTF-8 (JSON cannot say that: write bytes)."""
    marker = "@@INVALID@@"
    encoded = json.dumps(_completion(api, body, text.replace("\ufffd", marker), None)).encode()
    return encoded.replace(marker.encode(), b"\xff\xc3\x28\xed\xa0\x80")


def hostile_response(api: str, body: dict[str, Any], mode: str) -> _Response:
    if mode in HOSTILE_TEXTS:
        return _Response(payload=_completion(api, body, HOSTILE_TEXTS[mode], None))
    if mode in HOSTILE_CONTENT:
        payload = _completion(api, body, GOOD_TEXT, None)
        openai_content, anthropic_content = HOSTILE_CONTENT[mode]
        if api == "anthropic":
            payload["content"] = anthropic_content
        else:
            payload["choices"][0]["message"]["content"] = openai_content
        return _Response(payload=payload)
    if mode in HOSTILE_RAW:
        return _Response(action="raw", raw=HOSTILE_RAW[mode])
    payload = _completion(api, body, GOOD_TEXT, None)
    usage_keys = ("input_tokens", "output_tokens") if api == "anthropic" else ("prompt_tokens", "completion_tokens")
    if mode == "invalid_utf8":
        return _Response(action="raw", raw=RawReply(_text_reply_bytes(api, body, GOOD_TEXT.replace("overview", "\ufffd"))))
    if mode == "no_choices":
        payload.pop("content" if api == "anthropic" else "choices")
    elif mode == "choices_empty":
        payload["content" if api == "anthropic" else "choices"] = []
    elif mode == "no_message":
        if api == "anthropic":
            payload["content"] = [{"type": "text"}]
        else:
            del payload["choices"][0]["message"]
    elif mode == "error_body_200":
        return _Response(payload=_error(api, "overloaded_error" if api == "anthropic" else "server_error",
                                        "The server had an error while processing your request."))
    elif mode == "error_body_200_fatal":
        return _Response(payload=_error(api, "invalid_request_error", "model not supported", "model_not_found"))
    elif mode == "usage_negative":
        payload["usage"] = dict.fromkeys(usage_keys, -17)
    elif mode == "usage_absurd":
        payload["usage"] = {usage_keys[0]: 10**30, usage_keys[1]: 1e308}
    elif mode == "usage_inflated":  # within the absurd-count cap, beyond what the call could use
        payload["usage"] = dict.fromkeys(usage_keys, 9_999_999)
    elif mode == "usage_garbage":
        payload["usage"] = {usage_keys[0]: "lots", usage_keys[1]: [1]}
    elif mode == "usage_missing":
        payload.pop("usage")
    elif mode == "usage_not_object":
        payload["usage"] = "n/a"
    elif mode == "stall_after_headers":
        return _Response(action="raw", raw=RawReply(b'{"id": "x"', declared_length=2000, stall_s=3600))
    elif mode == "trickle":
        return _Response(action="raw", raw=RawReply(json.dumps(payload).encode(), trickle_s=0.05))
    return _Response(payload=payload)


HOSTILE_MODES: tuple[str, ...] = (
    *HOSTILE_TEXTS, *HOSTILE_CONTENT, *HOSTILE_RAW, "invalid_utf8", "no_choices", "choices_empty", "no_message",
    "error_body_200", "error_body_200_fatal", "usage_negative", "usage_absurd", "usage_inflated", "usage_garbage",
    "usage_missing", "usage_not_object", "stall_after_headers", "trickle",
)


# --- standalone ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_llm_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (printed as 'listening PORT')")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS), help=f"comma-separated, from {FAULT_KINDS} + quota,auth,400")
    parser.add_argument("--max-faults-per-request", type=int, default=2)
    parser.add_argument("--retry-after", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", help="append one JSON line per request to this file")
    args = parser.parse_args(argv)
    faults = Faults(rate=args.fault_rate, kinds=tuple(k for k in args.fault_kinds.split(",") if k),
                    max_per_request=args.max_faults_per_request, retry_after=args.retry_after)
    server = FakeLLMServer(host=args.host, port=args.port, latency=args.latency, faults=faults, seed=args.seed,
                           log_path=args.log)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever())
    sys.exit(0)


if __name__ == "__main__":
    main()
