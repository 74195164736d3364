"""The production setup, end to end: Debian's nginx with the repo's own site files
(deploy/nginx/) on loopback, HTTPS with a certificate made here, in front of two gunicorn app
servers run with deploy/screening.env's settings, on one PostgreSQL database.

nginx sends requests to the two servers in turn, so a visitor's consecutive requests go to
one and then the other: each test checks in the servers' own access logs that both did their
part. Every visitor connects from a loopback address of its own (127.0.0.0/8 is all local),
so the app can be seen to tell clients apart through nginx.

Needs PostgreSQL (TEST_DATABASE_URL; deselected on SQLite runs) and Debian's nginx and
openssl (.ci/run installs them; `make test` leaves these out, with a line, without them).
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import re
import socket
import ssl
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from screening import PROJECT_ROOT
from screening.extensions import db
from screening.models import AuditEvent, Draft, Submission, ThrottleEvent
from screening.web.headers import security_headers

from .auth_helpers import PASSWORD, make_user
from .conftest import csrf_token
from .deploy_helpers import DOMAIN, AppNode, HttpsBrowser, Nginx, free_port, tls_context
from .gunicorn_helpers import REFERENCE, Reply
from .intake_helpers import valid_steps

pytestmark = [pytest.mark.deploy, pytest.mark.postgresql, pytest.mark.slow]

INTAKE_LIMIT = 3  # new intakes per address per hour, small enough to reach here
STATIC = PROJECT_ROOT / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
NGINX_TOO_MANY = "Too many requests from your network"
_addresses = itertools.count()


def new_address() -> str:
    """A loopback address no other visitor in this run has used."""
    n = next(_addresses)
    return f"127.1.{n // 200}.{n % 200 + 2}"


@dataclass
class Site:
    nginx: Nginx
    nodes: list[AppNode]

    def browser(self, source: str | None = None, **kwargs) -> HttpsBrowser:
        return self.nginx.browser(source or new_address(), **kwargs)

    def mark(self) -> list[int]:
        return [len(node.served()) for node in self.nodes]

    def served_since(self, mark: list[int]) -> list[list[str]]:
        """What each server answered since ``mark`` ("METHOD /path STATUS" lines).

        gunicorn writes a request's line just after sending its response: wait until the
        logs stop growing."""
        seen = None
        for _ in range(50):
            now = [node.served()[start:] for node, start in zip(self.nodes, mark, strict=True)]
            if now == seen:
                return now
            seen = now
            time.sleep(0.1)
        return seen or []



def start_site(database_url: str, folder: Path, stack: ExitStack, **settings) -> Site:
    nodes = [stack.enter_context(AppNode(database_url, folder / f"server{n}", **settings))
             for n in range(2)]
    nginx = stack.enter_context(Nginx(folder / "nginx", [node.port for node in nodes]))
    return Site(nginx, nodes)


@pytest.fixture(scope="module")
def site(database_url, tmp_path_factory) -> Iterator[Site]:
    with ExitStack() as stack:
        running = start_site(database_url, tmp_path_factory.mktemp("deploy"), stack,
                             INTAKE_MAX_PER_ADDRESS=INTAKE_LIMIT)
        yield running
        # nginx itself never failed (a permission, a missing folder, a bad directive).
        assert not re.search(r"\[(crit|alert|emerg)\]", running.nginx.error_log()), \
            running.nginx.error_log()


@pytest.fixture
def deployed(site, make_app) -> Site:
    make_app()  # the database is emptied after each test
    return site


def both_took_part(per_server: list[list[str]], prefix: str, at_least: int = 1) -> bool:
    return all(sum(line.startswith(prefix) for line in lines) >= at_least
               for lines in per_server)


def start_intake(patient: HttpsBrowser) -> Reply:
    """The consent step's POST: where a new intake (and its draft) begins."""
    token = csrf_token(patient.get("/intake/consent").text)
    return patient.post("/intake/consent", {"csrf_token": token, "consent": "y"})


def sign_in(browser: HttpsBrowser, email: str, password: str = PASSWORD) -> Reply:
    token = csrf_token(browser.get("/clinician/login").text)
    return browser.post("/clinician/login",
                        {"csrf_token": token, "email": email, "password": password})


# --- one patient, one clinician, both servers ---------------------------------------------------


