"""SDK exception -> `ProviderError(retryable, retry_after)`: the providers' only error logic.

Providers classify; the call layer (runners/calls.py) retries. Keeping the two apart means one
retry policy for every provider, and this table is the one place to read what is retried (DESIGN
§9, STYLE: Inspect AI's `should_retry`):

- retried: connection errors and timeouts (a dropped connection arrives as `APIConnectionError`,
  a read timeout as its subclass `APITimeoutError`), 408, 409, 429, 5xx and Anthropic's 529
  overload. We look at the *status code*, not the exception class: in anthropic 1.x
  `OverloadedError` was a sibling of `InternalServerError`, in 2.x it is a subclass, and an
  OpenAI-compatible gateway may send a 529 that openai's SDK maps to `InternalServerError`.
- not retried: 400, 401, 402, 403, 404, 413, 422 — and a 429 that is a spend cap or exhausted
  quota (`insufficient_quota`, billing, credit, spend limit), which waiting will not fix.

Messages are redacted: OpenAI's 401 echoes part of the key (`Incorrect API key provided: sk-…`),
and the message ends up in the trial record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import re
import time
from typing import Any

from runners.providers.base import ProviderError
from runners.safe_text import printable

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_QUOTA_WORDS = re.compile(r"insufficient_quota|quota|billing|credit balance|spend(ing)? (limit|cap)|usage limit", re.I)
# a prompt (with max_tokens) longer than the model's context, in the words of llama-server ("exceeds the
# available context size"), vLLM and OpenAI ("maximum context length", context_length_exceeded) and
# Anthropic ("prompt is too long"): a 400 that no retry fixes
CONTEXT_EXCEEDED = re.compile(r"context.size|context.length|prompt is too long", re.I)
# a local server still loading its weights: llama-server answers 503 "Loading model" (no Retry-After)
# until it is ready, and the default backoff (about 8 s over 6 attempts) gave up on any model that loads
# slower, failing the first trials of a sweep started right after the server
_LOADING = re.compile(r"loading model|model is loading|currently loading", re.I)
LOADING_WAIT_S = 10.0  # between attempts while the server loads (kind "loading"): such attempts are not
# counted against the retry policy's attempts, only its total time (runners.calls.RetryPolicy.total_s)
_KEY_LIKE = re.compile(r"\b(sk|key|api|tok)[-_][A-Za-z0-9_\-*.]{6,}", re.I)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove known secrets and anything shaped like an API key from an error message. A key
    shorter than `MIN_SECRET_CHARS` (a local server's placeholder, `x`, `EMPTY`) is removed only
    where it stands alone: replaced everywhere, `x` cut every "x" out of llama-server's "request
    exceeds the available context size" and the stored error no longer said what was wrong."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, "[redacted]")
        elif secret:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "[redacted]", text)
    return _KEY_LIKE.sub("[redacted]", text)


MIN_SECRET_CHARS = 16  # every provider's real keys are longer; shorter ones are placeholders


def without_secrets(text: str, secrets: tuple[str, ...]) -> tuple[str, int]:
    """`text` with every occurrence of a known key replaced, and how many there were. For model
    replies: only the exact keys, not the key-shaped pattern of `redact`, which would rewrite
    ordinary words in a reply ("key_points", "api-version"). A reply holds a key only when a
    gateway echoes request headers into it, and the reply is then stored, cached and published."""
    count = 0
    for secret in secrets:
        # a local server's dummy key ("x", "EMPTY", "unused") is no secret, and replacing it
        # rewrote ordinary words and single letters of replies
        if len(secret) >= MIN_SECRET_CHARS and secret in text:
            count += text.count(secret)
            text = text.replace(secret, "[redacted]")
    return text, count


def retry_after_seconds(headers: Any) -> float | None:
    """`retry-after-ms`, or `retry-after` as seconds or an HTTP date; None when absent or odd."""
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _body_text(body: Any) -> str:
    """Type, code and message of an error body, flattened for matching (either SDK's shape)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return " ".join(str(inner.get(k) or "") for k in ("type", "code", "message"))
        return str(inner)
    return str(body or "")


def is_quota_exhausted(status: int, body: Any, message: str) -> bool:
    return status == 429 and bool(_QUOTA_WORDS.search(_body_text(body) + " " + message))


def classify(exc: BaseException, secrets: tuple[str, ...] = ()) -> ProviderError:
    """Map any exception raised by an SDK call to a `ProviderError` (never raises), its message
    without keys and on one printable line.

    Found by a hostile-server probe: our own errors quote the reply (a body that is not JSON, an
    error object sent with HTTP 200), and a gateway that echoes the request's headers put the key
    there, stored in trials.csv and the report; an error message holding ESC sequences, line breaks
    or bidirectional controls went into the `error` column as sent, so `cat trials.csv` obeyed them."""
    error = _classify(exc, secrets)
    message = printable(redact(error.message, secrets))[:500]
    return error if message == error.message else dataclasses.replace(error, message=message)


def _classify(exc: BaseException, secrets: tuple[str, ...]) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc.__cause__, ProviderError):  # ours, raised while the SDK read the reply (it wraps it)
        return exc.__cause__
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        body = getattr(exc, "body", None)
        message = redact(str(getattr(exc, "message", "") or exc), secrets)
        response = getattr(exc, "response", None)
        wait = retry_after_seconds(getattr(response, "headers", None))
        if is_quota_exhausted(status, body, message):
            return ProviderError(f"HTTP 429 quota/spend cap (not retried): {message}", retryable=False,
                                 details={"status": status, "kind": "quota"})
        retryable = status in RETRYABLE_STATUS or status >= 500
        loading = status == 503 and wait is None and bool(_LOADING.search(message + " " + _body_text(body)))
        if loading:
            wait = LOADING_WAIT_S
        kind = ("loading" if loading else "overloaded" if status == 529 else "rate_limit" if status == 429
                else "server" if status >= 500
                else "context_full" if status == 400 and CONTEXT_EXCEEDED.search(message) else "client")
        return ProviderError(f"HTTP {status} {name}: {message}"[:500], retryable=retryable, retry_after=wait,
                             details={"status": status, "kind": kind})
    if _is_connection_error(exc):
        refused = _refused(exc)
        kind = "timeout" if not refused and ("Timeout" in name or isinstance(exc, TimeoutError)) else "connection"
        return ProviderError(f"{kind} ({name}): {redact(str(refused or exc), secrets)}"[:500], retryable=True,
                             details={"kind": kind})
    # Anything else (a TypeError from a bad parameter, a response that fails validation) will
    # fail the same way on every attempt.
    return ProviderError(f"{name}: {redact(str(exc), secrets)}"[:500], retryable=False, details={"kind": "other"})


def _refused(exc: BaseException) -> BaseException | None:
    """The refused or reset connection under an SDK error, if there is one. The SDKs' aiohttp
    transport reports a refused connection as `httpx.ConnectTimeout`, so the SDK raised
    `APITimeoutError: Request timed out.` at once for a server that was down: the sweep said
    "timed out", and the endpoint pool waited for 3 "timeouts" to route around a dead replica."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ConnectionError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ConnectionError):
        return True
    try:
        import aiohttp

        # the SDKs' aiohttp transport: openai's lets aiohttp's own errors through unwrapped, e.g. a
        # reply that is not HTTP or has a garbled header (`ClientResponseError: 400, message="Bad status
        # line"`, no status from the server); it was an error of kind "other", not retried, where
        # anthropic's SDK wrapped the same fault as a connection error (hostile-server probe)
        if isinstance(exc, aiohttp.ClientError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import anthropic

        if isinstance(exc, anthropic.APIConnectionError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import openai

        if isinstance(exc, openai.APIConnectionError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return False
