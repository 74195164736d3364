"""A/B: the dashboard's views on two databases, possibly by two versions of the code,
requests interleaved.

    .venv/bin/python bench/ab_dashboard.py BEFORE_URL AFTER_URL [--requests 30]
        [--before-code DIR] [--after-code DIR] [--path /clinician/?...]

Both databases must hold the same seeded submissions (e.g. one a copy of the other with a
migration applied). Each side is a worker process with its own app (Flask test client,
in-process: no server, no network), running the code in ``--before-code``/``--after-code``
(a checkout, e.g. ``git archive COMMIT | tar -x -C DIR``; default: this tree). Each view is
requested from the two sides alternately, so both see the same machine load; prints p50 and
p95 of wall time, and the median CPU time of the worker, per view and side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

EMAIL = "ab.clinician@example.com"
PASSWORD = "ab-test-password-not-secret"


def serve(url: str) -> None:
    """Worker: sign in on ``url``, then answer each path read from stdin with its timings."""
    sys.path.insert(0, str(BENCH))
    from loadgen import csrf_token

    from screening import create_app
    from screening.extensions import db
    from screening.staff import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "ab-only-key",
                      "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        if accounts.find_user(EMAIL) is None:
            accounts.create_user(EMAIL, PASSWORD)
            db.session.commit()
    client = app.test_client()
    page = client.get("/clinician/login").get_data(as_text=True)
    reply = client.post("/clinician/login", data={"csrf_token": csrf_token(page),
                                                  "email": EMAIL, "password": PASSWORD})
    assert reply.status_code == 302, reply.status_code
    print("ready", flush=True)
    for line in sys.stdin:
        started, cpu = time.perf_counter(), time.process_time()
        status = client.get(line.strip()).status_code
        wall_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        print(json.dumps([status, wall_ms, cpu_ms]), flush=True)


class Side:
    """One worker process: a database and a version of the code."""

    def __init__(self, url: str, code: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(code)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", url], cwd=code, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def get(self, path: str) -> tuple[float, float]:
        assert self.process.stdin is not None
        self.process.stdin.write(path + "\n")
        self.process.stdin.flush()
        status, wall_ms, cpu_ms = json.loads(self.read())
        assert status == 200, (path, status)
        return wall_ms, cpu_ms

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--before-code", type=Path, default=ROOT)
    parser.add_argument("--after-code", type=Path, default=ROOT)
    parser.add_argument("--path", action="append", default=[],
                        help="another view to measure (repeatable)")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    from loadgen import percentile
    from measure import DASHBOARD_VIEWS

    views = {**DASHBOARD_VIEWS, **{path: path for path in args.path}}
    sides = {"before": Side(args.before, args.before_code.resolve()),
             "after": Side(args.after, args.after_code.resolve())}
    try:
        for name, path in views.items():
            for side in sides.values():  # warm up
                for _ in range(3):
                    side.get(path)
            wall: dict[str, list[float]] = {label: [] for label in sides}
            cpu: dict[str, list[float]] = {label: [] for label in sides}
            for _ in range(args.requests):
                for label, side in sides.items():
                    wall_ms, cpu_ms = side.get(path)
                    wall[label].append(wall_ms)
                    cpu[label].append(cpu_ms)
            print(f"{name}: " + "; ".join(
                f"{label} p50 {statistics.median(wall[label]):.1f} ms,"
                f" p95 {percentile(wall[label], 95):.1f} ms,"
                f" CPU p50 {statistics.median(cpu[label]):.1f} ms"
                for label in sides), flush=True)
    finally:
        for side in sides.values():
            side.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        main()
