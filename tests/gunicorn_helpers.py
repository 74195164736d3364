"""A real gunicorn on a free loopback port, and a small browser (own cookies) to drive it."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from screening import PROJECT_ROOT

from .conftest import csrf_token

GUNICORN = Path(sys.executable).parent / "gunicorn"
REFERENCE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")
START_TIMEOUT = 60
REQUEST_TIMEOUT = 60


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """One visitor: its own cookie jar; redirects are not followed, so each status is seen."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)

    def request(self, method: str, path: str, form: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self.connection()
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            reply = Reply(response.status, response.headers, response.read().decode())
        finally:
            conn.close()
        self.statuses.append(reply.status)
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> Reply:
        return self.request("POST", path, form)

    def fill_in(self, steps: dict[str, dict[str, Any]]) -> str:
        """Answer every step; returns the CSRF token for the final submit."""
        token = csrf_token(self.get("/intake/consent").text)
        for step, data in steps.items():
            reply = self.post(f"/intake/{step}", {"csrf_token": token, **data})
            assert reply.status == 302, (step, reply.status, reply.text[:500])
        return token

    def submit(self, token: str) -> Reply:
        return self.post("/intake/review", {"csrf_token": token})

    def confirmation_reference(self) -> str:
        done = self.get("/intake/done")
        assert done.status == 200, done.status
        match = REFERENCE.search(done.text)
        assert match, "no reference on the confirmation page"
        return match.group(0)


class Gunicorn:
    """gunicorn serving ``app:app`` on the given database; stopped (and killed) on exit."""

    def __init__(self, database_url: str, log_dir: Path, workers: int = 4, **settings: Any):
        self.log_path = log_dir / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
        env |= {
            "DATABASE_URL": database_url,
            "SCREENING_SECRET_KEY": "load-test-secret-key",
            "SCREENING_SESSION_COOKIE_SECURE": "false",
        }
        env |= {f"SCREENING_{name}": str(value) for name, value in settings.items()}
        self.command = [
            str(GUNICORN), "--workers", str(workers), "--bind", "127.0.0.1:0",
            "--timeout", "120", "--graceful-timeout", "5", "app:app",
        ]
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Gunicorn:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=log,
            start_new_session=True,  # its own process group, so teardown reaches every worker
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.port:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
            if match:
                self.port = int(match.group(1))
            elif self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{self.log()}")
            else:
                time.sleep(0.05)
        self.wait_until_serving()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        """Until a worker answers /healthz with 200 (workers boot after the master listens)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if Browser(self.port).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn is not serving:\n{self.log()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
