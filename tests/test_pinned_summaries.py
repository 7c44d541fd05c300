"""The shipped scenarios give the same summary.json, byte for byte, as before the cue families
moved onto one interface (issue 15): a refactor of how cues become messages must not change a
single figure.

The pins were written by main's code (before the refactor) with
`python -m runners.sweep scenarios/<name>.yaml --limit 10 --quiet --no-report`. A deliberate change
to the summary (a new field, another interval) updates them:
`AFSIM_UPDATE_PINS=1 python -m pytest tests/test_pinned_summaries.py` — say why in the commit.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from runners.engine import SweepOptions, apply_overrides, run_sweep
from scenarios.schema import load_scenario

ROOT = Path(__file__).resolve().parent.parent
PINS = Path(__file__).resolve().parent / "data" / "pinned_summaries"
LIMIT = 10


@pytest.mark.parametrize("name", ["free_paid", "synthetic_docs", "weak_strong"])
def test_shipped_scenario_summary_is_unchanged_byte_for_byte(name, tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    options = SweepOptions(limit=LIMIT, output=tmp_path / name, quiet=True, cache_dir=tmp_path / "cache", workers=1)
    result = asyncio.run(run_sweep(apply_overrides(scenario, options), options))
    written = (result.run_dir / "summary.json").read_bytes()
    pin = PINS / f"{name}.json"
    if os.environ.get("AFSIM_UPDATE_PINS") == "1":
        pin.write_bytes(written)
    assert written == pin.read_bytes(), (
        f"summary.json of {name} differs from {pin} (AFSIM_UPDATE_PINS=1 rewrites it if the change is meant)"
    )
