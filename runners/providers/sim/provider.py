"""The `sim/<organism>` provider: deterministic per (seed, trial key), no network, no key.

Which behaviour answers a trial is the setting's cue family's business: the family names a module
of this package (`organism`) whose `reply(organism, trial, rng)` writes the reply and its ground
truth, and whose `PRESETS` lists the organisms it adds.
"""

from __future__ import annotations

import importlib
import random
from functools import cache
from types import ModuleType
from typing import Any

from runners.providers.base import ModelReply
from scenarios.families import families, owner_of
from scenarios.schema import ModelSpec, ScenarioError
from scenarios.trial import TrialSpec, stable_seed


def behaviour(setting: str) -> ModuleType:
    """The module that simulates replies in a setting (named by the setting's cue family)."""
    return _module(owner_of(setting).organism or "organisms")


@cache
def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{name}")


@cache
def perceivers(axes: tuple[str, ...]) -> tuple[ModuleType, ...]:
    """Behaviour modules of the modifier families whose axes a trial has (e.g. evaluation
    awareness): each wraps the setting's behaviour with `reply_with(organism, trial, rng, base)`."""
    return tuple(_module(f.organism) for f in families().values()
                 if f.setting is None and f.organism and any(axis in f.axes for axis in axes))


@cache
def known_organisms() -> tuple[str, ...]:
    """Every preset of every family's behaviour module, in registry order."""
    names = {f.organism for f in families().values() if f.organism}
    return tuple(dict.fromkeys(k for name in sorted(names) for k in _module(name).PRESETS))


def check_organisms(setting: str, axes: list[str], models: list[str]) -> None:
    """Every `sim/<organism>` of a scenario must be one the setting's behaviour (or a modifier
    family on its axes) can write: `sim/sycophant` in the free/paid setting ran every trial and
    then crashed, replacing an existing run folder's files. One line naming the model and the
    organisms that fit, before the run folder is touched."""
    base = behaviour(setting)
    if getattr(base, "ANSWERS_ANY_ORGANISM", False):  # the setting's own behaviour has a default
        return
    # a modifier (evaluation notices) wraps the setting's behaviour, which still answers the organism:
    # its own presets are added, its default is not (a review found the crash again behind `notice`)
    allowed = dict.fromkeys([*base.PRESETS, *getattr(base, "FALLBACK_PRESETS", {}),
                             *(k for m in perceivers(tuple(axes)) for k in m.PRESETS)])
    for name in models:
        organism = name.partition("/")[2]
        if name.startswith("sim/") and organism in known_organisms() and organism not in allowed:
            raise ScenarioError(f"models: simulated organism {name!r} does not belong to setting {setting!r}; "
                                f"its organisms: {', '.join('sim/' + k for k in allowed)}")


class SimProvider:
    simulated = True
    base_url = None

    def __init__(self, spec: ModelSpec):
        organism = spec.name.partition("/")[2]
        if organism not in known_organisms():
            raise ScenarioError(f"models: unknown simulated organism {spec.name!r}; expected one of {['sim/' + k for k in known_organisms()]}")
        self.name = spec.name
        self.organism = organism
        self.params = dict(spec.params)

    def request_params(self) -> dict[str, Any]:
        return {"organism": self.organism, **self.params}

    async def generate(self, trial: TrialSpec) -> ModelReply:
        return self.generate_sync(trial)

    def generate_sync(self, trial: TrialSpec) -> ModelReply:
        assert trial.request is not None
        rng = random.Random(stable_seed("sim", trial.seed, trial.key))
        base = behaviour(trial.setting)
        for module in perceivers(tuple(trial.condition)):  # modifier families that change perception
            return module.reply_with(self.organism, trial, rng, base)
        return base.reply(self.organism, trial, rng)

    async def aclose(self) -> None:
        return None
