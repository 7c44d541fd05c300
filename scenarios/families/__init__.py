"""The registry of cue families: every module of this package that defines `FAMILY` is one.

The schema (which axes, values, settings and monitors a scenario may name), the graph (how a
trial's request is built), the engine (per-family resources and graph nodes), the simulated
provider (which behaviour answers a setting) and the aggregation (which report sections to write)
all ask this registry; none of them names a family. Adding a family is adding a module here (plus
its organism behaviour, monitor, tests, scenario file and docs): docs/architecture.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from scenarios.families.base import CueFamily, GapDefault, RequestContext
from scenarios.trial import ChatRequest, TrialSpec

__all__ = [
    "CueFamily",
    "GapDefault",
    "RequestContext",
    "active_families",
    "build_request",
    "families",
    "family_of_axis",
    "follow_up",
    "known_axes",
    "monitor_names",
    "owner_of",
    "settings",
]


@cache
def families() -> dict[str, CueFamily]:
    """name -> family, in module-name order (stable: the order axes and values are listed in)."""
    found: dict[str, CueFamily] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if not isinstance(family, CueFamily):
            continue
        if family.name in found:
            raise TypeError(f"two cue families named {family.name!r}")
        found[family.name] = family
    axes = [axis for f in found.values() for axis in f.axes]
    if len(axes) != len(set(axes)):
        raise TypeError(f"an axis belongs to two cue families: {sorted(a for a in axes if axes.count(a) > 1)}")
    return found


@cache
def known_axes() -> dict[str, tuple[str, ...]]:
    """Axis -> allowed values, over every family."""
    return {axis: values for f in families().values() for axis, values in f.axes.items()}


@cache
def settings() -> tuple[str, ...]:
    return tuple(f.setting for f in families().values() if f.setting is not None)


@cache
def monitor_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for f in families().values() for m in f.monitors))


def owner_of(setting: str) -> CueFamily:
    """The family that builds the requests of a setting."""
    for family in families().values():
        if family.setting == setting:
            return family
    raise KeyError(f"no cue family builds setting {setting!r}; expected one of {list(settings())}")


def family_of_axis(axis: str) -> CueFamily:
    for family in families().values():
        if axis in family.axes:
            return family
    raise KeyError(f"no cue family has axis {axis!r}")


def active_families(setting: str, axes: list[str] | tuple[str, ...]) -> list[CueFamily]:
    """The setting's owner, then the family of each axis the scenario crosses (once each)."""
    found = {owner_of(setting).name: owner_of(setting)}
    for axis in axes:
        family = family_of_axis(axis)
        found.setdefault(family.name, family)
    return list(found.values())


def build_request(trial: TrialSpec, context: RequestContext) -> ChatRequest:
    """The exact request of one trial: its setting's owner builds it, then the modifier families
    of the trial's axes adjust it (in registry order)."""
    owner = owner_of(trial.setting)
    assert owner.build_request is not None
    request = owner.build_request(trial, context)
    for family in families().values():
        if family.modify_request is not None and any(axis in trial.condition for axis in family.axes):
            request = family.modify_request(trial, request, context)
    return request


def follow_up(trial: TrialSpec, first_reply: str) -> ChatRequest | None:
    """The second request of a two-turn trial (None for one-turn families)."""
    owner = owner_of(trial.setting)
    if owner.follow_up is None or trial.request is None:
        return None
    return owner.follow_up(trial, trial.request, first_reply)
