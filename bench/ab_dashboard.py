"""A/B: the dashboard's views on two copies of one database, requests interleaved.

    .venv/bin/python bench/ab_dashboard.py BEFORE_URL AFTER_URL [--requests 30]

Both databases must hold the same seeded submissions (e.g. one a copy of the other with a
migration applied). Each view is requested alternately from the two, in-process (Flask test
client), so both see the same machine load; prints p50 and p95 per view.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import csrf_token, percentile  # noqa: E402
from measure import DASHBOARD_VIEWS  # noqa: E402

from screening import accounts, create_app  # noqa: E402
from screening.extensions import db  # noqa: E402

EMAIL = "ab.clinician@example.com"
PASSWORD = "ab-test-password-not-secret"


def signed_in_client(url: str):  # type: ignore[no-untyped-def]
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
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    clients = {"before": signed_in_client(args.before), "after": signed_in_client(args.after)}
    for name, path in DASHBOARD_VIEWS.items():
        times: dict[str, list[float]] = {label: [] for label in clients}
        for client in clients.values():  # warm up
            for _ in range(3):
                assert client.get(path).status_code == 200
        for _ in range(args.requests):
            for label, client in clients.items():
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                times[label].append((time.perf_counter() - started) * 1000)
        print(f"{name}: " + "; ".join(
            f"{label} p50 {statistics.median(t):.1f} ms, p95 {percentile(t, 95):.1f} ms"
            for label, t in times.items()))


if __name__ == "__main__":
    main()
