"""runners.report and runners.rescore refused a folder a sweep owns by telling the user to "pass
--wait-lock ... or use another --output", flags neither command has (found by a probe); they now
say to run the command again once the sweep is done. The sweep's own advice is unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runners import folder_lock
from runners.cli_errors import run_cli
from runners.report import main as report_main
from runners.rescore import main as rescore_main
from runners.sweep import main as sweep_main

ROOT = Path(__file__).resolve().parents[1]


def _exit(main, argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: main(argv))
    return int(exit_info.value.code)


def test_report_and_rescore_advise_what_they_accept(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert _exit(sweep_main, [str(ROOT / "scenarios/free_paid.yaml"), "--limit", "2", "--model", "sim/honest",
                              "--output", str(run), "--quiet", "--no-report", "--cache-dir", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from runners import folder_lock; "
         "folder_lock.acquire(Path(sys.argv[1])); print('held', flush=True); time.sleep(60)", str(run)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for main, argv in ((report_main, [str(run)]),
                           (rescore_main, [str(run), "--monitor", "alignment_faking@again=embedded", "--no-report"])):
            assert _exit(main, argv) == 2
            err = capsys.readouterr().err
            assert "another sweep is using this run folder" in err and "run this command again" in err
            assert "--wait-lock" not in err and "--output" not in err
        assert folder_lock.SWEEP_ADVICE.endswith("pass --wait-lock to wait, or use another --output")
    finally:
        holder.kill()
        holder.wait()
