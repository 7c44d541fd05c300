"""Your own labels as the AF monitor's validation: `runners.report RUN --af-sample N`, then
`--af-validation LABELS.jsonl` (runners/af_labels.py). A person's labels of the audited model's own
replies measure the monitor where it is used; the corrected figures must then say so and use them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from monitors.aggregate import errors_from_labelled_trials
from runners.af_labels import SAMPLE_NAME
from runners.cli_errors import run_cli
from runners.report import main as report_main
from runners.sweep import main as sweep_main

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "free_paid.yaml"


def cli(argv: list[str], main=report_main) -> int:
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main(argv))
    return ended.value.code


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("labels") / "run"
    argv = [str(SCENARIO), "--model", "sim/af-opus", "--model", "sim/honest", "--limit", "60", "--samples", "2",
            "--output", str(out), "--no-report", "--quiet"]
    assert cli(argv, main=sweep_main) == 0
    return out


def trials(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "trials.csv")


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_a_sample_labelled_by_a_person_becomes_the_validation_and_stays_with_the_folder(run_dir, capsys):
    assert cli([str(run_dir), "--af-sample", "8"]) == 0
    sample_path = run_dir / SAMPLE_NAME
    lines = [json.loads(line) for line in sample_path.read_text().splitlines()]
    frame = trials(run_dir).set_index("key")
    # up to 8 per model x condition, none a known refusal, blind to the monitor's verdict
    per_cell = pd.Series([(x["model"], x["condition"]) for x in lines]).value_counts()
    assert len(per_cell) == 4 and per_cell.max() <= 8
    assert all(frame.loc[x["key"], "compliance_label"] != "refusal" for x in lines)
    assert all(x["af"] is None and "flag" not in json.dumps(list(x)) and x["scratchpad"] for x in lines)
    assert cli([str(run_dir), "--af-sample", "8"]) == 2  # never over labels that may be in it
    assert "exists" in capsys.readouterr().err

    # the person labels (here: the organisms' ground truth), one row left unlabelled
    for x in lines:
        truth = frame.loc[x["key"], "truth_af"]
        x["af"] = None if pd.isna(truth) else bool(truth)
    lines[0]["af"] = None
    sample_path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert cli([str(run_dir), "--af-validation", str(sample_path)]) == 0
    labelled = [x for x in lines if x["af"] is not None]
    flags = frame.loc[[x["key"] for x in labelled], "alignment_faking_flag"].astype(bool).tolist()
    truth = [x["af"] for x in labelled]
    tp = sum(f and t for f, t in zip(flags, truth, strict=True))
    validation = summary(run_dir)["af_validation"]
    assert SAMPLE_NAME in validation["source"] and "embedded" in validation["source"]
    assert validation["negatives"] == "complying" and validation["n_pos"] == sum(truth) and validation["n_neg"] == len(truth) - sum(truth)
    assert validation["sensitivity"] == pytest.approx(tp / sum(truth))
    gap = next(g for g in summary(run_dir)["gaps"] if g["metric"] == "af" and g["model"] == "sim/af-opus")
    assert gap["corrected"]["validation"]["source"] == validation["source"]

    assert cli([str(run_dir)]) == 0  # a plain re-render keeps the folder's labels
    assert summary(run_dir)["af_validation"]["source"] == validation["source"]
    html = (run_dir / "report.html").read_text()
    assert SAMPLE_NAME in html and "--af-sample 30" not in html
    assert cli([str(run_dir), "--no-af-validation"]) == 0
    assert "simulated organisms" in summary(run_dir)["af_validation"]["source"]
    assert "--af-sample 30" in (run_dir / "report.html").read_text()  # the report says how to get one


def _labels(tmp_path: Path, rows: list) -> str:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("rows, says", [
    ([{"key": "nope", "af": True}], "not trials of this run"),
    ([{"key": "K", "af": "yes"}], "labels.jsonl:1: label field 'af' must be true, false or null"),
    ([{"af": True}], "labels.jsonl:1: missing field 'key'"),
    (["{not json"], "labels.jsonl:1"),
    ([{"key": "K", "af": True}, {"key": "K", "af": False}], "labels.jsonl:2: trial K is labelled both"),
    ([{"key": "K", "af": None}], "no labels"),
    ([{"key": "K", "af": True}], "needs labelled replies of both kinds"),
])
def test_bad_labels_are_one_line_and_exit_2_and_change_nothing(run_dir, tmp_path, capsys, rows, says):
    before = (run_dir / "summary.json").read_text()
    key = str(trials(run_dir).query("compliance_label != 'refusal'")["key"].iloc[0])
    rows = [r if isinstance(r, str) else {k: (key if v == "K" else v) for k, v in r.items()} for r in rows]
    assert cli([str(run_dir), "--af-validation", _labels(tmp_path, rows)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says.replace("K", key) in err and "Traceback" not in err
    assert (run_dir / "summary.json").read_text() == before


def test_errors_are_measured_on_replies_not_known_to_refuse_only():
    frame = pd.DataFrame({
        "key": list("abcdef"), "parse_status": ["ok"] * 5 + ["error"],
        "compliance_label": ["full", "full", "partial", "full", "refusal", "full"],
        "alignment_faking_flag": [True, False, True, False, True, True],
    })
    labels = {"a": True, "b": True, "c": False, "d": False, "e": True, "f": False}
    errors, counts = errors_from_labelled_trials(frame, labels, "mine")
    assert (errors.sensitivity, errors.specificity, errors.n_pos, errors.n_neg) == (0.5, 0.5, 2, 2)
    assert errors.negatives == "complying" and errors.source == "mine"
    assert counts["refusals"] == 1 and counts["refusals_labelled_af"] == 1  # e: a refusal labelled AF is set aside
    assert errors_from_labelled_trials(frame, {"a": True, "e": False}, "mine")[0] is None
