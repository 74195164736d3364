"""The files of deploy/ say what the app does: the environment file lists every setting and
starts the app as documented, nginx's copies of the security headers are the app's, the
systemd units are valid and run commands the app has, and the scripts work.

(nginx with the site files, in front of two app servers, is tested in test_deploy.py.)
"""

from __future__ import annotations

import ast
import configparser
import getpass
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from screening import PROJECT_ROOT, create_app
from screening.web.headers import security_headers

from .deploy_helpers import DEPLOY, ENV_TEMPLATE, env_file_values, tool

SYSTEMD = DEPLOY / "systemd"
UNITS = sorted(SYSTEMD.glob("screening*"))
APP_DIR = "/srv/screening/app"
ENV_FILE = "/etc/screening/screening.env"
#: Commands the units run that other work is adding to the app: (words, where it comes from).
#: When one lands, this test says so; then take it off this list.
PENDING = {("alerts", "worker"): "issue 12", ("checkins", "send-due"): "issue 11"}
#: Settings read with config.get() only, so not in screening/config.py.
EXTRA_SETTINGS = {"STATIC_COMPRESSED_FOLDER"}


def config_settings() -> set[str]:
    tree = ast.parse((PROJECT_ROOT / "screening" / "config.py").read_text())
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name) and target.id.isupper()}


# --- the environment file ----------------------------------------------------------------------


def test_the_environment_file_names_every_setting_and_only_real_ones():
    text = ENV_TEMPLATE.read_text()
    named = set(re.findall(r"\bSCREENING_([A-Z][A-Z0-9_]*)", text))
    settings = config_settings() | EXTRA_SETTINGS
    for setting in sorted(settings):
        # As SCREENING_NAME, or by name in a comment (durations: instance/config.py only).
        assert setting in named or re.search(rf"^#.*\b{setting}\b", text, re.M), \
            f"{setting} (screening/config.py) is not in deploy/screening.env"
    assert named <= settings, f"not settings of the app: {sorted(named - settings)}"
    assert "DATABASE_URL=" in text


def test_the_app_starts_from_the_environment_file_as_it_says(tmp_path, monkeypatch):
    values = env_file_values()
    assert values["SCREENING_SECRET_KEY"] == ""  # to be filled in, never a shared default
    for key in list(os.environ):
        if key.startswith("SCREENING_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SCREENING_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'screening.db'}")
    app = create_app()
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["CLINIC_NAME"] == "Our clinic"
    assert app.config["PUBLIC_BASE_URL"].startswith("https://")
    assert "--bind 127.0.0.1:8000" in values["GUNICORN_CMD_ARGS"]

    monkeypatch.setenv("SCREENING_SECRET_KEY", "")  # as shipped: the app refuses to start
    monkeypatch.setattr("screening.PROJECT_ROOT", tmp_path)  # (no instance/secret_key there)
    with pytest.raises(RuntimeError, match="No SECRET_KEY"):
        create_app()


# --- nginx --------------------------------------------------------------------------------------


def test_nginx_copies_of_the_security_headers_are_the_apps():
    site = (DEPLOY / "nginx" / "screening-https.conf").read_text()
    maps = dict(re.findall(
        r'map \$upstream_http_content_security_policy (\$\w+) \{\s*""\s+"([^"]*)";', site))
    added = dict(re.findall(r"add_header ([\w-]+)\s+(\$\w+) always;", site))
    assert {name: maps[variable] for name, variable in added.items()} == security_headers(True)


# --- systemd ------------------------------------------------------------------------------------


def read_unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(path.read_text())
    return unit


