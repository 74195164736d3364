"""Starting and stopping gunicorn on a free loopback port, and reading a worker's peak memory."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
START_TIMEOUT = 60.0


def gunicorn_args(workers: int) -> list[str]:
    """The one gunicorn configuration every server of a run uses, app and baseline alike.

    Sync workers, as ``make run`` serves; a long timeout so the 100,000-row export is not cut.
    """
    return ["--workers", str(workers), "--worker-class", "sync", "--timeout", "300",
            "--graceful-timeout", "5", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A gunicorn serving ``app_spec`` on 127.0.0.1 with ``env``, from the code in ``cwd``
    (this tree unless told); use as a context manager."""

    def __init__(self, app_spec: str, env: dict[str, str], workers: int, log: Path,
                 ready_path: str = "/", cwd: Path = ROOT) -> None:
        self.app_spec = app_spec
        self.cwd = cwd
        self.env = env
        self.workers = workers
        self.log = log
        self.ready_path = ready_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        command = [str(GUNICORN), *gunicorn_args(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", self.app_spec]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env={**os.environ, **self.env}, stdout=log, stderr=log
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.app_spec} exited; see {self.log}")
            if len(self.worker_pids()) == self.workers:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", self.ready_path)
                    conn.getresponse().read()
                    conn.close()
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"gunicorn for {self.app_spec} did not start; see {self.log}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def cpu_seconds(self) -> float:
        """CPU time (user and system) spent so far by the master and its live workers."""
        assert self.process is not None
        return sum(process_cpu_seconds(pid) for pid in [self.process.pid, *self.worker_pids()])

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, from /proc; 0 if it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name, in brackets, may hold spaces: count fields after its closing bracket.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def reset_peak_memory(pid: int) -> None:
    """Reset the process's peak resident size to its current size (Linux 4.0+).

    Every worker's peak already includes a 64 MiB argon2 hash computed at import (the dummy
    hash in ``accounts.py``); without a reset that would hide anything smaller after it.
    """
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_memory_kib(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")
