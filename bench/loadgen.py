"""A small, bounded load generator: threads, each a visitor with its own cookies, on http.client.

Every request is timed from sending to the last byte read. Runs are bounded both in count
(iterations per visitor) and in time (a deadline after which no new iteration starts, and a
socket timeout on every request). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import gzip
import http.client
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 60.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class BenchError(RuntimeError):
    """A response that a real visitor would have seen as a failure."""


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def content(self) -> bytes:
        """The body as the server meant it: ``body`` is as sent, gzip-encoded or not."""
        if self.headers.get("Content-Encoding") == "gzip":
            return gzip.decompress(self.body)
        return self.body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Visitor:
    """One browser: a cookie jar and a connection kept open while the server allows it.

    It asks for uncompressed responses unless told otherwise (``accept_encoding="gzip"``, as
    browsers ask, for the page weight)."""

    port: int
    accept_encoding: str = "identity"
    latencies: list[float] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    _conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, Any] | None = None,
                sink: Callable[[bytes], None] | None = None) -> Reply:
        """Send one request; with ``sink`` the body is streamed to it and not kept."""
        headers = {"Host": f"{HOST}:{self.port}", "Accept-Encoding": self.accept_encoding}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        reused = self._conn is not None
        try:
            response = self._send(method, path, body, headers)
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
            # The server may close an idle kept-alive connection: retry once on a new one.
            self.close()
            if not reused:
                raise
            started = time.perf_counter()
            response = self._send(method, path, body, headers)
        if sink is None:
            data = response.read()
        else:
            data = b""
            while chunk := response.read(64 * 1024):
                sink(chunk)
        seconds = time.perf_counter() - started
        if response.will_close:
            self.close()
        self.latencies.append(seconds)
        self._keep_cookies(response.headers)
        return Reply(response.status, response.headers, data, seconds)

    def _send(self, method: str, path: str, body: str | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        self._conn.request(method, path, body, headers)
        return self._conn.getresponse()

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def get(self, path: str, expect: int = 200) -> Reply:
        return self.expect(self.request("GET", path), expect, path)

    def post(self, path: str, form: dict[str, Any], expect: int = 302) -> Reply:
        return self.expect(self.request("POST", path, form), expect, path)

    @staticmethod
    def expect(reply: Reply, status: int, path: str) -> Reply:
        if reply.status != status:
            raise BenchError(f"{path}: expected {status}, got {reply.status}")
        return reply

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise BenchError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def local_path(location: str) -> str:
    """The path of a redirect to this server (absolute or relative)."""
    prefix = f"http://{HOST}:"
    if location.startswith(prefix):
        return "/" + location.split("/", 3)[3]
    if location.startswith("http"):
        raise BenchError(f"redirect away from the server: {location}")
    return location


@dataclass
class RunResult:
    """One run: how many iterations finished, and every request's latency."""

    iterations: int
    errors: list[str]
    latencies: list[float]
    seconds: float

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.iterations / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100), by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]


def run(port: int, users: int, iterations: int, task: Callable[[Visitor, int], None],
        deadline: float) -> RunResult:
    """``users`` threads each run ``task`` up to ``iterations`` times, none starting after
    ``deadline`` seconds; returns the pooled result."""
    visitors = [Visitor(port) for _ in range(users)]
    done = [0] * users
    errors: list[str] = []
    start = threading.Barrier(users + 1)
    stop_at = 0.0

    def work(index: int) -> None:
        visitor = visitors[index]
        start.wait()
        for i in range(iterations):
            if time.perf_counter() > stop_at:
                break
            try:
                task(visitor, index * iterations + i)
                done[index] += 1
            except (BenchError, OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                visitor.close()
                visitor.cookies.clear()
        visitor.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at = began + deadline
    start.wait()
    for thread in threads:
        thread.join(deadline + REQUEST_TIMEOUT + 5)
    seconds = time.perf_counter() - began
    latencies = [s for v in visitors for s in v.latencies]
    return RunResult(sum(done), errors, latencies, seconds)
