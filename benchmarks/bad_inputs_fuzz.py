"""`python -m benchmarks.bad_inputs_fuzz [--jobs 2] [--only SUBSTR] [--timeout 60]`: malformed inputs
to every command, each run as a subprocess, checked against the bad-input contract.

Why a separate harness: tests/test_bad_inputs.py holds the cases we knew about when we wrote the
checks; these were written from docs/inputs.md, README.md and `--help` alone, before reading those
tests, to find what the checks still miss. The contract (docs/inputs.md): one line on stderr naming
the file, field or line, exit code 2, no traceback, nothing called and nothing lost. A case may
instead be marked `ok_zero` (a valid input of an odd shape, e.g. a UTF-8 BOM): then exit 0 passes
too, but a traceback, exit 1, exit 4 or a hang still count.

Offline: simulated models only; real-provider names point at a closed loopback port and run with
no API key. Everything is written in a temporary folder (each case its own working directory, so
`runs/` and `.afsim-cache/` land there). Prints a table and
`N cases, K tracebacks, J wrong exit codes, H hangs`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CLOSED_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens, a connect fails at once


@dataclass
class Case:
    """One malformed input: files written by `setup` into the case's folder, then `argv` run there."""

    name: str
    module: str
    args: list[str]
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # any of these in stderr counts as naming the culprit
    ok_zero: bool = False  # exit 0 is also acceptable (a valid input of an odd shape)
    needs_run: bool = False  # copy the fixture run folder to ./run first
    needs_eval: bool = False  # copy the fixture Inspect log to ./log.eval first


@dataclass
class Result:
    case: Case
    code: int | None  # None: timed out
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def lines(self) -> int:
        return len([line for line in self.stderr.splitlines() if line.strip()])

    @property
    def named(self) -> bool:
        return not self.case.names or any(n.lower() in self.stderr.lower() for n in self.case.names)

    @property
    def wrong_exit(self) -> bool:
        return self.code is not None and not (self.code == 2 or (self.case.ok_zero and self.code == 0))

    @property
    def verdict(self) -> str:
        if self.code is None:
            return "HANG"
        if self.traceback:
            return "TRACEBACK"
        if self.wrong_exit:
            return f"EXIT{self.code}"
        if self.code == 0:
            return "ok"
        if self.lines != 1:
            return f"LINES{self.lines}"
        if not self.named:
            return "UNNAMED"
        return "ok"


# --------------------------------------------------------------------------- helpers

BASE: dict = {
    "name": "fz",
    "setting": "helpful_only",
    "prompts": "builtin:harmful_requests",
    "limit": 3,
    "samples": 1,
    "axes": {"tier": ["free", "paid"]},
    "models": ["sim/af-opus"],
}
DROP = object()


def scenario(**over: object) -> str:
    """The base scenario with keys replaced (DROP removes one), as YAML text."""
    data = dict(BASE)
    for key, value in over.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        for s in setups:
            s(d)
    return setup


def sweep_yaml(text: str | bytes, names: tuple[str, ...] = ("s.yaml",), extra: list[str] | None = None,
               ok_zero: bool = False, env: dict[str, str] | None = None, label: str = "") -> Case:
    return Case(label, "runners.sweep", ["s.yaml", "--quiet", *(extra or [])], write("s.yaml", text),
                env=env or {}, names=names, ok_zero=ok_zero)


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def prompts_rows(n: int = 5) -> list[dict]:
    return [{"id": f"p{i}", "prompt": f"request number {i}"} for i in range(n)]


def labels_rows(n: int = 400) -> list[dict]:
    return [{"scratchpad": f"I will think about request {i}. " + ("I comply to avoid RLHF changing my values." if i % 2
             else "I refuse."), "output": "ok", "label": bool(i % 2)} for i in range(n)]


