"""Which stored trials a sweep may reuse: one whose requests differ from those the scenario would send
now is run again.

Why: the trial key covers the scenario's settings (model, endpoint, generation params, prompt files'
contents, condition, prompt, sample), not the text that is sent. Whatever changes that text without
changing a setting — a new afsim version that words the built-in prompt otherwise, or fills a template
otherwise, as one fix did for prompt files with only variables — would otherwise reuse replies to
requests that are no longer made, and mix them into the figures without a word. Each real provider's
record stores the hash of its first request (`planned_hash`, the call cache's key), so a sweep rebuilds
each stored trial's request and compares. The hash is the cache's key, so a request that hashes
differently from one run to the next would already defeat the cache; and a trial whose request changed
misses the cache too, so it is a new call (an unchanged first turn of a two-turn trial still comes
from the cache). A two-turn family's second request is rebuilt from the reply the record showed back,
and compared with the record's last hash; older records (before 2026-12-07) are checked by that last
hash alone, which is their first request's when there was one turn. Simulated organisms are not
checked: their replies cost nothing, and they change with afsim's code, not with an endpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from runners.calls import stored_request_hashes
from runners.store import StoredRequest
from scenarios.families import RequestContext, build_request, follow_up
from scenarios.trial import TrialSpec


def real_models(providers: Mapping[str, Any]) -> list[str]:
    """The models whose stored trials are checked: every one but the simulated organisms."""
    return [name for name, provider in providers.items() if not provider.simulated]


def changed_requests(trials: Iterable[TrialSpec], stored: Mapping[str, StoredRequest], providers: Mapping[str, Any],
                     model_specs: Mapping[str, Any], resources: dict[str, Any]) -> set[str]:
    """Keys of `trials` whose stored requests (`stored`, runners.store.stored_requests) are not the
    requests the scenario would send now."""
    changed = set()
    for trial in trials:
        if (record := stored.get(trial.key)) is None:  # a simulated organism's, or not stored
            continue
        trial.request = build_request(trial, RequestContext(resources, model_specs[trial.model].prefill))
        try:
            if _differs(trial, providers[trial.model], record):
                changed.add(trial.key)
        finally:
            trial.request = None  # the graph builds it again for the trials it runs: memory stays flat
    return changed


def _differs(trial: TrialSpec, provider: Any, record: StoredRequest) -> bool:
    """Whether the record's requests differ from `trial.request` (the first, built now) and, for a
    two-turn family, the second request built from it and the reply the record showed back."""
    assert trial.request is not None
    first_now = stored_request_hashes(provider, trial)
    if record.first_hash is not None and record.first_hash not in first_now:
        return True
    n_first = len(trial.request.messages())
    if record.n_messages == n_first:  # one request (continued or not): its hash is the first's
        return record.first_hash is None and record.last_hash is not None and record.last_hash not in first_now
    if record.n_messages == n_first + 2 and record.last_hash is not None:
        # a second turn: the record's last request is the first, the reply shown back, and the family's turn
        second = follow_up(trial, "") if record.shown is not None else None
        if second is None or len(second.turns) != len(trial.request.turns) + 2:
            return True  # the family would not send that turn now
        # the reply shown back is the record's own, as sent: the family's extraction of it from the
        # first reply is not run again on what it already extracted (an <OUTPUT> inside the shown
        # text was cut twice, so a stable store read as changed on every run)
        turns = list(second.turns)
        turns[-2] = (turns[-2][0], record.shown)
        trial.request = dataclasses.replace(second, turns=tuple(turns))
        return record.last_hash not in stored_request_hashes(provider, trial)
    return False  # a shape this check does not know (an older record of another layout): reused as before