def test_an_intake_and_a_clinician_session_work_across_both_servers(deployed, make_app):
    mark = deployed.mark()
    patient = deployed.browser()
    token = patient.fill_in(valid_steps(about={"first_name": "Acrossnodes",
                                               "email": "across.nodes@example.com"}))
    review = patient.get("/intake/review")
    assert review.status == 200 and "Acrossnodes" in review.text  # every step's answers
    assert patient.submit(token).location.endswith("/intake/done")
    reference = patient.confirmation_reference()
    # Each server saved some steps of this one draft, and read the others' steps.
    assert both_took_part(deployed.served_since(mark), "POST /intake/", at_least=3)

    make_user(make_app(), "across.clinician@example.com")
    mark = deployed.mark()
    clinician = deployed.browser()
    assert sign_in(clinician, "across.clinician@example.com").status == 302
    assert reference in clinician.get("/clinician/").text
    page = clinician.get(f"/clinician/submissions/{reference}")
    assert page.status == 200 and "Acrossnodes" in page.text
    token = csrf_token(page.text)
    changed = clinician.post(f"/clinician/submissions/{reference}/status",
                             {"csrf_token": token, "expected": "new", "status": "in_review"})
    assert changed.status == 302
    noted = clinician.post(f"/clinician/submissions/{reference}/notes",
                           {"csrf_token": token, "body": "Called back; consult booked."})
    assert noted.status == 302
    page = clinician.get(f"/clinician/submissions/{reference}")
    assert "Called back; consult booked." in page.text
    exported = clinician.get("/clinician/export.csv")
    assert exported.status == 200
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = [line for line in exported.text.splitlines()[1:] if line]
    assert len(rows) == 1 and reference in rows[0] and "Acrossnodes" in rows[0]
    assert "in_review" in rows[0]
    served = deployed.served_since(mark)
    assert both_took_part(served, "GET /clinician/") and both_took_part(served, "POST /clinician/")

    # Signing out on one server ends the session on both.
    assert clinician.post("/clinician/logout", {"csrf_token": token}).status == 302
    mark = deployed.mark()
    for _ in range(2):
        assert clinician.get("/clinician/").status == 302
    assert both_took_part(deployed.served_since(mark), "GET /clinician/ 302")


def test_a_draft_saved_on_one_server_is_finished_from_its_link_on_the_other(deployed, make_app):
    steps = valid_steps(about={"first_name": "Resumer", "email": "resume.later@example.com"})
    mark = deployed.mark()
    first = deployed.browser()
    token = csrf_token(first.get("/intake/consent").text)
    for key in ("consent", "about"):
        assert first.post(f"/intake/{key}", {"csrf_token": token, **steps[key]}).status == 302
    saved = first.post("/intake/phq9", {"csrf_token": token, "action": "save_later",
                                        **steps["phq9"]})
    assert saved.location.endswith("/intake/saved")
    link = re.search(r'href="([^"]*/intake/resume/[^"]+)"', first.get("/intake/saved").text)
    assert link, "no resume link"
    # The app built the link from what nginx told it: HTTPS, and the name the patient used.
    assert link.group(1).startswith(f"https://{DOMAIN}:{deployed.nginx.https_port}/intake/resume/")

    later = deployed.browser()  # at home, later: another address, no cookie
    path = urlsplit(link.group(1)).path
    token = csrf_token(later.get(path).text)
    birth = {k: v for k, v in steps["about"].items() if k.startswith("date_of_birth")}
    assert later.post(path, {"csrf_token": token, **birth}).status == 302
    token = csrf_token(later.get("/intake/gad7").text)  # unlocking starts a fresh session
    for key in ("gad7", "treatment", "health"):
        assert later.post(f"/intake/{key}", {"csrf_token": token, **steps[key]}).status == 302
    assert later.submit(token).location.endswith("/intake/done")
    reference = later.confirmation_reference()
    assert both_took_part(deployed.served_since(mark), "POST /intake/", at_least=3)

    with make_app().app_context():
        stored = db.session.scalars(select(Submission)).all()
        assert [(s.reference, s.patient.first_name, s.patient.email) for s in stored] == [
            (reference, "Resumer", "resume.later@example.com")]
        assert stored[0].response("phq9").total == 16  # the step saved before "finish later"
        assert db.session.scalars(select(Draft)).all() == []


# --- limits, shared through the database, counting the real client ------------------------------


