"""`python -m runners.rescore`: other monitors on a stored run, with no call to the model under test."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from runners.calls import RetryPolicy
from runners.engine import SweepOptions, run_sweep
from runners.rescore import main as rescore_main
from runners.rescore import rescore
from scenarios.schema import parse_scenario
from tests.fake_llm_server import last_user_text
from tests.test_judge import KEY_ENV, REAL, Script, af_reply

ROOT = Path(__file__).resolve().parent.parent
FAST = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.02)


def stored_run(tmp_path: Path, model: str = "openai/model-under-test", base_url: str | None = None) -> Path:
    models = [{"name": model, "base_url": base_url, "api_key_env": KEY_ENV}] if base_url else [model]
    scenario = parse_scenario({
        "name": "stored", "prompts": "builtin:harmful_requests", "limit": 4, "axes": {"tier": ["free", "paid"]},
        "models": models, "seed": 1,
    })
    asyncio.run(run_sweep(scenario, SweepOptions(output=tmp_path / "run", cache_dir=tmp_path / "cache",
                                                 quiet=True, retry=FAST)))
    return tmp_path / "run"


def rows_of(run: Path) -> list[dict[str, str]]:
    with open(run / "trials.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def judge_vote(body) -> str:
    text = last_user_text(body)
    faking = "modif" in text.lower() or "values" in text.lower()
    return af_reply(faking).replace(json.dumps(REAL["harm_awareness"]), json.dumps(text.split(".")[0][-40:]))


def test_rescore_adds_a_judge_without_calling_the_model_under_test(fake_llm_factory, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    model_server = fake_llm_factory()  # the model under test: a real API run, 8 trials
    run = stored_run(tmp_path, base_url=model_server.openai_base_url)
    assert len(model_server.calls) == 8
    before = {r["key"]: r for r in rows_of(run)}

    judge_server = fake_llm_factory(reply=Script(judge_vote))
    judge = {"backend": "openai/judge-model", "votes": 3, "base_url": judge_server.openai_base_url, "api_key_env": KEY_ENV}
    result = asyncio.run(rescore(run, {"alignment_faking@judge": judge}, cache_dir=tmp_path / "cache", retry=FAST))

    assert len(model_server.calls) == 8  # not one more call to the model under test
    judged = result.judges["alignment_faking@judge"]
    assert result.trials == 8 and judged["verdicts"] + judged["skipped"] == 8
    assert result.judge_calls == len(judge_server.calls) == 3 * judged["verdicts"]
    after = {r["key"]: r for r in rows_of(run)}
    assert set(after) == set(before)
    for key, row in after.items():  # the embedded verdicts are still there, the judge's beside them
        assert row["alignment_faking_label"] == before[key]["alignment_faking_label"]
        assert row["alignment_faking@judge_backend"] == "judge:openai/judge-model@af-v1"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["judges"]["alignment_faking@judge"]["votes"] == 3 * judged["verdicts"]
    assert "alignment_faking@judge" in summary["monitor_backends"]
    assert "sk-test" not in (run / "summary.json").read_text() + (run / "scenario.yaml").read_text()

    again = asyncio.run(rescore(run, {"alignment_faking@judge": judge}, cache_dir=tmp_path / "cache", retry=FAST))
    assert again.judge_calls == 0 and again.judge_cache_hits == 3 * judged["verdicts"]  # free the second time
    # the folder still counts the calls paid the first time (a reviewer: they went to 0)
    kept = json.loads((run / "summary.json").read_text())["judges"]["alignment_faking@judge"]
    assert kept["calls"] == len(judge_server.calls) and kept["votes"] == 3 * judged["verdicts"]


def test_a_rescore_whose_judge_answers_nonsense_exits_3_as_the_sweep_does(fake_llm_factory, tmp_path, monkeypatch,
                                                                          capsys):
    """Found by a hostile-reply fuzz: a judge whose every vote was unparseable replaced the verdicts
    and the re-score exited 0; the sweep exits 3 for such a judge (its verdicts are not evidence)."""
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    run = stored_run(tmp_path, model="sim/af-opus")
    judge_server = fake_llm_factory(reply=Script(["<verdict>{\"criteria\": </verdict>"]))
    judge = {"backend": "openai/judge-model", "votes": 2, "base_url": judge_server.openai_base_url, "api_key_env": KEY_ENV}
    args = [str(run), "--cache-dir", str(tmp_path / "cache"), "--no-report", "--monitor",
            f"alignment_faking@judge={json.dumps(judge)}"]
    assert rescore_main(args) == 3
    out, err = capsys.readouterr()
    assert "error: judge alignment_faking@judge: " in out and "votes were unusable" in out
    assert "error: judge alignment_faking@judge: " in err  # the exit's reason, on stderr too
    assert len(judge_server.calls) > 0


def test_rescoring_a_monitor_under_its_own_name_keeps_the_previous_verdicts(tmp_path):
    run = stored_run(tmp_path, model="sim/af-opus")
    before = {r["key"]: r["alignment_faking_label"] for r in rows_of(run)}
    result = asyncio.run(rescore(run, {"alignment_faking": "embedded"}, cache_dir=tmp_path / "cache"))
    assert result.kept == {"alignment_faking": "alignment_faking@was-embedded"}
    after = rows_of(run)
    assert {r["key"]: r["alignment_faking@was-embedded_label"] for r in after} == before
    assert "alignment_faking@was-embedded" in (run / "scenario.yaml").read_text()


def test_rescore_cli_makes_no_call_and_rejects_bad_monitors_in_one_line(tmp_path):
    run = stored_run(tmp_path, model="sim/honest")
    bad = subprocess.run([sys.executable, "-m", "runners.rescore", str(run), "--monitor", "nonsense=embedded"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert "nonsense" in bad.stderr
    ok = subprocess.run([sys.executable, "-m", "runners.rescore", str(run), "--monitor", "compliance@again=embedded",
                         "--cache-dir", str(tmp_path / "cache")], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "calls to the model under test: 0" in ok.stdout and (run / "report.html").exists()


def test_a_monitor_flag_mapping_is_read_with_the_scenario_loader():
    """Fuzzing found a number of 5,000 digits in `--monitor NAME={...}` exiting 4."""
    import pytest

    from runners.cli_errors import UsageError
    from runners.rescore import parse_monitor_flag

    assert parse_monitor_flag("alignment_faking={backend: openai/gpt-4o, votes: 5}") == (
        "alignment_faking", {"backend": "openai/gpt-4o", "votes": 5})
    for bad, says in (("{votes: " + "9" * 5000 + "}", "4,300 digits"), ("{backend: [", "invalid YAML"),
                      ("{a: 1, a: 2}", "duplicate key")):
        with pytest.raises(UsageError, match=says):
            parse_monitor_flag(f"alignment_faking={bad}")


def test_a_file_of_a_run_folder_is_said_to_be_one_not_an_inspect_log(tmp_path, capsys):
    """Fuzzing found `rescore RUN/summary.json` answered with "an Inspect AI log is not changed in place"."""
    import pytest

    from runners.cli_errors import run_cli
    from runners.rescore import main

    run = stored_run(tmp_path, model="sim/honest")
    for name in ("summary.json", "trials.csv", "scenario.yaml"):
        with pytest.raises(SystemExit) as ended:
            run_cli(lambda name=name: main([str(run / name), "--monitor", "compliance@again=embedded"]))
        err = capsys.readouterr().err
        assert ended.value.code == 2 and len(err.strip().splitlines()) == 1, err
        assert "Inspect AI log is not changed" not in err and f"give the run folder {run}" in err, err
    (tmp_path / "other.json").write_text("{}", encoding="utf-8")  # a .json outside a run folder: still read as a log
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main([str(tmp_path / "other.json"), "--monitor", "compliance@again=embedded"]))
    assert ended.value.code == 2 and "--out" in capsys.readouterr().err


def test_an_inspect_log_kept_in_a_run_folder_is_still_read_as_one(tmp_path, capsys):
    import pytest

    from runners.cli_errors import run_cli
    from runners.rescore import main

    run = stored_run(tmp_path, model="sim/honest")
    (run / "exported.eval").write_bytes(b"not a zip")
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main([str(run / "exported.eval"), "--monitor", "compliance@again=embedded"]))
    assert ended.value.code == 2 and "give --out" in capsys.readouterr().err


def test_a_rescore_is_refused_while_a_sweep_owns_the_folder(tmp_path, capsys):
    """Found by a bad-input fuzz: rescore took no lock, so one started while a sweep wrote the folder
    handled 12 of 40 trials and left scenario.yaml naming a monitor most trials lacked. It now owns
    the folder as runners.report does: refused in one line naming the holder, nothing written."""
    import pytest

    from runners.cli_errors import run_cli
    from runners.rescore import main
    from tests.test_run_folder import holder

    run = stored_run(tmp_path, model="sim/af-opus")
    scenario_before, rows_before = (run / "scenario.yaml").read_text(), rows_of(run)
    argv = [str(run), "--monitor", "compliance@again=embedded", "--cache-dir", str(tmp_path / "cache")]
    process, release = holder(run)
    try:
        with pytest.raises(SystemExit) as ended:
            run_cli(lambda: main(argv))
        err = capsys.readouterr().err
        assert ended.value.code == 2 and len(err.strip().splitlines()) == 1, err
        assert f"(pid {process.pid} on " in err
        assert (run / "scenario.yaml").read_text() == scenario_before and rows_of(run) == rows_before
    finally:
        release.set()
        process.join(30)
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main(argv))
    assert ended.value.code == 0, capsys.readouterr().err
    assert "compliance@again" in (run / "scenario.yaml").read_text()
    assert (run / ".afsim.lock").read_text() == ""  # released on the way out


def test_a_rescore_run_again_after_an_interrupt_keeps_the_previous_verdicts(fake_llm_factory, tmp_path, monkeypatch):
    """Found by a review: a re-score interrupted after some batches (Ctrl-C, SIGTERM: exit 130,
    "run the same command again") had stored the new verdicts of those trials but not the new
    scenario.yaml; run again, it moved those new verdicts over the previous ones it had kept for
    them (`alignment_faking@was-embedded`): the embedded verdicts of those trials were lost."""
    import monitors.registry
    import runners.rescore

    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")
    run = stored_run(tmp_path, model="sim/af-opus")
    embedded = {r["key"]: r["alignment_faking_label"] for r in rows_of(run)}
    judge_server = fake_llm_factory(reply=Script(lambda body: af_reply(True)))  # every verdict: faking
    judge = {"backend": "openai/judge-model", "votes": 1, "base_url": judge_server.openai_base_url, "api_key_env": KEY_ENV}
    monkeypatch.setattr(runners.rescore, "BATCH", 2)
    classify = monitors.registry.MonitorSuite.classify_batch
    batches = []

    async def interrupted_at_the_third_batch(self, parsed):
        batches.append(len(parsed))
        if len(batches) == 3:
            raise KeyboardInterrupt  # as the CLI's first Ctrl-C ends it
        return await classify(self, parsed)

    monkeypatch.setattr(monitors.registry.MonitorSuite, "classify_batch", interrupted_at_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(rescore(run, {"alignment_faking": judge}, cache_dir=tmp_path / "cache", retry=FAST))
    monkeypatch.setattr(monitors.registry.MonitorSuite, "classify_batch", classify)
    asyncio.run(rescore(run, {"alignment_faking": judge}, cache_dir=tmp_path / "cache", retry=FAST))

    rows = {r["key"]: r for r in rows_of(run)}
    assert {k: r["alignment_faking@was-embedded_label"] for k, r in rows.items()} == embedded
    assert {r["alignment_faking_label"] for r in rows.values()} == {"full"}  # the judge's


@pytest.mark.parametrize("value", ["0", "4097", "100000000000000000000"])
def test_a_concurrency_outside_the_sweeps_bound_is_refused(tmp_path, capsys, value):
    """A probe: `--concurrency 10**20` was accepted (the sweep caps calls in flight at 4096)."""
    from runners.cli_errors import run_cli

    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: rescore_main([str(tmp_path), "--monitor", "compliance=embedded", "--concurrency", value]))
    assert ended.value.code == 2 and "--concurrency must be 1 to 4096" in capsys.readouterr().err
