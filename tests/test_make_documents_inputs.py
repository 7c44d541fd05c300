"""`python -m scenarios.make_documents` on bad input: one line naming the file or flag, exit 2, and
never a hang or an unbounded read (found by fuzzing: a FIFO blocked forever, /dev/zero read 24 GB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "scenarios" / "documents" / "facts.yaml"


def _fifo(folder: Path) -> Path:
    path = folder / "fifo.yaml"
    os.mkfifo(path)
    return path


def _facts(content: bytes | str):
    def build(folder: Path) -> list[str]:
        path = folder / "f.yaml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return ["--facts", str(path)]

    return build


CASES = {
    "latin-1 facts": (_facts(b"facts:\n  - {id: a, statement: caf\xe9}\n"), "UTF-8"),
    "list as an id": (_facts("facts:\n  - {id: [a], statement: s}\n"), "facts[0].id: Input should be a valid string"),
    # read strictly (found by a bad-input fuzz: each was accepted and written into the writer's prompts)
    "misspelt key": (_facts("facts:\n  - {id: a, statement: s, descripton: d}\n"), "facts[0].descripton: unknown key"),
    "unknown top-level key": (_facts("facts:\n  - {id: a, statement: s}\nfact: []\n"), "fact: unknown key"),
    "number as a statement": (_facts("facts:\n  - {id: a, statement: 3.5}\n"), "facts[0].statement: Input should be a valid string"),
    "list as a description": (_facts("facts:\n  - {id: a, statement: s, description: [x, y]}\n"), "facts[0].description"),
    "blank statement": (_facts("facts:\n  - {id: a, statement: '  '}\n"), "facts[0].statement: empty"),
    "duplicate id": (_facts("facts:\n  - {id: a, statement: s}\n  - {id: b, statement: t}\n  - {id: a, statement: u}\n"),
                     "facts[2].id: duplicate id 'a' (also facts[0])"),
    "no facts": (_facts("facts: []\n"), "facts: List should have at least 1 item"),
    "deep nesting": (_facts("facts: " + "[" * 5000 + "]" * 5000), "nested"),
    "long number": (_facts("facts: [{id: a, statement: s}]\nx: " + "9" * 5000), "4,300 digits"),
    "facts is a FIFO": (lambda f: ["--facts", str(_fifo(f))], "not a regular file"),
    "facts is /dev/zero": (lambda f: ["--facts", "/dev/zero"], "not a regular file"),
    "out is a FIFO": (lambda f: ["--facts", str(FACTS), "--out", str(_fifo(f))], "--out"),
    "bad model name": (lambda f: ["--facts", str(FACTS), "--model", "bogus"], "--model"),
    "bad base url": (lambda f: ["--facts", str(FACTS), "--model", "openai/x", "--base-url", "ftp://x"], "--base-url"),
    "zero concurrency": (lambda f: ["--facts", str(FACTS), "--concurrency", "0"], "--concurrency"),
    # a probe: 10**9 was accepted where the sweep caps calls in flight at 4096
    "huge concurrency": (lambda f: ["--facts", str(FACTS), "--concurrency", "1000000000"], "--concurrency must be 1 to 4096"),
    "NaN temperature": (lambda f: ["--facts", str(FACTS), "--temperature", "nan"], "--temperature"),
    # found by a bad-input fuzz: the documents were written over the facts file, exit 0
    "out is the facts file": (lambda f: [*_facts("facts:\n  - {id: a, statement: s}\n")(f), "--out", str(f / "f.yaml")],
                              "the --facts file itself"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_line_and_exit_2(name: str, tmp_path: Path):
    build, expect = CASES[name]
    args = build(tmp_path)
    if "--out" not in args:
        args += ["--out", str(tmp_path / "docs.jsonl")]
    # a subprocess with a timeout: a regression to a blocking read fails the test instead of hanging the suite
    result = subprocess.run([sys.executable, "-m", "scenarios.make_documents", *args, "--n", "2",
                             "--cache-dir", str(tmp_path / "cache")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and expect in lines[0], lines
    assert not (tmp_path / "docs.jsonl").exists()
    if (tmp_path / "f.yaml").is_file():
        assert (tmp_path / "f.yaml").read_text(errors="replace").startswith("facts:")


@pytest.mark.parametrize("n", ["0", "-3", "100001", "100000000000"])
def test_n_outside_1_to_max_documents_is_refused_before_any_call(n: str, tmp_path: Path):
    from scenarios.make_documents import MAX_DOCUMENTS

    result = subprocess.run([sys.executable, "-m", "scenarios.make_documents", "--facts", str(FACTS), "--n", n,
                             "--out", str(tmp_path / "docs.jsonl")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"--n must be between 1 and {MAX_DOCUMENTS:,}" in result.stderr and f"got {n}" in result.stderr
    assert not (tmp_path / "docs.jsonl").exists()


def test_help_states_the_limit_of_n(capsys: pytest.CaptureFixture[str]):
    from scenarios.make_documents import MAX_DOCUMENTS, parse_args

    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert f"1 to {MAX_DOCUMENTS:,}" in " ".join(capsys.readouterr().out.split())


def test_a_facts_file_with_a_description_of_null_is_fine(tmp_path: Path):
    from scenarios.docgen.stages import load_facts

    path = tmp_path / "f.yaml"
    path.write_text("facts:\n  - {id: a, statement: ' s ', description: null}\n  - {id: b, statement: t}\n")
    facts = load_facts(path)
    assert [(f.id, f.statement, f.description) for f in facts] == [("a", "s", ""), ("b", "t", "")]
