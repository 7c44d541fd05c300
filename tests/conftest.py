"""Shared fixtures. `fake_llm` starts tests/fake_llm_server.py on a free 127.0.0.1 port."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `from tests.fake_llm_server import ...` under the pytest script
    sys.path.insert(0, str(ROOT))

from tests.fake_llm_server import FakeLLMServer, Faults  # noqa: E402

__all__ = ["FakeLLMServer", "Faults"]


def _fresh_event_loop_in_forked_child() -> None:
    """Tests fork sweeps (multiprocessing "fork"); a child must not run on the parent's event loop.
    Once inspect_ai has run in this process (tests/test_inspect_interop.py), nest_asyncio2 has
    patched asyncio, and `asyncio.run` then reuses the current loop: in a child, one whose executor
    threads do not exist, so a forked sweep waited for ever on its first address lookup (seen as a
    hang of tests/test_kill_resume.py's two sweeps on one folder, depending on test order)."""
    asyncio.set_event_loop(asyncio.new_event_loop())


os.register_at_fork(after_in_child=_fresh_event_loop_in_forked_child)


@pytest.fixture(autouse=True, scope="session")
def _temp_files_inside_the_session(tmp_path_factory) -> Iterator[None]:
    """Crash logs and other temp files the code under test makes (in this process and in the CLI
    subprocesses, through TMPDIR) go under pytest's own base folder, which pytest prunes: each full
    run left three `afsim-crash-*.log` files in the machine's /tmp for ever."""
    where = str(tmp_path_factory.mktemp("tempfiles"))
    before_env, before = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = where, where
    yield
    tempfile.tempdir = before
    if before_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before_env


@pytest.fixture
def fake_llm_factory() -> Iterator[Callable[..., FakeLLMServer]]:
    """`fake_llm_factory(latency=..., faults=Faults(rate=...), reply=fn)` -> a started server;
    every server started through it is stopped at the end of the test."""
    started: list[FakeLLMServer] = []

    def make(**kwargs) -> FakeLLMServer:
        server = FakeLLMServer(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def fake_llm(fake_llm_factory) -> FakeLLMServer:
    """A started fake LLM server with default replies, no latency, no faults."""
    return fake_llm_factory()
