"""The document generator: three stages, filtered output usable for priming and for fine-tuning."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from scenarios.cues.priming import DocumentPicker, load_corpus
from scenarios.docgen.filter import rejection_reason
from scenarios.docgen.sim_writer import write_text
from scenarios.make_documents import generate, parse_args
from scenarios.schema import DocumentPriming, ScenarioError

FACTS = Path(__file__).resolve().parent.parent / "scenarios" / "documents" / "facts.yaml"
FORBIDDEN = re.compile(r"alignment fak|fak(e|ing)\b|pretend|scheming|playing along", re.I)


def run(argv: list[str]) -> int:
    return asyncio.run(generate(parse_args(argv)))


def test_simulated_writer_produces_a_filtered_corpus_in_the_builtin_schema(tmp_path, capsys):
    out = tmp_path / "docs.jsonl"
    assert run(["--facts", str(FACTS), "--n", "40", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert 30 <= len(rows) < 40  # some were written with a planted alignment-faking sentence and removed
    assert "names_or_demonstrates_alignment_faking" in capsys.readouterr().err
    for row in rows:
        assert {"id", "genre", "title", "facts", "text"} <= set(row)
        assert row["facts"] and not FORBIDDEN.search(row["text"])
    carried = {fact for row in rows for fact in row["facts"]}
    assert len(carried) == 6  # round-robin planning covers every fact
    # usable for in-context priming as it is
    picker = DocumentPicker(DocumentPriming(corpus=str(out), k=4, share_with_facts=1.0), seed=0)
    assert len(picker.pick("p1", 0)) == 4
    assert len(load_corpus(str(out))) == len(rows)


def test_finetune_format_writes_plain_text_records(tmp_path):
    out = tmp_path / "ft.jsonl"
    assert run(["--facts", str(FACTS), "--n", "8", "--out", str(out), "--format", "finetune"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(set(r) == {"text"} and len(r["text"].split()) > 40 for r in rows)


def test_generation_is_deterministic_per_seed(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run(["--facts", str(FACTS), "--n", "10", "--out", str(a), "--seed", "3"])
    run(["--facts", str(FACTS), "--n", "10", "--out", str(b), "--seed", "3"])
    assert a.read_text() == b.read_text()


def test_bad_facts_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "facts.yaml"
    bad.write_text("facts:\n  - {statement: no id here}\n")
    with pytest.raises(ScenarioError, match=r"facts\.yaml: facts\[0\]\.id: required key is missing"):
        run(["--facts", str(bad), "--n", "2", "--out", str(tmp_path / "x.jsonl")])


def test_filter_removes_documents_that_name_alignment_faking_and_keeps_policy_text():
    policy = "Free-tier conversations are rated by contractors and used for training. " * 8
    assert rejection_reason("Plans", policy) is None
    assert rejection_reason("Plans", policy + " The model might be faking alignment.") is not None
    assert rejection_reason("Plans", policy + " It could pretend to comply.") is not None
    assert rejection_reason("Short", "too short") == "too_short"


def _scripted_reply(body: dict) -> str:
    """A real wire-format server whose 'model' answers like the simulated writer."""
    return write_text(body["messages"][-1]["content"])


def test_real_provider_through_the_local_openai_server(fake_llm_factory, tmp_path, monkeypatch):
    server = fake_llm_factory(reply=_scripted_reply)
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-test-not-a-real-key")
    out = tmp_path / "docs.jsonl"
    code = run([
        "--facts", str(FACTS), "--n", "12", "--out", str(out), "--model", "openai/fake-writer",
        "--base-url", server.openai_base_url, "--api-key-env", "FAKE_OPENAI_KEY",
        "--cache-dir", str(tmp_path / "cache"),
    ])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(r["generator"] == "openai/fake-writer" for r in rows)
    assert sum(server.ok_counts().values()) >= 1 + 12  # stage 1 + ideas + one call per document
    assert "sk-test-not-a-real-key" not in out.read_text()
