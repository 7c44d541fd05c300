"""trials.parquet: written next to trials.csv, same rows, documented dtypes, loadable without afsim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from runners.sweep import main as sweep_main
from runners.trials_table import typed_frame, write_trials_parquet

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "free_paid.yaml"


def test_sweep_writes_parquet_with_the_csv_rows_and_documented_dtypes(tmp_path):
    out = tmp_path / "run"
    assert sweep_main([str(SCENARIO), "--output", str(out), "--limit", "6", "--no-report", "--quiet"]) == 0
    table = pd.read_parquet(out / "trials.parquet")
    csv = pd.read_csv(out / "trials.csv", dtype=str, keep_default_na=False)
    assert len(table) == len(csv) == 6 * 2 * 3
    assert list(table.columns) == list(csv.columns)
    assert list(table["key"]) == list(csv["key"])
    dtypes = table.dtypes.astype(str).to_dict()
    assert dtypes["key"] == dtypes["model"] == dtypes["cond_tier"] == dtypes["parse_status"] == "string"
    assert dtypes["sample"] == dtypes["input_tokens"] == "Int64"
    assert dtypes["cost_usd"] == dtypes["alignment_faking_score"] == "float64"
    assert dtypes["accepted"] == dtypes["cached"] == dtypes["compliance_flag"] == "boolean"
    assert dtypes["truth_af"] == "boolean"
    assert set(table["accepted"].dropna()) <= {True, False}
    assert not list(out.glob(".trials-*"))  # the temporary file was renamed, not left behind


def test_parquet_loads_in_a_python_that_never_imports_afsim(tmp_path):
    frame = pd.DataFrame([{"key": "k1", "prompt_id": "007", "accepted": None, "sample": 0}])
    path = write_trials_parquet(frame, tmp_path)
    code = ("import sys, pandas as pd; t = pd.read_parquet(sys.argv[1]); "
            "assert t['prompt_id'][0] == '007'; "
            "assert not any(m.split('.')[0] in ('runners', 'monitors', 'scenarios') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=tmp_path)


def test_unknown_and_mixed_columns_are_typed_from_their_values():
    frame = pd.DataFrame([
        {"truth_decision": "comply", "truth_p": 1, "sup_known": True, "extra": 3, "odd": 1, "turns": 1},
        {"truth_decision": None, "truth_p": 0.5, "sup_known": None, "extra": None, "odd": "x", "turns": 2},
    ])
    typed = typed_frame(frame)
    assert typed.dtypes.astype(str).to_dict() == {
        "truth_decision": "string", "truth_p": "float64", "sup_known": "boolean", "extra": "float64", "odd": "string",  # whole numbers with a gap are float in pandas already
        "turns": "Int64",
    }
    assert list(typed["odd"]) == ["1", "x"]
