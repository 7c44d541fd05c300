"""`scenarios.make_documents` with a server that is down says so in one line, before any call.
Found by a probe: the writer's calls were retried for 6-13 s, then the line was "stage 1 (document
types) returned no usable list", which named neither the server nor --base-url."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from runners.cli_errors import run_cli
from scenarios.make_documents import main as make_documents_main


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_is_down_is_one_line_naming_its_url(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FZ_DOC_KEY", "sk-test")
    facts = tmp_path / "facts.yaml"
    facts.write_text('facts:\n  - {id: a, statement: "The sky is green."}\n')
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    argv = ["--facts", str(facts), "--n", "2", "--out", str(tmp_path / "docs.jsonl"), "--model", "openai/gpt-4o",
            "--base-url", url, "--api-key-env", "FZ_DOC_KEY", "--cache-dir", str(tmp_path / "cache")]
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: make_documents_main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot reach {url}" in err and "Traceback" not in err
    assert time.monotonic() - started < 5  # no retried calls
    assert not (tmp_path / "docs.jsonl").exists()
