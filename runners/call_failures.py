"""One line per model whose calls mostly failed for one reason ("openai/gpt-4o: 18/18 calls
failed: 401 invalid API key").

Why: a wrong key or model name fails every call the same way, and the figures of such a model are
empty: the terminal showed `nan%` rows and the report "no gaps configured", leaving the user to
dig the cause out of trials.csv. The reason is reduced to what the user can act on (status code
and meaning); the error texts are already redacted (runners/providers/errors.py).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from runners.providers.errors import CONTEXT_EXCEEDED
from runners.safe_text import printable

_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_MEANING = {
    400: "bad request",
    401: "invalid API key",
    402: "payment required",
    403: "permission denied",
    404: "model or endpoint not found",
    408: "request timeout",
    413: "request too large",
    422: "request rejected",
    429: "rate limited",
    529: "overloaded",
}


def failure_reason(error: str) -> str:
    """The actionable part of a stored error message: `401 invalid API key`, `timed out`, ..."""
    text = str(error)
    if "quota/spend cap" in text:
        return "429 quota or spend cap reached"
    if "malformed reply" in text:  # "malformed reply: HTTP 200 with ...": the server answered, wrongly
        return "malformed reply" + (": HTTP 200 with an error body" if "error body" in text else "")
    if match := _STATUS.search(text):
        status = int(match.group(1))
        # fixed on the server (llama-server -c / -np) or in max_tokens, not by retrying
        if status == 400 and CONTEXT_EXCEEDED.search(text):
            return "400 prompt longer than the model's context"
        return f"{status} {_MEANING.get(status, 'server error' if status >= 500 else 'client error')}"
    lowered = text.lower()
    if lowered.startswith("timeout") or "timed out" in lowered:
        return "timed out"
    if lowered.startswith("connection"):
        return "connection failed"
    return printable(text.splitlines()[0][:80]) if text else "unknown error"  # printed on the terminal


def call_failures(frame: pd.DataFrame, share: float = 0.5) -> list[dict[str, Any]]:
    """Models whose most common failure reason covers more than `share` of their trials."""
    if not len(frame) or "error" not in frame or "parse_status" not in frame:
        return []
    failures = []
    errors = frame[frame["parse_status"] == "error"]
    totals = frame.groupby("model").size()
    for model, group in errors.groupby("model", sort=True):
        reasons = group["error"].fillna("").map(failure_reason).value_counts()
        reason, count = str(reasons.index[0]), int(reasons.iloc[0])
        total = int(totals[model])
        if count > share * total:
            some = f" ({count} of them)" if count < len(group) else ""
            failures.append({"model": str(model), "failed": int(len(group)), "trials": total, "reason": reason,
                             "line": f"{model}: {len(group)}/{total} calls failed: {reason}{some}"})
    return failures
