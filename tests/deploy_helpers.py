"""The production setup on loopback: Debian's nginx running the repo's own site files
(deploy/nginx/, with the test's ports, paths and certificate put in) in front of gunicorn
app servers run with the settings of deploy/screening.env; and a browser that speaks HTTPS
to it from any loopback address (127.0.0.0/8 is all local), so that each test's visitor has
an address of its own and the app can be seen to tell them apart.

Everything started here is stopped here; files go under the test's temporary folder.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from screening import PROJECT_ROOT

from .gunicorn_helpers import REQUEST_TIMEOUT, Browser, Gunicorn, Reply

DEPLOY = PROJECT_ROOT / "deploy"
ENV_TEMPLATE = DEPLOY / "screening.env"
SITE_FILES = [DEPLOY / "nginx" / "screening-http.conf", DEPLOY / "nginx" / "screening-https.conf"]
DOMAIN = "intake.example.org"
START_TIMEOUT = 30

# As Debian's /etc/nginx/nginx.conf (its http block included), so that the site files are
# tried in the context they will run in (gzip on for HTML, every TLS version allowed at the
# http level); then the test's own pid file, logs and temporary folders.
MAIN_CONF = """\
{user}
daemon off;
master_process on;
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/logs/error.log notice;
events {{
    worker_connections 512;
}}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {root}/logs/access.log;
    gzip on;

    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;

    include {root}/sites/*.conf;
}}
"""


def tool(name: str) -> str:
    """The path of a system tool these tests need; a clear failure when it is missing."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{name} not found: apt-get install nginx openssl systemd (.ci/run does),"
                    " or leave the deployment tests out with -m 'not deploy'")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_file_values(path: Path = ENV_TEMPLATE) -> dict[str, str]:
    """The KEY=value lines of an environment file, quotes removed as systemd removes them."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not KEY=value: {line!r}"
        values[key] = " ".join(shlex.split(value)) if value else ""
    return values


def app_settings_from_env_file() -> dict[str, str]:
    """The template's SCREENING_* settings as the Gunicorn helper takes them (no prefix);
    the secret key, empty there, comes from the helper."""
    return {key.removeprefix("SCREENING_"): value
            for key, value in env_file_values().items()
            if key.startswith("SCREENING_") and key != "SCREENING_SECRET_KEY"}


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA certificate for DOMAIN (certbot's default key type)."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={DOMAIN}",
         "-addext", f"subjectAltName=DNS:{DOMAIN}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def replace(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace ``old``, which must occur exactly ``count`` times (else the site file changed
    in a way this test does not know, and it says so)."""
    found = text.count(old)
    assert found == count, f"expected {count} of {old!r} in the site file, found {found}"
    return text.replace(old, new)


def render_sites(root: Path, http_port: int, https_port: int, app_ports: list[int],
                 cert: Path, key: Path) -> None:
    """The repo's site files with the test's ports, paths and app servers."""
    http_site, https_site = (path.read_text() for path in SITE_FILES)
    http_site = replace(http_site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    http_site = replace(http_site, "listen 80 default_server;",
                        f"listen 127.0.0.1:{http_port} default_server;")
    http_site = replace(http_site, "    listen [::]:80;\n", "")
    http_site = replace(http_site, "    listen [::]:80 default_server;\n", "")
    http_site = replace(http_site, "root /var/www/letsencrypt;", f"root {root / 'acme'};")

    https_site = replace(https_site, "listen 443 ssl http2;",
                         f"listen 127.0.0.1:{https_port} ssl http2;")
    https_site = replace(https_site, "listen 443 ssl http2 default_server;",
                         f"listen 127.0.0.1:{https_port} ssl http2 default_server;")
    https_site = replace(https_site, "    listen [::]:443 ssl http2;\n", "")
    https_site = replace(https_site, "    listen [::]:443 ssl http2 default_server;\n", "")
    https_site = replace(https_site, "    server 127.0.0.1:8000 max_fails=1 fail_timeout=10s;\n",
                         "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n"
                                 for port in app_ports))
    https_site = replace(https_site, f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem", str(cert))
    https_site = replace(https_site, f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem", str(key))
    https_site = replace(https_site, "/var/lib/nginx/screening-static", str(root / "cache"))
    https_site = replace(https_site, "/var/log/nginx/", f"{root}/logs/", count=2)
    (root / "sites" / "screening-http.conf").write_text(http_site)
    (root / "sites" / "screening-https.conf").write_text(https_site)


class Nginx:
    """nginx in the foreground with the repo's site files, on free loopback ports."""

    def __init__(self, root: Path, app_ports: list[int]) -> None:
        self.root = root
        self.app_ports = app_ports
        self.http_port = free_port()
        self.https_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.cafile = root / "fullchain.pem"

    def command(self, *extra: str) -> list[str]:
        return [tool("nginx"), "-p", str(self.root), "-c", str(self.root / "nginx.conf"),
                "-e", str(self.root / "logs" / "startup.log"), *extra]

    def __enter__(self) -> Nginx:
        for folder in ("logs", "tmp", "sites", "acme"):  # nginx makes its cache folder
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        cert, key = make_certificate(self.root)
        render_sites(self.root, self.http_port, self.https_port, self.app_ports, cert, key)
        # As root the workers would otherwise run as nobody, who may not enter the test's
        # temporary folder.
        user = "user root;" if os.geteuid() == 0 else ""
        (self.root / "nginx.conf").write_text(MAIN_CONF.format(root=self.root, user=user))
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
        output = (self.root / "logs" / "nginx.out").open("wb")
        self.process = subprocess.Popen(self.command(), stdout=output, stderr=output,
                                        start_new_session=True)
        output.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not all(self._accepts(port) for port in (self.http_port, self.https_port)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start:\n{self.error_log()}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @staticmethod
    def _accepts(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # fast shutdown: open connections are closed
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def error_log(self) -> str:
        return "\n".join(path.read_text(errors="replace")
                         for path in sorted((self.root / "logs").glob("*error*.log"))
                         + sorted((self.root / "logs").glob("startup.log")))

    def access_log(self) -> str:
        path = self.root / "logs" / "screening.access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def browser(self, source: str, **kwargs: Any) -> HttpsBrowser:
        return HttpsBrowser(self.https_port, source=source, cafile=str(self.cafile), **kwargs)


class AppNode(Gunicorn):
    """One app server: gunicorn with 2 sync workers (as `make run`), the environment file's
    settings, and an access log of its own, so a test can tell which server did what."""

    def __init__(self, database_url: str, folder: Path, **settings: Any) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(database_url, folder, workers=2,
                         **{**app_settings_from_env_file(), **settings})
        self.access_log_path = folder / "access.log"
        self.command[1:1] = ["--access-logfile", str(self.access_log_path),
                             "--access-logformat", "%(m)s %(U)s %(s)s"]

    def served(self) -> list[str]:
        """Every request this server answered so far: "METHOD /path STATUS" (no query)."""
        if not self.access_log_path.exists():
            return []
        return self.access_log_path.read_text().splitlines()

    def kill(self) -> None:
        """As a crash or a pulled plug: SIGKILL to the master and every worker at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


@lru_cache
def tls_context(cafile: str) -> ssl.SSLContext:
    """Verifies nginx's certificate against the test's own, and the name in it."""
    return ssl.create_default_context(cafile=cafile)


class LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to DOMAIN (in the TLS handshake, the certificate check and the Host header), at
    127.0.0.1, from the loopback address ``source``."""

    def __init__(self, port: int, source: str, context: ssl.SSLContext,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        super().__init__(DOMAIN, port, timeout=timeout, context=context,
                         source_address=(source, 0))

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout,
                                        self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass
class HttpsBrowser(Browser):
    """A browser at https://intake.example.org:PORT/ from the loopback address ``source``.

    It sends a Referer on POSTs, as browsers do (the app checks it over HTTPS), and
    ``always`` on every request (say, a forged X-Forwarded-For).
    """

    source: str = "127.0.0.1"
    cafile: str = ""
    always: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://{DOMAIN}:{self.port}"

    def connection(self) -> http.client.HTTPConnection:
        return LoopbackHTTPS(self.port, self.source, tls_context(self.cafile))

    def request(self, method: str, path: str, form: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        sent = {**self.always, **(headers or {})}
        if method == "POST":
            sent.setdefault("Referer", self.origin + path)
        return super().request(method, path, form, sent)

    def raw(self, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[http.client.HTTPResponse, bytes]:
        """One request, the response's bytes as sent (say, gzip); cookies untouched."""
        conn = self.connection()
        try:
            conn.request(method, path, body, {**self.always, **(headers or {})})
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()
