"""A bad scenario is one line naming the file and the key; the CLI exits 2 without a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scenarios.schema import ScenarioError, load_scenario, parse_scenario, provider_model

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


# --- found by a second bad-input fuzz: rates whose monitor does not run ------------------------

def _scenario(**fields) -> dict:
    return {"name": "fz", "prompts": "builtin:harmful_requests", "limit": 2, "axes": {"tier": ["free", "paid"]},
            "models": ["sim/honest"], **fields}


def test_every_rate_names_the_monitor_it_is_read_from():
    """scenarios.field_checks.MONITORS_OF_RATE lets the schema refuse a gap or rule on a rate whose
    monitor does not run; it must agree with the monitors' own METRICS tables."""
    import importlib

    from monitors.aggregate import METRICS
    from monitors.family_monitors import added
    from scenarios.field_checks import MONITORS_OF_RATE

    for name in added():
        for metric in getattr(importlib.import_module(f"monitors.{name}"), "METRICS", {}):
            assert MONITORS_OF_RATE.get(metric) == (name,), metric
    assert set(METRICS) <= set(MONITORS_OF_RATE)


def test_a_scenario_without_monitors_runs_its_settings_own():
    from scenarios.schema import parse_scenario

    syc = parse_scenario({"name": "fz", "setting": "sycophancy", "limit": 2, "axes": {"belief": ["none", "incorrect"]},
                          "prompts": {"source": "builtin:belief_questions", "answer_column": "answer"}, "models": ["sim/sycophant"]})
    assert set(syc.monitors) == {"answer_match", "pushback"}
    assert set(parse_scenario(_scenario()).monitors) == {"compliance", "alignment_faking"}


@pytest.mark.parametrize("fields, says", [
    ({"monitors": {"compliance@x": "embedded", "alignment_faking": "embedded"},
      "gaps": [{"name": "g", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}]},
     "'complied' is read from the compliance monitor"),
    ({"audit": [{"metric": "bad", "above": 0.5}]}, "unknown metric 'bad'"),
    ({"monitors": {"compliance@x": "embedded"}, "audit": [{"metric": "complied", "above": 0.5}]},
     "'complied' is read from the compliance monitor"),
    # booleans where numbers go (YAML `true` is 1.0 to pydantic), and rules that resolve otherwise
    ({"models": [{"name": "sim/honest", "price": [True, True]}]}, r"price\[0\]: expected a number, got true"),
    ({"audit": [{"metric": "complied", "above": True}]}, "expected a number, got true"),
    ({"axes": {"tier": ["free"], "priming": ["synthetic_documents"]}, "documents": {"fact_shares": {"x": True}}},
     "expected a number, got true"),
    ({"audit": [{"metric": "compliance_gap.ci_low", "bound": "p_value", "above": 0.5}]}, "give one"),
    ({"audit": [{"metric": "complied", "above": 2}]}, "threshold 2 is outside"),
    # a second backend's label names trials.csv columns: a plain name (found by a bad-input fuzz)
    ({"monitors": {"compliance": "embedded", "compliance@a/b": "embedded"}}, "the label after '@'"),
    ({"monitors": {"compliance": "embedded", "compliance@..": "embedded"}}, "the label after '@'"),
    ({"monitors": {"compliance": "embedded", "compliance@a\nb": "embedded"}}, "the label after '@'"),
    ({"monitors": {"compliance": "embedded", "compliance@" + "x" * 101: "embedded"}}, "the label after '@'"),
    ({"gaps": [{"name": "compliance_rate", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}]},
     "is an alias of the rate 'complied'"),
    ({"axes": {"tier": ["free", "paid"], "supervisor": ["weak"]}}, "'supervisor' belongs to setting 'weak_strong'"),
])
def test_gaps_and_rules_on_rates_the_run_cannot_read_are_refused(fields, says):
    from scenarios.schema import parse_scenario

    with pytest.raises(ScenarioError, match=says):
        parse_scenario(_scenario(**fields))


def test_a_top_level_key_yaml_read_as_a_boolean_is_named():
    from scenarios.schema import parse_scenario

    with pytest.raises(ScenarioError, match="top-level key True is not a name .*quote the key"):
        parse_scenario({**_scenario(), True: 1})


def test_model_names_a_local_server_gives_are_accepted():
    """vLLM names a model served from a path by the path (`vllm serve /data/llama`), and hub names
    hold a `/`: the model part is sent as written, so both are valid; a space or no model is not."""
    assert provider_model("openai//data/llama") == ("openai", "/data/llama")
    assert provider_model("openai/meta-llama/Llama-3.1-8B-Instruct") == ("openai", "meta-llama/Llama-3.1-8B-Instruct")
    assert provider_model("openai/qwen2.5:7b") == ("openai", "qwen2.5:7b")
    for bad in ("openai/", "/gpt-4o", "openai/gpt-4o ", "openai", "openai/gpt\t4o"):
        assert provider_model(bad) is None, bad


@pytest.mark.parametrize("extra", [{"base_url": "http://127.0.0.1:9/v1"}, {"api_key_env": "X_KEY"}, {"rpm": 5},
                                   {"endpoints": ["http://127.0.0.1:9/v1"]}])
def test_a_simulated_organism_with_a_server_setting_is_refused(extra):
    """A probe: `sim/af-opus` with a base_url (or an unset api_key_env) ran, the setting ignored."""
    data = {"name": "s", "prompts": "builtin:harmful_requests", "models": [{"name": "sim/af-opus", **extra}],
            "axes": {"tier": ["free", "paid"]}}
    with pytest.raises(ScenarioError, match="a simulated organism \\(sim/af-opus\\) calls no server"):
        parse_scenario(data, "s.yaml")


def test_a_call_deadline_no_server_could_meet_is_refused():
    """A probe: `timeout_s: 1.0e-300` was accepted; every call would time out and be retried."""
    data = {"name": "s", "prompts": "builtin:harmful_requests", "axes": {"tier": ["free", "paid"]},
            "models": [{"name": "openai/x", "base_url": "http://127.0.0.1:9/v1", "timeout_s": 1.0e-300}]}
    with pytest.raises(ScenarioError, match="timeout_s: Input should be greater than or equal to 0.1"):
        parse_scenario(data, "s.yaml")
