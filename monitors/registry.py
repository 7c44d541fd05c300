"""Resolve the scenario's `monitors:` section to code: `heuristic` (embedded, offline) or an LLM
judge named `provider/model`. One registry, so a typo is one clear error in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitors import family_monitors
from monitors.alignment_faking import classify_alignment_faking_batch, model_digest
from monitors.code_digest import code_digest
from monitors.compliance import classify_compliance
from monitors.parse import for_monitors
from monitors.supervisor_gaming import classify_supervisor_gaming
from monitors.types import ParsedReply, Verdict
from scenarios.schema import EMBEDDED_BACKENDS, ScenarioError, backend_problem
from scenarios.trial import stable_hash

EMBEDDED = EMBEDDED_BACKENDS
TAG = "embedded"  # the backend tag an embedded monitor's verdicts carry (`heuristic` is its old name)


@dataclass
class MonitorSuite:
    """Runs the configured monitors over a batch of parsed replies."""

    backends: dict[str, str]
    judges: dict[str, Callable] = field(default_factory=dict)  # name -> async judge (LLM backends)
    # name -> the digest of the settings its verdicts are made under (`Verdict.settings`), stamped on
    # each verdict here, in one place; None leaves a verdict unstamped (a judge without `settings`)
    settings: dict[str, str | None] = field(default_factory=dict)

    async def classify_batch(self, parsed: list[ParsedReply], trials: list | None = None,
                             names: set[str] | None = None) -> list[dict[str, Verdict]]:
        """`trials` (the batch's TrialSpecs) for family monitors that score against the trial;
        `names`: only these monitors (a stored reply scored again, runners/rejudge.py)."""
        results = await self._classify(parsed, trials, names)
        for verdicts in results:
            for name, verdict in verdicts.items():
                if (settings := self.settings.get(name)) is not None:
                    verdict.settings = settings
        return results

    async def _classify(self, parsed: list[ParsedReply], trials: list | None,
                        names: set[str] | None) -> list[dict[str, Verdict]]:
        parsed = [for_monitors(reply) for reply in parsed]  # a bounded cost per reply
        results: list[dict[str, Verdict]] = [{} for _ in parsed]
        embedded: dict[str, list[Verdict]] = {"compliance": [classify_compliance(reply) for reply in parsed]}

        def embedded_of(kind: str) -> list[Verdict]:
            if kind not in embedded:
                if kind == "alignment_faking":
                    # one vectorised call for the whole batch (the embedded model scores many at once)
                    labels = [c.label if reply.output.strip() else None
                              for reply, c in zip(parsed, embedded["compliance"], strict=True)]
                    embedded[kind] = classify_alignment_faking_batch(parsed, labels)
                elif kind == "supervisor_gaming":
                    embedded[kind] = [classify_supervisor_gaming(reply) for reply in parsed]
                else:  # a monitor a cue family adds (monitors/family_monitors.py)
                    monitor = family_monitors.module(kind)
                    if hasattr(monitor, "classify_trials"):
                        embedded[kind] = monitor.classify_trials(trials, parsed)
                    else:
                        embedded[kind] = [monitor.classify(reply) for reply in parsed]
            return embedded[kind]

        for name in self.backends:
            if name not in self.judges and (names is None or name in names):
                for verdicts, verdict in zip(results, embedded_of(monitor_kind(name)), strict=True):
                    verdicts[name] = verdict
        for name, judge in self.judges.items():
            if names is not None and name not in names:
                continue
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


def embedded_settings(kind: str) -> str:
    """The `settings` digest of an embedded monitor's verdicts: its name, its code (with the reply
    parsing every monitor reads through, and for alignment faking the compliance label it is given,
    `MonitorSuite._classify`) and, for alignment faking, the model file it scores with."""
    model = model_digest() if kind == "alignment_faking" else ""
    extra = ("monitors.compliance",) if kind == "alignment_faking" else ()
    code = code_digest(f"monitors.{kind}", "monitors.parse", *extra)
    return stable_hash("embedded", kind, model, code)[:16]


def monitor_kind(name: str) -> str:
    """`alignment_faking@judge` is a second opinion of the `alignment_faking` monitor: it runs
    with its own backend and is stored under its own name, so the report can show how far two
    backends agree on the same trials; the figures (rates, gaps) use the plain name."""
    return name.partition("@")[0]


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
        if isinstance(backend, str) and (problem := backend_problem(backend)):
            raise ScenarioError(f"monitors.{name}: {problem}")
        if judge_factory is None:
            raise ScenarioError(f"monitors.{name}: LLM-judge backends are not available in this command")
        judges[name] = judge_factory(monitor_kind(name), backend)
    # `heuristic` is the old name of the embedded backend: one name in every file the run writes
    labels = {name: getattr(judges.get(name), "backend", TAG if b in EMBEDDED else b if isinstance(b, str) else "judge")
              for name, b in config.items()}
    settings = {name: getattr(judges[name], "settings", None) if name in judges else embedded_settings(monitor_kind(name))
                for name in config}
    return MonitorSuite(labels, judges, settings)
