"""`renewquote serve --workers 2` on a free port, its worker processes, its metrics token."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

WORKERS = 2


@dataclass(frozen=True, slots=True)
class Server:
    """The running server: where it answers, its processes, and the token its /metrics takes."""

    base: str
    command: str
    pid: int
    workers: tuple[int, ...]
    metrics_token: str


@contextlib.contextmanager
def serve(url: str, tmp: Path) -> Iterator[Server]:
    """Run `renewquote serve --workers 2` on the database `url` until the block ends."""
    port = _free_port()
    command = Path(sys.executable).with_name("renewquote")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "renewquote.cli"]
    argv += ["serve", "--workers", str(WORKERS), "--port", str(port)]
    metrics = tmp / "metrics"
    metrics.mkdir()
    # The server's /metrics answers only this token, as it would answer a scraper.
    metrics_token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "RENEWQUOTE_DATABASE_URL": url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "RENEWQUOTE_METRICS_TOKEN": metrics_token,
    }
    log = (tmp / "server.log").open("w+")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base, process, log)
        yield Server(base, " ".join(argv[-5:]), process.pid, _workers(process.pid), metrics_token)
    finally:
        _stop(process)
        log.close()


def _workers(supervisor: int) -> tuple[int, ...]:
    """Return the pids of uvicorn's worker processes (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == supervisor and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    if len(found) != WORKERS:
        raise RuntimeError(f"expected {WORKERS} worker processes, found {found}")
    return tuple(sorted(found))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_health(base: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server stopped ({process.returncode}):\n{log.read()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # uvicorn's supervisor ends its workers on SIGTERM.
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