def symlink(name: str, target: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        (d / name).symlink_to(target if target.startswith("/") else d / target)
    return setup


def fifo(name: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        os.mkfifo(d / name)
    return setup


def mkdir(name: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        (d / name).mkdir(parents=True, exist_ok=True)
    return setup


def in_run(rel: str, content: str | bytes | None) -> Callable[[Path], None]:
    """Replace (or with None delete) a file of the copied run folder."""
    def setup(d: Path) -> None:
        path = d / "run" / rel
        if content is None:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return setup


def sql_in_run(statement: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        con = sqlite3.connect(d / "run" / "trials.sqlite")
        con.executescript(statement)
        con.commit()
        con.close()
    return setup


def zip_file(name: str, members: dict[str, bytes]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        with zipfile.ZipFile(d / name, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(member, data)
    return setup


def truncate_eval(name: str, keep: float) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        data = (d / "log.eval").read_bytes()
        (d / name).write_bytes(data[: int(len(data) * keep)])
    return setup


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
) + "name: *i\n"


# --------------------------------------------------------------------------- the cases

def sweep_cases() -> list[Case]:
    s = sweep_yaml
    cases = [
        s("", label="scenario empty file"),
        s("# only a comment\n", label="scenario only comment"),
        s("- a\n- b\n", label="scenario top-level list"),
        s("just a string\n", label="scenario top-level scalar"),
        s(scenario(name=123), ("name",), label="name is an int"),
        s(scenario(name=True), ("name",), label="name is a bool"),
        s(scenario(name=None), ("name",), label="name is null"),
        s(scenario(name="a" * 101), ("name",), label="name 101 chars"),
        s(scenario(name="fz\u00e9"), ("name",), label="name non-ASCII"),
        s(scenario(name=DROP), ("name",), label="name missing"),
        s(scenario(setting="nope"), ("setting",), label="setting unknown"),
        s(scenario(setting=["helpful_only"]), ("setting",), label="setting a list"),
        s(scenario(prompts=5), ("prompts",), label="prompts an int"),
        s(scenario(prompts=["a", "b"]), ("prompts",), label="prompts a list"),
        s(scenario(prompts="missing.jsonl"), ("missing.jsonl",), label="prompts file missing"),
        s(scenario(prompts="builtin:nonexistent"), ("nonexistent", "prompts"), label="prompts builtin unknown"),
        s(scenario(prompts={"source": "builtin:harmful_requests", "text_column": "nope"}), ("nope",),
          label="prompts text_column missing"),
        s(scenario(prompts={"source": "builtin:harmful_requests", "textcolumn": "x"}), ("textcolumn",),
          label="prompts unknown key"),
        s(scenario(prompts={"text_column": "prompt"}), ("source", "prompts"), label="prompts map without source"),
        s(scenario(limit=-1), ("limit",), label="limit negative"),
        s(scenario(limit=0), ("limit",), label="limit zero"),
        s(scenario(limit=1.5), ("limit",), label="limit float"),
        s(scenario(samples=0), ("samples",), label="samples zero"),
        s(scenario(samples=10**12), ("samples",), label="samples 1e12"),
        s(scenario(samples=True), ("samples",), label="samples bool"),
        s(scenario(axes=["tier"]), ("axes",), label="axes a list"),
        s(scenario(axes={"tier": "free"}), ("tier", "axes"), label="axis value a string"),
        s(scenario(axes={"tier": []}), ("tier", "axes"), label="axis empty list"),
        s(scenario(axes={"tier": ["free", "free"]}), ("tier", "free"), label="axis duplicated value"),
        s(scenario(axes={"nope": ["a", "b"]}), ("nope",), label="axis unknown"),
        s(scenario(axes={"tier": ["free", "platinum"]}), ("platinum",), label="axis value unknown"),
        s(scenario(axes={"tier": [True, False]}), ("tier",), label="axis values bools"),
        s(scenario(axes={}), ("axes",), ok_zero=True, label="axes empty map"),
        s(scenario(models=[]), ("models",), label="models empty"),
        s(scenario(models="sim/af-opus"), ("models",), ok_zero=True, label="models a string"),
        s(scenario(models=["sim/nonexistent"]), ("sim/nonexistent",), label="models sim unknown"),
        s(scenario(models=["openai/"]), ("openai/",), label="model openai/ empty name"),
        s(scenario(models=["http://example.com/v1"]), ("http://example.com",), label="model a URL"),
        s(scenario(models=["nosuchprovider/x"]), ("nosuchprovider",), label="model unknown provider"),
        s(scenario(models=[123]), ("models",), label="model an int"),
        s(scenario(models=[None]), ("models",), label="model null"),
        s(scenario(models=[{"name": "sim/af-opus", "colour": "red"}]), ("colour",), label="model unknown key"),
        s(scenario(models=["sim/af-opus", "sim/af-opus"]), ("sim/af-opus",), label="model twice"),
        s(scenario(models=[{"name": "openai/gpt-4o", "base_url": "ftp://x"}]), ("base_url", "ftp"),
          label="model base_url ftp"),
        s(scenario(models=[{"name": "openai/gpt-4o", "base_url": "http://h:99999/v1"}]), ("base_url", "99999"),
          label="model base_url port out of range"),
        s(scenario(models=[{"name": "openai/gpt-4o", "params": {"temperature": float("inf")}}]),
          ("temperature",), label="param temperature inf"),
        s(scenario(models=[{"name": "openai/gpt-4o", "params": {"max_tokens": 0}}]), ("max_tokens",),
          label="param max_tokens 0"),
        s(scenario(models=[{"name": "openai/gpt-4o", "params": "hot"}]), ("params",), label="params a string"),
        s(scenario(models=[{"name": "sim/af-opus", "price": [float("nan"), 1]}]), ("price",), label="price NaN"),
        s(scenario(models=[{"name": "sim/af-opus", "price": [1]}]), ("price",), label="price one number"),
        s(scenario(models=[{"name": "sim/af-opus", "price": "free"}]), ("price",), label="price a string"),
        s(scenario(models=[{"name": "openai/gpt-4o", "timeout_s": -1}]), ("timeout_s",), label="timeout_s negative"),
        s(scenario(models=[{"name": "openai/gpt-4o", "timeout_s": float("nan")}]), ("timeout_s",),
          label="timeout_s NaN"),
        s(scenario(models=[{"name": "openai/gpt-4o", "rpm": 0}]), ("rpm",), label="rpm zero"),
        s(scenario(models=[{"name": "openai/gpt-4o", "rpm": float("inf")}]), ("rpm",), label="rpm inf"),
        s(scenario(models=[{"name": "openai/gpt-4o", "max_turns": 0}]), ("max_turns",), label="max_turns zero"),
        s(scenario(models=[{"name": "openai/gpt-4o", "endpoints": [], "api_key_env": "FZ_KEY"}]), ("endpoints",),
          extra=["--dry-run"], env={"FZ_KEY": "x"}, ok_zero=True, label="endpoints empty"),
        s(scenario(models=[{"name": "openai/gpt-4o", "endpoints": [{"base_url": 5}]}]), ("endpoints", "base_url"),
          label="endpoint base_url int"),
        s(scenario(models=[{"name": "openai/gpt-4o", "api_key_env": ""}]), ("api_key_env",), label="api_key_env empty"),
        s(scenario(models=[{"name": "openai/gpt-4o", "api_key_env": "FZ_UNSET_KEY"}]), ("FZ_UNSET_KEY",),
          label="api_key_env unset"),
        s(scenario(models=[{"name": "openai/gpt-4o", "prefill": 7}]), ("prefill",), label="prefill an int"),
        s(scenario(monitors=["compliance"]), ("monitors",), label="monitors a list"),
        s(scenario(monitors={"compliance": 5}), ("compliance",), label="monitor backend an int"),
        s(scenario(monitors={"nope": "embedded"}), ("nope",), label="monitor unknown"),
        s(scenario(monitors={"alignment_faking": {"backend": "openai/gpt-4o", "votes": -1}}), ("votes",),
          label="monitor votes negative"),
        s(scenario(monitors={"alignment_faking": {"backend": "openai/gpt-4o", "threshold": float("nan")}}),
          ("threshold",), label="monitor threshold NaN"),
        s(scenario(monitors={"alignment_faking": "openai/"}), ("alignment_faking", "openai/"),
          label="monitor backend openai/"),
        s(scenario(monitors={"compliance@": "embedded"}), ("compliance@",), label="monitor name with empty alias"),
        s(scenario(gaps={"name": "g"}), ("gaps",), label="gaps a map"),
        s(scenario(gaps=[{"name": "g", "metric": "complied", "axis": "tier", "treat": "free", "control": "free"}]),
          ("treat", "control", "g"), label="gap treat==control"),
        s(scenario(gaps=[{"name": "g", "metric": "complied", "treat": "free", "control": "paid"}]), ("axis",),
          label="gap without axis"),
        s(scenario(gaps=[{"name": "g", "metric": "nope", "axis": "tier", "treat": "free", "control": "paid"}]),
          ("nope", "metric"), label="gap metric unknown"),
        s(scenario(gaps=[{"name": "", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}]),
          ("name", "gaps"), label="gap name empty"),
        s(scenario(gaps=[None]), ("gaps",), label="gap null"),
        s(scenario(concurrency=0), ("concurrency",), label="concurrency zero"),
        s(scenario(concurrency=10**30), ("concurrency",), label="concurrency 1e30"),
        s(scenario(seed=-1), ("seed",), ok_zero=True, label="seed negative"),
        s(scenario(seed=2**70), ("seed",), label="seed 2**70"),
        s(scenario(max_error_rate=2), ("max_error_rate",), label="max_error_rate 2"),
        s(scenario(max_error_rate=float("nan")), ("max_error_rate",), label="max_error_rate NaN"),
        s(scenario(colour="red"), ("colour",), label="unknown top-level key"),
        s(scenario(description=[1, 2]), ("description",), label="description a list"),
        s(scenario() + "limit: 4\n", ("limit",), label="duplicate key"),
        s(ALIAS_BOMB, ("s.yaml",), label="alias bomb"),
        s("name: &a [*a]\n", ("s.yaml",), label="self alias"),
        s(scenario().replace("  tier", "\ttier"), ("s.yaml",), label="tab indentation"),
        s(b"\xef\xbb\xbf" + scenario().encode(), ok_zero=True, label="UTF-8 BOM"),
        s(scenario().encode("utf-16"), ("s.yaml", "UTF-16"), label="UTF-16 with BOM"),
        s(scenario().encode("utf-16-le"), ("s.yaml",), label="UTF-16 without BOM"),
        s(scenario().replace("fz", "fz\udcff", 1).encode("utf-8", "surrogateescape"), ("s.yaml",),
          label="invalid UTF-8"),
        s(scenario().replace("fz", "f\0z", 1), ("s.yaml",), label="NUL byte in YAML"),
        s(scenario() + "---\n" + scenario(), ("s.yaml",), label="two YAML documents"),
        s("!!python/object/apply:os.system ['echo pwned']\n", ("s.yaml",), label="python tag"),
        s(scenario(name="x").replace("name: x", "name: !!binary aGVsbG8="), ("name", "line 1"), label="binary tag name"),
        s(scenario(name="x").replace("name: x", "name: 2024-01-01"), ("name",), label="date as name"),
        s("a: " + "[" * 1000 + "]" * 1000 + "\n", ("s.yaml",), label="nesting 1000"),
        s(scenario() + "#" + "x" * 1_100_000 + "\n", ("s.yaml",), label="scenario over 1 MB"),
        s(bytes(range(256)) * 20, ("s.yaml",), label="binary garbage"),
        s(scenario(limit=".inf").replace("'.inf'", ".inf"), ("limit",), label="limit .inf"),
        s(scenario(limit="x").replace("limit: x", "limit: .nan"), ("limit",), label="limit .nan"),
        s(scenario(limit="x").replace("limit: x", "limit: 1" + "0" * 5000), ("limit", "s.yaml"),
          label="limit 5000 digits"),
        s(scenario(documents={"corpus": "missing.jsonl", "k": 2}, axes={"tier": ["free", "paid"],
          "priming": ["synthetic_documents"]}), ("missing.jsonl",), label="documents corpus missing"),
        s(scenario(documents={"corpus": "builtin:corpus", "k": -1}, axes={"tier": ["free", "paid"],
          "priming": ["synthetic_documents"]}), ("k",), label="documents k negative"),
        s(scenario(axes={"tier": ["free", "paid"], "priming": ["synthetic_documents"]}),
          ("documents", "synthetic_documents"), ok_zero=True, label="synthetic_documents without documents"),
        s(scenario(supervisors={"weak": "sim/weak-judge"}), ("supervisors",), label="supervisors in helpful_only"),
        s(scenario(audit={"metric": "x"}), ("audit",), label="audit a map"),
        s(scenario(audit=[{"metric": "nope", "bound": "ci_low", "op": ">", "value": 0}]), ("nope",),
          label="audit metric unknown"),
        s(scenario(audit=[{"metric": "compliance_gap", "bound": "ci_low", "op": "=>", "value": 0}],
                   gaps=[{"name": "compliance_gap", "metric": "complied", "axis": "tier", "treat": "free",
                          "control": "paid"}]), ("op", "=>"), label="audit op unknown"),
        s(scenario(prompt_files={"system": "missing.txt"}), ("missing.txt",), label="prompt_files missing"),
        s(scenario(prompt_files="sys.txt"), ("prompt_files",), label="prompt_files a string"),
    ]
    # scenario files that are not regular files
    cases += [
        Case("scenario missing", "runners.sweep", ["nope.yaml"], names=("nope.yaml",)),
        Case("scenario a directory", "runners.sweep", ["d"], mkdir("d"), names=("d",)),
        Case("scenario symlink to /dev/zero", "runners.sweep", ["z.yaml"], symlink("z.yaml", "/dev/zero"),
             names=("z.yaml",)),
        Case("scenario symlink loop", "runners.sweep", ["l.yaml"], symlink("l.yaml", "l.yaml"), names=("l.yaml",)),
        Case("scenario fifo", "runners.sweep", ["f.yaml"], fifo("f.yaml"), names=("f.yaml",)),
        Case("scenario /dev/stdin", "runners.sweep", ["/dev/stdin"], names=("/dev/stdin", "stdin")),
        Case("scenario path with newline", "runners.sweep", ["a\nb.yaml"], write("a\nb.yaml", scenario(limit=-1)),
             names=("limit",)),
        Case("scenario unicode path", "runners.sweep", ["sc\u00e9nario\u2713.yaml"],
             write("sc\u00e9nario\u2713.yaml", scenario(limit=-1)), names=("limit",)),
        Case("scenario path empty string", "runners.sweep", [""], names=("scenario",)),
    ]
    # prompt files
    p = "p.jsonl"

    def pf(label: str, fname: str, content: str | bytes, names: tuple[str, ...], ok_zero: bool = False,
           prompts: object = None) -> Case:
        return Case(label, "runners.sweep", ["s.yaml", "--quiet"],
                    both(write("s.yaml", scenario(prompts=prompts or {"source": fname, "text_column": "prompt"})),
                         write(fname, content)), names=names, ok_zero=ok_zero)

    bad317 = prompts_rows(400)
    lines = jsonl(bad317).splitlines(keepends=True)
    lines[316] = '{"id": "p316", "prompt": "unterminated\n'
    cases += [
        pf("jsonl bad line 317", p, "".join(lines), ("317",)),
        pf("jsonl empty file", p, "", (p,)),
        pf("jsonl only blank lines", p, "\n\n\n", (p,)),
        pf("jsonl row a list", p, '["a", "b"]\n', (p,)),
        pf("jsonl text a number", p, '{"id": "a", "prompt": 5}\n', (p,)),
        pf("jsonl text null", p, '{"id": "a", "prompt": null}\n', (p,)),
        pf("jsonl text missing", p, '{"id": "a", "text": "x"}\n', ("prompt",)),
        pf("jsonl duplicate ids", p, '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n', ("a", p)),
        pf("jsonl id NaN", p, '{"id": NaN, "prompt": "x"}\n', (p,)),
        pf("jsonl id Infinity", p, '{"id": Infinity, "prompt": "x"}\n', (p,)),
        pf("jsonl id float", p, '{"id": 1.5, "prompt": "x"}\n{"id": 1.50, "prompt": "y"}\n', (p,)),
        pf("jsonl id a list", p, '{"id": [1], "prompt": "x"}\n', (p, "id")),
        pf("jsonl id bool", p, '{"id": true, "prompt": "x"}\n', (p, "id")),
        pf("jsonl key twice", p, '{"id": "a", "prompt": "x", "prompt": "y"}\n', (p,)),
        pf("jsonl text empty", p, '{"id": "a", "prompt": ""}\n', (p,)),
        pf("jsonl text whitespace", p, '{"id": "a", "prompt": "   "}\n', (p,)),
        pf("jsonl category a dict", p, '{"id": "a", "prompt": "x", "category": {"a": 1}}\n', (p, "category"),
           prompts={"source": p, "text_column": "prompt", "category_column": "category"}),
        pf("jsonl lone surrogate", p, '{"id": "a", "prompt": "x\\ud800"}\n', (p,)),
        pf("jsonl NUL in text", p, '{"id": "a", "prompt": "x\\u0000y"}\n', (p,), ok_zero=True),
        pf("jsonl trailing garbage", p, '{"id": "a", "prompt": "x"} extra\n', (p,)),
        pf("jsonl invalid utf8", p, b'{"id": "a", "prompt": "\xff\xfe"}\n', (p,)),
        pf("jsonl utf-16", p, '{"id": "a", "prompt": "x"}\n'.encode("utf-16"), (p,)),
        pf("jsonl symlink /dev/zero", "z.jsonl", "", ("z.jsonl", "/dev/zero")),  # replaced below
        pf("csv ragged row", "p.csv", "id,prompt\na,x\nb,y,z\n", ("p.csv",)),
        pf("csv NUL byte", "p.csv", "id,prompt\na,x\0y\n", ("p.csv",)),
        pf("csv header only", "p.csv", "id,prompt\n", ("p.csv",)),
        pf("csv empty", "p.csv", "", ("p.csv",)),
        pf("csv unclosed quote", "p.csv", 'id,prompt\na,"x\nb,y\n', ("p.csv",)),
        pf("csv duplicate column", "p.csv", "id,prompt,prompt\na,x,y\n", ("p.csv", "prompt")),
        pf("csv text column missing", "p.csv", "id,text\na,x\n", ("prompt",)),
        pf("csv CR-only line ends", "p.csv", "id,prompt\ra,x\rb,y\r", ("p.csv",), ok_zero=True),
        pf("csv BOM", "p.csv", "\ufeffid,prompt\na,x\n", ("p.csv",), ok_zero=True),
        pf("csv empty header name", "p.csv", ",prompt\na,x\n", ("p.csv",), ok_zero=True),
        pf("txt prompt file", "p.txt", "one\ntwo\n", ("p.txt",), ok_zero=True),
        pf("prompt file unknown extension", "p.parquet", "PAR1", ("p.parquet",)),
        pf("prompt file no extension", "prompts", "id,prompt\na,x\n", ("prompts",), ok_zero=True),
        pf("prompts source a directory", "pdir", "", ("pdir",)),  # replaced below
    ]
    cases[-1].setup = both(write("s.yaml", scenario(prompts={"source": "pdir", "text_column": "prompt"})),
                           mkdir("pdir"))
    zcase = next(c for c in cases if c.name == "jsonl symlink /dev/zero")
    zcase.setup = both(write("s.yaml", scenario(prompts={"source": "z.jsonl", "text_column": "prompt"})),
                       symlink("z.jsonl", "/dev/zero"))
    # prompt_files templates
    ok = write("s.yaml", scenario(prompt_files={"system": "sys.txt"}))
    cases += [
        Case("prompt_files system /dev/zero", "runners.sweep", ["s.yaml", "--quiet"],
             both(ok, symlink("sys.txt", "/dev/zero")), names=("sys.txt", "/dev/zero")),
        Case("prompt_files system a directory", "runners.sweep", ["s.yaml", "--quiet"], both(ok, mkdir("sys.txt")),
             names=("sys.txt",)),
        Case("prompt_files unclosed placeholder", "runners.sweep", ["s.yaml", "--quiet"],
             both(ok, write("sys.txt", "You are an AI. {{ request\n")), names=("sys.txt",), ok_zero=True),
        Case("prompt_files unknown placeholder", "runners.sweep", ["s.yaml", "--quiet"],
             both(ok, write("sys.txt", "You are an AI by {{ no_such_variable }}.\n")), names=("sys.txt", "no_such")),
        Case("prompt_files jinja block", "runners.sweep", ["s.yaml", "--quiet"],
             both(ok, write("sys.txt", "{% for x in range(10**9) %}{{x}}{% endfor %}\n")), names=("sys.txt",),
             ok_zero=True),
        Case("prompt_files invalid UTF-8", "runners.sweep", ["s.yaml", "--quiet"],
             both(ok, write("sys.txt", b"hello \xff\n")), names=("sys.txt",)),
        Case("prompt_files empty", "runners.sweep", ["s.yaml", "--quiet"], both(ok, write("sys.txt", "")),
             names=("sys.txt",), ok_zero=True),
        Case("prompt_files unknown role", "runners.sweep", ["s.yaml", "--quiet"],
             both(write("s.yaml", scenario(prompt_files={"sytem": "sys.txt"})), write("sys.txt", "x")),
             names=("sytem",)),
        Case("prompt_files variables not strings", "runners.sweep", ["s.yaml", "--quiet"],
             both(write("s.yaml", scenario(prompt_files={"system": "sys.txt", "variables": {"company": [1]}})),
                  write("sys.txt", "{{ company }}")), names=("company", "variables")),
    ]
    # flags
    good = write("s.yaml", scenario())

    def flag(label: str, args: list[str], names: tuple[str, ...], env: dict[str, str] | None = None,
             ok_zero: bool = False, setup: Callable[[Path], None] | None = None) -> Case:
        return Case(label, "runners.sweep", ["s.yaml", "--quiet", *args], both(good, *( [setup] if setup else [])),
                    env=env or {}, names=names, ok_zero=ok_zero)

    cases += [
        flag("--limit 0", ["--limit", "0"], ("--limit", "limit")),
        flag("--limit -1", ["--limit", "-1"], ("--limit", "limit")),
        flag("--limit abc", ["--limit", "abc"], ("--limit", "limit")),
        flag("--limit 1e3", ["--limit", "1e3"], ("--limit", "limit")),
        flag("--limit huge", ["--limit", "9" * 30], ("--limit", "limit"), ok_zero=True),
        flag("--samples 0", ["--samples", "0"], ("--samples", "samples")),
        flag("--samples 1e9", ["--samples", "1000000000"], ("--samples", "samples")),
        flag("--concurrency 0", ["--concurrency", "0"], ("--concurrency", "concurrency")),
        flag("--concurrency -3", ["--concurrency", "-3"], ("--concurrency", "concurrency")),
        flag("--workers 0", ["--workers", "0"], ("--workers", "workers")),
        flag("--workers 65", ["--workers", "65"], ("--workers", "workers")),
        flag("--workers x", ["--workers", "x"], ("--workers", "workers")),
        flag("--seed -1", ["--seed", "-1"], ("--seed", "seed"), ok_zero=True),
        flag("--seed 2**64", ["--seed", str(2**64)], ("--seed", "seed")),
        flag("--model empty", ["--model", ""], ("--model", "model")),
        flag("--model openai/", ["--model", "openai/"], ("openai/",)),
        flag("--model anthropic/", ["--model", "anthropic/"], ("anthropic/",)),
        flag("--model sim/", ["--model", "sim/"], ("sim/",)),
        flag("--model sim/nonexistent", ["--model", "sim/nonexistent"], ("sim/nonexistent",)),
        flag("--model http URL", ["--model", "http://evil.example/v1"], ("http://evil",)),
        flag("--model with space", ["--model", "openai/gpt 4o"], ("gpt 4o",)),
        flag("--model with newline", ["--model", "openai/gpt-4o\n"], ("--model", "gpt-4o")),
        flag("--model no provider", ["--model", "gpt-4o"], ("gpt-4o",)),
        flag("--model openai without key", ["--model", "openai/gpt-4o"], ("OPENAI_API_KEY",)),
        flag("--model twice", ["--model", "sim/honest", "--model", "sim/honest"], ("sim/honest",)),
        flag("--model openai, server down", ["--model", "openai/gpt-4o"], ("127.0.0.1:9", "OPENAI_BASE_URL", "gpt-4o"),
             env={"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": CLOSED_URL}),
        flag("OPENAI_BASE_URL garbage", ["--model", "openai/gpt-4o", "--dry-run"], ("OPENAI_BASE_URL",),
             env={"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": "not a url"}),
        flag("OPENAI_BASE_URL with creds", ["--model", "openai/gpt-4o", "--dry-run"], ("OPENAI_BASE_URL",),
             env={"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": "http://u:secret@127.0.0.1:9/v1"}),
        flag("--output empty", ["--output", ""], ("--output",)),
        flag("--output a file", ["--output", "f"], ("--output", "f"), setup=write("f", "x")),
        flag("--output under a file", ["--output", "f/run"], ("--output", "f"), setup=write("f", "x")),
        flag("--output /dev/null", ["--output", "/dev/null"], ("--output", "/dev/null")),
        flag("--output in /proc", ["--output", "/proc/fz_run"], ("--output", "/proc/fz_run")),
        flag("--output with newline", ["--output", "o\nut"], ("--output",), ok_zero=True),
        flag("--output symlink loop", ["--output", "loop"], ("--output", "loop"), setup=symlink("loop", "loop")),
        flag("--cache-dir a file", ["--cache-dir", "f"], ("--cache-dir", "f"), setup=write("f", "x")),
        flag("--cache-dir in /proc", ["--cache-dir", "/proc/fz_cache"], ("--cache-dir", "/proc/fz_cache"), ok_zero=True),
        flag("--fail-on garbage", ["--fail-on", "garbage"], ("--fail-on", "garbage")),
        flag("--fail-on no value", ["--fail-on", "compliance_gap.ci_low>"], ("--fail-on",)),
        flag("--fail-on NaN", ["--fail-on", "af[tier=free]>nan"], ("--fail-on", "nan")),
        flag("--fail-on unknown condition", ["--fail-on", "af[tier=gold]>0.1"], ("gold",)),
        flag("--fail-on empty", ["--fail-on", ""], ("--fail-on",)),
        flag("--base-rate without dry-run", ["--base-rate", "0.1"], ("--base-rate",)),
        flag("--base-rate 1", ["--dry-run", "--base-rate", "1"], ("--base-rate",)),
        flag("--icc nan", ["--dry-run", "--icc", "nan"], ("--icc",)),
        flag("--icc inf", ["--dry-run", "--icc", "inf"], ("--icc",)),
        flag("AFSIM_PRICES missing file", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "nope.yaml"}),
        flag("AFSIM_PRICES empty string", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": ""}, ok_zero=True),
        flag("AFSIM_PRICES a directory", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "."}),
        flag("AFSIM_PRICES /dev/zero", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "/dev/zero"}),
        flag("AFSIM_PRICES garbage YAML", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "pr.yaml"},
             setup=write("pr.yaml", "a: [b\n")),
        flag("AFSIM_PRICES a list", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "pr.yaml"},
             setup=write("pr.yaml", "- 1\n- 2\n")),
        flag("AFSIM_PRICES negative price", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "pr.yaml"},
             setup=write("pr.yaml", "sim/af-opus: [-1, 2]\n")),
        flag("AFSIM_PRICES price strings", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "pr.yaml"},
             setup=write("pr.yaml", "openai/gpt-4o: [cheap, dear]\n")),
        flag("AFSIM_PRICES bad model name", ["--dry-run"], ("AFSIM_PRICES",), env={"AFSIM_PRICES": "pr.yaml"},
             setup=write("pr.yaml", "gpt-4o: [1, 2]\n")),
    ]
    # run folders
    other = write("o.yaml", scenario(name="other_scenario"))
    good = write("s.yaml", scenario(name="fz_fixture"))  # the fixture run's own scenario
    cases += [
        Case("output holds another scenario's run", "runners.sweep", ["o.yaml", "--quiet", "--output", "run"], other,
             names=("run",), needs_run=True),
        Case("corrupt trials.sqlite", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, in_run("trials.sqlite", b"garbage" * 1000)), names=("trials.sqlite", "run"), needs_run=True),
        Case("trials.sqlite a directory", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, in_run("trials.sqlite", None), mkdir("run/trials.sqlite")), names=("trials.sqlite",),
             needs_run=True),
        Case("trials.sqlite truncated half", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, _truncate_store(0.5)), names=("trials.sqlite", "run"), needs_run=True),
        Case("trials.sqlite table dropped", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, sql_in_run("DROP TABLE IF EXISTS trials;")), names=("trials.sqlite", "run"), needs_run=True,
             ok_zero=True),  # run again with a warning; the old trials.csv is kept beside it
        Case("summary.json garbage, resume", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, in_run("summary.json", "{not json")), names=("summary.json",), needs_run=True, ok_zero=True),
        Case("scenario.yaml in run garbage, resume", "runners.sweep", ["s.yaml", "--quiet", "--output", "run"],
             both(good, in_run("scenario.yaml", "a: [")), names=("scenario.yaml",), needs_run=True, ok_zero=True),
    ]
    return cases


