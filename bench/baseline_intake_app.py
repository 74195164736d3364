"""The 16-request baseline: a bare Flask app that answers the same requests as a complete intake.

A complete intake on the app is 16 requests (``scenarios.complete_intake``): 9 GETs of a page
(the start page, each step, the review, the confirmation) and 7 POSTs of a form (each step, the
final submit), each POST redirected to the next page. This app answers exactly those requests,
at the same paths, with the least work a Flask app can do for them:

- each GET answers, from memory, a page of the same size as the app's page at that path (a
  form with a token field, so the load generator reads it as it reads the app's pages);
- each POST parses the form, stores it as one row with SQLAlchemy (``baseline_app``'s table,
  engine and durability settings, on the same database) and redirects to the next page.

No session, no template, no validation: the ceiling for any Flask app that serves an intake
as these 16 requests, so that "complete intakes per second" can be compared like for like.

The pages and their sizes come from ``BENCH_INTAKE_PAGES``, JSON ``[[path, bytes], …]`` in the
order a complete intake GETs them, as ``bench/run.py`` measured them on the app in the same
run: a POST to one of those paths redirects to the path after it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from flask import Flask, Response, abort, redirect, request

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_app import baseline_rows, make_engine  # noqa: E402

TOKEN = "x" * 91  # as long as a Flask-WTF token
PAGES_VARIABLE = "BENCH_INTAKE_PAGES"


def page(size: int, done: bool = False) -> bytes:
    """An HTML page of exactly ``size`` bytes (or the least this skeleton takes) with a form
    token, and, on the confirmation page, a reference as the app shows it."""
    head = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Baseline</title>'
        '</head><body><form method="post">'
        f'<input type="hidden" name="csrf_token" value="{TOKEN}">'
        + ('<p class="reference">ABCD-EFGH</p>' if done else "")
    ).encode()
    tail = b"</form></body></html>\n"
    filler = max(0, size - len(head) - len(tail) - len("<!---->"))
    return head + b"<!--" + b"x" * filler + b"-->" + tail


def create_app(pages: list[tuple[str, int]]) -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["DATABASE_URL"])
    paths = [path for path, _ in pages]
    bodies = {path: page(size, done=i == len(pages) - 1) for i, (path, size) in
              enumerate(pages)}
    # A POST to a page's path goes on to the next page, as the intake's steps do.
    following = dict(zip(paths, paths[1:], strict=False))

    @app.get("/")
    @app.get("/intake/<step>")
    def show(step: str | None = None) -> Response:
        body = bodies.get(request.path) or abort(404)
        return Response(body, content_type="text/html; charset=utf-8")

    @app.post("/intake/<step>")
    def store(step: str) -> Response:
        target = following.get(request.path) or abort(404)
        data = request.form.to_dict(flat=False)
        with engine.begin() as conn:
            conn.execute(baseline_rows.insert().values(
                data=data, created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
            ))
        return redirect(target)

    return app


app = (create_app([(path, int(size)) for path, size in json.loads(os.environ[PAGES_VARIABLE])])
       if "DATABASE_URL" in os.environ and PAGES_VARIABLE in os.environ else None)
