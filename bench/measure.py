"""The measurements: intake throughput, dashboard latency, CSV export, page weight.

Each function takes running servers (``bench/server.py``) and returns plain numbers; the
report is written by ``bench/report.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import loadgen
import scenarios
from loadgen import BenchError, Visitor, csrf_token, local_path
from server import Gunicorn, peak_memory_kib, reset_peak_memory

# -- summaries -------------------------------------------------------------------------------


@dataclass
class Figure:
    """A figure measured in several runs: its median and its spread."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


# -- intake throughput -----------------------------------------------------------------------


@dataclass
class Throughput:
    per_second: Figure  # iterations (complete intakes) per second
    requests_per_second: Figure
    p50_ms: Figure
    p99_ms: Figure
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    # CPU milliseconds per iteration, by who spent them (``CpuProbe``): "server" (the gunicorn
    # master and workers), "database" (PostgreSQL's backends for the scratch database; on
    # SQLite the database works inside the workers) and "client" (the load generator).
    cpu_ms: dict[str, Figure] = field(default_factory=dict)
    # Core-milliseconds per iteration: the run's wall time × the machine's cores ÷ iterations.
    core_ms: Figure | None = None


#: Returns cumulative CPU seconds by who spent them (e.g. {"server": …, "database": …}).
CpuProbe = Callable[[], dict[str, float]]


def throughput(pairs: list[tuple[str, int, Callable[[Visitor, int], None], CpuProbe | None]],
               users: int, iterations: int, runs: int, deadline: float) -> dict[str, Throughput]:
    """Alternate runs of each (name, port, task, probe), so all see the same machine noise.

    With a probe, the CPU each run took from the server, the database and the load generator
    (this process) is read before and after it: where the time of an iteration goes.
    """
    raw: dict[str, list[loadgen.RunResult]] = {name: [] for name, *_ in pairs}
    cpu: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in pairs}
    offset = 10_000
    for _name, port, task, _probe in pairs:  # warm-up: workers import, compile, connect
        loadgen.run(port, users, 1, task, deadline)
    for _ in range(runs):
        for name, port, task, probe in pairs:
            before = {**(probe() if probe else {}), "client": time.process_time()}
            result = loadgen.run(port, users, iterations,
                                 lambda v, i, task=task, offset=offset: task(v, offset + i),
                                 deadline)
            after = {**(probe() if probe else {}), "client": time.process_time()}
            offset += users * iterations
            raw[name].append(result)
            if result.iterations:
                cpu[name].append({who: (after[who] - before[who]) * 1000 / result.iterations
                                  for who in after})
    out = {}
    cores = os.cpu_count() or 1
    for name, results in raw.items():
        out[name] = Throughput(
            per_second=Figure([r.per_second for r in results]),
            requests_per_second=Figure([r.requests_per_second for r in results]),
            p50_ms=Figure([r.percentile(50) * 1000 for r in results]),
            p99_ms=Figure([r.percentile(99) * 1000 for r in results]),
            requests=sum(r.requests for r in results),
            errors=[e for r in results for e in r.errors],
            cpu_ms={who: Figure([c[who] for c in cpu[name]]) for who in
                    (cpu[name][0] if cpu[name] else {})},
            core_ms=Figure([r.seconds * cores * 1000 / r.iterations for r in results
                            if r.iterations]) if any(r.iterations for r in results) else None,
        )
    return out


