"""Run a sweep: plan the trials, run the missing ones through the scenario graph, write the run folder.

The run folder is keyed by the scenario (`runs/<name>/` unless `--output`), so running the same
command again finds the stored trials by key and only runs what is missing: a re-run makes no
model calls, a killed run resumes. `--fresh` deletes the store first. A reused trial whose LLM-judge
verdict had failed calls, or whose verdict was made under other monitor settings, is scored again from
its stored reply (runners/rejudge.py).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from monitors.aggregate import counted_columns, summarise
from monitors.judge import MAX_ABSTAINED_SHARE, Tally, check_judge_prompts, judge_providers_of
from monitors.parse import parse_reply
from monitors.registry import MONITOR_ERROR, build_suite, uses_judges
from runners import atomic, folder_lock
from runners.af_labels import META as AF_LABELS
from runners.af_labels import stored_validation
from runners.audit import evaluate as evaluate_audit
from runners.axis_effects import check_effects
from runners.call_failures import call_failures
from runners.calls import CallCache, CallCounters, CallLayer, RetryPolicy, request_hash
from runners.cli_errors import UsageError, write_crash_log
from runners.pricing import estimate_cost, price_table
from runners.progress import Progress
from runners.providers import Provider, make_provider, preflight
from runners.providers._remote import endpoint_identity
from runners.providers.sim.provider import check_organisms
from runners.records import make_record
from runners.rejudge import (
    RejudgeOutcome,
    current_settings,
    failed_judgements,
    rejudge,
    stale_verdicts,
    vote_counts,
)
from runners.reuse import changed_requests, real_models
from runners.served_models import served_models
from runners.shards import run_shards, shard_count, smallest_limit
from runners.store import STORE_NAME, ResultStore
from runners.store_warnings import keep_collected_table
from runners.trials_table import spreadsheet_safe, write_trials_parquet
from scenarios.families import active_families
from scenarios.graph import BatchState, TrialContext, build_trial_graph
from scenarios.output_targets import REPORT_FILE, RUN_FILES, check_run_outputs
from scenarios.prompt_sets import Prompt, limit_note, load_prompts
from scenarios.prompt_templates import files_digest
from scenarios.schema import ModelSpec, Scenario, ScenarioError, parse_scenario
from scenarios.trial import TrialSpec, conditions_of, stable_hash

VERSION = "0.1.0"
# trials in flight per call slot (API sweeps): a batch waits for its slowest call, so a retrying or
# timed-out call must not idle the slots. 2,000 calls at 20% faults (benchmarks/api_sweep.py):
# 4x the limit 4.6x the ideal, 8x 3.4x, 16x 2.8x, 32x 3.1x
WINDOW = 16
# young-generation threshold while trials run (Python's default is 700): most objects of a call die
# by reference count before a collection would look at them; a 2,000-call sweep spent ~0.35 s in
# ~700 young collections at the default and ~0.05 s at this value
GC_YOUNG_THRESHOLD = 50_000


@dataclass
class SweepOptions:
    models: list[str] | None = None
    limit: int | None = None
    samples: int | None = None
    concurrency: int | None = None
    seed: int | None = None
    output: Path | None = None
    fresh: bool = False
    quiet: bool = False
    cache_dir: Path | None = None
    batch_size: int | None = None  # trials per graph invocation; default depends on the providers
    retry: RetryPolicy | None = None  # attempts/backoff of the call layer (tests shorten it)
    workers: int | None = None  # processes that run the trials (runners/shards.py); None: decide
    wait_lock: bool = False  # another sweep owns the run folder: wait for it instead of refusing


@dataclass
class SweepResult:
    run_dir: Path
    summary: dict[str, Any]
    planned: int
    ran: int
    reused: int
    counters: CallCounters
    elapsed_s: float
    timings: dict[str, float] = field(default_factory=dict)
    workers: int = 1  # processes that ran the trials (runners/shards.py)
    retried: int = 0  # error trials of an earlier run that this run tried again
    repaired: int = 0  # unreadable store rows whose trials this run did again
    changed: int = 0  # stored trials run again because their request is now another (runners/reuse.py)
    rejudged: int = 0  # stored trials whose judge verdicts had failed calls, judged again (runners/rejudge.py)
    # monitor -> stored trials it scored again because its settings changed (runners/rejudge.py)
    rescored: dict[str, int] = field(default_factory=dict)
    # monitor -> {name: count}: previous verdicts of another backend kept under that name (runners/rejudge.py)
    kept: dict[str, dict[str, int]] = field(default_factory=dict)
    # the store held none of the trials trials.csv held: (its rows, where it was copied)
    kept_table: tuple[int, Path] | None = None
    # (monitor, exception) of each verdict a monitor of this process failed to make (MonitorSuite.failures)
    monitor_failures: list[tuple[str, BaseException]] = field(default_factory=list)
    # LLM-judge counters of this invocation (summary["judges"] adds up every run in the folder)
    judges_now: dict[str, dict[str, Any]] = field(default_factory=dict)
    limit_note: str | None = None  # a limit above the prompt set's size (scenarios/prompt_sets.py)


def apply_overrides(scenario: Scenario, options: SweepOptions) -> Scenario:
    update: dict[str, Any] = {}
    if options.models:
        update["models"] = [{"name": m} for m in options.models]
    for name in ("limit", "samples", "concurrency", "seed"):
        if getattr(options, name) is not None:
            update[name] = getattr(options, name)
    if not update:
        return scenario
    data = scenario.model_dump()
    data.update(update)
    try:
        return parse_scenario(data, "command line")
    except ScenarioError as exc:  # name the flag, not the scenario key it overrides
        message = str(exc).removeprefix("command line: ")
        key = re.split(r"[.\[]", message.split(":", 1)[0])[0]  # models[0].name -> models
        if key in update:
            message = f"--{'model' if key == 'models' else key} " + message.split(":", 1)[1].lstrip()
        raise ScenarioError(f"command line: {message}") from None


def request_settings(spec: ModelSpec) -> str:
    """What, besides the prompt, changes a model's request (DESIGN §10), as a digest for the trial
    key: the endpoint (as the cache key knows it), generation params, prefill and turn limit. Not
    timeouts, rates or prices."""
    if spec.provider == "sim":
        return ""
    return stable_hash(endpoint_identity(spec), spec.params, spec.prefill, spec.max_turns)


def plan_trials(scenario: Scenario, prompts: list[Prompt], run_id: str) -> list[TrialSpec]:
    """Every trial of the sweep: models x conditions x prompts x samples, in a stable order."""
    trials = []
    # the scenario's own prompt files change every request: their contents are part of the key
    prompt_files = files_digest(scenario.prompt_files.model_dump() if scenario.prompt_files else None)
    for model in scenario.models:
        settings = request_settings(model)
        if prompt_files is not None:
            settings = stable_hash(settings, prompt_files)
        for condition in conditions_of(scenario.axes):
            for prompt in prompts:
                for sample in range(scenario.samples):
                    trials.append(
                        TrialSpec(
                            run_id=run_id,
                            scenario=scenario.name,
                            model=model.name,
                            condition=condition,
                            prompt_id=prompt.id,
                            prompt=prompt.text,
                            category=prompt.category,
                            sample=sample,
                            seed=scenario.seed,
                            setting=scenario.setting,
                            answer=prompt.answer,
                            settings=settings,
                        )
                    )
    return trials


def default_run_dir(scenario: Scenario) -> Path:
    return Path("runs") / scenario.name


def run_dir_of(scenario: Scenario, options: SweepOptions) -> Path:
    return Path(options.output) if options.output else default_run_dir(scenario)


def default_cache_dir() -> Path:
    return Path(".afsim-cache")


class Sweep:
    """One sweep's resources (providers, store, cache) and the graph that runs its trials."""

    def __init__(self, scenario: Scenario, options: SweepOptions):
        self.scenario = scenario
        self.options = options
        check_judge_prompts(scenario.monitors)  # before any call, also for --dry-run
        price_table()  # a bad AFSIM_PRICES file: one line now, not when the first trial is stored
        self.prompts = load_prompts(scenario.prompts, scenario.limit)
        self.limit_note = limit_note(scenario.limit, self.prompts)
        check_organisms(scenario.setting, list(scenario.axes), [m.name for m in scenario.models])
        self.providers: dict[str, Provider] = {m.name: make_provider(m) for m in scenario.models}
        self.model_specs = {m.name: m for m in scenario.models}
        self.simulated = all(p.simulated for p in self.providers.values())
        self.run_dir = run_dir_of(scenario, options)
        self.families = active_families(scenario.setting, list(scenario.axes))
        # per-sweep cue resources (e.g. the synthetic-document picker), made once by their family
        self.resources = {f.name: r for f in self.families if f.prepare and (r := f.prepare(scenario)) is not None}

    def check_effects(self) -> None:
        """Axes or prompt files that change no request, and prompts a family cannot use: one line
        before any folder or call (runners/axis_effects.py). The first prompt under every condition."""
        one_each = self.scenario.model_copy(update={"models": self.scenario.models[:1], "samples": 1})
        check_effects(self.scenario, plan_trials(one_each, self.prompts[:1], self.run_dir.name), self.resources,
                      self.families, self.prompts)

    def open(self) -> None:
        # first of all: one sweep per run folder (runners/folder_lock.py), before --fresh deletes
        # anything and before a call is made, so two sweeps never both pay for a trial
        folder_lock.acquire(self.run_dir, wait=self.options.wait_lock)
        self.store: ResultStore | None = None
        try:
            if self.options.fresh and self.run_dir.exists():
                for name in (STORE_NAME, STORE_NAME + "-wal", STORE_NAME + "-shm"):
                    (self.run_dir / name).unlink(missing_ok=True)
            self.store = ResultStore(self.run_dir / STORE_NAME)
            cache = None
            if not self.simulated or uses_judges(self.scenario.monitors):  # judge votes are cached too
                cache = CallCache((self.options.cache_dir or default_cache_dir()) / "calls.sqlite")
        except BaseException:
            if self.store is not None:
                self.store.close()
            folder_lock.release(self.run_dir)
            raise
        self.calls = CallLayer(cache, self.scenario.concurrency, self.options.retry)
        for spec in self.scenario.models:
            self.calls.set_rate_cap(self.providers[spec.name], spec.rpm)
        self.monitors = build_suite(self.scenario.monitors, self._judge_factory())
        # judge -> the vote counters of the verdicts this sweep wrote (`unstored_verdicts_uncounted`)
        self.stored_votes: dict[str, dict[str, int]] = {}

    def _judge_factory(self):
        from monitors.judge import make_judge_factory  # imported only when a sweep is opened

        return make_judge_factory(self.calls, self.options)

    def _record(self, state: BatchState) -> int:
        records = []
        supervision = state.get("supervision") or [None] * len(state["trials"])
        for trial, reply, parsed, verdicts, sup in zip(
            state["trials"], state["replies"], state["parsed"], state["verdicts"], supervision, strict=True
        ):
            provider = self.providers[trial.model]
            assert trial.request is not None
            records.append(
                make_record(
                    trial,
                    reply,
                    parsed,
                    verdicts,
                    system_ref=self.store.put_text(trial.request.system),
                    params=provider.request_params(),
                    request_hash=None if provider.simulated else trial.extra.get("request_hash") or request_hash(provider, trial),
                    # what this trial's call costs (also when it came from the cache: `cached` says so)
                    cost_usd=estimate_cost(trial.model, reply.input_tokens, reply.output_tokens,
                                           self.model_specs[trial.model].price),
                    simulated=provider.simulated,
                    supervision=sup,
                )
            )
        self.store.write(records)
        for name in self.judges():
            into = self.stored_votes.setdefault(name, {})
            for record in records:
                if (tally := Tally.counted(record["monitors"].get(name))) is not None:
                    for key, n in tally.counters().items():
                        into[key] = into.get(key, 0) + n
        return len(records)

    def judges(self) -> dict[str, Any]:
        """The LLM judges of the suite (the monitors with vote counters), by monitor name."""
        return {name: j for name, j in self.monitors.judges.items() if hasattr(j, "counters")}

    def unstored_verdicts_uncounted(self) -> None:
        """Take out of the judges' counters the verdicts they made that no record holds: those of the
        batches an interrupted sweep never wrote (found by a hostile-reply fuzz: SIGTERM while a batch
        was judged left 27 verdicts counted for 24 trials, and after an outage the phantom failed votes
        kept the judge "unusable", exit 3). The calls and cost stay: they were paid."""
        for name, judge in self.judges().items():
            stored = self.stored_votes.get(name, {})
            for key in vote_counts(judge):
                setattr(judge.counters, key, stored.get(key, 0))

    def graph(self):
        supervise = None
        for family in self.families:  # a family may add a node after parse (weak/strong: the graders)
            if family.supervise:
                supervise = importlib.import_module(family.supervise).make_supervisor(self.scenario, self.calls)
        context = TrialContext(
            call=lambda trial: self.calls.call(self.providers[trial.model], trial),
            classify=self.monitors.classify_batch,
            parse=parse_reply,
            record=self._record,
            resources=self.resources,
            prefill=lambda trial: self.model_specs[trial.model].prefill,
            supervise=supervise,
        )
        return build_trial_graph(context)

    def batch_size(self) -> int:
        if self.options.batch_size:
            return self.options.batch_size
        # The embedded monitors and a LangGraph invocation have a fixed cost per batch (~4 ms and
        # ~2 ms), so API batches hold up to twice the call limit (at most 64): 2,000 calls at
        # concurrency 64 took 2.4x the ideal with batches of 8 and 1.7x with 32 in one process
        # (benchmarks/api_sweep.py). The window in `run` keeps WINDOW x the limit in flight.
        return 256 if self.simulated else max(1, min(64, 2 * self.scenario.concurrency))

    async def run(self, trials: list[TrialSpec], progress: Progress, shards: int | None = None) -> int:
        """Run `trials` through the graph; returns how many processes did (1, or the shards)."""
        with gc_frozen():
            return await self._run(trials, progress, shards)

    async def _run(self, trials: list[TrialSpec], progress: Progress, shards: int | None) -> int:
        if shards is None:
            shards = shard_count(self.options.workers, remote=not self.simulated, trials=len(trials),
                                 limit=smallest_limit(self.scenario))
        if shards > 1:
            fresh_off = replace(self.options, fresh=False)
            await run_shards(self, trials, progress, shards, lambda scenario: Sweep(scenario, fresh_off))
            return shards
        graph = self.graph()
        size = self.batch_size()
        batches = iter([trials[i : i + size] for i in range(0, len(trials), size)])
        # more batches in flight than the call limit admits (WINDOW), so a batch held up by one
        # retrying call never idles a slot
        window = 1 if self.simulated else max(2, WINDOW * self.scenario.concurrency // size)

        async def worker() -> None:
            for batch in batches:
                await graph.ainvoke({"trials": batch})
                progress.update(len(batch))
                for trial in batch:  # stored now; drop the messages so memory stays flat
                    trial.request = None

        watcher = None if self.simulated else progress.watch(self.calls.waiting_line)
        try:
            await asyncio.gather(*(worker() for _ in range(window)))
        finally:
            if watcher is not None:
                watcher.cancel()
            self.unstored_verdicts_uncounted()
        return 1

    async def close(self) -> None:
        try:
            for provider in self.providers.values():
                await provider.aclose()
            await self.monitors.aclose()
            self.store.close()
            if self.calls.cache is not None:
                self.calls.cache.close()
        finally:
            folder_lock.release(self.run_dir)


@contextmanager
def gc_frozen() -> Iterator[None]:
    """Less garbage-collector work while the trials run. The objects that exist before them
    (modules, the plan, the SDK clients' types) are frozen: every full collection walked them all
    (~200k objects, ~90 ms each, 0.45 s of a 2,000-call API sweep), and forked shards no longer
    copy the pages the collector would touch. Young collections are rarer (GC_YOUNG_THRESHOLD).
    Both are undone afterwards, so a process that runs many sweeps (the tests) collects as usual."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def write_run_files(run_dir: Path, scenario: Scenario, store: ResultStore, keys: set[str], simulated: bool) -> dict[str, Any]:
    """summary.json, trials.csv, trials.parquet and scenario.yaml from the store (also used by
    re-rendering)."""
    check_run_outputs(run_dir, RUN_FILES, UsageError)  # a folder there: named as itself, not as a temp file beside it
    frame = store.frame(keys)
    validation, labelled, validation_note = stored_validation(store.meta(AF_LABELS), frame)
    summary = summarise(frame, [g.model_dump() for g in scenario.gaps], validation, set(labelled["models"]) if labelled else None,
                        labelled["labels"] if labelled else None, scenario.setting)
    if validation_note:
        summary["af_validation_note"] = validation_note
    if labelled and "af_validation" in summary:  # per model x condition: errors that differ by condition show here
        summary["af_validation"]["by_cell"] = labelled["by_cell"]
        if labelled.get("agreement"):  # a second labeller's agreement: how far the labels are from exact
            summary["af_validation"]["agreement"] = {k: v for k, v in labelled["agreement"].items() if k != "keys"}
        if labelled.get("sensitivity_from"):  # too few labelled positives: the shipped sensitivity stands in
            summary["af_validation"]["sensitivity_from"] = labelled["sensitivity_from"]
    judges = store.meta("judges", {})
    judge_cost = sum(float(j.get("cost_usd", 0.0)) for j in judges.values())
    summary.update(
        {
            "scenario": scenario.name,
            "setting": scenario.setting,
            "models": [m.name for m in scenario.models],
            "simulated": simulated,
            "seed": scenario.seed,
            "samples": scenario.samples,
            "tool_version": VERSION,
            "tokens": {
                "input": int(frame["input_tokens"].sum()) if len(frame) else 0,
                "output": int(frame["output_tokens"].sum()) if len(frame) else 0,
            },
            # the models' replies plus the LLM judges' votes paid for in this run folder
            "cost_usd": round((float(frame["cost_usd"].sum()) if len(frame) else 0.0) + judge_cost, 4),
            "judge_cost_usd": round(judge_cost, 4),
            "calls": store.meta("calls", {}),
            "judges": judges,
            "monitor_backends": {name: b if isinstance(b, str) else b.model_dump(mode="json")
                                 for name, b in scenario.monitors.items()},
        }
    )
    # rows that cannot be read are not in the figures: say how many (the next sweep re-runs them)
    stored = store.stored_keys() & keys  # the key index only: no second read of the rows
    summary["store_damaged_rows"] = len(stored - set(frame["key"])) if len(frame) else len(stored)
    summary["call_failures"] = call_failures(frame)  # models whose calls mostly failed, and why
    if served := served_models(frame):  # the models the servers said answered (runners/served_models.py)
        summary["served_models"] = served
    if failed := monitor_errors(frame):  # verdicts a monitor failed to make (a bug: `monitor_error_line`)
        summary["monitor_errors"] = failed
    summary["gaps_configured"] = [g.name for g in scenario.gaps]  # an empty `gaps` list then says why
    summary["audit"] = evaluate_audit(list(scenario.audit), summary)
    # other tools read these while a sweep may rewrite them, and a kill may come mid-write
    atomic.write_text(run_dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False))
    table = counted_columns(frame)  # what the figures count, beside the monitors' labels
    atomic.write_with(run_dir / "trials.csv", lambda handle: spreadsheet_safe(table).to_csv(handle, index=False))
    write_trials_parquet(table, run_dir)
    return summary


def merge_judge_counters(stored: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """The judges' counters over every run into one folder: a resumed sweep adds what it did, so
    the calls and cost of votes paid before an interruption are not forgotten."""
    merged = {name: dict(counts) for name, counts in stored.items()}
    for name, counts in now.items():
        into = merged.setdefault(name, {})
        for key, value in counts.items():
            into[key] = into.get(key, 0) + value
        if isinstance(into.get("cost_usd"), float):  # as JudgeCounters.as_dict: 0.10856, not 0.10855999999999999
            into["cost_usd"] = round(into["cost_usd"], 6)
    return merged


def drop_judge_counts(judges: dict[str, Any], dropped: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The folder's judge counters without the votes of verdicts a re-judge did not keep
    (runners/rejudge.py): the replaced verdicts, or the attempts that did no better. The calls and
    cost stay: they were paid. Never below 0 (counters a rescore replaced may not hold them)."""
    for name, counts in dropped.items():
        into = judges.get(name)
        if into is not None:
            for key, value in counts.items():
                into[key] = max(0, into.get(key, 0) - value)
    return judges


def save_scenario(run_dir: Path, scenario: Scenario) -> None:
    """The scenario as run, with each model's endpoint written out (also when it came from
    OPENAI_BASE_URL / ANTHROPIC_BASE_URL), so a re-render plans the same trial keys."""
    data = scenario.model_dump(mode="json")
    for model, spec in zip(data.get("models") or [], scenario.models, strict=True):
        if spec.provider != "sim" and not spec.endpoints and endpoint_identity(spec):
            model["base_url"] = endpoint_identity(spec)
    atomic.write_text(run_dir / "scenario.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def other_scenario_problem(stored_run: Any, run_dir: Path, name: str, setting: str | None = None) -> str | None:
    """Why a sweep of scenario `name` (in `setting`) must not write into a folder whose store says it
    holds another scenario's run (`stored_run`: its meta "run"), or None. Trial keys include the
    scenario name and setting, so nothing stored would be reused anyway; mixed in, its summary and
    report would be replaced. The setting is compared when the store recorded it (a probe: a scenario
    of the same name in another setting orphaned the folder's trials without a word)."""
    if (other := _stored_scenario(stored_run)) is not None and other != name:
        return (f"{run_dir}: holds a run of scenario {other!r}, not {name!r}; give another --output "
                "(or --fresh to replace it: trial keys include the scenario name, so nothing stored would be reused)")
    stored_setting = stored_run.get("setting") if isinstance(stored_run, dict) else None
    if setting is not None and isinstance(stored_setting, str) and stored_setting != setting:
        return (f"{run_dir}: holds a run of scenario {name!r} in setting {stored_setting!r}, not {setting!r}; give another "
                "--output (or --fresh to replace it: nothing stored would be reused)")
    return None


def foreign_folder_problem(run_dir: Path) -> str | None:
    """Why `run_dir` must not become a run folder, or None: it holds files a run replaces but no run
    (neither a store nor summary.json), so they are someone else's. Found by a bad-input fuzz:
    `--output` the folder of one's own scenario.yaml replaced that file (comments and all) with the
    scenario as run, and an unrelated trials.csv and report.html with the run's, exit 0."""
    if (run_dir / STORE_NAME).exists() or (run_dir / "summary.json").exists():
        return None
    held = [name for name in (*RUN_FILES, REPORT_FILE) if os.path.lexists(run_dir / name)]
    if not held:
        return None
    return (f"{run_dir}: not a run folder (no {STORE_NAME} or summary.json), yet it holds {', '.join(held)}, "
            "which the run would replace; give another --output (a new or empty folder)")


def _stored_scenario(stored_run: Any) -> str | None:
    """The scenario name a store's meta "run" records, or None."""
    return stored_run["scenario"] if isinstance(stored_run, dict) and isinstance(stored_run.get("scenario"), str) else None


def run_scenario_problem(store: ResultStore, run_dir: Path, scenario: Scenario, keys: set[str]) -> str | None:
    """Why `scenario` (the run folder's scenario.yaml) is not the scenario of the run stored there, or None.

    Found by a bad-input fuzz: another scenario copied in, or one field such as `name:` or `seed:`
    edited, made runners.report and runners.rescore plan none of the stored trials and rewrite
    summary.json, trials.csv and report.html as an empty run. Another name is caught by the store's
    record of the run; another plan by its keys: none of the stored trials is among them."""
    path = run_dir / "scenario.yaml"
    if (other := _stored_scenario(store.meta("run"))) is not None and other != scenario.name:
        return (f"{path}: names scenario {scenario.name!r}, but {run_dir} holds a run of scenario "
                f"{other!r}; this is not the run's scenario (put back the scenario.yaml the sweep wrote)")
    stored = store.stored_keys()
    if stored and not stored & keys:
        return (f"{path}: plans none of the {len(stored)} trials stored in {run_dir} (a field such as seed:, limit:, "
                "models: or axes: differs from the run's); this is not the run's scenario (put back the scenario.yaml "
                "the sweep wrote)")
    return None


def audit_lines(summary: dict[str, Any]) -> list[str]:
    """The audit verdict as the sweep prints it (empty without rules): `audit: PASSED (n rule(s))` or
    `audit: FAILED (k of n rule(s) failed)`
    and one `  fails: ...` line per failing figure."""
    audit = summary.get("audit") or {}
    if not audit.get("rules"):
        return []
    failing = len({failure.get("rule") for failure in audit.get("failures") or []})
    # how many rules failed, not only how many were checked: "FAILED (2 rule(s))" with one failing
    # figure read as two failures (found by a probe)
    counted = f"{len(audit['rules'])} rule(s)" if audit["passed"] else f"{failing} of {len(audit['rules'])} rule(s) failed"
    return [f"audit: {'PASSED' if audit['passed'] else 'FAILED'} ({counted})",
            *(f"  fails: {failure['reason']}" for failure in audit.get("failures") or [])]


def audit_failed(summary: dict[str, Any]) -> bool:
    audit = summary.get("audit") or {}
    return bool(audit.get("rules")) and not audit.get("passed")


def monitor_errors(frame: Any) -> dict[str, int]:
    """Monitor -> the trials whose verdict it failed to make (label MONITOR_ERROR, monitors/registry.py)."""
    out = {}
    for column in frame.columns:
        if column.endswith("_label") and (n := int((frame[column] == MONITOR_ERROR).sum())):
            out[column.removesuffix("_label")] = n
    return out


def monitor_error_line(summary: dict[str, Any], failures: list[tuple[str, BaseException]]) -> str | None:
    """The sweep's (and runners.rescore's) one line when a monitor failed on some replies, the first
    failure's traceback written to a log: a bug, so exit 4 — but the trials are stored, each such
    verdict says so, and a re-run scores them again. None when no monitor failed."""
    failed = summary.get("monitor_errors") or {}
    if not failed:
        return None
    counts = ", ".join(f"{name} on {n}" for name, n in failed.items())
    # a shard's failure (runners/shards.py) is named by its own kind, its traceback in the same log
    first = (f"{getattr(failures[0][1], 'kind', type(failures[0][1]).__name__)} in {failures[0][0]}; "
             f"traceback in {write_crash_log(failures[0][1])}"
             if failures else "the traceback was in an earlier run: the same command scores those trials again")
    return (f"internal error (a bug in afsim, not an audit result): monitors failed on some replies ({counts}); "
            f"those trials are stored with verdicts labelled {MONITOR_ERROR} (never flagged) and are scored again "
            f"when the same command runs again; {first}")


def judges_unusable(summary: dict[str, Any], run_dir: Path | None = None) -> list[str]:
    """One line per LLM judge most of whose votes abstained (unparseable or failed): its verdicts
    default to "no" and would read as agreement, so neither the sweep nor runners.rescore may end as if it worked.

    After an outage (failed calls) the line says that running the sweep again judges them again
    (runners/rejudge.py): found by a hostile-reply fuzz, a folder whose judge had been down stayed
    at exit 3 on every later run with a message that pointed at the prompt. (Verdicts of a judge the
    scenario no longer runs are stale, and a re-run scores them again with the scenario's judge.)"""
    lines = []
    for name, judged in (summary.get("judges") or {}).items():
        votes, abstained = judged.get("votes", 0), judged.get("unparseable_votes", 0) + judged.get("error_votes", 0)
        if votes and abstained / votes > MAX_ABSTAINED_SHARE:
            failed = judged.get("error_votes", 0)
            rescore = f"`python -m runners.rescore {run_dir or 'RUN_DIR'} --monitor '{name}=<its backend spec>'`"
            if failed:
                remedy = ("once the judge answers, running the same sweep command again judges the verdicts with "
                          "failed calls again without calling the model under test, paying only the failed votes "
                          f"(`--dry-run` counts them); so does {rescore}")
            else:
                remedy = "check the judge model, its max_tokens and the prompt"
            lines.append(f"judge {name}: {abstained} of {votes} votes were unusable ({judged.get('unparseable_votes', 0)} "
                         f"unparseable, {failed} failed calls); its verdicts are not evidence ({remedy})")
    return lines


def supervisor_providers(sweep: Sweep) -> list[Provider]:
    """Providers of the supervisors the sweep's cue families call (weak/strong), made only to be
    checked (names, keys, servers) before any call; the graph makes its own."""
    return [provider for family in sweep.families if family.supervise
            for provider in importlib.import_module(family.supervise).supervisor_providers(sweep.scenario).values()]


async def run_sweep(scenario: Scenario, options: SweepOptions) -> SweepResult:
    started = time.perf_counter()
    sweep = Sweep(scenario, options)
    sweep.check_effects()
    # a folder where a run file goes: one line now, not after every call is paid for (and before
    # --fresh deletes what is stored)
    check_run_outputs(sweep.run_dir, RUN_FILES, UsageError)  # its own file named, not the scenario file
    if problem := foreign_folder_problem(sweep.run_dir):
        raise UsageError(problem)
    if options.fresh or not (sweep.run_dir / STORE_NAME).exists():  # a new run: every model will be
        # called, and a missing key or an unknown supervisor must not leave a run folder behind
        # (servers are checked below, once open); with --fresh, opening deletes what is stored, so the
        # servers too are checked first (a fuzz lost 18 stored trials to an unset key this way).
        # The judges' and supervisors' providers are made for this alone
        others: list[Provider] = []
        try:
            others += judge_providers_of(scenario.monitors)
            others += supervisor_providers(sweep)
            await preflight([*sweep.providers.values(), *others], check_network=options.fresh)
        except ScenarioError:
            for provider in sweep.providers.values():
                await provider.aclose()
            raise
        finally:
            for provider in others:
                await provider.aclose()
    sweep.open()
    if problem := other_scenario_problem(sweep.store.meta("run"), sweep.run_dir, scenario.name, scenario.setting):
        await sweep.close()  # nothing written yet: the folder is as it was
        raise ScenarioError(problem)
    trials = plan_trials(scenario, sweep.prompts, sweep.run_dir.name)
    keys = {t.key for t in trials}
    try:
        # error trials and unreadable rows are not done: they run again (runners/store.py)
        states = sweep.store.trial_states()
        retried = sum(states.get(key) == "error" for key in keys)
        repaired = sum(states.get(key) == "damaged" for key in keys)
        # a stored trial whose request would now be another is not done either (runners/reuse.py)
        real = real_models(sweep.providers)
        changed = changed_requests((t for t in trials if states.get(t.key) == "done"), sweep.store.stored_requests(real),
                                   sweep.providers, sweep.model_specs, sweep.resources) if real and states else set()
        todo = [t for t in trials if states.get(t.key) != "done" or t.key in changed]
        # a reused trial whose judge's calls failed is judged again (runners/rejudge.py)
        judge_tags = {name: j.backend for name, j in sweep.judges().items()}
        reused = [key for key in keys if states.get(key) == "done" and key not in changed]
        # ... and one whose verdict was made under other monitor settings is scored again (the same)
        stale = stale_verdicts(sweep.store.db, current_settings(sweep.monitors), reused)
        failed = failed_judgements(sweep.store.db, judge_tags, reused, stale)
        del reused
        # none of the run's trials stored, yet trials.csv holds some: the store was emptied or damaged
        # since (runners/store_warnings.py); all are redone, and the old table is kept before anything runs
        store_lost = not options.fresh and not any(states.get(key) in ("done", "error") for key in keys)
        # ... unless the store still holds the trials trials.csv lists (a sweep of other trials:
        # another --model or --seed over a sound store)
        held = {key for key, state in states.items() if state != "damaged"} if store_lost else set()
        del states
        # a missing key or an unreachable server: one line, exit 2, before any call
        supervisors = supervisor_providers(sweep) if todo and not options.fresh else []
        try:
            if not options.fresh:  # --fresh checked keys and servers before it opened the folder
                await preflight([sweep.providers[name] for name in dict.fromkeys(t.model for t in todo)]
                                + (sweep.monitors.judge_providers() if todo or failed or stale else []) + supervisors)
        finally:
            for provider in supervisors:
                await provider.aclose()
    except BaseException:
        await sweep.close()
        raise
    kept_table = keep_collected_table(sweep.run_dir, held) if store_lost else None
    save_scenario(sweep.run_dir, scenario)
    sweep.store.set_meta("run", {"scenario": scenario.name, "setting": scenario.setting, "simulated": sweep.simulated,
                                 "tool_version": VERSION})
    timings: dict[str, float] = {}
    workers = 1
    progress = Progress(len(trials), len(trials) - len(todo), quiet=options.quiet)
    rejudged = RejudgeOutcome()
    try:
        t0 = time.perf_counter()
        workers = await sweep.run(todo, progress)
        timings["trials_s"] = time.perf_counter() - t0
        if failed or stale:
            await rejudge(sweep.store, sweep.monitors, failed, scenario.setting, rejudged, stale,
                          {t.key: t for t in trials if t.key in stale})
    finally:
        progress.close()
        try:
            t0 = time.perf_counter()
            # kept in the store, so summary.json has them and a re-render keeps them
            sweep.store.set_meta("calls", dict(sweep.calls.counters.__dict__))
            judges_now = {name: j.counters.as_dict() for name, j in sweep.judges().items()}
            judges = merge_judge_counters(sweep.store.meta("judges", {}), judges_now)
            sweep.store.set_meta("judges", drop_judge_counts(judges, rejudged.dropped))
            summary = write_run_files(sweep.run_dir, scenario, sweep.store, keys, sweep.simulated)
            timings["aggregate_s"] = time.perf_counter() - t0
        finally:  # also when a run file cannot be written (exit 2): the lock's description is cleared,
            await sweep.close()  # else the next command took this clean exit for a killed sweep
    return SweepResult(
        run_dir=sweep.run_dir,
        summary=summary,
        planned=len(trials),
        ran=len(todo),
        reused=len(trials) - len(todo),
        retried=retried,
        repaired=repaired,
        changed=len(changed),
        rejudged=rejudged.judged,
        rescored=rejudged.rescored,
        kept=rejudged.kept,
        kept_table=kept_table,
        monitor_failures=sweep.monitors.failures,
        counters=sweep.calls.counters,
        elapsed_s=time.perf_counter() - started,
        timings=timings,
        workers=workers,
        judges_now=judges_now,
        limit_note=sweep.limit_note,
    )

