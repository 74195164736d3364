"""``make bench``: measure the app under gunicorn (SQLite, then PostgreSQL); write BENCHMARKS.md.

Every figure is the median of several runs with its spread (lowest–highest), and, where a
baseline applies, a ratio to a baseline measured in the same run on the same database:
this machine is shared and noisy, so absolute times move; ratios move much less.

    .venv/bin/python bench/run.py [--quick] [--only sqlite|postgresql] [--no-write]

Scratch databases only (a temporary SQLite file; a PostgreSQL database created for the run
on 127.0.0.1:5432 and dropped after); traffic only to 127.0.0.1; every run bounded in count
and time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import baseline_app  # noqa: E402
import baseline_intake_app  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402
from server import Gunicorn, process_cpu_seconds  # noqa: E402

from screening.core.export_csv import INTAKE, RESPONSE_FIELDS, SUBMISSION_FIELDS  # noqa: E402
from screening.models import Patient  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLINICIAN = "bench.clinician@example.com"
CONCURRENCY = 8


@dataclass
class Plan:
    """How much to do: the full run, or a quick one for trying the scripts out."""

    intake_runs: int = 4
    intakes_per_user: int = 6
    seed_count: int = 100_000
    small_export_days: int = 36  # about 10 % of the seeded year: ~10,000 rows
    dashboard_requests: int = 30
    dashboard_runs: int = 3
    export_runs: int = 2
    deadline: float = 90.0


QUICK = Plan(intake_runs=2, intakes_per_user=2, seed_count=5_000, dashboard_requests=10,
             dashboard_runs=2, export_runs=1, deadline=30.0)


@dataclass
class BackendResult:
    name: str
    error: str | None = None
    load_before: tuple[float, ...] = ()
    load_after: tuple[float, ...] = ()
    server_version: str = ""
    intake: dict[str, measure.Throughput] = field(default_factory=dict)
    intake_pages: list[tuple[str, int]] = field(default_factory=list)
    baseline_sequential: tuple[measure.Figure, measure.Figure] | None = None
    pages: dict[str, measure.PageWeight] = field(default_factory=dict)
    seed_seconds: float = 0.0
    seed_cpu_seconds: float = 0.0
    seed_count: int = 0
    # The database's size in bytes just before and just after seeding (see database_bytes).
    bytes_before_seed: int = 0
    bytes_after_seed: int = 0
    dashboard: dict[str, tuple[measure.Figure, measure.Figure, int]] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``flask --app app ARGS`` against the scratch database; returns its output."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "app", *args],
        cwd=ROOT, env={**os.environ, **env}, input=stdin, capture_output=True, text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_backend(name: str, url: str, plan: Plan, scratch: Path) -> BackendResult:
    result = BackendResult(name, load_before=os.getloadavg())
    log = scratch / f"gunicorn-{name}.log"
    password = secrets.token_urlsafe(24)
    env = {
        "DATABASE_URL": url,
        "SCREENING_SECRET_KEY": secrets.token_hex(32),
        "SCREENING_SESSION_COOKIE_SECURE": "false",
        "SCREENING_INTAKE_MAX_PER_ADDRESS": "1000000",
    }
    print(f"== {name}: migrating the scratch database", flush=True)
    flask(env, "db", "upgrade")
    flask(env, "users", "create", CLINICIAN, "--password-stdin", stdin=password + "\n")
    baseline_app.create_table(url)
    result.server_version = server_version(url)

    with Gunicorn("app:app", env, 2, log) as app:
        # The pages of an intake as the app sends them: the 16-request baseline answers pages
        # of these sizes.
        result.intake_pages = measure.intake_pages(app.port)
        pages_env = {**env, baseline_intake_app.PAGES_VARIABLE: json.dumps(result.intake_pages)}
        with Gunicorn("bench.baseline_app:app", env, 2, log, ready_path="/baseline") as base, \
                Gunicorn("bench.baseline_intake_app:app", pages_env, 2, log) as base16:
            print(f"== {name}: complete intakes at concurrency {CONCURRENCY}, app and both"
                  f" baselines alternating, {plan.intake_runs} runs", flush=True)
            result.intake = measure.throughput(
                [("baseline", base.port, scenarios.baseline_posts, cpu_probe(base, url)),
                 ("baseline16", base16.port, scenarios.complete_intake,
                  cpu_probe(base16, url)),
                 ("app", app.port, scenarios.complete_intake, cpu_probe(app, url))],
                CONCURRENCY, plan.intakes_per_user, plan.intake_runs, plan.deadline,
            )
            result.baseline_sequential = measure.sequential_latency(
                base.port, scenarios.baseline_posts, plan.dashboard_requests // 7 + 1,
                plan.dashboard_runs,
            )
        print(f"== {name}: page weight", flush=True)
        result.pages = measure.patient_pages(app.port)

        print(f"== {name}: flask demo seed --count {plan.seed_count}", flush=True)
        if not url.startswith("sqlite"):
            vacuum_analyze(url)
        result.bytes_before_seed = database_bytes(url)
        cpu, started = children_cpu(), time.perf_counter()
        flask(env, "demo", "seed", "--count", str(plan.seed_count), "--seed", "2026", "--yes")
        result.seed_seconds = time.perf_counter() - started
        result.seed_cpu_seconds = children_cpu() - cpu
        result.seed_count = plan.seed_count
        if not url.startswith("sqlite"):
            vacuum_analyze(url)
        result.bytes_after_seed = database_bytes(url)

        print(f"== {name}: dashboard", flush=True)
        cookies = measure.sign_in(app.port, CLINICIAN, password)
        result.dashboard = measure.dashboard(app.port, cookies, plan.dashboard_requests,
                                             plan.dashboard_runs)

    print(f"== {name}: CSV export from a one-worker server", flush=True)
    since_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=plan.small_export_days)
    since = dt.datetime.combine(since_day, dt.time(), dt.UTC)
    cases = {"recent (about a tenth)": (f"?since={since_day.isoformat()}", since),
             "all": ("", None)}
    for label, (query, since_at) in cases.items():
        runs = [measure.export_once(lambda: Gunicorn("app:app", env, 1, log,
                                                     ready_path="/clinician/login"),
                                    cookies, query)
                for _ in range(plan.export_runs)]
        straight = [measure.straight_csv(url, INTAKE.header(), straight_export_sql, since_at)
                    for _ in range(plan.export_runs)]
        if any(r.rows != straight[0][1] for r in runs):
            raise RuntimeError(f"export sent {runs[0].rows} rows, the query finds"
                               f" {straight[0][1]}")
        result.exports[label] = {
            "rows": runs[0].rows,
            "megabytes": runs[0].megabytes,
            "seconds": measure.Figure([r.seconds for r in runs]),
            "straight_seconds": measure.Figure([s for s, _ in straight]),
            "peak_before_mib": measure.Figure([r.peak_before_mib for r in runs]),
            "peak_after_mib": measure.Figure([r.peak_after_mib for r in runs]),
        }
    result.load_after = os.getloadavg()
    return result


def straight_export_sql(placeholder: str | None) -> str:
    """The straight export's one SELECT: what the app's export reads, for the default intake
    instruments (those of ``INTAKE_INSTRUMENTS``, as the benchmark's app is configured)."""
    return measure.straight_export_sql(
        SUBMISSION_FIELDS, set(Patient.__table__.columns.keys()),
        tuple(i.key for i in INTAKE.instruments), RESPONSE_FIELDS, placeholder,
    )


def cpu_probe(server: Gunicorn, url: str) -> measure.CpuProbe:
    """The CPU seconds so far of ``server`` and, on PostgreSQL, of the database's backends."""
    if url.startswith("sqlite"):
        return lambda: {"server": server.cpu_seconds()}
    backends = PostgresBackends(url)
    return lambda: {"server": server.cpu_seconds(), "database": backends.cpu_seconds()}


class PostgresBackends:
    """CPU seconds spent by the PostgreSQL backends connected to this run's database, as seen
    at each call (a backend that comes or goes between two calls counts from when it is seen).

    Only one server is loaded at a time (the runs alternate) and the servers keep their
    connections, so the difference over a run is that run's database work; other databases'
    backends (other people's tests on the same PostgreSQL) are not counted.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[int, float] = {}
        self.total = 0.0

    def cpu_seconds(self) -> float:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            pids = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()")]
        now = {pid: process_cpu_seconds(pid) for pid in pids}
        self.total += sum(max(0.0, cpu - self.seen.get(pid, cpu)) for pid, cpu in now.items())
        self.seen = now
        return self.total


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def database_bytes(url: str) -> int:
    """The space the database takes: on SQLite its pages in use (the write-ahead log's
    included, free pages not), on PostgreSQL ``pg_database_size`` (tables, indexes, TOAST)."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            pages, free, size = (conn.execute(f"PRAGMA {name}").fetchone()[0]
                                 for name in ("page_count", "freelist_count", "page_size"))
        conn.close()
        return (pages - free) * size
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def vacuum_analyze(url: str) -> None:
    """What autovacuum does soon after a bulk load: statistics and the visibility map."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def postgres_database() -> str:
    """Create a scratch database for this run; returns its URL."""
    import psycopg

    name = f"screening_bench_{secrets.token_hex(5)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the app; write BENCHMARKS.md.")
    parser.add_argument("--quick", action="store_true", help="a short run to try the scripts")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--no-write", action="store_true", help="print, do not write the file")
    args = parser.parse_args()
    plan = QUICK if args.quick else Plan()
    started = time.perf_counter()
    results: list[BackendResult] = []
    with tempfile.TemporaryDirectory(prefix="screening-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{scratch}/bench.db"
            results.append(guarded("SQLite", lambda: run_backend("SQLite", url, plan, scratch)))
        if args.only in (None, "postgresql"):
            results.append(guarded("PostgreSQL", lambda: run_postgres(plan, scratch)))
        print("== CPU per request, page by page (in-process, SQLite)", flush=True)
        import profile_intake

        cpu_by_page = profile_intake.cpu_by_request(40 if not args.quick else 10)
        cpu_by_page["baseline POST (for comparison)"] = profile_intake.baseline_cpu(200)
    elapsed = time.perf_counter() - started
    text = report.render(results, plan, cpu_by_page, elapsed, quick=args.quick)
    print(text)
    if not args.no_write:
        (ROOT / "BENCHMARKS.md").write_text(text)
        print(f"Wrote {ROOT / 'BENCHMARKS.md'} in {elapsed / 60:.1f} minutes.")
    if any(r.error for r in results):
        sys.exit(1)


def run_postgres(plan: Plan, scratch: Path) -> BackendResult:
    url = postgres_database()
    try:
        return run_backend("PostgreSQL", url, plan, scratch)
    finally:
        drop_postgres_database(url)


def guarded(name: str, work: Any) -> BackendResult:
    """Run one backend; a failure is reported in the file rather than hidden or fatal."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - reported in BENCHMARKS.md and the exit status
        traceback.print_exc()
        return BackendResult(name, error=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
