"""Profile complete intakes in-process (Flask test client, scratch SQLite) with pyinstrument.

    .venv/bin/python bench/profile_intake.py [--intakes 60] [--html out.html]

Prints the call tree of the app's own time per request, the time by package (where each
sample's innermost frame was: Jinja, WTForms, SQLAlchemy, the app's own code…), and a CPU-time
figure per request that does not depend on how busy the machine is.

pyinstrument samples wall time, so on a disk the SQLite commits' fsync shows as time in the
driver; ``TMPDIR=/dev/shm`` puts the scratch database in memory, where it costs nearly nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from loadgen import csrf_token  # noqa: E402
from scenarios import intake_answers  # noqa: E402

from screening import create_app  # noqa: E402
from screening.extensions import db  # noqa: E402


def args_show_all() -> bool:
    return os.environ.get("SHOW_ALL") == "1"


def walk(client, number: int, timed=None) -> int:  # type: ignore[no-untyped-def]
    """One whole intake as the load generator does it; returns the number of requests.

    ``timed(label, call)`` wraps each request when given (for the CPU-per-page table).
    """
    timed = timed or (lambda _label, call: call())
    timed("GET /", lambda: client.get("/"))
    page = timed("GET consent", lambda: client.get("/intake/consent"))
    for step, data in intake_answers(number).items():
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data,
                "action": "continue"}
        reply = timed(f"POST {step}", lambda step=step, form=form: client.post(
            f"/intake/{step}", data=form))
        assert reply.status_code == 302, (step, reply.status_code)
        following = reply.location.rsplit("/", 1)[-1]
        page = timed(f"GET {following}", lambda reply=reply: client.get(reply.location))
    form = {"csrf_token": csrf_token(page.get_data(as_text=True))}
    reply = timed("POST review", lambda: client.post("/intake/review", data=form))
    assert reply.status_code == 302
    assert timed("GET done", lambda: client.get(reply.location)).status_code == 200
    return 16


def scratch_app(scratch: str):  # type: ignore[no-untyped-def]
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/profile.db",
                      "SECRET_KEY": "profile-only-key", "SESSION_COOKIE_SECURE": False,
                      "INTAKE_MAX_PER_ADDRESS": 10**6})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def cpu_by_request(intakes: int) -> dict[str, float]:
    """Median CPU milliseconds of each request of an intake, in-process on SQLite.

    CPU time of this process only: what the app itself costs, much less affected by other
    work on the machine than wall time (and with no server or client around it).
    """
    samples: dict[str, list[float]] = {}

    def timed(label, call):  # type: ignore[no-untyped-def]
        started = time.process_time()
        reply = call()
        samples.setdefault(label, []).append((time.process_time() - started) * 1000)
        return reply

    with tempfile.TemporaryDirectory(prefix="screening-profile-") as scratch:
        app = scratch_app(scratch)
        for number in range(5):
            walk(app.test_client(), number)
        for number in range(intakes):
            walk(app.test_client(), 1000 + number, timed)
        with app.app_context():
            db.engine.dispose()
    return {label: statistics.median(values) for label, values in samples.items()}


def baseline_cpu(posts: int) -> float:
    """Median CPU milliseconds of one baseline POST (bare Flask, one insert), in-process."""
    import baseline_app
    from scenarios import baseline_bodies

    with tempfile.TemporaryDirectory(prefix="screening-profile-") as scratch:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/baseline.db"
        try:
            baseline_app.create_table(os.environ["DATABASE_URL"])
            client = baseline_app.create_app().test_client()
        finally:
            del os.environ["DATABASE_URL"]
        bodies = baseline_bodies(1)
        samples = []
        for i in range(posts + 10):
            started = time.process_time()
            assert client.post("/baseline", data=bodies[i % len(bodies)]).status_code == 200
            if i >= 10:
                samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


#: The package a sample's innermost frame is counted in, by the first of these its file's path
#: contains (else "other"); the app's templates count as Jinja, where their code runs.
PACKAGES = (
    ("/screening/", "the app's code (screening/)"), ("/templates/", "Jinja (templates)"),
    ("/jinja2/", "Jinja (templates)"), ("/markupsafe/", "Jinja (templates)"),
    ("/wtforms/", "WTForms and Flask-WTF"), ("/flask_wtf/", "WTForms and Flask-WTF"),
    ("/sqlalchemy/", "SQLAlchemy and the driver"), ("/flask_sqlalchemy/",
                                                     "SQLAlchemy and the driver"),
    ("sqlite3", "SQLAlchemy and the driver"), ("/psycopg/", "SQLAlchemy and the driver"),
    ("/flask_babel/", "Flask-Babel and Babel"), ("/babel/", "Flask-Babel and Babel"),
    ("/itsdangerous/", "Flask and Werkzeug (session, routing, request, response)"),
    ("/flask/", "Flask and Werkzeug (session, routing, request, response)"),
    ("/werkzeug/", "Flask and Werkzeug (session, routing, request, response)"),
    ("/whitenoise/", "WhiteNoise"), ("/orjson", "the app's code (screening/)"),
)


def by_package(frame: Any, totals: dict[str, float] | None = None, parent_path: str = "",
               inside_app: bool = False) -> dict[str, float]:
    """Self time of a pyinstrument frame tree, summed by ``PACKAGES``: each frame's own time
    (its synthetic "[self]" children, and any time its children do not account for).

    Only time inside the app's WSGI call (``Flask.__call__``) is counted by package; the rest
    (the test client building requests and reading responses, this script) is counted as
    "outside the app". Built-in functions and generated code count in their caller's package.
    """
    totals = {} if totals is None else totals
    path = frame.file_path or ""
    if frame.is_synthetic or path.startswith("<"):
        path = parent_path
    inside_app = inside_app or (frame.function == "__call__" and path.endswith("flask/app.py"))
    name = ("outside the app (test client, this script)" if not inside_app else
            next((label for part, label in PACKAGES if part in path),
                 "Python's own library" if "/lib/python3" in path else "other"))
    own = frame.time - sum(child.time for child in frame.children)
    totals[name] = totals.get(name, 0.0) + own
    for child in frame.children:
        by_package(child, totals, path, inside_app)
    return totals


def profile(intakes: int, html: str | None) -> tuple[float, str]:
    """(CPU milliseconds per request, pyinstrument text) for ``intakes`` intakes."""
    with tempfile.TemporaryDirectory(prefix="screening-profile-") as scratch:
        app = scratch_app(scratch)
        for number in range(5):  # warm up: imports, template compilation, connections
            walk(app.test_client(), number)
        profiler = Profiler(interval=0.0005)
        requests = 0
        cpu = time.process_time()
        profiler.start()
        for number in range(intakes):
            requests += walk(app.test_client(), 1000 + number)
        profiler.stop()
        cpu_ms = (time.process_time() - cpu) * 1000 / requests
        if html:
            Path(html).write_text(profiler.output_html())
        text = profiler.output_text(unicode=False, color=False, show_all=args_show_all())
        session = profiler.last_session
        assert session is not None
        packages = by_package(session.root_frame())
        whole = sum(packages.values())
        text += "\nTime by package (where each sample's own time was spent):\n" + "\n".join(
            f"  {share / whole:6.1%}  {name}"
            for name, share in sorted(packages.items(), key=lambda kv: -kv[1]))
        with app.app_context():
            db.engine.dispose()
    return cpu_ms, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intakes", type=int, default=60)
    parser.add_argument("--html")
    args = parser.parse_args()
    os.environ.setdefault("SCREENING_SECRET_KEY", "profile-only-key")
    cpu_ms, text = profile(args.intakes, args.html)
    print(text)
    print(f"CPU per request (profiler running, so inflated): {cpu_ms:.2f} ms")
    print("Median CPU per request without the profiler (ms):")
    for label, ms in cpu_by_request(args.intakes).items():
        print(f"  {label:20} {ms:6.2f}")


if __name__ == "__main__":
    main()
