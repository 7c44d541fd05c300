"""Find the cached llama-server build and the SmolLM2 GGUF, and run the server on 127.0.0.1.

`ensure_llama_server.sh` (run by `make test`) builds and caches both; this module only starts what
is there. Why a real server at all: every provider test before it talked to a server we wrote,
and the first run against llama-server found defects none of them showed (issue 14).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VERSION = "0.3.36"
ENSURE = Path(__file__).with_name("ensure_llama_server.sh")
READY_TIMEOUT_S = 120.0  # loading the 98 MB model takes about a second; this only stops a broken server


def cache_dir() -> Path:
    return Path(os.environ.get("AFSIM_LLAMA_DIR") or Path.home() / ".cache" / "afsim" / f"llama-server-{VERSION}")


def installed() -> tuple[Path, Path] | None:
    """(binary, model) when both are in the cache, else None."""
    binary = cache_dir() / "bin" / "llama-server"
    models = sorted((cache_dir() / "model").glob("*.gguf"))
    return (binary, models[0]) if binary.is_file() and os.access(binary, os.X_OK) and models else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


READY_LINES = ("listening on http", "starting the main loop", "all slots are idle")


def start(binary: Path, model: Path, log: Path, context: int = 4096, extra: tuple[str, ...] = ()) -> LlamaServer:
    """Start llama-server on a free loopback port; return once its log says it serves requests.

    Nothing sleeps: the server's output is read line by line until the ready line (a watchdog kills
    a server that neither gets ready nor exits within READY_TIMEOUT_S), then drained to `log` by a
    thread so the pipe never fills. `-t 1`: on a 2-core machine a second thread fought the sweep
    (and the other tests) for the cores. Two slots serve the sweep's concurrent calls side by side;
    each gets `context` tokens. `extra`: more llama-server arguments."""
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", "1",
         "-c", str(context * 2), "-np", "2", "--seed", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    server = LlamaServer(process, port, log)
    watchdog = threading.Timer(READY_TIMEOUT_S, process.kill)
    watchdog.start()
    seen: list[bytes] = []
    try:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            seen.append(line)
            if any(mark in line.decode("utf-8", "replace") for mark in READY_LINES):
                break
        else:
            raise RuntimeError(f"llama-server exited ({process.wait()}): {b''.join(seen[-30:]).decode(errors='replace')}")
    finally:
        watchdog.cancel()
    log.write_bytes(b"".join(seen))
    threading.Thread(target=_drain, args=(process, log), daemon=True).start()
    with urllib.request.urlopen(f"{server.url}/health", timeout=10) as reply:
        assert reply.status == 200, f"llama-server /health: {reply.status}"
    return server


def _drain(process: subprocess.Popen, log: Path) -> None:
    assert process.stdout is not None
    with log.open("ab") as out:
        for line in iter(process.stdout.readline, b""):
            out.write(line)
