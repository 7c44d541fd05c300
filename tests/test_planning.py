"""Planning: the dry run says what gap a sweep can detect, and a small command sizes a sweep."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
                                  ["--base-rate", "0.9", "--gap", "0.3"]])
def test_power_command_bad_input_is_one_line_and_exit_2(argv):
    done = subprocess.run([sys.executable, "-m", "monitors.power", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
