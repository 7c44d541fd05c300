"""Resolve the scenario's `monitors:` section to code: `heuristic` (embedded, offline) or an LLM
judge named `provider/model`. One registry, so a typo is one clear error in one place."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
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
# the label of a verdict its monitor failed to make: a bug, met on one reply (`MonitorSuite._isolated`)
MONITOR_ERROR = "monitor_error"


@dataclass
class MonitorSuite:
    """Runs the configured monitors over a batch of parsed replies."""

    backends: dict[str, str]
    judges: dict[str, Callable] = field(default_factory=dict)  # name -> async judge (LLM backends)
    # name -> the digest of the settings its verdicts are made under (`Verdict.settings`), stamped on
    # each verdict here, in one place; None leaves a verdict unstamped (a judge without `settings`)
    settings: dict[str, str | None] = field(default_factory=dict)
    # (monitor name, the exception) of each verdict a monitor failed to make: for the run's crash log
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

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
        embedded: dict[str, list[Verdict]] = {}

        async def score(kind: str, at: list[int]) -> list[Verdict]:
            """The embedded monitor `kind`'s verdicts on the replies at positions `at`."""
            replies = [parsed[i] for i in at]
            if kind == "compliance":
                return [classify_compliance(reply) for reply in replies]
            if kind == "alignment_faking":
                # one vectorised call for the whole batch (the embedded model scores many at once)
                compliance = await embedded_of("compliance")
                labels = [compliance[i].label if parsed[i].output.strip() and compliance[i].label != MONITOR_ERROR
                          else None for i in at]
                return classify_alignment_faking_batch(replies, labels)
            if kind == "supervisor_gaming":
                return [classify_supervisor_gaming(reply) for reply in replies]
            monitor = family_monitors.module(kind)  # a monitor a cue family adds (monitors/family_monitors.py)
            if hasattr(monitor, "classify_trials"):
                return monitor.classify_trials(None if trials is None else [trials[i] for i in at], replies)
            return [monitor.classify(reply) for reply in replies]

        async def embedded_of(kind: str) -> list[Verdict]:
            if kind not in embedded:
                embedded[kind] = await self._isolated(kind, TAG, lambda at: score(kind, at), len(parsed))
            return embedded[kind]

        for name in self.backends:
            if name not in self.judges and (names is None or name in names):
                for verdicts, verdict in zip(results, await embedded_of(monitor_kind(name)), strict=True):
                    verdicts[name] = verdict
        for name, judge in self.judges.items():
            if names is not None and name not in names:
                continue
            # an LLM judge's votes are cached by request: judging a reply again after a failed batch pays nothing twice
            judged = await self._isolated(name, self.backends[name], lambda at, j=judge: j([parsed[i] for i in at]),
                                          len(parsed))
            for verdicts, verdict in zip(results, judged, strict=True):
                verdicts[name] = verdict
        return results

    async def _isolated(self, name: str, backend: str, score: Callable[[list[int]], Awaitable[list[Verdict]]],
                        n: int) -> list[Verdict]:
        """`score` of the whole batch (positions 0..n-1); when it raises, reply by reply, so that a reply
        that breaks a monitor (a bug) costs that reply's verdict, not its batch — and with it the
        sweep, since every re-run met the same reply and stopped there (a hostile-reply fuzz found
        one: a judge verdict holding a 5,000-digit number). A bad input (ScenarioError) is not a bug
        and still stops the command."""
        try:
            return await score(list(range(n)))
        except ScenarioError:
            raise
        except Exception as exc:
            if n == 1:
                return [self._failed(name, backend, exc)]
        out: list[Verdict] = []
        for i in range(n):
            try:
                out += await score([i])
            except ScenarioError:
                raise
            except Exception as exc:
                out.append(self._failed(name, backend, exc))
        return out

    def _failed(self, name: str, backend: str, exc: Exception) -> Verdict:
        """The verdict a monitor failed to make: labelled MONITOR_ERROR, never flagged; the sweep
        stores the trial, exits 4 naming the monitor, and a re-run scores it again (runners/rejudge.py)."""
        self.failures.append((name, exc))
        message = next(iter(str(exc).splitlines()), "")[:200]
        return Verdict(MONITOR_ERROR, 0.0, [], f"the monitor failed on this reply ({type(exc).__name__}"
                       f"{': ' + message if message else ''}): a bug in afsim, not a verdict", backend,
                       flag=False, abstained=True)

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


def kept_name(name: str, backend_label: str, taken: set[str]) -> str:
    """Where the previous verdicts of a monitor scored again with another backend go:
    `kind@was-<backend>`, made unique. They were paid for (a judge's votes) and the report shows how
    far the two backends agree, so they are kept, under a name no figure reads."""
    base = f"{monitor_kind(name)}@was-{_slug(backend_label)}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "previous"


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
