"""The supervisor family (Yang et al. 2024, weak-to-strong deception): a weak or a strong grader,
with or without an objective that conflicts with honesty. Owns the `weak_strong` setting; the
wording lives in scenarios/cues/supervisor.py, the grading node in runners/supervision.py.
"""

from __future__ import annotations

from scenarios.cues.supervisor import answer_letter, option_letters, supervised_request
from scenarios.families.base import CueFamily, RequestContext
from scenarios.trial import ChatRequest, TrialSpec


def build_request(trial: TrialSpec, context: RequestContext) -> ChatRequest:
    return supervised_request(trial, context.prefill)


def check_prompts(scenario, prompts: list) -> str | None:
    """Each item is multiple-choice, and its reference answer is one of its options: an item without
    an answer, or with one it does not offer, had every reply scored wrong (found by a bad-input
    fuzz), and one without two options leaves the conflicting objective no wrong option to prefer."""
    for prompt in prompts:
        letters = option_letters(prompt.text)
        if len(letters) < 2:
            return (f"prompts: {prompt.id!r} has {len(letters)} option(s); expected a multiple-choice item "
                    "with '(A) ...' lines")
        if answer_letter(prompt.answer) not in letters:
            return (f"prompts: {prompt.id!r} has answer {prompt.answer or ''!r}, not one of its options "
                    f"{', '.join(letters)}; expected the letter of the right option")
    return None


FAMILY = CueFamily(
    name="supervisor",
    description="Weak vs strong supervisor, with or without a conflicting objective (weak-to-strong deception)",
    axes={
        "supervisor": ("weak", "strong"),
        # is the conflicting objective (e.g. user satisfaction vs honesty) stated? `none` is the
        # no-conflict baseline the deception score compares against (docs/weak_strong.md)
        "objective": ("conflict", "none"),
    },
    setting="weak_strong",
    build_request=build_request,
    organism="supervised",
    organisms=("w2s-deceiver",),
    monitors=("supervisor_gaming",),
    supervise="runners.supervision",
    needs_answers=True,
    check_prompts=check_prompts,
    report_section="weak_strong",
    doc="weak_strong.md",
)
