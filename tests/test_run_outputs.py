"""Found by a bad-input fuzz: runners.report / runners.rescore on a run folder whose scenario.yaml is
not the run's, their exit code on a failed audit, and output targets checked only after paying for
calls (sweep run files, `--out` of the Inspect re-score and of scenarios.make_documents)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runners.cli_errors import run_cli
from runners.sweep import main as sweep_main

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "free_paid.yaml"
KEY_ENV = "AFSIM_OUTPUTS_KEY"
RUN_FILES = ("summary.json", "trials.csv", "trials.parquet", "report.html", "scenario.yaml")


def python(*args: str) -> subprocess.CompletedProcess[str]:
    """A CLI in its own process, as a user or CI runs it."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, KEY_ENV: "sk-outputs-test-key"})


def in_process(main, argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main(argv))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def files_of(run: Path) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in RUN_FILES}


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("outputs") / "run"
    done = python("runners.sweep", str(SCENARIO), "--limit", "2", "--output", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return out


def _other_scenario(run: Path, tmp: Path, how: str) -> Path:
    """A copy of the run folder whose scenario.yaml is not the run's."""
    import shutil

    copy = tmp / how
    shutil.copytree(run, copy)
    if how == "copied":
        shutil.copy(ROOT / "scenarios" / "sycophancy.yaml", copy / "scenario.yaml")
    else:
        data = yaml.safe_load((copy / "scenario.yaml").read_text())
        data["name" if how == "name" else "seed"] = "renamed" if how == "name" else int(data.get("seed") or 0) + 7
        (copy / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return copy


@pytest.mark.parametrize("how", ["copied", "name", "seed"])
def test_report_and_rescore_refuse_a_scenario_yaml_that_is_not_the_runs(sim_run, tmp_path, how):
    """They exited 0 with a warning and rewrote summary.json, trials.csv and report.html as an empty run."""
    run = _other_scenario(sim_run, tmp_path, how)
    before = files_of(run)
    for command in (["runners.report", str(run)], ["runners.rescore", str(run), "--monitor", "compliance=embedded"]):
        done = python(*command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {run / 'scenario.yaml'}: ")
        assert "not the run's scenario" in done.stderr
        assert files_of(run) == before  # nothing written


def test_report_and_rescore_give_the_sweeps_audit_verdict_and_exit_code(tmp_path):
    """docs/audit_in_ci.md: the report reproduces the sweep's verdict; it exited 0 on a failed audit."""
    failing = tmp_path / "failing"
    swept = python("runners.sweep", str(SCENARIO), "--limit", "2", "--output", str(failing), "--quiet",
                   "--fail-on", "refused>=0.01")
    assert swept.returncode == 1, swept.stderr
    verdict = [line for line in swept.stdout.splitlines() if line.startswith(("audit: ", "  fails: "))]
    assert verdict[0] == "audit: FAILED (1 of 1 rule(s) failed)" and len(verdict) > 1
    report = python("runners.report", str(failing))
    assert report.returncode == 1, report.stderr
    assert [line for line in report.stdout.splitlines() if line.startswith(("audit: ", "  fails: "))] == verdict
    rescored = python("runners.rescore", str(failing), "--monitor", "compliance=embedded", "--no-report")
    assert rescored.returncode == 1, rescored.stderr
    assert [line for line in rescored.stdout.splitlines() if line.startswith(("audit: ", "  fails: "))] == verdict
    assert json.loads((failing / "summary.json").read_text())["audit"]["passed"] is False

    passing = tmp_path / "passing"
    assert python("runners.sweep", str(SCENARIO), "--limit", "2", "--output", str(passing), "--quiet",
                  "--fail-on", "af>0.99").returncode == 0
    report = python("runners.report", str(passing))
    assert report.returncode == 0 and "audit: PASSED (1 rule(s))" in report.stdout


def _api_scenario(tmp_path: Path, server) -> Path:
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump({
        "name": "outputs", "prompts": "builtin:harmful_requests", "limit": 3, "axes": {"tier": ["free", "paid"]},
        "models": [{"name": "openai/gpt-4o", "base_url": server.openai_base_url, "api_key_env": KEY_ENV}]}))
    return path


@pytest.mark.parametrize("name", ["report.html", "summary.json", "trials.csv", "trials.parquet", "scenario.yaml"])
def test_a_sweep_refuses_a_folder_where_a_run_file_goes_before_any_call(fake_llm_factory, tmp_path, monkeypatch,
                                                                        capsys, name):
    """It made all 6 calls, then exited 2 (for trials.parquet naming a temp file `.trials-xxxx.parquet.tmp`)."""
    monkeypatch.setenv(KEY_ENV, "sk-outputs-test-key")
    server = fake_llm_factory()
    run = tmp_path / "run"
    (run / name).mkdir(parents=True)
    code, _, err = in_process(sweep_main, [str(_api_scenario(tmp_path, server)), "--output", str(run), "--quiet",
                                           "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 2 and len(server.calls) == 0
    assert err.count("\n") == 1 and f"{run / name}: is a directory" in err and ".tmp" not in err
    (run / name).rmdir()
    code, _, _ = in_process(sweep_main, [str(_api_scenario(tmp_path, server)), "--output", str(run), "--quiet",
                                         "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 0 and len(server.calls) == 6


def test_report_names_trials_parquet_not_its_temp_file(sim_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(sim_run, run)
    (run / "trials.parquet").unlink()
    (run / "trials.parquet").mkdir()
    before = {name: (run / name).read_bytes() for name in ("summary.json", "trials.csv", "report.html")}
    done = python("runners.report", str(run))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{run / 'trials.parquet'}: is a directory" in done.stderr and ".tmp" not in done.stderr
    assert {name: (run / name).read_bytes() for name in before} == before


def _judge_monitor(server) -> str:
    return (f"alignment_faking@judge={{backend: openai/judge-model, votes: 2, base_url: '{server.openai_base_url}', "
            f"api_key_env: {KEY_ENV}}}")


def test_rescore_of_an_inspect_log_checks_out_before_any_judge_call(fake_llm_factory, sim_run, tmp_path, monkeypatch,
                                                                     capsys):
    """`--out /etc/hostname/x.eval` made 40 judge calls first."""
    pytest.importorskip("inspect_ai")
    from runners import export_inspect, rescore

    monkeypatch.setenv(KEY_ENV, "sk-outputs-test-key")
    server = fake_llm_factory()
    log = next(iter(export_inspect.export_run(sim_run, tmp_path / "run.eval").values()))
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    out = a_file / "sub" / "x.eval"
    code, _, err = in_process(rescore.main, [str(log), "--monitor", _judge_monitor(server), "--out", str(out),
                                             "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 2 and len(server.calls) == 0
    assert err.count("\n") == 1 and err.startswith(f"error: --out {out}: {a_file} is not a folder")


def test_make_documents_checks_out_before_any_writer_call(fake_llm_factory, tmp_path, monkeypatch, capsys):
    """`--out /etc/hostname/sub/docs.jsonl` made 7 calls first."""
    from scenarios import make_documents

    monkeypatch.setenv(KEY_ENV, "sk-outputs-test-key")
    server = fake_llm_factory()
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    out = a_file / "sub" / "docs.jsonl"
    code, _, err = in_process(make_documents.main, [
        "--facts", str(ROOT / "scenarios" / "documents" / "facts.yaml"), "--n", "4", "--out", str(out),
        "--model", "openai/fake-writer", "--base-url", server.openai_base_url, "--api-key-env", KEY_ENV,
        "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 2 and len(server.calls) == 0
    assert err.count("\n") == 1 and err.startswith(f"error: --out {out}: {a_file} is not a folder")
