"""A command whose output goes to a reader that has gone (`... 2>&1 | head -1`) must not exit 1 (nor 2, "bad input"): it ends quietly with 141, as a shell reports a closed pipe,
the code scripts and CI read as "the audit failed". Found by a probe: the BrokenPipeError on stdout
was reported on stderr, which went to the same closed pipe, and the second BrokenPipeError escaped
run_cli, so Python exited 1 (with the traceback lost in the closed pipe)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_into_closed_pipe(args: list[str], stderr_too: bool) -> int:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=write_end,
                              stderr=write_end if stderr_too else subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    finally:
        os.close(write_end)
    if not stderr_too:
        assert b"Traceback" not in proc.stderr
    return proc.returncode


@pytest.mark.parametrize("stderr_too", [True, False], ids=["stdout-and-stderr", "stdout-only"])
def test_closed_pipe_is_never_exit_1(stderr_too: bool) -> None:
    code = _run_into_closed_pipe(["-m", "monitors.power", "--gap", "0.05", "--base-rate", "0.1"], stderr_too)
    assert code == 141  # the reader went away: not an audit verdict (1), not bad input (2), not a crash (4)
