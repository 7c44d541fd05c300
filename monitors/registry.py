"""Resolve the scenario's `monitors:` section to code: `heuristic` (embedded, offline) or an LLM
judge named `provider/model`. One registry, so a typo is one clear error in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitors.alignment_faking import classify_alignment_faking_batch
from monitors.compliance import classify_compliance
from monitors.supervisor_gaming import classify_supervisor_gaming
from monitors.types import ParsedReply, Verdict
from scenarios.schema import ScenarioError

EMBEDDED = ("heuristic", "embedded")


@dataclass
class MonitorSuite:
    """Runs the configured monitors over a batch of parsed replies."""

    backends: dict[str, str]
    judges: dict[str, Callable] = field(default_factory=dict)  # name -> async judge (LLM backends)

    async def classify_batch(self, parsed: list[ParsedReply]) -> list[dict[str, Verdict]]:
        results: list[dict[str, Verdict]] = [{} for _ in parsed]
        compliance = [classify_compliance(reply) for reply in parsed]
        if "compliance" in self.backends:
            for verdicts, verdict in zip(results, compliance, strict=True):
                verdicts["compliance"] = verdict
        if "alignment_faking" in self.backends and "alignment_faking" not in self.judges:
            # one vectorised call for the whole batch (the embedded model scores many at once)
            labels = [c.label if reply.output.strip() else None for reply, c in zip(parsed, compliance, strict=True)]
            for verdicts, verdict in zip(results, classify_alignment_faking_batch(parsed, labels), strict=True):
                verdicts["alignment_faking"] = verdict
        if "supervisor_gaming" in self.backends and "supervisor_gaming" not in self.judges:
            for verdicts, reply in zip(results, parsed, strict=True):
                verdicts["supervisor_gaming"] = classify_supervisor_gaming(reply)
        for name, judge in self.judges.items():
            judged = await judge(parsed)
            for verdicts, verdict in zip(results, judged, strict=True):
                verdicts[name] = verdict
        return results

    def judge_providers(self) -> list:
        """The providers the LLM judges call (for the sweep's preflight)."""
        return [p for judge in self.judges.values() for p in getattr(judge, "providers", [])]

    async def aclose(self) -> None:
        for judge in self.judges.values():
            if hasattr(judge, "aclose"):
                await judge.aclose()


def uses_judges(config: dict) -> bool:
    """Whether any monitor of a scenario's `monitors:` section is an LLM judge (needs the call cache)."""
    return any(not (isinstance(b, str) and b in EMBEDDED) for b in config.values())


def build_suite(config: dict, judge_factory: Callable[[str, Any], Callable] | None = None) -> MonitorSuite:
    """`judge_factory(monitor_name, backend)` builds an LLM judge; None means offline only.
    A backend is `heuristic`/`embedded`, `provider/model`, or a `scenarios.schema.JudgeSpec`."""
    judges = {}
    for name, backend in config.items():
        if isinstance(backend, str) and backend in EMBEDDED:
            continue
        if isinstance(backend, str) and "/" not in backend:
            raise ScenarioError(f"monitors.{name}: unknown backend {backend!r}; expected 'heuristic' or provider/model")
        if judge_factory is None:
            raise ScenarioError(f"monitors.{name}: LLM-judge backends are not available in this command")
        judges[name] = judge_factory(name, backend)
    labels = {name: getattr(judges.get(name), "backend", b if isinstance(b, str) else "judge") for name, b in config.items()}
    return MonitorSuite(labels, judges)