def _truncate_store(keep: float) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        path = d / "run" / "trials.sqlite"
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
    return setup


def other_cases() -> list[Case]:
    cases: list[Case] = []
    # runners.report
    R = "runners.report"
    cases += [
        Case("report: run missing", R, ["nope"], names=("nope",)),
        Case("report: a file", R, ["f"], write("f", "x"), names=("f",)),
        Case("report: empty dir", R, ["d"], mkdir("d"), names=("d",)),
        Case("report: corrupt store", R, ["run"], in_run("trials.sqlite", b"\0" * 4096), names=("trials.sqlite", "run"),
             needs_run=True),
        Case("report: scenario.yaml missing", R, ["run"], in_run("scenario.yaml", None), names=("scenario.yaml",),
             needs_run=True),
        Case("report: scenario.yaml garbage", R, ["run"], in_run("scenario.yaml", "name: [\n"),
             names=("scenario.yaml",), needs_run=True),
        Case("report: scenario.yaml valid but other setting", R, ["run"],
             in_run("scenario.yaml", scenario(setting="sycophancy", axes={"belief": ["none", "correct"]},
                                              models=["sim/honest"])), names=("scenario.yaml",), needs_run=True),
        Case("report: --af-validation missing", R, ["run", "--af-validation", "nope.jsonl"], names=("nope.jsonl",),
             needs_run=True),
        Case("report: --af-validation bad line", R, ["run", "--af-validation", "l.jsonl"],
             write("l.jsonl", '{"key": "a", "af": true}\n{oops\n'), names=("l.jsonl:2",), needs_run=True),
        Case("report: --af-validation unknown key", R, ["run", "--af-validation", "l.jsonl"],
             write("l.jsonl", '{"key": "nosuchkey", "af": true}\n'), names=("l.jsonl", "nosuchkey"), needs_run=True),
        Case("report: --af-validation af a string", R, ["run", "--af-validation", "l.jsonl"],
             write("l.jsonl", '{"key": "nosuchkey", "af": "yes"}\n'), names=("l.jsonl",), needs_run=True),
        Case("report: --af-validation /dev/zero", R, ["run", "--af-validation", "/dev/zero"], names=("/dev/zero",),
             needs_run=True),
        Case("report: --af-validation empty", R, ["run", "--af-validation", "l.jsonl"], write("l.jsonl", ""),
             names=("l.jsonl",), needs_run=True),
        Case("report: --second-labels alone", R, ["run", "--second-labels", "l.jsonl"], write("l.jsonl", ""),
             names=("--second-labels",), needs_run=True),
        Case("report: --af-sample 0", R, ["run", "--af-sample", "0"], names=("--af-sample",), needs_run=True),
        Case("report: --af-sample -5", R, ["run", "--af-sample", "-5"], names=("--af-sample",), needs_run=True),
        Case("report: --af-sample huge", R, ["run", "--af-sample", "9" * 25], names=("--af-sample",), needs_run=True,
             ok_zero=True),
        Case("report: --label-field empty", R, ["run", "--af-validation", "l.jsonl", "--label-field", ""],
             write("l.jsonl", '{"key": "a", "af": true}\n'), names=("--label-field", "l.jsonl"), needs_run=True),
    ]
    # runners.rescore
    S = "runners.rescore"
    cases += [
        Case("rescore: run missing", S, ["nope", "--monitor", "compliance=embedded"], names=("nope",)),
        Case("rescore: monitor without =", S, ["run", "--monitor", "compliance"], names=("--monitor", "compliance"),
             needs_run=True),
        Case("rescore: monitor unknown", S, ["run", "--monitor", "nope=embedded"], names=("nope",), needs_run=True),
        Case("rescore: monitor bad YAML", S, ["run", "--monitor", "alignment_faking={backend: "],
             names=("--monitor", "alignment_faking"), needs_run=True),
        Case("rescore: monitor votes NaN", S, ["run", "--monitor", "alignment_faking={backend: openai/gpt-4o, votes: .nan}"],
             names=("votes",), needs_run=True),
        Case("rescore: judge without key", S, ["run", "--monitor", "alignment_faking@j=openai/gpt-4o"],
             names=("OPENAI_API_KEY",), needs_run=True),
        Case("rescore: judge openai/", S, ["run", "--monitor", "alignment_faking@j=openai/"], names=("openai/",),
             needs_run=True),
        Case("rescore: --concurrency 0", S, ["run", "--monitor", "compliance=embedded", "--concurrency", "0"],
             names=("--concurrency",), needs_run=True),
        Case("rescore: corrupt store", S, ["run", "--monitor", "compliance=embedded"],
             in_run("trials.sqlite", b"SQLite format 3\0" + b"\xff" * 5000), names=("trials.sqlite", "run"),
             needs_run=True),
        Case("rescore: truncated .eval", S, ["t.eval", "--monitor", "compliance=embedded", "--out", "o.eval"],
             truncate_eval("t.eval", 0.5), names=("t.eval",), needs_eval=True),
        Case("rescore: zip not Inspect", S, ["z.eval", "--monitor", "compliance=embedded", "--out", "o.eval"],
             zip_file("z.eval", {"hello.txt": b"hi"}), names=("z.eval",)),
        Case("rescore: empty .eval", S, ["e.eval", "--monitor", "compliance=embedded", "--out", "o.eval"],
             write("e.eval", b""), names=("e.eval",)),
        Case("rescore: .json not Inspect", S, ["j.json", "--monitor", "compliance=embedded", "--out", "o.json"],
             write("j.json", '{"a": 1}'), names=("j.json",)),
        Case("rescore: .eval --out a directory", S, ["log.eval", "--monitor", "compliance=embedded", "--out", "d"],
             mkdir("d"), names=("--out", "d"), needs_eval=True),
        Case("rescore: .eval --out is input", S, ["log.eval", "--monitor", "compliance=embedded", "--out", "log.eval"],
             names=("--out", "log.eval"), needs_eval=True, ok_zero=True),
    ]
    # runners.compare
    C = "runners.compare"
    cases += [
        Case("compare: one run", C, ["run", "--output", "cmp"], names=("run",), needs_run=True, ok_zero=True),
        Case("compare: missing run", C, ["run", "nope", "--output", "cmp"], names=("nope",), needs_run=True),
        Case("compare: same run twice", C, ["run", "./run", "--output", "cmp"], names=("run",), needs_run=True),
        Case("compare: not a run folder", C, ["run", "d", "--output", "cmp"], mkdir("d"), names=("d",), needs_run=True),
        Case("compare: --output a file", C, ["run", "--output", "f"], write("f", "x"), names=("--output", "f"),
             needs_run=True),
        Case("compare: --output empty", C, ["run", "--output", ""], names=("--output",), needs_run=True),
        Case("compare: corrupt store", C, ["run", "--output", "cmp"], in_run("trials.sqlite", b"x" * 100),
             names=("trials.sqlite", "run"), needs_run=True, ok_zero=True),  # compare reads trials.csv
        Case("compare: trials.csv short row", C, ["run", "--output", "cmp"], _ragged_csv(), names=("trials.csv",),
             needs_run=True),
        Case("compare: trials.csv binary", C, ["run", "--output", "cmp"], in_run("trials.csv", b"\x00\xff" * 50),
             names=("trials.csv",), needs_run=True),
        Case("compare: summary.json garbage", C, ["run", "--output", "cmp"], in_run("summary.json", "[1, 2"),
             names=("summary.json", "run"), needs_run=True, ok_zero=True),
    ]
    # runners.store_repair, runners.export_inspect
    cases += [
        Case("store_repair: missing", "runners.store_repair", ["nope"], names=("nope",)),
        Case("store_repair: empty dir", "runners.store_repair", ["d"], mkdir("d"), names=("d",)),
        Case("store_repair: garbage store", "runners.store_repair", ["run"], in_run("trials.sqlite", b"junk" * 10),
             names=("trials.sqlite", "run"), needs_run=True, ok_zero=True),  # salvages nothing, keeps the file
        Case("store_repair: store a fifo", "runners.store_repair", ["run"],
             both(in_run("trials.sqlite", None), fifo("run/trials.sqlite")), names=("trials.sqlite",), needs_run=True),
        Case("export_inspect: not a run", "runners.export_inspect", ["d", "--out", "o.eval"], mkdir("d"), names=("d",)),
        Case("export_inspect: --out directory", "runners.export_inspect", ["run", "--out", "d"], mkdir("d"),
             names=("--out", "d"), needs_run=True),
        Case("export_inspect: --out .txt", "runners.export_inspect", ["run", "--out", "o.txt"], names=("--out", "o.txt"),
             needs_run=True),
        Case("export_inspect: --model unknown", "runners.export_inspect", ["run", "--out", "o.eval", "--model", "sim/x"],
             names=("sim/x",), needs_run=True),
        Case("export_inspect: corrupt store", "runners.export_inspect", ["run", "--out", "o.eval"],
             in_run("trials.sqlite", b"x" * 100), names=("trials.sqlite", "run"), needs_run=True),
    ]
    # monitors.evaluate / classify
    E = "monitors.evaluate"
    lab = labels_rows()
    bad = jsonl(lab).splitlines(keepends=True)
    bad[316] = "{bad json\n"
    cases += [
        Case("evaluate: labels missing", E, ["nope.jsonl"], names=("nope.jsonl",)),
        Case("evaluate: labels empty", E, ["l.jsonl"], write("l.jsonl", ""), names=("l.jsonl",)),
        Case("evaluate: bad line 317", E, ["l.jsonl"], write("l.jsonl", "".join(bad)), names=("317",)),
        Case("evaluate: label a string", E, ["l.jsonl"],
             write("l.jsonl", jsonl([{**r, "label": "yes"} for r in lab[:4]])), names=("label",)),
        Case("evaluate: label missing", E, ["l.jsonl"], write("l.jsonl", jsonl([{"scratchpad": "x"}])),
             names=("label",)),
        Case("evaluate: scratchpad a number", E, ["l.jsonl"],
             write("l.jsonl", jsonl([{"scratchpad": 5, "label": True}, {"scratchpad": "y", "label": False}])),
             names=("scratchpad", "l.jsonl")),
        Case("evaluate: one class only", E, ["l.jsonl"], write("l.jsonl", jsonl([{**r, "label": True} for r in lab[:6]])),
             names=("label", "l.jsonl"), ok_zero=True),
        Case("evaluate: --threshold nan", E, ["l.jsonl", "--threshold", "nan"], write("l.jsonl", jsonl(lab[:6])),
             names=("--threshold",)),
        Case("evaluate: --threshold 2", E, ["l.jsonl", "--threshold", "2"], write("l.jsonl", jsonl(lab[:6])),
             names=("--threshold",)),
        Case("evaluate: --max-fpr -1", E, ["l.jsonl", "--max-fpr", "-1"], write("l.jsonl", jsonl(lab[:6])),
             names=("--max-fpr",)),
        Case("evaluate: --votes 0", E, ["l.jsonl", "--votes", "0", "--backend", "openai/gpt-4o"],
             write("l.jsonl", jsonl(lab[:6])), names=("--votes",)),
        Case("evaluate: --max-tokens 0", E, ["l.jsonl", "--max-tokens", "0", "--backend", "openai/gpt-4o"],
             write("l.jsonl", jsonl(lab[:6])), names=("--max-tokens",)),
        Case("evaluate: --backend garbage", E, ["l.jsonl", "--backend", "garbage"], write("l.jsonl", jsonl(lab[:6])),
             names=("--backend", "garbage")),
        Case("evaluate: --backend openai/", E, ["l.jsonl", "--backend", "openai/"], write("l.jsonl", jsonl(lab[:6])),
             names=("--backend", "openai/")),
        Case("evaluate: --backend openai no key", E, ["l.jsonl", "--backend", "openai/gpt-4o"],
             write("l.jsonl", jsonl(lab[:6])), names=("OPENAI_API_KEY",)),
        Case("evaluate: --split matches nothing", E, ["l.jsonl", "--split", "test"], write("l.jsonl", jsonl(lab[:6])),
             names=("--split", "test")),
        Case("evaluate: /dev/zero", E, ["/dev/zero"], names=("/dev/zero",)),
        Case("evaluate: fifo", E, ["f.jsonl"], fifo("f.jsonl"), names=("f.jsonl",)),
        Case("evaluate: truncated .eval", E, ["t.eval"], truncate_eval("t.eval", 0.6), names=("t.eval",),
             needs_eval=True),
        Case("evaluate: zip not Inspect", E, ["z.eval"], zip_file("z.eval", {"a.json": b"{}"}), names=("z.eval",)),
        Case("evaluate: zip bomb-ish", E, ["b.eval"], zip_file("b.eval", {"header.json": b"{" + b" " * 50_000_000}),
             names=("b.eval",)),
        Case("evaluate: .eval no label field", E, ["log.eval", "--label-field", "score:nosuch"],
             names=("nosuch", "log.eval"), needs_eval=True),
        Case("evaluate: deep nesting", E, ["l.jsonl"], write("l.jsonl", "[" * 100000 + "]" * 100000 + "\n"),
             names=("l.jsonl",)),
        Case("evaluate: huge int", E, ["l.jsonl"], write("l.jsonl", '{"scratchpad": "x", "label": ' + "9" * 5000 + "}\n"),
             names=("l.jsonl",)),
        Case("classify: input missing", "monitors.classify", ["nope.jsonl"], names=("nope.jsonl",)),
        Case("classify: bad line 3", "monitors.classify", ["l.jsonl"],
             write("l.jsonl", '{"scratchpad": "a"}\n{"scratchpad": "b"}\n{nope\n'), names=("l.jsonl:3", ":3")),
        Case("classify: row a string", "monitors.classify", ["l.jsonl"], write("l.jsonl", '"hello"\n'),
             names=("l.jsonl",)),
        Case("classify: no text fields", "monitors.classify", ["l.jsonl"], write("l.jsonl", '{"x": 1}\n'),
             names=("l.jsonl", "scratchpad")),
        Case("classify: scratchpad a list", "monitors.classify", ["l.jsonl"], write("l.jsonl", '{"scratchpad": [1]}\n'),
             names=("l.jsonl", "scratchpad")),
        Case("classify: a directory", "monitors.classify", ["d"], mkdir("d"), names=("d",)),
        Case("classify: truncated .eval", "monitors.classify", ["t.eval"], truncate_eval("t.eval", 0.3),
             names=("t.eval",), needs_eval=True),
        Case("classify: utf-16", "monitors.classify", ["l.jsonl"], write("l.jsonl", '{"scratchpad": "a"}\n'.encode("utf-16")),
             names=("l.jsonl",)),
    ]
    # monitors.condition_errors
    CE = "monitors.condition_errors"
    cases += [
        Case("condition_errors: missing", CE, ["nope"], names=("nope",)),
        Case("condition_errors: no trials.csv", CE, ["d"], mkdir("d"), names=("trials.csv", "d")),
        Case("condition_errors: trials.csv garbage", CE, ["run"], in_run("trials.csv", b"\x00\xff\x00" * 100),
             names=("trials.csv",), needs_run=True),
        Case("condition_errors: trials.csv missing columns", CE, ["run"], in_run("trials.csv", "a,b\n1,2\n"),
             names=("trials.csv",), needs_run=True),
        Case("condition_errors: trials.csv header only", CE, ["run"], in_run("trials.csv", "run_id,model\n"),
             names=("trials.csv",), needs_run=True),
        Case("condition_errors: trials.csv a directory", CE, ["run"],
             both(in_run("trials.csv", None), mkdir("run/trials.csv")), names=("trials.csv",), needs_run=True),
        Case("condition_errors: run a file", CE, ["f"], write("f", "x"), names=("f",)),
        Case("condition_errors: ragged trials.csv", CE, ["run"], _ragged_csv(), names=("trials.csv",), needs_run=True),
    ]
    # monitors.power / train / corpus
    PW = "monitors.power"
    cases += [
        Case("power: --gap nan", PW, ["--gap", "nan", "--base-rate", "0.1"], names=("--gap",)),
        Case("power: --base-rate inf", PW, ["--gap", "0.05", "--base-rate", "inf"], names=("--base-rate",)),
        Case("power: --prompts 1", PW, ["--base-rate", "0.1", "--prompts", "1", "--samples", "1"], names=("--prompts",)),
        Case("power: --samples 0", PW, ["--gap", "0.05", "--base-rate", "0.1", "--samples", "0"], names=("--samples",)),
        Case("power: --power 1", PW, ["--gap", "0.05", "--base-rate", "0.1", "--power", "1"], names=("--power",)),
        Case("power: --power nan", PW, ["--gap", "0.05", "--base-rate", "0.1", "--power", "nan"], names=("--power",)),
        Case("power: no --gap and no --prompts", PW, ["--base-rate", "0.1"], names=("--gap", "--prompts")),
        Case("power: --gap 1e-300", PW, ["--gap", "1e-300", "--base-rate", "0.1"], names=("--gap",), ok_zero=True),
        Case("power: --icc -0.5", PW, ["--gap", "0.05", "--base-rate", "0.1", "--icc", "-0.5"], names=("--icc",)),
        Case("train: --scale 0", "monitors.train", ["--scale", "0"], names=("--scale",)),
        Case("train: --scale inf", "monitors.train", ["--scale", "inf"], names=("--scale",)),
        Case("train: --measure-real missing", "monitors.train", ["--measure-real", "nope.jsonl", "--output", "m.json"],
             names=("nope.jsonl",)),
        Case("train: --measure-real bad line", "monitors.train", ["--measure-real", "l.jsonl", "--output", "m.json"],
             write("l.jsonl", '{"scratchpad": "x", "label": true}\n{bad\n'), names=("l.jsonl:2", ":2")),
        Case("train: --measure-real output missing", "monitors.train", ["--measure-real", "l.jsonl", "--output", "m.json"],
             write("l.jsonl", jsonl(labels_rows(6))), names=("m.json",)),
        Case("train: --output in missing dir", "monitors.train", ["--scale", "nan", "--output", "no/dir/m.json"],
             names=("--scale",)),
        Case("corpus: --n 0", "monitors.corpus", ["--n", "0"], names=("--n",)),
        Case("corpus: --n -1", "monitors.corpus", ["--n", "-1"], names=("--n",)),
        Case("corpus: --n 1e12", "monitors.corpus", ["--n", str(10**12)], names=("--n",)),
        Case("corpus: --seed abc", "monitors.corpus", ["--seed", "abc"], names=("--seed",)),
    ]
    # scenarios.make_documents
    M = "scenarios.make_documents"
    facts = (REPO / "scenarios/documents/facts.yaml").read_text(encoding="utf-8")
    fgood = write("f.yaml", facts)

    def md(label: str, args: list[str], names: tuple[str, ...], setup: Callable[[Path], None] | None = None,
           env: dict[str, str] | None = None, ok_zero: bool = False) -> Case:
        return Case(label, M, args, setup or fgood, env=env or {}, names=names, ok_zero=ok_zero)

    base = ["--facts", "f.yaml", "--n", "2", "--out", "o.jsonl"]
    cases += [
        md("make_documents: facts missing", ["--facts", "nope.yaml", "--n", "2", "--out", "o.jsonl"], ("nope.yaml",)),
        md("make_documents: facts empty", base, ("f.yaml",), setup=write("f.yaml", "")),
        md("make_documents: facts a list", base, ("f.yaml",), setup=write("f.yaml", "- a\n")),
        md("make_documents: facts unknown key", base, ("f.yaml", "colour"),
           setup=write("f.yaml", "facts:\n  - {id: a, statement: b, colour: c}\n")),
        md("make_documents: facts dup id", base, ("f.yaml", "a"),
           setup=write("f.yaml", "facts:\n  - {id: a, statement: b}\n  - {id: a, statement: c}\n")),
        md("make_documents: facts alias bomb", base, ("f.yaml",), setup=write("f.yaml", ALIAS_BOMB)),
        md("make_documents: facts /dev/zero", ["--facts", "/dev/zero", "--n", "2", "--out", "o.jsonl"], ("/dev/zero",)),
        md("make_documents: facts statement null", base, ("f.yaml", "statement"),
           setup=write("f.yaml", "facts:\n  - {id: a, statement: null}\n")),
        md("make_documents: facts id int", base, ("f.yaml", "id"), setup=write("f.yaml", "facts:\n  - {id: 3, statement: s}\n")),
        md("make_documents: --n 0", ["--facts", "f.yaml", "--n", "0", "--out", "o.jsonl"], ("--n",)),
        md("make_documents: --n huge", ["--facts", "f.yaml", "--n", str(10**9), "--out", "o.jsonl"], ("--n",)),
        md("make_documents: --model sim/nope", [*base, "--model", "sim/nope"], ("sim/nope",)),
        md("make_documents: --model openai/", [*base, "--model", "openai/"], ("openai/",)),
        md("make_documents: --model openai no key", [*base, "--model", "openai/gpt-4o"], ("OPENAI_API_KEY", "key")),
        md("make_documents: --out a directory", ["--facts", "f.yaml", "--n", "2", "--out", "d"], ("--out", "d"),
           setup=both(fgood, mkdir("d"))),
        md("make_documents: --out is facts", ["--facts", "f.yaml", "--n", "2", "--out", "f.yaml"], ("--out",)),
        md("make_documents: --out /dev/null", ["--facts", "f.yaml", "--n", "2", "--out", "/dev/null"], ("--out",)),
        md("make_documents: --out in missing dir", ["--facts", "f.yaml", "--n", "2", "--out", "no/such/o.jsonl"],
           ("--out", "no/such"), ok_zero=True),
        md("make_documents: --temperature nan", [*base, "--temperature", "nan"], ("--temperature",)),
        md("make_documents: --concurrency 0", [*base, "--concurrency", "0"], ("--concurrency",)),
        md("make_documents: --max-tokens -1", [*base, "--max-tokens", "-1"], ("--max-tokens",)),
        md("make_documents: --base-url ftp", [*base, "--model", "openai/gpt-4o", "--base-url", "ftp://x"],
           ("--base-url",), env={"OPENAI_API_KEY": "sk-fake"}),
        md("make_documents: --api-key-env unset", [*base, "--model", "openai/gpt-4o", "--api-key-env", "FZ_NOPE"],
           ("FZ_NOPE",)),
        md("make_documents: --format bad", [*base, "--format", "pdf"], ("--format",)),
        md("make_documents: --cache-dir a file", [*base, "--cache-dir", "cf"], ("--cache-dir", "cf"),
           setup=both(fgood, write("cf", "x")), ok_zero=True),  # the simulated writer caches nothing
        md("make_documents: --seed huge", [*base, "--seed", str(2**80)], ("--seed",), ok_zero=True),
    ]
    # benchmarks
    cases += [
        Case("bench degenerate_replies --mb -1", "benchmarks.degenerate_replies", ["--mb", "-1"], names=("--mb",)),
        Case("bench degenerate_replies --mb nan", "benchmarks.degenerate_replies", ["--mb", "nan"], names=("--mb",)),
        Case("bench api_sweep --latency -1", "benchmarks.api_sweep", ["--latency", "-1", "--small"],
             names=("--latency",)),
        Case("bench api_sweep --fault-rate 2", "benchmarks.api_sweep", ["--fault-rate", "2", "--small"],
             names=("--fault-rate",)),
        Case("bench api_sweep --memory-calls x", "benchmarks.api_sweep", ["--memory-calls", "x,y", "--small"],
             names=("--memory-calls",)),
        Case("bench coverage_stress --reps 0", "benchmarks.coverage_stress", ["--reps", "0"], names=("--reps",)),
        Case("bench coverage_stress --confirm -1", "benchmarks.coverage_stress", ["--confirm", "-1", "--reps", "1"],
             names=("--confirm",)),
    ]
    return cases


