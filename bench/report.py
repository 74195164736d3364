"""BENCHMARKS.md from the figures of one run: machine, versions, method, figures, targets."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from measure import Figure

ROOT = Path(__file__).resolve().parent.parent
PROFILING_NOTES = Path(__file__).resolve().parent / "PROFILING.md"
PACKAGES = ("Flask", "Werkzeug", "Jinja2", "WTForms", "Flask-WTF", "Flask-Babel", "SQLAlchemy",
            "Flask-SQLAlchemy", "psycopg", "gunicorn")
PAGE_LIMIT_BYTES = 50 * 1024
DASHBOARD_P95_MS = 50.0
INTAKE_P99_MS = 100.0
INTAKE_RATIO = 0.5
EXPORT_RATIO = 2.0


def fig(figure: Figure, digits: int = 1) -> str:
    """``median (lowest–highest)``."""
    return f"{figure.median:.{digits}f} ({figure.low:.{digits}f}–{figure.high:.{digits}f})"


def ratio(a: Figure, b: Figure) -> float:
    return a.median / b.median


def yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def _machine(results: list[Any], elapsed: float) -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = next((line.split(":", 1)[1].strip() for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    databases = ", ".join(r.server_version for r in results if r.server_version)
    lines = [
        "| | |", "|---|---|",
        f"| Date | {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC |",
        f"| CPU | {cpu}, {os.cpu_count()} cores |",
        f"| Memory | {memory} |",
        f"| System | {platform.platform()} |",
        f"| Python | {platform.python_version()} |",
        f"| Packages | {versions} |",
        f"| Databases | {databases} (loopback, default settings) |",
        f"| Code | commit {commit}{' plus uncommitted changes' if dirty else ''} |",
        f"| Whole run | {elapsed / 60:.1f} minutes |",
    ]
    for r in results:
        if r.load_before:
            lines.append(f"| Load average, {r.name} part | "
                         f"{r.load_before[0]:.1f} at start, {r.load_after[0]:.1f} at end"
                         " (1-minute; 2 means both cores busy) |")
    return lines


METHOD = """\
- **Servers.** The app (`app:app`) and the baseline (`bench/baseline_app.py`) run under the
  same gunicorn configuration (`bench/server.py`: 2 sync workers, as `make run` serves) on
  127.0.0.1, against the same scratch database: a new SQLite file (WAL, `synchronous=FULL`),
  then a new PostgreSQL database created for the run and dropped after. The intake rate
  limit is raised for the run (`SCREENING_INTAKE_MAX_PER_ADDRESS=1000000`).
- **Baselines.** Two bare Flask apps on the same database, with the same durability
  settings. The first (`bench/baseline_app.py`) has one endpoint that parses a form and
  inserts one row with SQLAlchemy: the ceiling for any Flask app doing this work, sent exactly
  the form bodies the intake posts. The second (`bench/baseline_intake_app.py`) answers the
  same 16 requests as a complete intake, at the same paths, driven by the same client code:
  each GET a page of the same size as the app's (measured on the app at the start of the run)
  from memory, each POST stores its form as one row and redirects to the next page. No
  session, template or validation: the ceiling for any Flask app serving an intake as these
  16 requests, so complete intakes per second compare like for like.
- **Load generator** (`bench/loadgen.py`): threads, each a visitor with its own cookies, on
  `http.client` (keep-alive when the server allows it; sync workers close after each
  response). Latency is from sending the request to reading the last byte. A complete intake
  is 16 requests, as a browser makes them: the start page, then for each of the 6 steps a
  GET (reading the CSRF token) and a POST (saved to the draft, then redirected), the review
  page, the final submit, and the confirmation. The first baseline's equivalent is the same 7
  form bodies, each posted and stored as a row; the second's, the same 16 requests. App and
  baseline runs alternate, after a warm-up, so all three see the same noise. Every run is
  bounded in count and in time.
- **Dashboard and export** are measured after `flask demo seed` has added the synthetic
  submissions, signed in as a clinician through the real form, one request at a time. The
  export is read in full from a fresh one-worker server each time; after a warm-up request
  the worker's peak resident memory (`VmHWM`) is reset to its current size
  (`/proc/PID/clear_refs`), and read again after the export: the export's own peak. Its
  comparison writes the same rows straight from one SQL query with Python's `csv` module
  (raw driver, server-side cursor on PostgreSQL), in the benchmark process: each submission
  joined to its patient and, by two LEFT JOINs, to its PHQ-9 and GAD-7 responses, as the
  app's export reads them, values as the driver returns them. On PostgreSQL
  `VACUUM ANALYZE` runs after seeding, as autovacuum would soon after a bulk load; SQLite is
  left as the app leaves it (no `ANALYZE`).
