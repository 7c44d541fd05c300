"""Cue builders: how each axis value of a condition turns into the messages a model reads.

Each cue family reads top to bottom in its own module: `tier` (free/paid and the situation
description), `priming` (how the model learns what the tiers mean), `supervisor` (who grades).
`build_request` composes them for one trial.
"""

from __future__ import annotations

from scenarios.cues.priming import DocumentPicker, priming_section
from scenarios.cues.tier import SITUATION_HELPFUL_ONLY, base_system_prompt, user_turn
from scenarios.trial import ChatRequest, TrialSpec

__all__ = ["DocumentPicker", "SITUATION_HELPFUL_ONLY", "build_request"]


def build_request(trial: TrialSpec, documents: DocumentPicker | None, prefill: str | None = None) -> ChatRequest:
    """The exact request for one trial, from its condition's cues."""
    if trial.setting == "weak_strong":
        from scenarios.cues.supervisor import supervised_request

        return supervised_request(trial, prefill)
    priming = trial.condition.get("priming", "system_prompt")
    background, doc_ids = priming_section(priming, trial, documents)
    if doc_ids:
        trial.extra["documents"] = doc_ids
    system = base_system_prompt(background)
    tier = trial.condition.get("tier")
    return ChatRequest(system=system, turns=(("user", user_turn(trial.prompt, tier)),), prefill=prefill)