def test_failed_sign_ins_lock_the_account_on_both_servers(deployed, make_app):
    email = "locked.out@example.com"
    make_user(make_app(), email)
    mark = deployed.mark()
    guesser = deployed.browser()
    token = csrf_token(guesser.get("/clinician/login").text)
    statuses = [guesser.post("/clinician/login", {"csrf_token": token, "email": email,
                                                  "password": f"wrong guess {n}"}).status
                for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the fifth failure locks
    assert both_took_part(deployed.served_since(mark), "POST /clinician/login 401", at_least=2)

    # Now the right password: refused by both servers, from this address and from another.
    mark = deployed.mark()
    for browser in (guesser, deployed.browser()):
        token = csrf_token(browser.get("/clinician/login").text)
        for _ in range(2):
            refused = browser.post("/clinician/login",
                                   {"csrf_token": token, "email": email, "password": PASSWORD})
            assert refused.status == 429
    assert both_took_part(deployed.served_since(mark), "POST /clinician/login 429", at_least=2)


def test_the_intake_limit_is_shared_by_both_servers_and_counts_the_real_address(
    deployed, make_app
):
    home = new_address()
    # Patients at one address, each forging a different X-Forwarded-For (which would make
    # each look like a new address). Their pages first, then their starts one after another,
    # so that the starts go to the two servers in turn.
    patients = [deployed.browser(home, always={"X-Forwarded-For": f"198.51.100.{n}"})
                for n in range(INTAKE_LIMIT + 1)]
    tokens = [csrf_token(patient.get("/intake/consent").text) for patient in patients]
    mark = deployed.mark()
    replies = [patient.post("/intake/consent", {"csrf_token": token, "consent": "y"})
               for patient, token in zip(patients, tokens, strict=True)]
    assert [reply.status for reply in replies] == [302] * INTAKE_LIMIT + [429]
    assert replies[-1].text.lstrip().lower().startswith("<!doctype html")  # the app's page
    served = deployed.served_since(mark)
    assert both_took_part(served, "POST /intake/consent 302")

    neighbour = deployed.browser()
    assert start_intake(neighbour).status == 302  # another address has its own allowance
    with make_app().app_context():
        counted = Counter(db.session.scalars(
            select(ThrottleEvent.key).where(ThrottleEvent.scope == "intake")))
    assert counted == {home: INTAKE_LIMIT, neighbour.source: 1}


def test_headers_a_client_forges_are_replaced_by_nginx(deployed, make_app):
    email = "forger@example.com"
    make_user(make_app(), email)
    forged = {"X-Forwarded-For": "1.2.3.4", "X-Real-IP": "1.2.3.4",
              "Forwarded": "for=1.2.3.4;proto=http", "X-Forwarded-Proto": "http",
              "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "8080",
              "X-Forwarded-Prefix": "/evil", "X-Forwarded-Ssl": "off"}
    browser = deployed.browser(always=forged)
    page = browser.get("/clinician/login")
    assert page.status == 200
    # HTTPS, as nginx says, not the forged "http": the app itself sends HSTS (nginx adds its
    # own copy only to responses no app server made).
    assert page.headers.get_all("Strict-Transport-Security") == [
        security_headers(True)["Strict-Transport-Security"]]
    # Signing in checks the Referer against the host the app was told: the real one.
    signed_in = sign_in(browser, email)
    assert signed_in.status == 302 and signed_in.location.startswith("/clinician")
    with make_app().app_context():
        addresses = db.session.scalars(select(AuditEvent.client_addr).where(
            AuditEvent.action == "sign_in", AuditEvent.user_email == email)).all()
    assert addresses == [browser.source]


# --- slow clients are nginx's problem -------------------------------------------------------


def test_twenty_slow_clients_do_not_stop_healthz_answering_within_a_second(deployed):
    nginx = deployed.nginx
    mark = deployed.mark()
    source = new_address()
    context = tls_context(str(nginx.cafile))
    head = (f"POST /intake/about HTTP/1.1\r\nHost: {DOMAIN}:{nginx.https_port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n")
    slow = []
    for _ in range(20):
        raw = socket.create_connection(("127.0.0.1", nginx.https_port), 10, (source, 0))
        slow.append(context.wrap_socket(raw, server_hostname=DOMAIN))
        slow[-1].sendall(head.encode())
    stop = threading.Event()

    def dribble() -> None:  # a byte each, every half second: never finished, never idle
        while not stop.is_set():
            for sock in slow:
                sock.sendall(b"a")
            stop.wait(0.5)

    dribbler = threading.Thread(target=dribble)
    dribbler.start()
    timings = []
    try:
        stop.wait(1.0)  # all twenty are sending
        for _ in range(10):
            started = time.monotonic()
            reply = deployed.browser().get("/healthz")  # a new visitor: TLS handshake included
            timings.append(time.monotonic() - started)
            assert reply.status == 200 and json.loads(reply.text)["database"] == "ok"
            stop.wait(0.3)
    finally:
        stop.set()
        dribbler.join()
    assert max(timings) < 1.0, timings

    # Stalled now: nginx lets each go after its body timeout (10 s), and the app never heard
    # of any of them.
    deadline = time.monotonic() + 30
    still_open = 0
    for sock in slow:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            sock.recv(4096)  # b"", or a 408 before the close
        except TimeoutError:
            still_open += 1
        except OSError:
            pass  # reset: closed too
        finally:
            sock.close()
    assert still_open == 0
    served = deployed.served_since(mark)
    assert [line for lines in served for line in lines if line.startswith("POST")] == []


# --- HTTPS only, modern TLS only, no answer to other names --------------------------------------


def test_plain_http_is_sent_to_https_and_other_names_get_no_answer(deployed):
    nginx = deployed.nginx

    def over_http(host: str, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    status, headers, _ = over_http(DOMAIN, "/clinician/?status=new")
    assert status == 301
    assert headers["Location"] == f"https://{DOMAIN}/clinician/?status=new"
    assert headers["Server"] == "nginx"  # no version

    # A certificate renewal's challenge is served over plain HTTP.
    challenge = nginx.root / "acme" / ".well-known" / "acme-challenge" / "token-1"
    challenge.parent.mkdir(parents=True)
    challenge.write_text("token-1.key")
    status, _, body = over_http(DOMAIN, "/.well-known/acme-challenge/token-1")
    assert status == 200 and body == b"token-1.key"

    with pytest.raises(http.client.RemoteDisconnected):
        over_http("203.0.113.7", "/")  # a bare address or another name: nothing at all
    for name in ("other.example", None):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", nginx.https_port), 10) as raw:
            with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
                context.wrap_socket(raw, server_hostname=name)


def handshake(nginx: Nginx, context: ssl.SSLContext) -> tuple[str | None, str]:
    with socket.create_connection(("127.0.0.1", nginx.https_port), 10) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            cipher = tls.cipher()
            return tls.version(), cipher[0] if cipher else ""


def test_tls_is_1_2_or_1_3_with_forward_secret_aead_ciphers_only(deployed):
    nginx = deployed.nginx
    assert handshake(nginx, ssl.create_default_context(cafile=nginx.cafile))[0] == "TLSv1.3"

    tls12 = ssl.create_default_context(cafile=nginx.cafile)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    version, cipher = handshake(nginx, tls12)
    assert version == "TLSv1.2" and cipher.startswith("ECDHE-")
    assert "GCM" in cipher or "CHACHA20" in cipher

    # A client offering only a CBC cipher, or only TLS 1.1: the server refuses (its alert;
    # the client itself is willing, so these are not the client's own refusals).
    cbc = ssl.create_default_context(cafile=nginx.cafile)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA")
    assert "ECDHE-ECDSA-AES128-SHA" in [c["name"] for c in cbc.get_ciphers()]
    with pytest.raises(ssl.SSLError, match="ALERT_HANDSHAKE_FAILURE"):
        handshake(nginx, cbc)
    old = ssl.create_default_context(cafile=nginx.cafile)
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is, rightly
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):
        handshake(nginx, old)


# --- headers, caching, compression --------------------------------------------------------------


def assert_security_headers(headers: http.client.HTTPMessage, what: str) -> None:
    """Exactly the app's security headers, each once (none lost, none doubled by nginx)."""
    for name, value in security_headers(True).items():
        assert headers.get_all(name) == [value], (what, name, headers.get_all(name))
    assert headers["Server"] == "nginx", what


def test_every_security_header_survives_the_proxy(deployed):
    browser = deployed.browser()
    for path in ["/", "/crisis", "/intake/consent", "/clinician/login", "/healthz",
                 "/static/app.css", "/no/such/page"]:
        reply = browser.get(path)
        assert reply.status == (404 if path == "/no/such/page" else 200), path
        assert_security_headers(reply.headers, path)
        if not path.startswith("/static/"):
            assert reply.headers["Cache-Control"] == "no-store", path
    for reply in (browser.request("DELETE", "/intake/consent"),  # 405, the app's error page
                  browser.post("/intake/consent", {"consent": "y"})):  # 400, no CSRF token
        assert reply.status in (400, 405)
        assert_security_headers(reply.headers, str(reply.status))

    # nginx's own answers carry them too: a body past its limit (413), a flood (429).
    too_large, body = browser.raw("POST", "/intake/about",
                                  {"Content-Type": "application/x-www-form-urlencoded"},
                                  b"first_name=" + b"x" * 200_000)
    assert too_large.status == 413 and body.startswith(b"That was too large to send.")
    assert_security_headers(too_large.headers, "413 from nginx")


def test_pages_are_never_compressed_even_though_debian_turns_gzip_on(deployed):
    browser = deployed.browser()
    for path in ["/", "/intake/consent", "/clinician/login", "/no/such/page"]:
        response, body = browser.raw("GET", path, {"Accept-Encoding": "gzip, br"})
        assert response.getheader("Content-Encoding") is None, path
        assert body.lstrip().lower().startswith(b"<!doctype html"), path


STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"?]+\?v=[0-9a-f]+)"')


def test_versioned_static_files_come_back_immutable_and_nginx_keeps_them(deployed):
    browser = deployed.browser()
    links = STATIC_LINK.findall(browser.get("/").text)
    assert {urlsplit(link).path for link in links} >= {"/static/app.css", "/static/app.js"}
    for link in links:
        path = urlsplit(link).path
        content = (STATIC / path.removeprefix("/static/")).read_bytes()
        mark = deployed.mark()
        for _ in range(3):
            response, body = browser.raw("GET", link, {"Accept-Encoding": "gzip"})
            assert response.status == 200
            assert response.getheader("Cache-Control") == IMMUTABLE
            assert response.getheader("Content-Encoding") == "gzip"
            assert gzip.decompress(body) == content
            assert_security_headers(response.headers, link)
        # The app sent it once; nginx answered the other two from its cache.
        fetched = [line for lines in deployed.served_since(mark) for line in lines]
        assert fetched == [f"GET {path} 200"], link

    # Any other URL of a file is asked of the app every time, and never kept.
    for url in ["/static/app.css", "/static/app.css?v=000000000000"]:
        mark = deployed.mark()
        for _ in range(3):
            response, body = browser.raw("GET", url, {"Accept-Encoding": "gzip"})
            assert response.status == 200 and response.getheader("Cache-Control") == "no-cache"
            assert gzip.decompress(body) == (STATIC / "app.css").read_bytes()
        fetched = [line for lines in deployed.served_since(mark) for line in lines]
        assert fetched.count("GET /static/app.css 200") == 3, url


def test_nginx_turns_away_floods_of_sign_ins_and_intake_starts_before_the_app(deployed):
    browser = deployed.browser()
    token = csrf_token(browser.get("/clinician/login").text)
    mark, started = deployed.mark(), time.monotonic()
    replies = [browser.post("/clinician/login", {"csrf_token": token, "password": "x",
                                                 "email": "flood@example.com"})
               for _ in range(40)]
    elapsed = time.monotonic() - started
    turned_away = [r for r in replies if r.status == 429 and r.text.startswith(NGINX_TOO_MANY)]
    reached = [line for lines in deployed.served_since(mark) for line in lines
               if line.startswith("POST /clinician/login")]
    assert len(turned_away) + len(reached) == 40
    # The first, and a burst of 20 at once; then 10 a minute.
    assert 21 <= len(reached) <= 21 + 1 + elapsed * 10 / 60
    for reply in turned_away:
        assert_security_headers(reply.headers, "429 from nginx")
    # Viewing the page is never limited.
    assert all(browser.get("/clinician/login").status == 200 for _ in range(30))

    source = new_address()
    mark, started = deployed.mark(), time.monotonic()
    replies = [start_intake(deployed.browser(source)) for _ in range(40)]
    elapsed = time.monotonic() - started
    turned_away = [r for r in replies if r.status == 429 and r.text.startswith(NGINX_TOO_MANY)]
    reached = [line for lines in deployed.served_since(mark) for line in lines
               if line.startswith("POST /intake/consent")]
    assert len(turned_away) + len(reached) == 40
    # The first, and a burst of 30 at once; then 30 a minute.
    assert 31 <= len(reached) <= 31 + 1 + elapsed * 30 / 60
    # The app's own limit, the stricter one, held for those that reached it.
    assert sum(line.endswith(" 302") for line in reached) == INTAKE_LIMIT


# --- a server lost -----------------------------------------------------------------------------


def test_with_every_app_server_down_nginx_answers_502_with_the_headers(tmp_path):
    with Nginx(tmp_path / "nginx", [free_port()]) as nginx:  # nothing listens there
        reply = nginx.browser(new_address()).get("/intake/consent")
    assert reply.status == 502
    assert reply.text.startswith("The service is unavailable for a moment.")
    assert_security_headers(reply.headers, "502 from nginx")


PATIENTS = 10
REQUESTS_EACH = 9  # fill_in: 1 GET and 6 POSTs; the submit; the confirmation


def test_a_server_killed_mid_run_loses_nothing(database_url, make_app, tmp_path):
    make_app()  # empties the database afterwards
    with ExitStack() as stack:
        site = start_site(database_url, tmp_path, stack)
        survivor_mark = len(site.nodes[1].served())
        requests_done = Counter[str]()
        lock = threading.Lock()
        killed = threading.Event()
        failed: list[tuple[str, str, str]] = []  # (patient, method, what happened)

        class Patient(HttpsBrowser):
            """Presses again, as a person would, when a page fails: a 502, or a response cut
            off mid-way (the server died after nginx had begun to send it on). Server 0 is
            killed when half of all the requests are done."""

            def request(self, method, path, form=None, headers=None):
                for _attempt in range(3):
                    try:
                        reply = super().request(method, path, form, headers)
                    except (http.client.HTTPException, ConnectionError) as cut_off:
                        with lock:
                            failed.append((self.source, method, type(cut_off).__name__))
                        continue
                    if reply.status != 502:
                        break
                    with lock:
                        failed.append((self.source, method, "502"))
                with lock:
                    requests_done["all"] += 1
                    if requests_done["all"] == PATIENTS * REQUESTS_EACH // 2:
                        site.nodes[0].kill()
                        killed.set()
                return reply

        def one_patient(number: int) -> tuple[str, list[int]]:
            patient = Patient(site.nginx.https_port, source=f"127.2.0.{number + 2}",
                              cafile=str(site.nginx.cafile))
            token = patient.fill_in(valid_steps(about={
                "first_name": f"Survivor{number}", "email": f"survivor.{number}@example.com"}))
            assert patient.submit(token).location.endswith("/intake/done")
            return patient.confirmation_reference(), patient.statuses

        with ThreadPoolExecutor(PATIENTS) as pool:
            results = list(pool.map(one_patient, range(PATIENTS), timeout=300))

        assert killed.is_set()
        # Only a request in flight at the kill can have failed, so at most one a patient, and
        # pressing again worked. A 502 only for a POST: nginx resends a GET to the other
        # server unless it had already begun passing the answer on.
        assert max(Counter(patient for patient, _, _ in failed).values(), default=0) <= 1
        assert all(method == "POST" for _, method, what in failed if what == "502")
        statuses = Counter(status for _, seen in results for status in seen)
        assert set(statuses) <= {200, 302, 502}, statuses
        assert statuses[502] == sum(what == "502" for _, _, what in failed)

        # The survivor took the rest, and still answers.
        assert len(site.nodes[1].served()) > survivor_mark
        for _ in range(4):
            assert site.browser().get("/healthz").status == 200

        # Nothing lost, nothing doubled: every patient's submission, once, as confirmed.
        app = make_app()
        with app.app_context():
            stored = {
                s.patient.email: s.reference for s in db.session.scalars(select(Submission))
            }
            drafts_left = db.session.scalars(select(Draft)).all()
        assert stored == {f"survivor.{n}@example.com": reference
                          for n, (reference, _) in enumerate(results)}
        assert all(REFERENCE.fullmatch(reference) for reference, _ in results)
        assert drafts_left == []

        make_user(app, "survivor.clinician@example.com")
        clinician = site.browser()
        assert sign_in(clinician, "survivor.clinician@example.com").status == 302
        exported = clinician.get("/clinician/export.csv").text
        assert all(reference in exported for reference, _ in results)
