"""The cue-family registry keeps its promise: every family names code that exists, the schema
accepts exactly what the families declare, and the shared modules do not test setting names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from monitors import family_monitors
from scenarios.families import families, known_axes, monitor_names, settings
from scenarios.schema import KNOWN_AXES, MONITOR_NAMES, SETTINGS, ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SHARED = ["runners/engine.py", "runners/sweep.py", "runners/dry_run.py", "scenarios/graph.py", "scenarios/schema.py",
          "runners/providers/sim/provider.py", "monitors/registry.py", "reports/html.py"]


def test_the_schema_knows_exactly_what_the_families_declare():
    assert known_axes() == KNOWN_AXES and settings() == SETTINGS and monitor_names() == MONITOR_NAMES
    assert set(settings()) >= {"helpful_only", "weak_strong", "deployment_trigger", "sycophancy"}


@pytest.mark.parametrize("name", sorted(families()))
def test_every_family_names_code_and_docs_that_exist(name):
    family = families()[name]
    if family.organism:
        module = importlib.import_module(f"runners.providers.sim.{family.organism}")
        assert hasattr(module, "reply" if family.setting else "reply_with") and hasattr(module, "PRESETS")
        for organism in family.organisms:
            assert organism in module.PRESETS
    for monitor in family.monitors:
        if monitor in family_monitors.added():
            module = family_monitors.module(monitor)
            assert hasattr(module, "classify") or hasattr(module, "classify_trials")
    if family.doc:
        assert (ROOT / "docs" / family.doc).exists() or (ROOT / family.doc).exists()
    if family.setting:
        assert (family.build_request is not None) and any(
            (ROOT / "scenarios").glob("*.yaml")), "an owner family ships a scenario"


@pytest.mark.parametrize("path", SHARED)
def test_shared_modules_do_not_test_setting_names(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not re.search(r"setting\s*==|==\s*\"(?:weak_strong|helpful_only|deployment_trigger|sycophancy)\"", text)


def test_an_unknown_setting_is_one_line_naming_the_known_ones():
    with pytest.raises(ScenarioError, match=r"s.yaml: setting: unknown setting 'sleeper'; expected one of \["):
        parse_scenario({"name": "s", "setting": "sleeper", "prompts": "builtin:harmful_requests",
                        "axes": {"tier": ["free"]}, "models": ["sim/honest"]}, "s.yaml")


def test_a_gap_may_use_the_metrics_of_the_families_the_scenario_uses_only():
    base = {"name": "s", "prompts": "builtin:harmful_requests", "axes": {"tier": ["free", "paid"]}, "models": ["sim/honest"]}
    with pytest.raises(ScenarioError, match=r"gaps\[0\] \(g\): unknown metric 'bad'"):
        parse_scenario({**base, "gaps": [{"name": "g", "metric": "bad", "axis": "tier", "treat": "free", "control": "paid"}]})
    crossed = {**base, "axes": {"tier": ["free", "paid"], "notice": ["none", "evaluation"]},
               "gaps": [{"name": "g", "metric": "states_evaluation", "axis": "tier", "treat": "free", "control": "paid"}]}
    assert parse_scenario(crossed).gaps[0].metric == "states_evaluation"
