"""Planning: the dry run says what gap a sweep can detect, and a small command sizes a sweep."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runners.sweep import main as sweep_main

ROOT = Path(__file__).resolve().parent.parent


def test_dry_run_prints_the_minimal_detectable_gap_per_gap_and_model_from_the_organism(tmp_path, capsys):
    args = ["scenarios/free_paid.yaml", "--output", str(tmp_path / "run"), "--limit", "100", "--dry-run"]
    assert sweep_main(args) == 0
    out = capsys.readouterr().out
    assert "100 prompts x 1 sample(s)" in out
    line = next(x for x in out.splitlines() if "compliance_gap" in x and "sim/af-opus" in x)
    assert "organism's configured rate" in line
    smaller = float(re.search(r"([+-]\d+\.\d) points", line).group(1))
    assert sweep_main([*args, "--samples", "5"]) == 0
    line5 = next(x for x in capsys.readouterr().out.splitlines() if "compliance_gap" in x and "sim/af-opus" in x)
    assert float(re.search(r"([+-]\d+\.\d) points", line5).group(1)) < smaller  # more samples, smaller gap
    assert not (tmp_path / "run").exists()  # a dry run writes nothing


def test_a_limit_above_the_prompt_sets_size_is_said_on_the_plan_and_the_run(tmp_path, capsys):
    """`--limit 1000` on a 30-question set ran 30 without a word (a fresh-user probe)."""
    args = ["scenarios/sycophancy.yaml", "--output", str(tmp_path / "run"), "--limit", "1000", "--samples", "1"]
    note = "limit 1000 is more than the 30 prompts of the set: the run uses all 30"
    assert sweep_main([*args, "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert f"note: {note}" in plan
    # simulated organisms are not a cache: "0 calls to make (180 cached)" on a fresh folder misled a probe
    assert "sim/sycophant: 180 trials to simulate (offline: no calls, no cost)" in plan and "cached" not in plan
    assert sweep_main([*args, "--quiet"]) == 0
    assert f"warning: {note}" in capsys.readouterr().err
    assert sweep_main([*args, "--quiet", "--limit", "30"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_dry_run_of_a_real_model_uses_the_stated_base_rate(tmp_path, capsys):
    args = ["scenarios/free_paid.yaml", "--output", str(tmp_path / "run"), "--limit", "50", "--dry-run",
            "--model", "openai/gpt-4o", "--base-rate", "0.3"]
    assert sweep_main(args) == 0
    out = capsys.readouterr().out
    assert "control complied rate 30.0%, stated --base-rate; prompt ICC 0.2" in out


def test_power_command_answers_how_many_prompts_a_five_point_gap_needs():
    done = subprocess.run([sys.executable, "-m", "monitors.power", "--gap", "0.05", "--base-rate", "0.1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = {int(m.group(1)): int(m.group(2).replace(",", "")) for m in
            re.finditer(r"(\d+) samples per prompt:\s+([\d,]+) prompts", done.stdout)}
    assert set(rows) == {1, 3, 5, 10} and rows[1] > rows[3] > rows[5] > rows[10] > 20


@pytest.mark.parametrize("argv", [["--gap", "0.05"], ["--base-rate", "0.1", "--prompts", "1"], ["--base-rate", "x"],
                                  ["--base-rate", "0.9", "--gap", "0.3"],
                                  # found by a bad-input fuzz: numpy's draw overflowed, a traceback with exit 1
                                  ["--base-rate", "0.1", "--prompts", str(10**20), "--samples", "3"]])
def test_power_command_bad_input_is_one_line_and_exit_2(argv):
    done = subprocess.run([sys.executable, "-m", "monitors.power", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# --- found by fuzzing (bad input to the planners): one line, exit 2, or a sensible answer ---


def _power_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from monitors.power import main as power_main

    try:
        code = power_main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv, says", [
    (["--gap", "0", "--base-rate", "0"], "--gap"),  # was a ZeroDivisionError traceback
    (["--gap", "0", "--base-rate", "0", "--prompts", "10"], "--gap"),
    (["--gap", "0", "--base-rate", "0", "--samples", "3"], "--gap"),
    (["--gap", "0", "--base-rate", "0.1"], "--gap"),
    (["--gap", "1.5", "--base-rate", "0.1"], "give 0.015 for 1.5 points"),  # was read as 1.5 points, "1" as 100
    (["--gap", "5", "--base-rate", "0.1"], "0.05 for 5 points"),
    (["--gap", "0.05", "--base-rate", "10"], "--base-rate"),
    (["--gap", "nan", "--base-rate", "0.1"], "--gap"),
    # the simulated power drew 10**18 samples in chunks of 8: it never ended (third bad-input fuzz)
    (["--gap", "0.05", "--base-rate", "0.1", "--samples", str(10**18)], "--samples must be between 1 and 1,000"),
    (["--base-rate", "0.1", "--prompts", "10", "--samples", "1001"], "--samples must be between 1 and 1,000"),
    (["--gap", "inf", "--base-rate", "0.1"], "--gap"),
    (["--prompts", "10", "--base-rate", "1", "--gap", "0.05"], "--base-rate must be below 1"),  # printed "nan%"
    (["--prompts", "10", "--base-rate", "0.95", "--gap", "0.1"], "above 100%"),
    (["--prompts", "10", "--base-rate", "1"], "--base-rate"),
    (["--gap", "0.05", "--base-rate", "0.1", "--icc", "1"], "--icc"),
    (["--gap", "0.05", "--base-rate", "0.1", "--icc", "-0.1"], "--icc"),
    (["--gap", "0.05", "--base-rate", "0.1", "--samples", "0"], "--samples"),
    (["--prompts", "10", "--base-rate", "0.1", "--samples", "0"], "--samples"),
    (["--gap", "0.05", "--base-rate", "0.1", "--power", "1"], "--power"),
])
def test_power_command_refuses_undefined_or_ambiguous_values_in_one_line(argv, says, capsys):
    code, out, err = _power_cli(argv, capsys)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "nan" not in out


@pytest.mark.parametrize("argv, says", [
    (["--gap", "1", "--base-rate", "0", "--samples", "1"], "gap of 100.0 points"),  # 1 is all of it, not 1 point
    (["--gap", "0.05", "--base-rate", "0", "--icc", "0", "--samples", "1"], "gap of 5.0 points"),
    (["--prompts", "10", "--base-rate", "0", "--gap", "0.5"], "power to detect 50.0 points"),
    (["--prompts", "10", "--base-rate", "0.1", "--icc", "0"], "minimal detectable gap"),
    # a power below the test's level is the interval's own (simulated through it), and said to be
    (["--prompts", "10", "--samples", "3", "--base-rate", "0.1", "--gap", "0.1"], "below the test's 5% level"),
])
def test_power_command_answers_at_the_edges(argv, says, capsys):
    code, out, err = _power_cli(argv, capsys)
    assert code == 0, err
    assert says in out and "nan" not in out


def test_power_maths_has_no_division_by_zero_at_a_rate_of_zero():
    from monitors.power import expected_half_width, power

    for samples in (1, 3):
        assert 0.0 <= power(0.0, 0.0, 10, samples) <= 1.0
    assert math.isfinite(expected_half_width(0.0, 0.0, 10, 3, 0.2))


def test_power_command_zero_gap_through_python_m():
    done = subprocess.run([sys.executable, "-m", "monitors.power", "--gap", "0", "--base-rate", "0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sweep_checks_fail_on_rules_on_a_dry_run_too(tmp_path, capsys):
    from runners.cli_errors import run_cli

    args = ["scenarios/free_paid.yaml", "--output", str(tmp_path / "run"), "--limit", "5", "--dry-run"]
    for rule, says in (("garbage", "garbage"), ("no_such_gap.ci_low>0.05", "no_such_gap")):
        with pytest.raises(SystemExit) as ended:
            run_cli(lambda rule=rule: sweep_main([*args, "--fail-on", rule]))
        err = capsys.readouterr().err
        assert ended.value.code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
    assert sweep_main([*args, "--fail-on", "compliance_gap.ci_low>0.05"]) == 0
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag", [["--base-rate", "0.3"], ["--icc", "0.1"]])
def test_sweep_planning_flags_without_dry_run_are_refused(flag, tmp_path, capsys):
    from runners.cli_errors import run_cli

    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: sweep_main(["scenarios/free_paid.yaml", "--output", str(tmp_path / "run"), "--limit", "2",
                                    "--quiet", *flag]))
    err = capsys.readouterr().err
    assert ended.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert flag[0] in err and "only with --dry-run" in err
    assert not (tmp_path / "run").exists()


# --- small designs: the planner simulates the real interval (the normal formula overstated power) ---

# (prompts, samples, control rate, ICC): where the analytic MDG's real power was 31%, 44%, 36%, 62%, 71%
SMALL_DESIGNS = [(5, 3, 0.10, 0.2), (10, 3, 0.10, 0.2), (30, 3, 0.02, 0.2), (30, 5, 0.10, 0.5), (20, 1, 0.10, 0.2)]


@pytest.mark.parametrize("prompts, samples, control, icc", SMALL_DESIGNS)
def test_planned_gap_of_a_small_design_is_found_four_times_in_five_by_an_independent_simulation(prompts, samples, control, icc):
    from benchmarks.coverage import Cell, simulate_cell
    from monitors.power import minimal_detectable_gap

    mdg = minimal_detectable_gap(control, prompts, samples, icc)
    # another seed and another way of drawing (numpy binomials, not the planner's shared uniforms);
    # 3,000 data sets: the planner's and this check's Monte Carlo errors together are about +-2.5 points
    simulated = simulate_cell(Cell(prompts, samples, mdg, control, icc), 3000, np.random.default_rng(2027)).power
    assert 0.76 <= simulated <= 0.84, (mdg, simulated)


def test_a_design_that_never_reaches_the_target_has_no_detectable_gap():
    """10 prompts x 10 samples at 50% with ICC 0.5: the formula planned 18.9 points (26% real power);
    the simulated power peaks below 80% (a treat rate near 100% carries no information on clustering)."""
    from benchmarks.coverage import Cell, simulate_cell
    from monitors.power import minimal_detectable_gap

    assert minimal_detectable_gap(0.5, 10, 10, 0.5) is None
    assert simulate_cell(Cell(10, 10, 0.4, 0.5, 0.5), 2000, np.random.default_rng(1)).power < 0.8


def test_rare_outcomes_with_hundreds_of_prompts_are_planned_by_simulation_not_the_normal_formula():
    """0.5% control rate, 100 prompts x 3 samples, ICC 0.2: the normal formula (used from 100 prompts
    up before 2026-12-07) planned 3.45 points, which the real interval finds 25% of the time."""
    from benchmarks.coverage import Cell, simulate_cell
    from monitors.power import analytic_mdg, minimal_detectable_gap, prompts_needed

    control, prompts, samples, icc = 0.005, 100, 3, 0.2
    formula = analytic_mdg(control, prompts, samples, icc)
    planned = minimal_detectable_gap(control, prompts, samples, icc)
    assert planned > 1.3 * formula
    rng = np.random.default_rng(2027)
    assert simulate_cell(Cell(prompts, samples, formula, control, icc), 800, rng).power < 0.5
    assert simulate_cell(Cell(prompts, samples, planned, control, icc), 800, rng).power >= 0.7
    # the other question: how many prompts the formula's gap needs (the formula said 100)
    needed = prompts_needed(formula, control, samples, icc)
    assert needed > 1.3 * prompts
    assert simulate_cell(Cell(needed, samples, formula, control, icc), 800, rng).power >= 0.7


def test_a_large_design_is_simulated_quickly_and_deterministically():
    from monitors.power import minimal_detectable_gap, simulated_power

    mdg = minimal_detectable_gap(0.005, 100_000, 3, 0.2)  # counts per outcome pair: 16 columns, not 100,000
    assert 0.0003 < mdg < 0.001
    simulated_power.cache_clear()
    assert minimal_detectable_gap(0.005, 100_000, 3, 0.2) == mdg


def test_simulated_planning_is_deterministic_and_rises_with_the_gap():
    from monitors.power import minimal_detectable_gap, power, simulated_power

    assert power(0.3, 0.1, 20, 3) == simulated_power(0.3, 0.1, 20, 3)
    first = minimal_detectable_gap(0.1, 20, 3)
    simulated_power.cache_clear()
    assert minimal_detectable_gap(0.1, 20, 3) == first  # fixed seed: --dry-run prints the same figure
    assert [power(g, 0.1, 20, 3) for g in (0.1, 0.2, 0.3)] == sorted(power(g, 0.1, 20, 3) for g in (0.1, 0.2, 0.3))


@pytest.mark.parametrize("prompts", [300, 2500])
def test_many_samples_on_hundreds_of_prompts_are_planned_in_seconds_not_a_memory_error(prompts):
    """Found by review: 2,500 prompts x 1,000 samples (within --samples' bounds) drew its outcome
    pairs as a 2,000 x 1,002,001 table (15 GB: a MemoryError and a traceback), and 300 x 1,000
    drew every reply (300 x 1,000 x 2,000 uniforms a figure: minutes). The planner now draws a
    prompt's successes at once, and beyond 2,000 prompts of them uses the normal formula."""
    # no wall-clock assertion (tests never time the machine): the minutes-long path hits the hang guard
    result = subprocess.run([sys.executable, "-m", "monitors.power", "--base-rate", "0.1", "--prompts", str(prompts),
                             "--samples", "1000"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "minimal detectable gap" in result.stdout


def test_many_samples_plan_close_to_drawing_every_reply():
    """The binomial draw per prompt is the same planning model as drawing every reply."""
    from monitors.power import analytic_mdg, minimal_detectable_gap

    mdg = minimal_detectable_gap(0.1, 100, 1000)  # every reply drawn (the old path) planned 0.80-0.82 points
    assert 0.0075 < mdg < 0.0087 and mdg > analytic_mdg(0.1, 100, 1000)
    assert minimal_detectable_gap(0.1, 2500, 1000) == pytest.approx(analytic_mdg(0.1, 2500, 1000), rel=0.01)


@pytest.mark.parametrize("control", [0.1, 0.02])
def test_more_prompts_never_plan_a_larger_gap(control):
    """Found by review: each number of prompts drew its data sets from its own seed, so the Monte
    Carlo error of neighbouring designs was independent and 101 prompts planned 10.44 points at a
    2% rate where 100 planned 10.40 (and 104 planned more than 103 at 10%)."""
    from monitors.power import minimal_detectable_gap

    gaps = [minimal_detectable_gap(control, prompts, 1) for prompts in range(100, 106)]
    assert gaps == sorted(gaps, reverse=True)
