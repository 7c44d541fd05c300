"""Which stored trials a sweep may reuse: one whose first request differs from the request the scenario
would send now is run again.

Why: the trial key covers the scenario's settings (model, endpoint, generation params, prompt files'
contents, condition, prompt, sample), not the text that is sent. Whatever changes that text without
changing a setting — a new afsim version that words the built-in prompt otherwise, or fills a template
otherwise, as one fix did for prompt files with only variables — would otherwise reuse replies to
requests that are no longer made, and mix them into the figures without a word. Each real provider's
record stores the hash of its first request (`planned_hash`, the call cache's key), so a sweep rebuilds
each stored trial's request and compares. The hash is the cache's key, so a request that hashes
differently from one run to the next would already defeat the cache; and a trial whose request changed
misses the cache too, so it is a new call. Older records (before 2026-12-07) are checked by the hash
they hold, their last call's, where that is their first (one user turn); a two-turn record from before
is reused unchecked. Simulated organisms are not checked: their replies cost nothing, and they change
with afsim's code, not with an endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runners.calls import request_hash
from scenarios.families import RequestContext, build_request
from scenarios.trial import TrialSpec


def changed_requests(trials: Iterable[TrialSpec], stored: Mapping[str, str], providers: Mapping[str, Any],
                     model_specs: Mapping[str, Any], resources: dict[str, Any]) -> set[str]:
    """Keys of `trials` whose stored first-request hash (`stored`, runners.store.planned_hashes) is not the
    hash of the request built now."""
    changed = set()
    for trial in trials:
        digest = stored.get(trial.key)
        provider = providers.get(trial.model)
        if digest is None or provider is None or provider.simulated:
            continue
        trial.request = build_request(trial, RequestContext(resources, model_specs[trial.model].prefill))
        if request_hash(provider, trial) != digest:
            changed.add(trial.key)
        trial.request = None  # the graph builds it again for the trials it runs: memory stays flat
    return changed
