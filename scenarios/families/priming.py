"""The priming family: how the model learns what the tiers mean (system prompt, synthetic
documents in context, or not at all). The wording and the document picker live in
scenarios/cues/priming.py; the tier family's request reads this axis for its background.
"""

from __future__ import annotations

from typing import Any

from scenarios.cues.priming import DocumentPicker
from scenarios.families.base import CueFamily


def prepare(scenario: Any) -> DocumentPicker | None:
    """The sweep's document picker, when some condition primes with synthetic documents."""
    if "synthetic_documents" in scenario.axes.get("priming", []):
        return DocumentPicker(scenario.documents, scenario.seed)
    return None


FAMILY = CueFamily(
    name="priming",
    description="How the tier semantics reach the model: stated, conveyed by documents in context, or not at all",
    axes={"priming": ("system_prompt", "synthetic_documents", "none")},
    prepare=prepare,
    report_section="priming",
    doc="README.md",
)
