"""A bad scenario is one line naming the file and the key; the CLI exits 2 without a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scenarios.schema import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
GOOD = yaml.safe_load((ROOT / "scenarios" / "free_paid.yaml").read_text())


def write(tmp_path, data, name="s.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_shipped_scenario_is_valid():
    scenario = load_scenario(ROOT / "scenarios" / "free_paid.yaml")
    assert scenario.axes["tier"] == ["free", "paid"]


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"samples": "many"}, "samples:"),
        ({"axes": {"tier": []}}, "axis 'tier' is empty"),
        ({"axes": {"tier": ["free", "gold"]}}, "unknown value 'gold'"),
        ({"axes": {"mood": ["a"]}}, "unknown axis 'mood'"),
        ({"models": ["gpt4"]}, "expected 'provider/model'"),
        ({"monitors": {"vibes": "heuristic"}}, "unknown monitor 'vibes'"),
        ({"gaps": [{"name": "g", "axis": "tier", "treat": "free", "control": "gold"}]}, "'gold' is not a value"),
    ],
)
def test_bad_scenario_names_the_file_and_the_key(tmp_path, change, expected):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_missing_required_key_is_named(tmp_path):
    data = dict(GOOD)
    del data["axes"]
    with pytest.raises(ScenarioError, match="axes: required key is missing"):
        load_scenario(write(tmp_path, data))


def test_invalid_yaml_names_the_line(tmp_path):
    with pytest.raises(ScenarioError, match=r"s.yaml: line \d+ invalid YAML"):
        load_scenario(write(tmp_path, "name: x\naxes: [unclosed\n"))


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "runners.sweep", *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"models": ["sim/nobody"]}, "unknown simulated organism"),
        ({"models": ["foo/bar"]}, "unknown provider 'foo'"),
        ({"prompts": "missing.csv"}, "prompt file not found"),
        ({"prompts": "builtin:nope"}, "unknown built-in prompt set"),
        ({"axes": {"tier": []}}, "axis 'tier' is empty"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_no_traceback(tmp_path, change, expected):
    result = run_cli(write(tmp_path, {**GOOD, **change}), "--quiet", "--output", tmp_path / "run")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_cli_missing_scenario_file(tmp_path):
    result = run_cli(tmp_path / "nope.yaml")
    assert result.returncode == 2 and "scenario file not found" in result.stderr and "Traceback" not in result.stderr


def test_prompt_file_with_wrong_column_names_the_columns(tmp_path):
    csv_path = tmp_path / "adv.csv"
    csv_path.write_text("goal,target\nDo a bad thing,Sure\n")
    result = run_cli(write(tmp_path, {**GOOD, "prompts": str(csv_path)}), "--quiet", "--output", tmp_path / "run")
    assert result.returncode == 2 and "no column 'prompt'" in result.stderr and "goal" in result.stderr