class RecordingVisitor(Visitor):
    """A visitor that keeps the path and body size of each page it GETs."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.pages: list[tuple[str, int]] = []

    def get(self, path: str, expect: int = 200) -> loadgen.Reply:
        reply = super().get(path, expect)
        self.pages.append((path, len(reply.body)))
        return reply


def intake_pages(port: int, number: int = 424_243) -> list[tuple[str, int]]:
    """(path, body bytes) of each page one complete intake GETs from the app, in order: what
    the 16-request baseline (``bench/baseline_intake_app.py``) answers in their place."""
    visitor = RecordingVisitor(port)
    scenarios.complete_intake(visitor, number)
    visitor.close()
    return visitor.pages


def sequential_latency(port: int, task: Callable[[Visitor, int], None], count: int,
                       runs: int) -> tuple[Figure, Figure]:
    """(p50, p95) in ms of one visitor doing ``task`` ``count`` times, over ``runs`` runs."""
    p50, p95 = [], []
    for run in range(runs):
        result = loadgen.run(port, 1, count, lambda v, i, run=run: task(v, run * count + i), 120)
        if result.errors:
            raise BenchError(result.errors[0])
        p50.append(result.percentile(50) * 1000)
        p95.append(result.percentile(95) * 1000)
    return Figure(p50), Figure(p95)


# -- clinician: sign-in, dashboard ------------------------------------------------------------


def sign_in(port: int, email: str, password: str) -> dict[str, str]:
    """Sign in through the real form; returns the session cookies."""
    visitor = Visitor(port)
    page = visitor.get("/clinician/login")
    visitor.post("/clinician/login", {"csrf_token": csrf_token(page.text), "email": email,
                                      "password": password})
    visitor.close()
    return dict(visitor.cookies)


DASHBOARD_VIEWS = {
    "first page": "/clinician/",
    "filtered: likely fits not yet reviewed, by PHQ-9": (
        "/clinician/?fit=likely_fit&status=new&sort=phq9&order=desc"
    ),
    "search: two words of a name": "/clinician/?search=alex+samplewood",
}


def dashboard(port: int, cookies: dict[str, str], count: int,
              runs: int) -> dict[str, tuple[Figure, Figure, int]]:
    """Per view: (p50 ms, p95 ms, rows it says it found), one clinician at a time."""
    out = {}
    for name, path in DASHBOARD_VIEWS.items():
        found = {"rows": -1}

        def view(visitor: Visitor, _i: int, path: str = path, found: dict = found) -> None:
            visitor.cookies.update(cookies)
            reply = visitor.get(path)  # signed out, it would be a redirect: an error here
            match = re.search(r"([\d,]+)\s+(?:submissions?|results?|matching)", reply.text)
            if match:
                found["rows"] = int(match.group(1).replace(",", ""))

        p50, p95 = sequential_latency(port, view, count, runs)
        out[name] = (p50, p95, found["rows"])
    return out


# -- CSV export ------------------------------------------------------------------------------


class CountingSink:
    """A file-like sink that keeps only the number of bytes and of CRLF line ends."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self._ends_with_cr = False

    def write(self, data: str | bytes) -> int:
        raw = data.encode() if isinstance(data, str) else data
        self.bytes += len(raw)
        self.lines += raw.count(b"\r\n")
        # A line end split between two network reads still ends a line.
        if self._ends_with_cr and raw.startswith(b"\n"):
            self.lines += 1
        self._ends_with_cr = raw.endswith(b"\r")
        return len(data)


@dataclass
class ExportRun:
    seconds: float
    rows: int
    megabytes: float
    peak_before_mib: float
    peak_after_mib: float


def export_once(make_server: Callable[[], Gunicorn], cookies: dict[str, str],
                query: str) -> ExportRun:
    """One export from a fresh one-worker server, with the worker's peak memory."""
    with make_server() as server:
        visitor = Visitor(server.port)
        visitor.cookies.update(cookies)
        visitor.get("/clinician/")  # warm up the worker before reading its baseline peak
        (worker,) = server.worker_pids()
        reset_peak_memory(worker)
        before = peak_memory_kib(worker)
        sink = CountingSink()
        started = time.perf_counter()
        reply = visitor.request("GET", "/clinician/export.csv" + query, sink=sink.write)
        seconds = time.perf_counter() - started
        if reply.status != 200:
            raise BenchError(f"export answered {reply.status}")
        after = peak_memory_kib(worker)
        visitor.close()
    return ExportRun(seconds, sink.lines - 1, sink.bytes / 1e6, before / 1024, after / 1024)


