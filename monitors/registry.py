"""Resolve the scenario's `monitors:` section to code: `heuristic` (embedded, offline) or an LLM
judge named `provider/model`. One registry, so a typo is one clear error in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from monitors.alignment_faking import classify_alignment_faking
from monitors.compliance import classify_compliance
from monitors.types import ParsedReply, Verdict
from scenarios.schema import ScenarioError

EMBEDDED = ("heuristic", "embedded")


@dataclass
class MonitorSuite:
    """Runs the configured monitors over a batch of parsed replies."""

    backends: dict[str, str]
    judges: dict[str, Callable] = field(default_factory=dict)  # name -> async judge (LLM backends)

    async def classify_batch(self, parsed: list[ParsedReply]) -> list[dict[str, Verdict]]:
        results: list[dict[str, Verdict]] = []
        for reply in parsed:
            verdicts: dict[str, Verdict] = {}
            compliance = classify_compliance(reply)
            if "compliance" in self.backends:
                verdicts["compliance"] = compliance
            if "alignment_faking" in self.backends and "alignment_faking" not in self.judges:
                label = compliance.label if reply.output.strip() else None
                verdicts["alignment_faking"] = classify_alignment_faking(reply, label)
            results.append(verdicts)
        for name, judge in self.judges.items():
            judged = await judge(parsed)
            for verdicts, verdict in zip(results, judged, strict=True):
                verdicts[name] = verdict
        return results


def build_suite(config: dict[str, str], judge_factory: Callable[[str, str], Callable] | None = None) -> MonitorSuite:
    """`judge_factory(monitor_name, backend)` builds an LLM judge; None means offline only."""
    judges = {}
    for name, backend in config.items():
        if backend in EMBEDDED:
            continue
        if "/" not in backend:
            raise ScenarioError(f"monitors.{name}: unknown backend {backend!r}; expected 'heuristic' or provider/model")
        if judge_factory is None:
            raise ScenarioError(f"monitors.{name}: LLM-judge backends are not available in this command")
        judges[name] = judge_factory(name, backend)
    return MonitorSuite(dict(config), judges)
