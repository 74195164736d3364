"""The intake part of ``make bench`` alone: complete intakes on the app against both baselines,
with where each intake's CPU goes; optionally a second version of the app's code beside it.

    .venv/bin/python bench/intake.py [--database sqlite|postgresql] [--runs 4]
        [--intakes-per-visitor 6] [--before-code DIR]

With ``--before-code`` (a checkout, e.g. ``git archive COMMIT | tar -x -C DIR``) that code is
served too, on the same scratch database, and its runs alternate with the others': a
before/after pair measured under the same machine load. Scratch databases only; traffic only
to 127.0.0.1; every run bounded in count and time. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import baseline_app  # noqa: E402
import baseline_intake_app  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
import scenarios  # noqa: E402
from server import Gunicorn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--intakes-per-visitor", type=int, default=6)
    parser.add_argument("--before-code", type=Path)
    args = parser.parse_args()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="screening-bench-")))
        if args.database == "sqlite":
            url = f"sqlite:///{scratch}/bench.db"
        else:
            url = run.postgres_database()
            stack.callback(run.drop_postgres_database, url)
        env = {"DATABASE_URL": url, "SCREENING_SECRET_KEY": secrets.token_hex(32),
               "SCREENING_SESSION_COOKIE_SECURE": "false",
               "SCREENING_INTAKE_MAX_PER_ADDRESS": "1000000"}
        run.flask(env, "db", "upgrade")
        baseline_app.create_table(url)
        log = scratch / "gunicorn.log"
        load_before = os.getloadavg()
        app = stack.enter_context(Gunicorn("app:app", env, 2, log))
        pages = measure.intake_pages(app.port)
        pages_env = {**env, baseline_intake_app.PAGES_VARIABLE: json.dumps(pages)}
        base = stack.enter_context(
            Gunicorn("bench.baseline_app:app", env, 2, log, ready_path="/baseline"))
        base16 = stack.enter_context(Gunicorn("bench.baseline_intake_app:app", pages_env, 2, log))
        servers = [("baseline", base, scenarios.baseline_posts),
                   ("baseline16", base16, scenarios.complete_intake)]
        if args.before_code:
            before = stack.enter_context(
                Gunicorn("app:app", env, 2, log, cwd=args.before_code.resolve()))
            servers.append(("before", before, scenarios.complete_intake))
        servers.append(("app", app, scenarios.complete_intake))
        results = measure.throughput(
            [(name, server.port, task, run.cpu_probe(server, url))
             for name, server, task in servers],
            run.CONCURRENCY, args.intakes_per_visitor, args.runs, 90.0)
        load_after = os.getloadavg()
    print(f"{args.database}, {args.runs} runs of {run.CONCURRENCY} visitors ×"
          f" {args.intakes_per_visitor} intakes; load average {load_before[0]:.1f} at start,"
          f" {load_after[0]:.1f} at end")
    print("| | Intakes/s | ÷ 16-request baseline | Requests/s | ÷ 7-POST baseline"
          " | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in results.items():
        print(f"| {name} | {report.fig(t.per_second, 2)} |"
              f" {report.ratio(t.per_second, results['baseline16'].per_second):.2f} |"
              f" {report.fig(t.requests_per_second)} |"
              f" {report.ratio(t.requests_per_second, results['baseline'].requests_per_second):.2f}"
              f" | {report.fig(t.p50_ms)} | {report.fig(t.p99_ms)} | {len(t.errors)} |")
    print()
    print("\n".join(report.where_time_goes(
        "SQLite" if args.database == "sqlite" else "PostgreSQL", results)))
    for name, t in results.items():
        if t.errors:
            print(f"{name}: first error: {t.errors[0]}")


if __name__ == "__main__":
    main()
