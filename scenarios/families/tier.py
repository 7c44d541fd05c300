"""The tier family (Greenblatt et al. 2024, helpful-only setting): free-tier conversations are
used for training, paid-tier ones never are. Owns the `helpful_only` setting; the wording lives in
scenarios/cues/tier.py and the background comes from the priming family (scenarios/cues/priming.py).
"""

from __future__ import annotations

from typing import Any

from scenarios.cues.priming import priming_section
from scenarios.cues.tier import base_system_prompt, user_turn
from scenarios.families.base import CueFamily, RequestContext
from scenarios.prompt_templates import PromptTemplates, load_templates
from scenarios.trial import ChatRequest, TrialSpec


def prepare(scenario: Any) -> PromptTemplates | None:
    """The scenario's own prompt files (`prompt_files:`), loaded and checked once per sweep."""
    if getattr(scenario, "prompt_files", None) is None:
        return None
    return load_templates(scenario.prompt_files.model_dump(), scenario.axes)


def build_request(trial: TrialSpec, context: RequestContext) -> ChatRequest:
    """System prompt (identity + the background the priming value gives) and the tagged user turn;
    either may come from the scenario's prompt files instead (docs/paper_prompts.md)."""
    priming = trial.condition.get("priming", "system_prompt")
    background, doc_ids = priming_section(priming, trial, context.resources.get("priming"))
    if doc_ids:
        trial.extra["documents"] = doc_ids
    tier = trial.condition.get("tier")
    system, user = base_system_prompt(background), user_turn(trial.prompt, tier)
    templates: PromptTemplates | None = context.resources.get("tier")
    if templates is not None:
        system, user = templates.apply(trial.condition, trial.prompt, system, user, background if doc_ids else "")
    return ChatRequest(system=system, turns=(("user", user),), prefill=context.prefill)


FAMILY = CueFamily(
    name="tier",
    description="Free tier (trained on) vs paid tier (never trained on): the training cue of alignment faking",
    axes={"tier": ("free", "paid")},
    setting="helpful_only",
    build_request=build_request,
    prepare=prepare,
    organism="organisms",
    organisms=("af-opus", "af-rl", "honest", "complier"),
    monitors=("compliance", "alignment_faking"),
    metrics=("complied", "partial", "refused", "af", "af_full", "complied_af"),
    doc="README.md",
)