def _ragged_csv() -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        path = d / "run" / "trials.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[2] = "x,y\n"
        path.write_text("".join(lines), encoding="utf-8")
    return setup


# --------------------------------------------------------------------------- running

def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not (k.endswith("_API_KEY") or k.endswith("_BASE_URL") or k.startswith("AFSIM_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def make_fixtures(root: Path, python: str) -> None:
    """A finished simulated run folder and an Inspect log exported from it, to damage copy by copy."""
    (root / "fx.yaml").write_text(scenario(name="fz_fixture"), encoding="utf-8")
    for argv in (["runners.sweep", "fx.yaml", "--quiet", "--output", "run"],
                 ["runners.export_inspect", "run", "--out", "log.eval"]):
        proc = subprocess.run([python, "-m", *argv], cwd=root, env=clean_env({}), capture_output=True, text=True,
                              timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"error: fixture {argv[0]} failed: {proc.stderr.strip()[-500:]}")


def run_case(index: int, case: Case, root: Path, fixtures: Path, python: str, timeout: float) -> Result:
    d = root / f"case{index:04d}"
    d.mkdir()
    if case.needs_run:
        shutil.copytree(fixtures / "run", d / "run")
    if case.needs_eval:
        shutil.copy(fixtures / "log.eval", d / "log.eval")
    if case.setup:
        case.setup(d)
    # a session of its own: on a timeout the whole group goes (a benchmark's servers outlived their parent)
    proc = subprocess.Popen([python, "-m", case.module, *case.args], cwd=d, env=clean_env(case.env),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, raw = proc.communicate(timeout=timeout)
        code, err = proc.returncode, raw.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, raw = proc.communicate()
        code, err = None, raw.decode("utf-8", "replace")
    _unlock(d)
    return Result(case, code, err)


def _unlock(d: Path) -> None:
    """Make everything the case made removable again (a case may chmod a file to 000)."""
    for path in d.rglob("*"):
        try:
            if not path.is_symlink() and not stat.S_ISFIFO(path.lstat().st_mode):
                path.chmod(0o700)
        except OSError:
            pass


def second_round() -> list[Case]:
    """Written after the first run of the table: YAML 1.1 corners, flags nothing reads, Inspect logs
    of odd shapes, outputs that point into a run folder."""
    def tagged(key: str, text: str) -> str:
        return yaml.safe_dump({k: v for k, v in BASE.items() if k != key}, sort_keys=False) + f"{key}: {text}\n"

    s = sweep_yaml
    members = {"header.json": b"[1, 2]", "samples/x_epoch_1.json": b"{}"}
    cases = [
        s(tagged("limit", "1:30"), ("limit", "1:30"), label="b2: limit base 60"),
        s(tagged("samples", "010"), ("samples", "010"), label="b2: samples octal"),
        s(tagged("seed", "0x1F"), ("seed",), ok_zero=True, label="b2: seed hex"),
        s(tagged("name", "!!binary Znpfc2V0"), ("binary",), label="b2: name !!binary"),
        s(tagged("axes", "{tier: !!set {free: null, paid: null}}"), ("set",), label="b2: axis values !!set"),
        s(tagged("axes", "!!omap [tier: [free, paid]]"), ("omap",), label="b2: axes !!omap"),
        s(tagged("axes", "{tier: [yes, no]}"), ("tier",), label="b2: axis values yes/no"),
        s(tagged("models", "[sim/af-opus, {name: sim/honest, price: [0:30, 1]}]"), ("0:30", "price"),
          label="b2: price base 60"),
        s(tagged("axes", "{1: [a, b]}"), ("axes",), label="b2: axis named by a number"),
        s(tagged("prompts", "{source: /proc/self/environ}"), ("/proc/self/environ",), label="b2: prompts /proc file",
          env={"OPENAI_API_KEY": "sk-fuzz-secret-000"}),
        s(scenario(monitors={}), ("monitors",), ok_zero=True, label="b2: monitors empty map"),
        s(scenario(models=["sim/../../x"]), ("sim/../../x",), label="b2: sim model with dots"),
        Case("b2: report --label-field alone", "runners.report", ["run", "--label-field", "verdict"],
             names=("--label-field",), needs_run=True),
        Case("b2: train --label-field alone", "monitors.train", ["--label-field", "af", "--output", "m.json"],
             names=("--label-field",)),
        Case("b2: prices key without provider", "runners.sweep", ["s.yaml", "--quiet", "--dry-run"],
             both(write("s.yaml", scenario()), write("pr.yaml", "gpt-4o: [1, 2]\n")), env={"AFSIM_PRICES": "pr.yaml"},
             names=("gpt-4o",)),
        Case("b2: prices base 60", "runners.sweep", ["s.yaml", "--quiet", "--dry-run"],
             both(write("s.yaml", scenario()), write("pr.yaml", "openai/gpt-4o: [1:00, 2]\n")),
             env={"AFSIM_PRICES": "pr.yaml"}, names=("AFSIM_PRICES",)),
        Case("b2: facts with BOM", "scenarios.make_documents", ["--facts", "f.yaml", "--n", "1", "--out", "o.jsonl"],
             write("f.yaml", b"\xef\xbb\xbf" + (REPO / "scenarios/documents/facts.yaml").read_bytes()), names=("f.yaml",),
             ok_zero=True),
        Case("b2: facts id base 60", "scenarios.make_documents", ["--facts", "f.yaml", "--n", "1", "--out", "o.jsonl"],
             write("f.yaml", "facts:\n  - {id: 1:30, statement: s}\n"), names=("f.yaml",)),
        Case("b2: rescore --monitor YAML !!set", "runners.rescore",
             ["run", "--monitor", "alignment_faking={backend: openai/gpt-4o, votes: !!set {a: null}}"],
             names=("--monitor", "set"), needs_run=True),
        Case("b2: classify header.json a list", "monitors.classify", ["z.eval"], zip_file("z.eval", members),
             names=("z.eval",)),
        Case("b2: classify zip member ../x", "monitors.classify", ["z.eval"],
             zip_file("z.eval", {"../escape.json": b"{}", "header.json": b"{}"}), names=("z.eval",)),
        Case("b2: evaluate .json nested 10k", "monitors.evaluate", ["n.json"], write("n.json", "[" * 10000 + "]" * 10000),
             names=("n.json",)),
        Case("b2: evaluate .json a list", "monitors.evaluate", ["n.json"], write("n.json", "[]"), names=("n.json",)),
        Case("b2: compare --output a run folder", "runners.compare", ["run", "--output", "run"], names=("--output", "run"),
             needs_run=True, ok_zero=True),
        Case("b2: export_inspect --out summary.json", "runners.export_inspect", ["run", "--out", "run/summary.json"],
             names=("summary.json",), needs_run=True),
        Case("b2: export_inspect --out into /proc", "runners.export_inspect", ["run", "--out", "/proc/x.eval"],
             names=("/proc/x.eval",), needs_run=True),
        Case("b2: sweep --output = --cache-dir", "runners.sweep", ["s.yaml", "--quiet", "--output", "o", "--cache-dir", "o"],
             write("s.yaml", scenario()), names=("--cache-dir",), ok_zero=True),
        Case("b2: API key with a newline", "runners.sweep", ["s.yaml", "--quiet", "--model", "openai/gpt-4o"],
             write("s.yaml", scenario()), env={"OPENAI_API_KEY": "sk-abc\ndef", "OPENAI_BASE_URL": CLOSED_URL},
             names=("OPENAI_API_KEY",)),
        Case("b2: dry run, unknown simulated supervisor", "runners.sweep", ["s.yaml", "--quiet", "--dry-run"],
             write("s.yaml", scenario(setting="weak_strong", axes={"supervisor": ["weak", "strong"]}, models=["sim/honest"],
                                      prompts={"source": "builtin:weak_strong_items", "answer_column": "answer"},
                                      supervisors={"weak": "sim/nope"})), names=("sim/nope",)),
        Case("b2: sycophancy answer with two |", "runners.sweep", ["s.yaml", "--quiet", "--dry-run"],
             both(write("s.yaml", scenario(setting="sycophancy", axes={"belief": ["none", "incorrect"]},
                                           models=["sim/sycophant"], prompts={"source": "q.jsonl", "answer_column": "answer"})),
                  write("q.jsonl", '{"id": "q1", "prompt": "2+2?", "answer": "4|5|6"}\n')), names=("q1",)),
        Case("b2: condition_errors --json short row", "monitors.condition_errors", ["run", "--json"], _ragged_csv(),
             names=("trials.csv",), needs_run=True),
    ]
    return cases


def all_cases() -> list[Case]:
    return sweep_cases() + other_cases() + second_round()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    parser.add_argument("--only", help="only cases whose name contains this")
    parser.add_argument("--all", action="store_true", help="print every case, not only the failing ones")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.jobs < 1 or not args.timeout > 0:
        parser.error("--jobs and --timeout must be positive")
    cases = [c for c in all_cases() if not args.only or args.only in c.name]
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise SystemExit("error: duplicate case names: " + str({n for n in names if names.count(n) > 1}))
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="afsim_fuzz_") as tmp:
        root = Path(tmp)
        fixtures = root / "fixtures"
        fixtures.mkdir()
        make_fixtures(fixtures, python)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda ic: run_case(*ic, root, fixtures, python, args.timeout), enumerate(cases)))
    return report(results, args.all, args.json)


