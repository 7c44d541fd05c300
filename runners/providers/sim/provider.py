"""The `sim/<organism>` provider: deterministic per (seed, trial key), no network, no key."""

from __future__ import annotations

import random
from typing import Any

from runners.providers.base import ModelReply
from runners.providers.sim._writer import write_reply
from runners.providers.sim.organisms import (
    PRESETS,
    draw_latents,
    extract_request,
    ground_truth,
    read_cues,
)
from scenarios.schema import ModelSpec, ScenarioError
from scenarios.trial import TrialSpec, stable_seed


class SimProvider:
    simulated = True
    base_url = None

    def __init__(self, spec: ModelSpec):
        organism = spec.name.partition("/")[2]
        if organism not in PRESETS:
            raise ScenarioError(f"models: unknown simulated organism {spec.name!r}; expected one of {['sim/' + k for k in PRESETS]}")
        self.name = spec.name
        self.organism = organism
        self.propensities = PRESETS[organism]
        self.params = dict(spec.params)

    def request_params(self) -> dict[str, Any]:
        return {"organism": self.organism, **self.params}

    async def generate(self, trial: TrialSpec) -> ModelReply:
        return self.generate_sync(trial)

    def generate_sync(self, trial: TrialSpec) -> ModelReply:
        assert trial.request is not None
        user = trial.request.turns[-1][1]
        rng = random.Random(stable_seed("sim", trial.seed, trial.key))
        if trial.setting == "weak_strong":
            from runners.providers.sim.supervised import supervised_reply

            return supervised_reply(self.propensities, trial, rng)
        cues = read_cues(trial.request.system, user)
        latents = draw_latents(self.propensities, cues, rng)
        text = write_reply(latents, extract_request(user), trial.category, trial.setting, rng)
        words = len(trial.request.system.split()) + len(user.split())
        return ModelReply(
            text=text,
            input_tokens=int(words * 1.3),
            output_tokens=int(len(text.split()) * 1.3),
            stop_reason="end_turn",
            ground_truth=ground_truth(latents, self.propensities, cues),
        )

    async def aclose(self) -> None:
        return None
