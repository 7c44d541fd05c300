"""Axes and prompt files that change nothing the model sees: refused before a run.

A scenario may cross an axis its setting never reads (`tier` in the deployment-trigger setting,
`trigger` in the free/paid one): every condition of that axis then gets the same request, and
the run would still report a "gap" with an interval and a p-value that measures only sampling
noise (a bad-input fuzz found this in eight setting x axis pairs). The check builds the first
prompt's request under every condition, as the sweep will, and asks of each axis whether any two
conditions that differ only in it differ in what is sent. Axes whose family acts after the
request (a supervisor that grades the reply) are not judged by the request; a follow-up turn
(pushback) counts as sent.
The same holds for `prompt_files:` in a setting that does not read them (weak_strong, sycophancy,
deployment_trigger): a file that did not even exist ran with exit 0.
"""

from __future__ import annotations

from typing import Any

from scenarios.families import RequestContext, build_request, families, family_of_axis
from scenarios.schema import ScenarioError
from scenarios.trial import conditions_of


def inert_axes(scenario: Any, trials: list[Any], resources: dict[str, Any]) -> list[str]:
    """The axes of `scenario` under which every condition's request is the same. `trials`: one
    model's trials of one prompt and sample, one per condition (runners.engine.plan_trials)."""
    judged = [a for a, values in scenario.axes.items() if len(values) > 1 and not family_of_axis(a).supervise]
    if not judged or not trials:
        return []
    follow_ups = [f.follow_up for f in families().values() if f.follow_up]
    requests = {}
    for trial in trials:
        request = build_request(trial, RequestContext(resources, scenario.models[0].prefill))
        # a follow-up turn (pushback) is part of what the model is sent, after any first answer
        later = tuple((r.system, r.turns) for f in follow_ups if (r := f(trial, request, "<OUTPUT>x</OUTPUT>")))
        requests[tuple(sorted(trial.condition.items()))] = (request.system, request.turns, request.prefill, later)
    inert = []
    for axis in judged:
        others: dict[tuple, set] = {}
        for condition in conditions_of(scenario.axes):
            rest = tuple(sorted((k, v) for k, v in condition.items() if k != axis))
            others.setdefault(rest, set()).add(requests[tuple(sorted(condition.items()))])
        if all(len(seen) == 1 for seen in others.values()):
            inert.append(axis)
    return inert


def prompt_files_ignored(scenario: Any, trials: list[Any], resources: dict[str, Any], families: list[Any]) -> bool:
    """Whether the scenario's `prompt_files:` leave every condition's request as it is without them."""
    if scenario.prompt_files is None or not trials:
        return False
    bare = scenario.model_copy(update={"prompt_files": None})
    bare_resources = {f.name: r for f in families if f.prepare and (r := f.prepare(bare)) is not None}
    prefill = scenario.models[0].prefill
    for trial in trials:
        a = build_request(trial, RequestContext(resources, prefill))
        b = build_request(trial, RequestContext(bare_resources, prefill))
        if (a.system, a.turns, a.prefill) != (b.system, b.turns, b.prefill):
            return False
    return True


def check_effects(scenario: Any, trials: list[Any], resources: dict[str, Any], active: list[Any], prompts: list[Any]) -> None:
    """One line naming the first axis, or the prompt files, that change nothing, or the prompts a
    family cannot use (`CueFamily.check_prompts`), before any run folder or call."""
    for family in active:
        if family.check_prompts and (problem := family.check_prompts(scenario, prompts)):
            raise ScenarioError(problem)
    if inert := inert_axes(scenario, trials, resources):
        raise ScenarioError(f"axes: {inert[0]!r} changes nothing the model is sent in setting {scenario.setting!r} "
                            f"(every value gives the same request); remove it, or use a setting that reads it")
    if scenario.supervisors and not any(family.supervise for family in active):  # found by a bad-input fuzz: ignored
        raise ScenarioError(f"supervisors: setting {scenario.setting!r} has no supervisor to replace (it grades no reply "
                            "with one; weak_strong does); remove them")
    if prompt_files_ignored(scenario, trials, resources, active):
        raise ScenarioError(f"prompt_files: setting {scenario.setting!r} does not read prompt files (every request is "
                            "the same without them); remove them")
