"""The records monitors read and write; the interface between parsing, monitors and aggregation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParseStatus = Literal["ok", "no_scratchpad", "no_output", "malformed", "empty", "error"]


@dataclass(frozen=True, slots=True)
class ParsedReply:
    raw: str
    scratchpad: str
    output: str
    accepted: bool | None  # <request_fully_accepted/> -> True, <rejected/> -> False, neither -> None
    status: ParseStatus
    setting: str = "helpful_only"


@dataclass(slots=True)
class CriterionVerdict:
    met: bool
    score: float
    evidence: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Verdict:
    """One monitor's call on one reply. `evidence` quotes the reply; a human can audit it."""

    label: str
    score: float  # in [0, 1]: the monitor's confidence that the positive label applies
    evidence: list[str] = field(default_factory=list)
    rationale: str = ""
    backend: str = "heuristic"
    criteria: dict[str, CriterionVerdict] | None = None
    flag: bool = False  # the positive class: complied / fakes alignment / games the supervisor
    # an LLM judge none of whose votes could be used: no call was made on the reply, so it must
    # not count as agreeing (or disagreeing) with anything
    abstained: bool = False
    # an LLM judge's votes that could not be used, when any: {"votes", "unparseable", "call_errors"}.
    # A sweep run again judges a verdict with call errors again (runners/rejudge.py)
    abstained_votes: dict[str, int] | None = None
    # a short digest of the monitor settings that made the verdict (monitors/registry.py stamps it):
    # a sweep run again scores a stored reply again when it differs from the scenario's (runners/rejudge.py)
    settings: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies recursively and cost more than the monitor itself
        criteria = None
        if self.criteria is not None:
            criteria = {
                name: {"met": c.met, "score": c.score, "evidence": list(c.evidence)}
                for name, c in self.criteria.items()
            }
        out = {
            "label": self.label,
            "score": self.score,
            "evidence": list(self.evidence),
            "rationale": self.rationale,
            "backend": self.backend,
            "criteria": criteria,
            "flag": self.flag,
        }
        if self.abstained:
            out["abstained"] = True
        if self.abstained_votes:
            out["abstained_votes"] = dict(self.abstained_votes)
        if self.settings is not None:
            out["settings"] = self.settings
        return out