- **Page weight** is every patient page as a new visitor loads it (empty cache): the HTML and
  every stylesheet, script, font and image it references (CSS `url()`s followed), requested
  as a browser does (`Accept-Encoding: gzip`) and counted as transferred: status line,
  headers and body as sent. The app sends static files gzip-compressed and never compresses
  the HTML (a page holds the CSRF token beside what the visitor typed: BREACH); the last
  column is what a proxy gzipping the HTML too would send. Any reference to another host
  counts as third-party.
- Figures are **median (lowest–highest)** over the runs. The machine is shared and noisy
  (the load average is given above), so ratios to the baseline are the figures to compare."""


def _targets(results: list[Any]) -> list[str]:
    lines = ["| Target | " + " | ".join(r.name for r in results if not r.error) + " |",
             "|---|" + "---|" * len([r for r in results if not r.error])]
    ok = [r for r in results if not r.error]
    if not ok:
        return []

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in ok) + " |")

    row(f"Intake requests/s at least {INTAKE_RATIO:g}× the baseline's",
        lambda r: f"{ratio(r.intake['app'].requests_per_second, r.intake['baseline'].requests_per_second):.2f}× — "  # noqa: E501
        + yes(ratio(r.intake["app"].requests_per_second,
                    r.intake["baseline"].requests_per_second) >= INTAKE_RATIO))
    row(f"Complete intakes/s at least {INTAKE_RATIO:g}× a baseline making the same 16"
        " requests (aim)",
        lambda r: f"{ratio(r.intake['app'].per_second, r.intake['baseline16'].per_second):.2f}× — "  # noqa: E501
        + yes(ratio(r.intake["app"].per_second,
                    r.intake["baseline16"].per_second) >= INTAKE_RATIO))
    row(f"Intake p99 under {INTAKE_P99_MS:g} ms at concurrency 8",
        lambda r: f"{r.intake['app'].p99_ms.median:.0f} ms — "
        + yes(r.intake["app"].p99_ms.median < INTAKE_P99_MS))
    row(f"Dashboard p95 under {DASHBOARD_P95_MS:g} ms at {results[0].seed_count:,} submissions",
        lambda r: ", ".join(f"{p95.median:.0f}" for _, p95, _ in r.dashboard.values())
        + " ms — " + yes(all(p95.median < DASHBOARD_P95_MS for _, p95, _ in
                             r.dashboard.values())))
    row(f"Export within {EXPORT_RATIO:g}× of straight SQL + csv",
        lambda r: ", ".join(f"{e['seconds'].median / e['straight_seconds'].median:.1f}×"
                            for e in r.exports.values()) + " — "
        + yes(all(e["seconds"].median / e["straight_seconds"].median <= EXPORT_RATIO
                  for e in r.exports.values())))
    row("Export memory does not grow with rows", lambda r: _memory_verdict(r))
    row("Every patient page under 50 KB", lambda r: (
        f"largest {kb(max(p.total for p in r.pages.values()))} KB — "
        + yes(all(p.total < PAGE_LIMIT_BYTES for p in r.pages.values()))))
    row("Zero third-party bytes", lambda r: (
        f"{sum(len(p.third_party) for p in r.pages.values())} references — "
        + yes(not any(p.third_party for p in r.pages.values()))))
    row("`flask demo seed` of 100,000 in under a minute", lambda r: (
        f"{r.seed_seconds:.0f} s wall ({r.seed_cpu_seconds:.0f} s CPU) — "
        + yes(r.seed_seconds < 60) if r.seed_count == 100_000 else "not run at 100,000"))
    return lines


def _memory_verdict(r: Any) -> str:
    growths = {label: e["peak_after_mib"].median - e["peak_before_mib"].median
               for label, e in r.exports.items()}
    small, large = growths.get("recent (about a tenth)"), growths.get("all")
    if small is None or large is None:
        return "not measured"
    flat = large - small < 5.0  # MiB: allocator noise, not a per-row cost
    return f"+{small:.1f} MiB vs +{large:.1f} MiB — {yes(flat)}"


def _backend(r: Any) -> list[str]:
    lines = [f"## {r.name}", ""]
    if r.error:
        return [*lines, f"Not measured: `{r.error}`", ""]
    app, base, base16 = r.intake["app"], r.intake["baseline"], r.intake["baseline16"]

    def compared(label: str, a: Figure, b: Figure, b16: Figure, digits: int = 1,
                 strong: str = "") -> str:
        """A row of the table; ``strong`` names the ratio that is the figure to compare."""
        r7, r16 = f"{ratio(a, b):.2f}", f"{ratio(a, b16):.2f}"
        r7, r16 = (f"**{r7}**" if strong == "7" else r7), (f"**{r16}**" if strong == "16" else r16)
        return f"| {label} | {fig(a, digits)} | {fig(b, digits)} | {r7} | {fig(b16, digits)} | {r16} |"  # noqa: E501

    lines += [
        f"### Complete intakes, {8} visitors at once", "",
        "Two baselines: the 7 POSTs of an intake's form bodies (requests per second is the"
        " figure to compare), and the same 16 requests as the app's intake (complete intakes"
        " per second is the figure to compare).", "",
        "| | App (16 requests) | Baseline, 7 POSTs | App ÷ baseline | Baseline, the same 16"
        " requests | App ÷ 16-request baseline |",
        "|---|---|---|---|---|---|",
        compared("Complete intakes per second", app.per_second, base.per_second,
                 base16.per_second, 2, strong="16"),
        compared("Requests per second", app.requests_per_second, base.requests_per_second,
                 base16.requests_per_second, strong="7"),
        compared("p50 latency per request, ms", app.p50_ms, base.p50_ms, base16.p50_ms),
        compared("p99 latency per request, ms", app.p99_ms, base.p99_ms, base16.p99_ms),
        f"| Requests measured (errors) | {app.requests} ({len(app.errors)}) | "
        f"{base.requests} ({len(base.errors)}) | | {base16.requests} ({len(base16.errors)}) | |",
        "",
    ]
    if r.intake_pages:
        lines += ["Pages the 16-request baseline answers (the app's, as measured in this run),"
                  " bytes: " + ", ".join(f"`{path}` {size:,}" for path, size in r.intake_pages)
                  + ".", ""]
    for errors in (app.errors, base.errors, base16.errors):
        if errors:
            lines += [f"First error: `{errors[0]}`", ""]
    lines += where_time_goes(r.name, {"App (16 requests)": app,
                                       "Baseline, the same 16 requests": base16,
                                       "Baseline, 7 POSTs": base})
    base_p50, base_p95 = r.baseline_sequential
    lines += [
        f"### Dashboard at {r.seed_count:,} submissions, one clinician", "",
        "| View | Rows found | p50 ms | p95 ms | p95 ÷ baseline p95 |", "|---|---|---|---|---|",
    ]
    for name, (p50, p95, rows) in r.dashboard.items():
        lines.append(f"| {name} | {rows:,} | {fig(p50)} | {fig(p95)} | "
                     f"{ratio(p95, base_p95):.1f} |")
    lines += [f"| *baseline POST, one at a time* | | {fig(base_p50)} | {fig(base_p95)} | 1 |",
              ""]
    lines += [
        "### CSV export (one worker)", "",
        "| Rows | MB | App export, s | Straight SQL + csv, s | Ratio | Worker resident before,"
        " MiB | Worker peak during export, MiB | Growth, MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, e in r.exports.items():
        growth = e["peak_after_mib"].median - e["peak_before_mib"].median
        lines.append(
            f"| {e['rows']:,} ({label}) | {e['megabytes']:.1f} | {fig(e['seconds'], 2)} | "
            f"{fig(e['straight_seconds'], 2)} | "
            f"**{e['seconds'].median / e['straight_seconds'].median:.2f}** | "
            f"{fig(e['peak_before_mib'])} | {fig(e['peak_after_mib'])} | {growth:+.1f} |")
    lines += ["", f"### Seeding: `flask demo seed --count {r.seed_count}`", "",
              f"{r.seed_seconds:.1f} s wall, {r.seed_cpu_seconds:.1f} s CPU "
              f"({r.seed_count / r.seed_seconds:,.0f} submissions/s), with status histories "
              "and notes; the command's own start-up included.", ""]
    if r.bytes_after_seed:
        grown = r.bytes_after_seed - r.bytes_before_seed
        lines += [f"The database grew by {grown / 1e6:,.1f} MB for these {r.seed_count:,}"
                  f" submissions: **{growth_per_10000(r) / 1e6:.1f} MB per 10,000** (tables,"
                  " indexes and search index; "
                  + ("pages in use" if r.name == "SQLite" else
                     "`pg_database_size` after `VACUUM ANALYZE`") + ").", ""]
    lines += [
        "### Page weight (new visitor, as transferred)", "",
        "| Page | HTML, KB | Assets, KB | Total, KB | Third-party | If a proxy gzipped the HTML"
        " too, KB |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in r.pages.items():
        lines.append(f"| {name} | {kb(p.html)} | {kb(sum(p.assets.values()))} | "
                     f"**{kb(p.total)}** | {len(p.third_party)} | {kb(p.gzipped)} |")
    assets = sorted({a for p in r.pages.values() for a in p.assets})
    lines += ["", "Assets: " + ", ".join(f"`{a}`" for a in assets) + ".", ""]
    return lines


WHO = {"server": "gunicorn (master and workers)", "database": "PostgreSQL backends",
       "client": "load generator (this benchmark)"}


def where_time_goes(backend: str, runs: dict[str, Any]) -> list[str]:
    """CPU milliseconds per complete intake, by process, beside the core-milliseconds each
    intake had (wall time × cores ÷ intakes): the rest went to other work on the machine, to
    waiting (locks, fsync) or to idle cores."""
    measured = {label: t for label, t in runs.items() if t.cpu_ms and t.core_ms}
    if not measured:
        return []
    who = [w for w in WHO if any(w in t.cpu_ms for t in measured.values())]
    lines = [
        "#### Where the time of a complete intake goes", "",
        "CPU milliseconds per complete intake (7 POSTs for that baseline), by process, read from"
        " `/proc` before and after each run"
        + (" (on SQLite the database works inside the gunicorn workers)"
           if backend == "SQLite" else "") + "; *core-ms available* is the run's wall time ×"
        f" {os.cpu_count()} cores ÷ intakes, and what is left of it went to other work on the"
        " machine, to waiting (the write lock, fsync) or to idle cores.", "",
        "| | " + " | ".join(WHO[w] for w in who) + " | total | core-ms available | left |",
        "|---|" + "---|" * (len(who) + 3),
    ]
    for label, t in measured.items():
        used = sum(t.cpu_ms[w].median for w in who)
        lines.append(f"| {label} | " + " | ".join(fig(t.cpu_ms[w]) for w in who)
                     + f" | {used:.1f} | {fig(t.core_ms)} | {t.core_ms.median - used:.1f} |")
    return [*lines, ""]


def growth_per_10000(r: Any) -> float:
    return (r.bytes_after_seed - r.bytes_before_seed) / r.seed_count * 10_000


def _capacity(results: list[Any], cpu_by_page: dict[str, float]) -> list[str]:
    """What one core does, for sizing servers (docs/deploy.md quotes this section)."""
    cores = os.cpu_count() or 1
    intake_cpu = sum(v for k, v in cpu_by_page.items() if not k.startswith("baseline"))
    lines = [
        "## Capacity", "",
        "For sizing servers (`docs/deploy.md`). *Measured*: complete intakes per second at"
        f" 8 visitors (above) × 3,600 ÷ {cores} cores; the load generator ran on the same"
        " cores, so a server does at least this. *App code only*: 3,600,000 ÷ the CPU"
        " milliseconds of one whole intake (in-process, below), the ceiling for one core."
        " Growth: the database's size before and after seeding.", "",
        "| | Intakes per hour per core, measured | Intakes per hour per core, app code only"
        " | Database growth per 10,000 submissions |",
        "|---|---|---|---|",
    ]
    for r in results:
        if r.error:
            continue
        measured = r.intake["app"].per_second.median * 3600 / cores
        ceiling = 3_600_000 / intake_cpu if intake_cpu else 0
        growth = f"{growth_per_10000(r) / 1e6:.1f} MB" if r.bytes_after_seed else "not measured"
        lines.append(f"| {r.name} | {measured:,.0f} | {ceiling:,.0f} | {growth} |")
    return [*lines, ""]


def render(results: list[Any], plan: Any, cpu_by_page: dict[str, float], elapsed: float,
           quick: bool = False) -> str:
    lines = [
        "# Benchmarks", "",
        "Written by `make bench` (`bench/run.py`); the numbers below are from its last full run."
        " Re-run it rather than editing them. The profiling notes at the end are kept in"
        " `bench/PROFILING.md`.", "",
    ]
    if quick:
        lines += ["**A quick run (`--quick`): fewer, smaller runs; not the figures to quote.**",
                  ""]
    lines += ["## Machine", "", *_machine(results, elapsed), "", "## Method", "", METHOD, "",
              "## Targets", "", *_targets(results), ""]
    for r in results:
        lines += _backend(r)
    lines += _capacity(results, cpu_by_page)
    intake_cpu = {k: v for k, v in cpu_by_page.items() if not k.startswith("baseline")}
    lines += [
        "## CPU per request, by page", "",
        "Median CPU milliseconds of each request of a complete intake, in-process (Flask test"
        " client, SQLite), so without server, client or network: what the app's own code"
        " costs. Largely independent of other load on the machine.", "",
        "| Request | CPU ms |", "|---|---|",
        *(f"| {label} | {ms:.2f} |" for label, ms in intake_cpu.items()),
        f"| **whole intake (16 requests)** | **{sum(intake_cpu.values()):.1f}** |",
        f"| *average intake request* | *{sum(intake_cpu.values()) / len(intake_cpu):.2f}* |",
        *(f"| *{label}* | *{ms:.2f}* |" for label, ms in cpu_by_page.items()
          if label not in intake_cpu), "",
    ]
    if PROFILING_NOTES.exists():
        lines += [PROFILING_NOTES.read_text().strip(), ""]
    return "\n".join(lines)
