"""Read one reply body of either wire format into a `TurnResult`, whatever shape it has.

Servers that speak "the OpenAI API" differ: content as a list of parts, `null` content, numbers
where text belongs, usage missing or negative, an error object sent with HTTP 200, HTML from a
gateway. A reply is data, never control flow (DESIGN §10), so each shape ends one of two ways:

- usable text: returned with notes of what was repaired (`repairs`), cleaned by
  `runners.safe_text.clean_text` so that nothing unencodable can reach the cache or the store;
- no usable text: a `ProviderError` with kind `malformed_reply` saying what was wrong. It is
  retried when a retry can plausibly help (a body cut short or not JSON, a transient error
  object), not when the server answers that way by design (content that is a number).

Usage numbers are stored sanitised: a count that is missing, not a number, negative or absurd is
stored as 0 and noted, so token sums and costs are never negative or astronomic.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from runners.providers.base import ProviderError
from runners.safe_text import clean_text

# more tokens than any model reads or writes in one call: a larger count is a server bug
MAX_TOKENS_PER_CALL = 10_000_000
_TRANSIENT_ERROR = re.compile(r"overload|rate.?limit|server|internal|timeout|unavailable|api_error|capacity", re.I)


@dataclass(slots=True)
class TurnResult:
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    repairs: list[str] = field(default_factory=list)
    served_model: str | None = None  # the body's `model`: what the server says answered
    # the model's thinking, which reasoning servers send apart from the text (see `_reasoning`)
    reasoning: str = ""


def malformed(message: str, retryable: bool = False) -> ProviderError:
    return ProviderError(f"malformed reply: {message}"[:500], retryable=retryable, details={"kind": "malformed_reply"})


def _describe(value: Any) -> str:
    """A short, safe description of a value from a reply (it may be huge or hostile)."""
    kind = "null" if value is None else type(value).__name__.replace("dict", "object").replace("list", "array")
    shown = json.dumps(value, ensure_ascii=True, default=str)
    return f"{kind} {shown[:60]}{'…' if len(shown) > 60 else ''}"


def _int(text: str) -> int | float:
    """A JSON integer, or infinity past the digits Python reads (4,300): one such number in a usage
    field lost a valid reply as "not JSON" after every retry (a hostile-server probe); infinity is
    then an absurd count, stored as 0 with a note like any other."""
    return int(text) if len(text) <= 4000 else math.inf


def parse_body(body_text: Any) -> dict[str, Any]:
    """The JSON object of a reply body; an HTTP 200 that is not one is a malformed reply."""
    if not isinstance(body_text, str):
        body_text = str(body_text)
    if body_text.startswith("\ufeff"):  # a byte-order mark before the JSON: read past it
        body_text = body_text[1:]
    try:
        data = json.loads(body_text, parse_int=_int)
    except (json.JSONDecodeError, RecursionError, ValueError):
        preview = clean_text(body_text[:80], limit=80)[0].replace("\n", " ")
        what = "an empty body" if not body_text.strip() else f"a body that is not JSON ({preview!r})"
        # a gateway's HTML error page or a body cut short: another attempt may well succeed
        raise malformed(f"HTTP 200 with {what}", retryable=True) from None
    if not isinstance(data, dict):
        raise malformed(f"the body is a JSON {_describe(data)}, not an object")
    error = data.get("error")
    if error is not None and (data.get("type") == "error" or "choices" not in data and "content" not in data):
        inner = error if isinstance(error, dict) else {"message": error}
        words = " ".join(dict.fromkeys(str(inner.get(k)) for k in ("type", "code", "message") if inner.get(k)))
        text = clean_text(words.strip(), limit=200)[0]
        raise malformed(f"HTTP 200 with an error body: {text}", retryable=bool(_TRANSIENT_ERROR.search(words)))
    return data


def token_count(usage: Any, key: str, repairs: list[str]) -> int:
    """One usage number, sanitised: missing/odd/negative/absurd -> 0 (and a note unless missing)."""
    value = usage.get(key) if isinstance(usage, dict) else None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0 or value > MAX_TOKENS_PER_CALL:
        repairs.append(f"usage.{key} was {_describe(value)}; stored 0")
        return 0
    return int(value)


# what a chat template may add around the text, in tokens: role markers per message, a default
# system preamble (Llama 3's names a knowledge cut-off date), a generation prompt
TEMPLATE_TOKENS, TEMPLATE_TOKENS_PER_MESSAGE = 512, 32


def plausible_usage(turn: TurnResult, sent: list[str], max_output: int | None, params_text: str = "") -> None:
    """Clamp the usage a server reported to what the call could have used, with a note: input tokens
    to the bytes of the text sent (every tokenizer in use makes at most one token per UTF-8 byte,
    byte-level BPE and SentencePiece with byte fallback alike) plus a chat template's tokens; output
    tokens to the request's `max_tokens` when it set one (a reasoning model's hidden tokens count
    within it too), plus the bytes of the thinking a server sent apart from the text: DeepSeek's
    `deepseek-reasoner` documented `max_tokens` as "the final response after the CoT", the CoT up to
    32K more. Found by a hostile-reply fuzz: one reply claiming 9,999,999 tokens, within the
    absurd-count cap, priced a sweep at $41 more; the cost estimate is only as good as these counts.
    `params_text`: the request's params as JSON, whose tools and schemas the server puts in the prompt."""
    most_in = sum(len(text.encode("utf-8", "replace")) for text in sent) + TEMPLATE_TOKENS \
        + TEMPLATE_TOKENS_PER_MESSAGE * len(sent) + len(params_text.encode("utf-8", "replace"))
    if turn.input_tokens > most_in:
        turn.repairs.append(f"usage: {turn.input_tokens:,} input tokens is more than the {most_in:,} the request "
                            f"could make; stored {most_in:,}")
        turn.input_tokens = most_in
    if max_output is None:
        return
    most_out = max_output + len(turn.reasoning.encode("utf-8", "replace"))
    if turn.output_tokens > most_out:
        within = f"max_tokens ({max_output:,})" if most_out == max_output else \
            f"max_tokens ({max_output:,}) plus the {most_out - max_output:,} bytes of thinking sent"
        turn.repairs.append(f"usage: {turn.output_tokens:,} output tokens is more than {within}; stored {most_out:,}")
        turn.output_tokens = most_out


