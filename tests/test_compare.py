"""`python -m runners.compare`: two real runs side by side in one self-contained report."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from reports.compare import render_compare
from runners.engine import SweepOptions, run_sweep
from scenarios.schema import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def small_run(out: Path, models: list[str]) -> Path:
    scenario = load_scenario(ROOT / "scenarios" / "free_paid.yaml")
    options = SweepOptions(models=models, limit=20, output=out, quiet=True)
    from runners.engine import apply_overrides

    asyncio.run(run_sweep(apply_overrides(scenario, options), options))
    return out


def test_compare_puts_runs_side_by_side_with_gaps_and_a_forest_plot(tmp_path):
    release = small_run(tmp_path / "release" / "run", ["sim/honest"])
    candidate = small_run(tmp_path / "candidate" / "run", ["sim/af-opus"])
    html = render_compare([release, candidate], tmp_path / "compare.html").read_text()
    # same folder name twice: labels are made unique with the parent folder
    assert "release/run" in html and "candidate/run" in html
    assert "sim/honest" in html and "sim/af-opus" in html
    assert html.count("<svg") == 2 and 'id="forest-chart"' in html
    assert "compliance_gap" in html and "af_gap" in html and "95% CI" in html
    assert "simulated" in html


def test_compare_cli_rejects_a_folder_without_summary(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runners.compare", str(tmp_path), "--output", str(tmp_path / "c.html")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "not a run folder" in done.stderr and "Traceback" not in done.stderr