def straight_export_sql(submission_fields: tuple[str, ...], patient_columns: set[str],
                        instruments: tuple[str, ...], response_fields: tuple[str, ...],
                        placeholder: str | None) -> str:
    """The one SELECT the straight export runs: the same rows and values the app's export reads
    (each submission with its patient and its intake response to each instrument, joined as
    the app joins them), as stored, oldest first; ``placeholder`` for a ``since`` bound."""
    columns = [f"{'p' if name in patient_columns else 's'}.{name}" for name in submission_fields]
    joins = ["JOIN patient p ON p.id = s.patient_id"]
    for key in instruments:
        columns += [f"r_{key}.{name}" for name in response_fields]
        joins.append(f"LEFT JOIN questionnaire_response r_{key} ON r_{key}.submission_id = s.id"
                     f" AND r_{key}.instrument = '{key}'")
    where = f" WHERE s.submitted_at >= {placeholder}" if placeholder else ""
    return (f"SELECT {', '.join(columns)} FROM submission s {' '.join(joins)}{where}"  # noqa: S608
            " ORDER BY s.id")


def straight_csv(url: str, header: tuple[str, ...], sql: Callable[[str | None], str],
                 since: dt.datetime | None) -> tuple[float, int]:
    """(seconds, rows) to write the same rows straight from one SQL query with ``csv``.

    ``sql(placeholder)`` is the query (``straight_export_sql``), given the driver's
    placeholder when there is a ``since`` bound, None when there is none.
    """
    sink = CountingSink()
    writer = csv.writer(sink, lineterminator="\r\n")
    started = time.perf_counter()
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1])
        params = (since.strftime("%Y-%m-%d %H:%M:%S.%f"),) if since else ()
        writer.writerow(header)
        writer.writerows(conn.execute(sql("?" if since else None), params))
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            # A server-side cursor, so that this side too holds one batch at a time.
            with conn.cursor(name="straight_export") as cursor:
                cursor.itersize = 1000
                params = (since.replace(tzinfo=None),) if since else ()
                cursor.execute(sql("%s" if since else None), params)
                writer.writerow(header)
                writer.writerows(cursor)
    return time.perf_counter() - started, sink.lines - 1


# -- page weight -----------------------------------------------------------------------------

