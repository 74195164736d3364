"""The core stays pure: it imports neither flask nor sqlalchemy and does no I/O."""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import screening.core

CORE_DIR = Path(screening.core.__file__).parent
CORE_MODULES = sorted(
    f"screening.core.{m.name}" for m in pkgutil.iter_modules([str(CORE_DIR)])
)
# Calls that read the clock, the environment, the disk or the network.
IMPURE = re.compile(
    r"\bopen\(|datetime\.now|datetime\.utcnow|\.today\(|date\.today|time\.time\(|"
    r"\bimport (os|socket|requests|urllib|subprocess|logging)\b|"
    r"\bfrom (os|socket|urllib|subprocess|logging)\b|\bprint\(|\binput\(|environ|Path\("
)


def test_the_core_has_modules():
    expected = {"instruments", "scoring", "flags", "trials", "dates", "measurement", "identity",
                "references", "export_csv", "fhir", "options", "treatment_history",
                "health_screen"}
    assert {f"screening.core.{name}" for name in expected} <= set(CORE_MODULES)


def test_importing_the_core_loads_neither_flask_nor_sqlalchemy():
    # A fresh interpreter: this test process has flask loaded already. The parent package
    # ``screening`` (the Flask app factory) is stood in for by an empty package, so that only
    # what the core itself imports gets loaded.
    code = (
        "import importlib, json, sys, types\n"
        "parent = types.ModuleType('screening')\n"
        f"parent.__path__ = [{str(CORE_DIR.parent)!r}]\n"
        "sys.modules['screening'] = parent\n"
        f"for name in {CORE_MODULES!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=CORE_DIR.parent.parent,
    ).stdout
    loaded = set(json.loads(output))
    assert "screening" in loaded and "builtins" in loaded
    assert not loaded & {"flask", "flask_babel", "flask_wtf", "wtforms", "sqlalchemy", "werkzeug"}


def test_the_core_source_does_no_io():
    for path in sorted(CORE_DIR.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            assert not IMPURE.search(code), f"{path.name}:{number}: {line.strip()}"


def test_the_purity_check_catches_a_clock_read():
    assert IMPURE.search("now = datetime.now(dt.UTC)")
    assert IMPURE.search("with open('x') as f:")
    assert IMPURE.search("today = dt.date.today()")
