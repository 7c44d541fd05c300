"""The `--dry-run` plan of a sweep: the calls it would make (minus stored trials and cached
replies) and what they would cost. Kept apart from runners/pricing.py, which only knows prices, so
the engine can use prices without the price table depending back on the engine.

Counts HTTP requests, as the sweep's "model calls" does: a trial is one request, plus up to
`max_turns - 1` `<NEXT/>` continuations; an LLM-judge monitor adds `votes` requests for every trial
it will read, the failed votes of the stored verdicts the sweep will judge again, and the votes the
cache lacks of the stored verdicts made under other settings (runners/rejudge.py); a real supervisor
(weak/strong) adds its answers to the items and its grades (runners/supervision.py). Reads the store and
the cache if they exist; writes nothing, calls nothing.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from runners.calls import CallCache, request_hash
from runners.engine import (
    Sweep,
    default_cache_dir,
    foreign_folder_problem,
    other_scenario_problem,
    plan_trials,
    supervisor_providers,
)
from runners.pricing import estimate_cost, is_priced
from runners.rejudge import count_stale, failed_judgements, stale_verdicts
from runners.reuse import changed_requests, real_models
from runners.store import DONE_KEYS_SQL, STORE_NAME, stored_requests
from scenarios.families import RequestContext, build_request, follow_up
from scenarios.schema import ScenarioError

CHARS_PER_TOKEN = 4  # rough, for an estimate before any tokenizer has seen the text
TYPICAL_OUTPUT_TOKENS = 700  # a scratchpad plus an answer, as the paper's transcripts run
TYPICAL_VERDICT_TOKENS = 400  # a judge's quotes and verdict block
DEFAULT_MAX_TOKENS = 4096


@dataclass
class ModelPlan:
    model: str
    trials: int = 0  # not yet in the store
    cached: int = 0  # of those, answered from the call cache (free)
    input_tokens: int = 0  # estimated, for the calls to make
    priced: bool = True
    typical_usd: float = 0.0
    max_usd: float = 0.0  # every turn uses max_tokens
    key_problem: str | None = None
    max_turns: int = 1  # requests per trial at most (<NEXT/> continuations)
    judge: str | None = None  # the monitor this judge labels; None for a model under test
    supervisor: str | None = None  # the role this model supervises in (weak/strong); None for a model under test
    probes: int = 0  # supervisors: of its calls, answers to the items that measure the weak one's areas
    votes: int = 1  # requests per judged trial (judges)
    second_turns: int = 0  # trials whose family sends a second user turn (e.g. sycophancy's pushback)
    rejudged: int = 0  # judges: stored trials whose verdict had failed votes, judged again
    rejudge_votes: int = 0  # their failed votes (those that worked come from the cache)
    rescored: int = 0  # judges: stored trials whose verdict was made under other settings, judged again
    rescore_votes: int = 0  # their votes the cache lacks (a new threshold: none; votes 3 -> 5: 2 a trial)
    simulated: bool = False  # a simulated organism: its trials are written offline, no call, no cost

    @property
    def calls(self) -> int:
        """Requests at least: one per trial to run (or `votes` per judged trial), plus second turns,
        the failed votes of verdicts judged again and the uncached votes of verdicts scored again."""
        return (self.trials - self.cached) * self.votes + self.second_turns + self.rejudge_votes + self.rescore_votes

    @property
    def max_calls(self) -> int:
        return self.calls * self.max_turns


@dataclass
class SweepPlan:
    planned: int
    stored: int
    models: list[ModelPlan] = field(default_factory=list)
    changed: int = 0  # stored trials whose request has changed since: they run again (runners/reuse.py)
    rejudged: int = 0  # stored trials whose judge's calls failed: judged again (runners/rejudge.py)
    # monitor -> stored trials whose verdict was made under other settings: scored again (the same)
    rescored: dict[str, int] = field(default_factory=dict)
    limit_note: str | None = None  # a limit above the prompt set's size

    def lines(self) -> list[str]:
        again = f" ({self.changed} more stored with a request that has changed since: they run again)" if self.changed else ""
        judged = (f"; {self.rejudged} stored trials will be judged again (their judge's calls had failed; "
                  "the model under test is not called)" if self.rejudged else "")
        out = [f"dry run: {self.planned} trials planned, {self.stored} already stored{again}{judged}; no calls made"]
        out += [f"  note: {self.limit_note}"] if self.limit_note else []
        out += [f"  {n} stored trials scored again by {name} (made under other settings or code, or missing; the model under test is not called)"
                for name, n in self.rescored.items()]
        for m in self.models:
            cost = (f"~${m.typical_usd:.2f} (at most ${m.max_usd:.2f})" if m.priced
                    else "unpriced (add price: [in, out] to the model or an AFSIM_PRICES file)")
            if m.judge:
                again = (f"; plus the {m.rejudge_votes} failed votes of {m.rejudged} stored trials judged again"
                         if m.rejudged else "")
                if m.rescored:
                    again += (f"; plus {m.rescore_votes} uncached votes of {m.rescored} stored trials scored again "
                              "(made under other settings or code, or missing)")
                out.append(f"  judge {m.judge} ({m.model}): {m.calls} calls to make ({m.votes} votes for each of "
                           f"{m.trials} trials{again}; fewer when a reply has nothing to judge or a vote is cached), "
                           f"~{m.input_tokens:,} input tokens, {cost}")
            elif m.supervisor:
                out.append(f"  supervisor {m.supervisor} ({m.model}): {m.calls} calls to make ({m.probes} answers to "
                           f"measure its areas, {m.calls - m.probes} grades; fewer when a call is cached or a reply "
                           f"failed), ~{m.input_tokens:,} input tokens, {cost}")
            elif m.simulated:  # "0 calls to make (600 cached)" on a fresh folder read as a cache it did not have
                out.append(f"  {m.model}: {m.trials} trials to simulate (offline: no calls, no cost)")
            else:
                turns = f"; up to {m.max_calls} with <NEXT/> turns" if m.max_calls > m.calls else ""
                second = f"; {m.second_turns} of them second user turns" if m.second_turns else ""
                out.append(f"  {m.model}: {m.calls} calls to make ({m.cached} cached{second}{turns}), "
                           f"~{m.input_tokens:,} input tokens, {cost}")
            if m.key_problem:
                out.append(f"    note: {m.key_problem}")
        total = sum(m.typical_usd for m in self.models)
        top = sum(m.max_usd for m in self.models)
        calls, most = sum(m.calls for m in self.models), sum(m.max_calls for m in self.models)
        shown = f"{calls} calls" + (f" (up to {most})" if most > calls else "")
        out.append(f"total: {shown}, estimated ~${total:.2f} (at most ${top:.2f})")
        return out


def _max_tokens(params: dict[str, Any]) -> int:
    return int(params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS)


def plan_sweep(scenario: Any, options: Any) -> SweepPlan:
    """Count the calls a sweep would make (minus stored trials and cached replies) and price them."""
    sweep = Sweep(scenario, options)
    sweep.check_effects()
    # the real run refuses an unknown simulated supervisor before it starts: so does its plan (found by
    # a bad-input fuzz: `weak: sim/nope` planned as fine, exit 0); a missing key stays a note, as for models
    supervisor_providers(sweep)
    trials = plan_trials(scenario, sweep.prompts, sweep.run_dir.name)
    done: set[str] = set()
    changed: set[str] = set()
    failed: dict[str, Any] = {}
    stale: dict[str, Any] = {}
    store_path = sweep.run_dir / STORE_NAME
    if problem := foreign_folder_problem(sweep.run_dir):
        raise ScenarioError(problem)  # the real run would refuse it: so does its plan
    if store_path.exists() and not options.fresh:
        with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE name = 'run'").fetchone()
            try:
                stored_run = json.loads(row[0]) if row else None
            except ValueError:
                stored_run = None
            if problem := other_scenario_problem(stored_run, sweep.run_dir, scenario.name, scenario.setting):
                raise ScenarioError(problem)  # the real run would refuse it: so does its plan
            done = {row[0] for row in db.execute(DONE_KEYS_SQL)}  # error trials are retried: not done
            if (real := real_models(sweep.providers)) and done:  # a stored trial whose request would now be another runs again
                changed = changed_requests((t for t in trials if t.key in done), stored_requests(db, real),
                                           sweep.providers, sweep.model_specs, sweep.resources)
                done -= changed
            reused = done & {t.key for t in trials}
            judged = judge_backends(scenario)
            stale = stale_verdicts(db, monitor_settings(scenario), reused)
            failed = failed_judgements(db, judged, reused, stale=stale)
            rescore_votes = uncached_votes(db, scenario, stale, options)
    cache_path = (options.cache_dir or default_cache_dir()) / "calls.sqlite"
    cache = CallCache(cache_path) if cache_path.exists() and not sweep.simulated else None
    plans = {spec.name: ModelPlan(spec.name, max_turns=1 if spec.provider == "sim" else spec.max_turns)
             for spec in scenario.models}
    todo = 0
    try:
        for trial in trials:
            if trial.key in done:
                continue
            todo += 1
            provider = sweep.providers[trial.model]
            spec = sweep.model_specs[trial.model]
            plan = plans[trial.model]
            plan.trials += 1
            if provider.simulated:
                plan.cached += 1  # free and offline: nothing to pay
                plan.simulated = True
                continue
            trial.request = build_request(trial, RequestContext(sweep.resources, spec.prefill))
            if cache is not None and cache.get(request_hash(provider, trial)) is not None:
                plan.cached += 1
                continue
            chars = len(trial.request.system) + sum(len(text) for _, text in trial.request.turns)
            tokens_in = chars // CHARS_PER_TOKEN
            max_out = _max_tokens(provider.request_params())
            plan.input_tokens += tokens_in
            plan.priced = is_priced(trial.model, spec.price)
            plan.typical_usd += estimate_cost(trial.model, tokens_in, min(max_out, TYPICAL_OUTPUT_TOKENS), spec.price)
            turns = spec.max_turns
            plan.max_usd += estimate_cost(trial.model, tokens_in * turns + max_out * turns * (turns - 1) // 2, max_out * turns, spec.price)
            # whether a family sends a second user turn depends on the condition, not on the first reply
            if follow_up(trial, "") is not None:
                plan.second_turns += 1
                typical_out = min(max_out, TYPICAL_OUTPUT_TOKENS)
                plan.typical_usd += estimate_cost(trial.model, tokens_in + typical_out, typical_out, spec.price)
                plan.max_usd += estimate_cost(trial.model, (tokens_in + max_out) * turns, max_out * turns, spec.price)
            trial.request = None
    finally:
        if cache is not None:
            cache.close()
    for name, plan in plans.items():
        provider = sweep.providers[name]
        if plan.calls and hasattr(provider, "preflight_problem"):
            plan.key_problem = provider.preflight_problem()
    judges = judge_plans(scenario, todo, failed, stale, rescore_votes if stale else {})
    judges += supervisor_plans(sweep, [t for t in trials if t.key not in done])
    rescored = count_stale(stale)
    return SweepPlan(len(trials), len(done & {t.key for t in trials}), [*plans.values(), *judges], len(changed),
                     len(failed), {name: rescored[name] for name in scenario.monitors if name in rescored},
                     sweep.limit_note)


def supervisor_plans(sweep: Sweep, todo: list[Any]) -> list[ModelPlan]:
    """The real supervisors' calls for the trials to run (a cue family's `supervise` node, e.g. the
    weak/strong grading of runners/supervision.py), priced like a model's, with a missing key noted.
    Found by a bad-input fuzz: a dry run with `weak: openai/...` counted none of them."""
    plans = []
    for family in sweep.families:
        if not family.supervise:
            continue
        node = importlib.import_module(family.supervise)
        providers = node.supervisor_providers(sweep.scenario)
        for role, planned in node.planned_calls(sweep.scenario, todo).items():
            provider = providers[role]
            calls = planned.probes + planned.grades
            if provider.simulated or not calls:
                continue
            tokens_in = planned.input_chars // CHARS_PER_TOKEN
            max_out = _max_tokens(provider.request_params())
            plan = ModelPlan(provider.name, trials=calls, input_tokens=tokens_in, priced=is_priced(provider.name),
                             supervisor=role, probes=planned.probes)
            plan.typical_usd = estimate_cost(provider.name, tokens_in, calls * min(max_out, 8))  # a letter or a word
            plan.max_usd = estimate_cost(provider.name, tokens_in, calls * max_out)
            if hasattr(provider, "preflight_problem"):
                plan.key_problem = provider.preflight_problem()
            plans.append(plan)
    return plans


def judge_backends(scenario: Any) -> dict[str, str]:
    """Monitor name -> the backend tag its LLM judge writes on verdicts (`judge:openai/gpt-4o@af-v1`)."""
    from monitors.judge import judge_backend, judge_spec
    from monitors.registry import EMBEDDED, monitor_kind

    return {name: judge_backend(monitor_kind(name), judge_spec(backend, name))
            for name, backend in scenario.monitors.items() if not (isinstance(backend, str) and backend in EMBEDDED)}


def monitor_settings(scenario: Any) -> dict[str, tuple[str, str | None]]:
    """As `runners.rejudge.current_settings` of the sweep's MonitorSuite, without making the judges:
    name -> (the backend tag, the settings digest its verdicts carry)."""
    from monitors.judge import judge_backend, judge_settings, judge_spec
    from monitors.registry import EMBEDDED, TAG, embedded_settings, monitor_kind

    out: dict[str, tuple[str, str | None]] = {}
    for name, backend in scenario.monitors.items():
        kind = monitor_kind(name)
        if isinstance(backend, str) and backend in EMBEDDED:
            out[name] = (TAG, embedded_settings(kind))
        else:
            spec = judge_spec(backend, name)
            out[name] = (judge_backend(kind, spec), judge_settings(kind, spec))
    return out


def uncached_votes(db: sqlite3.Connection, scenario: Any, stale: dict[str, Any], options: Any) -> dict[str, int]:
    """LLM-judge monitor -> the votes on the stale verdicts' stored replies (`stale`, runners/rejudge.py)
    that the call cache lacks: what scoring them again will pay. No cache: every vote."""
    from monitors.judge import Judge, judge_spec
    from monitors.parse import for_monitors
    from monitors.registry import EMBEDDED, monitor_kind
    from runners.calls import CallLayer
    from runners.records import parsed_of

    judges = {name: Judge(monitor_kind(name), judge_spec(backend, name), CallLayer(None, 1))
              for name, backend in scenario.monitors.items()
              if not (isinstance(backend, str) and backend in EMBEDDED) and any(name in s for s in stale.values())}
    out = dict.fromkeys(judges, 0)
    if not judges:
        return out
    cache_path = (options.cache_dir or default_cache_dir()) / "calls.sqlite"
    cache = CallCache(cache_path) if cache_path.exists() else None
    try:
        for key, blob in db.execute("SELECT key, record FROM trials WHERE json_valid(record)"):
            if key not in stale:
                continue
            record = json.loads(blob)
            reply = for_monitors(parsed_of(record, record.get("setting") or scenario.setting))
            for name, judge in judges.items():
                if name in stale[key]:
                    out[name] += sum(cache is None or cache.get(request_hash(judge.provider, vote)) is None
                                     for vote in judge.vote_trials(reply))
    finally:
        if cache is not None:
            cache.close()
    return out


def judge_plans(scenario: Any, trials: int, failed: dict[str, Any] | None = None, stale: dict[str, Any] | None = None,
                rescore_votes: dict[str, int] | None = None) -> list[ModelPlan]:
    """The votes of each LLM-judge monitor over `trials` new trials, priced like the models: the
    prompt file's length plus a typical reply in, a typical verdict (at most max_tokens) out. Plus,
    per monitor, the failed votes of the stored verdicts judged again (`failed`: key -> {monitor:
    tally}, runners/rejudge.py); their other votes come from the cache, and a scenario that now asks
    more votes than a verdict had pays the difference."""
    from monitors.judge import judge_spec, load_prompt
    from monitors.registry import EMBEDDED, monitor_kind
    from runners.providers import make_provider
    from scenarios.schema import ModelSpec

    out = []
    for name, backend in scenario.monitors.items():
        if isinstance(backend, str) and backend in EMBEDDED:
            continue
        spec = judge_spec(backend, name)
        prompt = load_prompt(monitor_kind(name), spec.prompt_version)
        provider = make_provider(ModelSpec(name=spec.backend, base_url=spec.base_url, api_key_env=spec.api_key_env,
                                           params=spec.params, max_turns=1))
        again = [tallies[name] for tallies in (failed or {}).values() if name in tallies]
        rejudge_votes = sum(t.errors + max(0, spec.votes - t.votes) for t in again)
        rescored = sum(name in names for names in (stale or {}).values())
        votes = trials * spec.votes + rejudge_votes + (rescore_votes or {}).get(name, 0)
        tokens_in = (len(prompt.system) + len(prompt.user)) // CHARS_PER_TOKEN + TYPICAL_OUTPUT_TOKENS
        max_out = _max_tokens(provider.request_params())
        plan = ModelPlan(spec.backend, trials=trials, judge=name, votes=spec.votes,
                         input_tokens=votes * tokens_in, priced=is_priced(spec.backend, spec.price),
                         rejudged=len(again), rejudge_votes=rejudge_votes, rescored=rescored,
                         rescore_votes=(rescore_votes or {}).get(name, 0))
        plan.typical_usd = estimate_cost(spec.backend, votes * tokens_in, votes * min(max_out, TYPICAL_VERDICT_TOKENS), spec.price)
        plan.max_usd = estimate_cost(spec.backend, votes * tokens_in, votes * max_out, spec.price)
        if votes and hasattr(provider, "preflight_problem"):
            plan.key_problem = provider.preflight_problem()
        out.append(plan)
    return out