OUTPUT_CAPS = ("max_tokens", "max_completion_tokens", "max_output_tokens", "n_predict")


def output_bound(params: dict[str, Any]) -> int | None:
    """The request's cap on output tokens, if its params set one (the name depends on the API and
    the server): the largest of the caps the body sends (`extra_body`'s keys go into the body over
    the params', and servers differ in which of two caps wins: llama-server takes `n_predict` over
    `max_tokens`, vLLM `max_completion_tokens`), None when one is not a positive integer (-1: none)."""
    extra = params.get("extra_body")
    body = {**params, **(extra if isinstance(extra, dict) else {})}
    caps = [body[key] for key in OUTPUT_CAPS if key in body]
    if not caps or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in caps):
        return None
    return max(caps)


def _stop_reason(value: Any) -> str | None:
    return clean_text(value, limit=64)[0] if isinstance(value, str) else None


def _served_model(value: Any) -> str | None:
    """The reply's `model`: the snapshot an alias resolved to (OpenAI, Anthropic) or the weights file
    a local server loaded (llama-server: its path, or its `--alias`). The request's model name does
    not say it: llama-server ignores that name, so a restart with another file answered the same
    requests under the same name."""
    return clean_text(value.strip(), limit=200)[0] if isinstance(value, str) and value.strip() else None


def _reasoning(message: dict[str, Any]) -> Any:
    """The thinking an OpenAI-compatible server sends apart from the content: `reasoning_content`
    (llama-server, whose default `--reasoning-format auto` moves a thinking model's `<think>` out of
    the content; DeepSeek's API; vLLM's reasoning parsers) or `reasoning` (vLLM's newer field,
    Ollama, OpenRouter). It is the hidden reasoning this tool audits: dropped, a Qwen3 or R1 sweep
    had no scratchpad anywhere, and a reply cut off while thinking was stored as an empty one."""
    found = message.get("reasoning_content")
    return found if isinstance(found, str) and found.strip() else message.get("reasoning")


