"""The trial record (DESIGN §4): one per trial, the unit the store, exports and reports share."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from monitors.types import ParsedReply, Verdict
from runners.providers.base import ModelReply
from scenarios.trial import TrialSpec


def parsed_of(record: dict[str, Any], setting: str) -> ParsedReply:
    """A stored record's reply as the monitors read it (runners.rescore, runners/rejudge.py)."""
    reply = record["reply"]
    return ParsedReply(
        raw=reply.get("raw") or "",
        scratchpad=reply.get("scratchpad") or "",
        output=reply.get("output") or "",
        accepted=reply.get("accepted"),
        status=reply.get("parse_status") or "error",
        setting=setting,
    )


def trial_of(record: dict[str, Any], trial: TrialSpec) -> TrialSpec:
    """`trial` (the sweep's plan of a stored record) with what its run kept for the monitors that
    read the trial (`trial.extra`), as the run had it: the first reply of a two-turn trial, which
    pushback compares with the final one (runners/rejudge.py). A record stored before `first_raw`
    was kept gives the answer the second request showed the model (the first reply's visible
    output, the part pushback reads)."""
    first = record["reply"].get("first_raw")
    if first is None:
        messages = (record.get("request") or {}).get("messages") or []
        roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
        if len(roles) >= 3 and roles[-2:] == ["assistant", "user"]:
            first = messages[-2].get("content")
    if not isinstance(first, str):
        return trial
    return replace(trial, extra={**trial.extra, "first_reply": first})


def make_record(
    trial: TrialSpec,
    reply: ModelReply,
    parsed: ParsedReply,
    verdicts: dict[str, Verdict],
    *,
    system_ref: str,
    params: dict[str, Any],
    request_hash: str | None,
    cost_usd: float,
    simulated: bool,
    supervision: dict[str, Any] | None = None,
) -> dict[str, Any]:
    assert trial.request is not None
    return {
        "run_id": trial.run_id,
        "scenario": trial.scenario,
        "model": trial.model,
        "simulated": simulated,
        "condition": trial.condition,
        "condition_key": trial.condition_key,
        "prompt_id": trial.prompt_id,
        "category": trial.category,
        "prompt": trial.prompt,
        "sample": trial.sample,
        "seed": trial.seed,
        "key": trial.key,
        "request": {
            "system_ref": system_ref,  # the system prompt, stored once in the store's texts table
            "messages": trial.request.messages(),
            "prefill": trial.request.prefill,
            "params": params,
            "hash": request_hash,
            "planned_hash": trial.extra.get("planned_hash"),  # the first call's: runners/reuse.py
            "documents": trial.extra.get("documents"),
        },
        "reply": {
            "raw": reply.text,
            "scratchpad": parsed.scratchpad,
            "output": parsed.output,
            "accepted": parsed.accepted,
            "parse_status": parsed.status,
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "latency_s": round(reply.latency_s, 4),
            "turns": reply.turns,
            "stop_reason": reply.stop_reason,  # of the last turn; `length`/`max_tokens`: cut off
            "truncated": reply.truncated_turns > 0,
            "attempts": reply.attempts,
            "cached": reply.cached,
            "endpoint": reply.endpoint,
            "served_model": reply.served_model,  # the reply's `model` (ModelReply.served_model)
            "cost_usd": cost_usd,
            "error": reply.error,
            "repairs": reply.repairs,  # what was done to the reply to store it (runners/safe_text.py)
            "first_raw": trial.extra.get("first_reply"),  # of a two-turn trial (pushback), else None
        },
        "monitors": {name: verdict.as_dict() for name, verdict in verdicts.items()},
        "supervision": supervision,
        "ground_truth": reply.ground_truth,
        "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