def test_every_timer_starts_a_service_and_every_service_runs_as_the_app():
    names = {path.name for path in UNITS}
    assert {"screening.service", "screening-alerts.service", "screening-purge.timer",
            "screening-checkins.timer", "screening-backup.timer"} <= names
    for path in UNITS:
        unit = read_unit(path)
        if path.suffix == ".timer":
            assert path.with_suffix(".service").name in names, path.name
            assert unit["Timer"]["OnCalendar"] and unit["Timer"]["Persistent"] == "true"
            continue
        service = unit["Service"]
        assert service["User"] == "screening" and service["Group"] == "screening", path.name
        assert service["WorkingDirectory"] == APP_DIR, path.name
        assert service["EnvironmentFile"] == ENV_FILE, path.name
        assert f"{APP_DIR}/instance" in service["ReadWritePaths"].split(), path.name
        assert service["ProtectSystem"] == "strict", path.name
        assert Path(service["ExecStart"].split()[0].replace(APP_DIR, str(PROJECT_ROOT))
                    .replace(f"{PROJECT_ROOT}/.venv/bin", str(Path(sys.executable).parent))
                    ).exists(), path.name


def test_the_flask_commands_the_units_run_are_the_apps(app):
    runner = app.test_cli_runner()
    for path in UNITS:
        if path.suffix != ".service":
            continue
        command = read_unit(path)["Service"]["ExecStart"].split()
        if not command[0].endswith("/flask"):
            continue
        assert command[1:3] == ["--app", "app"], path.name
        words = tuple(command[3:])
        exists = runner.invoke(args=[*words, "--help"]).exit_code == 0
        if words in PENDING:
            assert not exists, (f"`flask {' '.join(words)}` has landed ({PENDING[words]}):"
                                f" take it off PENDING in {Path(__file__).name}")
        else:
            assert exists, f"{path.name} runs `flask {' '.join(words)}`, which the app lacks"


@pytest.mark.deploy
def test_systemd_accepts_the_units(tmp_path):
    """systemd-analyze verify, on copies pointing at this checkout and the current user."""
    env_file = tmp_path / "screening.env"
    env_file.write_text(ENV_TEMPLATE.read_text())
    user = getpass.getuser()
    for path in UNITS:
        text = (path.read_text()
                .replace(f"{APP_DIR}/.venv/bin", str(Path(sys.executable).parent))
                .replace(APP_DIR, str(PROJECT_ROOT))
                .replace(ENV_FILE, str(env_file))
                .replace("User=screening", f"User={user}")
                .replace("Group=screening", f"Group={user}"))
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [tool("systemd-analyze"), "verify", "--man=no", *sorted(p.name for p in UNITS)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    # Only what concerns these units (a container without systemd running adds its own).
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if "screening" in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


# --- scripts ------------------------------------------------------------------------------------


def test_the_backup_script_refuses_settings_it_cannot_keep(tmp_path):
    script = DEPLOY / "bin" / "screening-backup"
    base = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for settings, said in [
        ({"BACKUP_DIR": str(tmp_path / "missing")}, "does not exist"),
        ({"BACKUP_DIR": str(tmp_path), "BACKUP_KEEP_DAYS": "0"}, "at least 1"),
        ({"BACKUP_DIR": str(tmp_path), "DATABASE_URL": "mysql://x/y"}, "Cannot back up"),
    ]:
        result = subprocess.run([str(script)], env={**base, **settings}, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 2 and said in result.stderr, (settings, result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_screening_flask_runs_commands_with_the_environment_file(tmp_path):
    env_file = tmp_path / "screening.env"
    database = tmp_path / "from-env-file.db"
    env_file.write_text(ENV_TEMPLATE.read_text().replace(
        "SCREENING_SECRET_KEY=\n", "SCREENING_SECRET_KEY=" + "s" * 64 + "\n")
        + f"DATABASE_URL=sqlite:///{database}\n")
    env = {"PATH": os.environ["PATH"], "SCREENING_APP_DIR": str(PROJECT_ROOT),
           "SCREENING_ENV_FILE": str(env_file), "SCREENING_USER": getpass.getuser()}
    script = str(DEPLOY / "bin" / "screening-flask")
    upgraded = subprocess.run([script, "db", "upgrade"], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = subprocess.run([script, "users", "list"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert database.exists()  # the environment file's DATABASE_URL was the one used