ASSET_TAGS = re.compile(r"<(link|script|img|source)\b[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'\b(href|src|srcset|rel)="([^"]*)"', re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
ASSET_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon",
              "shortcut"}


#: What a browser asks for. Static files come back gzip-encoded; pages come back plain (the
#: app never compresses HTML: BREACH), so the HTML column is the same either way.
BROWSER_ACCEPT_ENCODING = "gzip"


@dataclass
class PageWeight:
    html: int
    assets: dict[str, int]
    third_party: list[str]
    gzipped: int  # the same responses if a proxy also gzipped every body the app sent plain

    @property
    def total(self) -> int:
        return self.html + sum(self.assets.values())


def transferred(reply: loadgen.Reply, compress: bool = False) -> int:
    """Bytes on the wire: status line, headers and body as sent (compressed if the server
    compressed it); with ``compress``, a plain body counts as a gzipping proxy would send it."""
    head = len("HTTP/1.1 200 OK\r\n") + sum(
        len(k) + len(v) + 4 for k, v in reply.headers.items()) + 2
    plain = "Content-Encoding" not in reply.headers
    return head + len(gzip.compress(reply.body, 6) if compress and plain else reply.body)


def _asset_urls(html: str) -> list[str]:
    urls = []
    for tag in ASSET_TAGS.finditer(html):
        attrs = {k.lower(): v for k, v in ATTRIBUTE.findall(tag.group(0))}
        if tag.group(1).lower() == "link":
            if not ASSET_RELS & set(attrs.get("rel", "").lower().split()):
                continue
            urls.append(attrs.get("href", ""))
        else:
            urls.append(attrs.get("src", ""))
            urls += [part.split()[0] for part in attrs.get("srcset", "").split(",") if part.strip()]
    return [u for u in urls if u]


def page_weight(visitor: Visitor, path: str, html_reply: loadgen.Reply) -> PageWeight:
    """The page and everything it loads (cold cache); third-party URLs are listed, not fetched."""
    base = f"http://{loadgen.HOST}:{visitor.port}{path}"
    pending = [urljoin(base, u) for u in _asset_urls(html_reply.text)]
    # Browsers ask for /favicon.ico when a page names no icon.
    if not re.search(r'rel="[^"]*icon', html_reply.text):
        pending.append(urljoin(base, "/favicon.ico"))
    assets: dict[str, int] = {}
    third_party: list[str] = []
    gzipped = transferred(html_reply, compress=True)
    fetcher = Visitor(visitor.port, accept_encoding=visitor.accept_encoding)
    while pending:
        url = pending.pop()
        parts = urlsplit(url)
        if parts.scheme == "data":
            continue
        if parts.hostname != loadgen.HOST or parts.port != visitor.port:
            third_party.append(url)
            continue
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if local in assets:
            continue
        reply = fetcher.request("GET", local)
        if reply.status != 200 and not (reply.status == 404 and local == "/favicon.ico"):
            raise BenchError(f"{local} (loaded by {path}) answered {reply.status}")
        # A missing /favicon.ico is still a response the browser downloads.
        assets[local] = transferred(reply)
        gzipped += transferred(reply, compress=True)
        if reply.headers.get("Content-Type", "").startswith("text/css"):
            for groups in CSS_URL.findall(reply.text):
                pending.append(urljoin(url, groups[0] or groups[1]))
    fetcher.close()
    return PageWeight(transferred(html_reply), assets, third_party, gzipped)


def patient_pages(port: int) -> dict[str, PageWeight]:
    """Every patient page, reached as a patient's browser reaches it (asking for gzip)."""
    weights: dict[str, PageWeight] = {}
    patient = Visitor(port, accept_encoding=BROWSER_ACCEPT_ENCODING)

    def visit(name: str, path: str) -> loadgen.Reply:
        reply = patient.get(path)
        weights[name] = page_weight(patient, path, reply)
        return reply

    visit("start", "/")
    visit("crisis resources", "/crisis")
    page = visit("consent", "/intake/consent")
    answers = scenarios.intake_answers(424_242)
    answers["phq9"]["phq9_9"] = "1"  # so the pages show the crisis panel too, the heavier case
    for step, data in answers.items():
        reply = patient.post(f"/intake/{step}", {"csrf_token": csrf_token(page.text), **data,
                                                 "action": "continue"})
        path = local_path(reply.location)
        page = visit(path.rsplit("/", 1)[-1].replace("review", "review (check your answers)"),
                     path)
    reply = patient.post("/intake/review", {"csrf_token": csrf_token(page.text)})
    visit("done (confirmation, with crisis panel)", local_path(reply.location))

    later = Visitor(port, accept_encoding=BROWSER_ACCEPT_ENCODING)
    page = later.get("/intake/consent")
    later.post("/intake/consent", {"csrf_token": csrf_token(page.text), "consent": "y",
                                   "action": "continue"})
    page = later.get("/intake/about")
    reply = later.post("/intake/about", {"csrf_token": csrf_token(page.text),
                                         **answers["about"], "action": "save_later"})
    saved_path = local_path(reply.location)
    saved = later.get(saved_path)
    weights["saved (finish later)"] = page_weight(later, saved_path, saved)
    match = re.search(r'href="([^"]*/intake/resume/[^"]+)"', saved.text)
    if not match:
        raise BenchError("no resume link on the saved page")
    resume_path = local_path(match.group(1))
    stranger = Visitor(port, accept_encoding=BROWSER_ACCEPT_ENCODING)
    weights["resume (date of birth)"] = page_weight(stranger, resume_path,
                                                    stranger.get(resume_path))
    for v in (patient, later, stranger):
        v.close()
    return weights
