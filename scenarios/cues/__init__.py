"""The wording of the original cue families: `tier` (free/paid and the situation description),
`priming` (how the model learns what the tiers mean), `supervisor` (who grades).

Each family's declaration, and the registry that composes a trial's request, live in
scenarios/families/; these modules hold the text those families send.
"""

from __future__ import annotations

from scenarios.cues.priming import DocumentPicker
from scenarios.cues.tier import SITUATION_HELPFUL_ONLY

__all__ = ["DocumentPicker", "SITUATION_HELPFUL_ONLY"]