def _finish(text: str, repairs: list[str], usage: Any, keys: tuple[str, str], stop: Any, served: Any,
            reasoning: Any = None) -> TurnResult:
    if "\ufffd" in text:  # the HTTP layer decodes invalid UTF-8 to U+FFFD: say so
        repairs.append(f"{text.count(chr(0xFFFD))} U+FFFD character(s) in the text (invalid UTF-8 from the server?)")
    text, notes = clean_text(text)
    repairs.extend(notes)
    if usage is None:
        repairs.append("no usage in the reply; tokens stored as 0")
    elif not isinstance(usage, dict):
        repairs.append(f"usage was {_describe(usage)}; stored 0")
    thought = ""
    if isinstance(reasoning, str) and reasoning.strip():
        thought, notes = clean_text(reasoning)
        repairs.extend(f"reasoning: {note}" for note in notes)
    return TurnResult(text, token_count(usage, keys[0], repairs), token_count(usage, keys[1], repairs),
                      _stop_reason(stop), repairs, _served_model(served), thought)


def _text_parts(parts: list[Any], where: str, repairs: list[str]) -> str:
    """Join the text of a content list; say what else it held."""
    texts = [p["text"] for p in parts if isinstance(p, dict) and p.get("type", "text") == "text"
             and isinstance(p.get("text"), str)]
    odd = sum(1 for p in parts if not isinstance(p, dict) or p.get("type", "text") == "text"
              and not isinstance(p.get("text"), str))
    # an array is normal for anthropic (thinking and tool blocks are skipped silently), not for openai
    if odd or where == "message.content":
        repairs.append(f"{where} was an array of {len(parts)} part(s)"
                       + (f", {odd} of them not text blocks" if odd else "") + f"; joined {len(texts)} text part(s)")
    return "".join(texts)


def openai_turn(body_text: Any) -> TurnResult:
    """A chat-completions body -> text of the first choice, usage, finish reason."""
    data = parse_body(body_text)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise malformed("no choices" if choices is None or choices == [] else f"choices is {_describe(choices)}")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise malformed(f"choices[0] is {_describe(choice)}")
    message = choice.get("message")
    if not isinstance(message, dict):
        raise malformed("choices[0] has no message" if message is None else f"choices[0].message is {_describe(message)}")
    repairs: list[str] = []
    content = message.get("content")
    if isinstance(content, str) and (content or not isinstance(message.get("refusal"), str)):
        text = content
    elif content is None or content == "":
        # no text: a content filter, a tool call, a refusal field; stored as an empty reply
        refusal = message.get("refusal")
        text = refusal if isinstance(refusal, str) else ""
        repairs.append(f"message.content was {'empty' if content == '' else 'null'}"
                       + (" (the refusal field is stored as the text)" if text else "")
                       if "content" in message else "message had no content")
    elif isinstance(content, list):
        text = _text_parts(content, "message.content", repairs)
    else:
        raise malformed(f"message.content is {_describe(content)}, not text")
    return _finish(text, repairs, data.get("usage"), ("prompt_tokens", "completion_tokens"), choice.get("finish_reason"),
                   data.get("model"), _reasoning(message))


def anthropic_turn(body_text: Any) -> TurnResult:
    """A Messages API body -> the joined text blocks, usage, stop reason."""
    data = parse_body(body_text)
    content = data.get("content")
    repairs: list[str] = []
    if isinstance(content, list):
        text = _text_parts(content, "content", repairs)
    elif isinstance(content, str):  # some compatible servers send a bare string
        text = content
        repairs.append("content was a string, not an array of blocks")
    elif content is None:
        raise malformed("no content")
    else:
        raise malformed(f"content is {_describe(content)}, not an array of blocks")
    # extended thinking: `thinking` blocks beside the text (redacted ones hold nothing readable)
    thinking = [b["thinking"] for b in content if isinstance(b, dict) and b.get("type") == "thinking"
                and isinstance(b.get("thinking"), str)] if isinstance(content, list) else []
    turn = _finish(text, repairs, data.get("usage"), ("input_tokens", "output_tokens"), data.get("stop_reason"),
                   data.get("model"), "\n\n".join(thinking))
    # with prompt caching `input_tokens` is only the uncached rest: the tokens read from or written to
    # the cache are reported apart (llama-server: a 600-token prompt recorded as 1 token)
    turn.input_tokens += sum(token_count(data.get("usage"), key, turn.repairs) for key in ANTHROPIC_CACHE_TOKENS)
    return turn


ANTHROPIC_CACHE_TOKENS = ("cache_read_input_tokens", "cache_creation_input_tokens")