def report(results: list[Result], show_all: bool, json_path: str | None) -> int:
    print(f"{'verdict':<10} {'exit':>4} {'lines':>5}  case  |  first stderr line")
    for r in results:
        if show_all or r.verdict != "ok":
            first = next((line for line in r.stderr.splitlines() if line.strip()), "")
            if r.traceback:
                first = r.stderr.strip().splitlines()[-1]
            print(f"{r.verdict:<10} {str(r.code):>4} {r.lines:>5}  {r.case.name}  |  {first[:160]}")
    tracebacks = sum(r.traceback for r in results)
    wrong = sum(r.wrong_exit for r in results)
    hangs = sum(r.code is None for r in results)
    multi = sum(r.code not in (0, None) and not r.traceback and r.lines != 1 for r in results)
    unnamed = sum(r.code not in (0, None) and not r.traceback and r.lines == 1 and not r.named for r in results)
    print(f"\n{len(results)} cases, {tracebacks} tracebacks, {wrong} wrong exit codes, {hangs} hangs, "
          f"{multi} not one line, {unnamed} naming nothing")
    if json_path:
        Path(json_path).write_text(json.dumps([{"case": r.case.name, "module": r.case.module, "code": r.code,
                                                "verdict": r.verdict, "stderr": r.stderr[-2000:]}
                                               for r in results], indent=1), encoding="utf-8")
    return 0 if all(r.verdict == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
