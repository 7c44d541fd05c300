"""`runners.report --second-labels` must be another labeller's file. Found by a probe: the
`--af-validation` file given again (or a symbolic link to it) agreed with itself, and "Cohen's kappa
1.00" went into summary.json and the report as the labels' agreement, exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from runners.cli_errors import run_cli
from runners.report import main as report_main


def cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: report_main(argv))
    return int(exit_info.value.code)


@pytest.mark.parametrize("how", ["same path", "symlink", "other spelling"])
def test_the_first_labels_given_again_as_the_second_are_refused(tmp_path: Path, capsys, how: str) -> None:
    first = tmp_path / "alice.jsonl"
    first.write_text('{"key": "k1", "af": true}\n')
    second = {"same path": first, "symlink": tmp_path / "bob.jsonl", "other spelling": tmp_path / "." / "alice.jsonl"}[how]
    if how == "symlink":
        second.symlink_to(first)
    run = tmp_path / "run"  # not read: the flags are checked first
    assert cli([str(run), "--af-validation", str(first), "--second-labels", str(second)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--second-labels" in err and "itself" in err and "Traceback" not in err


def test_a_copy_by_another_labeller_goes_on_to_the_run(tmp_path: Path, capsys) -> None:
    first, second = tmp_path / "alice.jsonl", tmp_path / "bob.jsonl"
    for path in (first, second):
        path.write_text('{"key": "k1", "af": true}\n')
    assert cli([str(tmp_path / "run"), "--af-validation", str(first), "--second-labels", str(second)]) == 2
    assert "not a run folder" in capsys.readouterr().err  # past the check: two files, however alike
