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


def tiered_request(trial: TrialSpec, context: RequestContext, background: str, doc_ids: list[str],
                   user: str, templates: PromptTemplates | None) -> ChatRequest:
    """The request of a setting told apart by tier (helpful-only, animal welfare): identity plus
    `background` as the system prompt, `user` as the turn, the documents read recorded on the trial,
    and either replaced by the scenario's prompt files when it has them (docs/paper_prompts.md)."""
    if doc_ids:
        trial.extra["documents"] = doc_ids
    system = base_system_prompt(background)
    if templates is not None:
        system, user = templates.apply(trial.condition, trial.prompt, system, user, background if doc_ids else "")
    return ChatRequest(system=system, turns=(("user", user),), prefill=context.prefill)


def build_request(trial: TrialSpec, context: RequestContext) -> ChatRequest:
    """System prompt (identity + the background the priming value gives) and the tagged user turn."""
    priming = trial.condition.get("priming", "system_prompt")
    background, doc_ids = priming_section(priming, trial, context.resources.get("priming"))
    user = user_turn(trial.prompt, trial.condition.get("tier"))
    return tiered_request(trial, context, background, doc_ids, user, context.resources.get("tier"))


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
