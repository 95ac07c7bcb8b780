"""`python -m bench.maintain_load` (the last part of `make bench`): the maintenance run under load.

Per backend: the 1M fill (bench/fill.py, half of it completed more than 90 days ago), a
server with `[retention] completed_days = 90`, 8 connections starting services, first
alone (the reference p99), then while `context-services maintain` purges what is due. The
starts are measured in consecutive wrk windows for as long as the run lasts. Reported: the
purge rate, the starts' p50/p99/max and errors during the run, and the reference.

Environment: as bench.run (BENCH_FILL, BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS,
BENCH_BACKENDS, CS_TEST_MYSQL_URL, BENCH_KEEP), plus BENCH_MAINTAIN_BATCH, the maintain
command's --batch-size (default: its own), BENCH_MAINTAIN_PAUSE, its --pause-ratio (default:
the setting's, 1.0), and BENCH_MAINTAIN_DATABASE (cs_bench_maintain), the MariaDB
database it makes and drops on the server of CS_TEST_MYSQL_URL.
"""
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.db import open_database
from app.ids import LAYOUTS
from bench.backend import drop_mysql, fresh_mysql_url, sqlite_url
from bench.cases import start_body
from bench.fill import fill_services
from bench.server import Gunicorn, call
from bench.wrk import WrkError, ensure_wrk, run_wrk
from models import Service, database

RESULTS_DIR = Path(__file__).with_name("results")
COMMAND = str(Path(sys.executable).parent / "context-services")
RETENTION_DAYS = 90
P99_LIMIT_MS = 50
SUMMARY = re.compile(r"purged (\d+),.* in ([0-9.]+) s")


def main():
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="cs-bench-maintain-"))
    options = {"fill": int(os.environ.get("BENCH_FILL", "1000000")),
               "window_s": int(os.environ.get("BENCH_DURATION", "10")),
               "warmup_s": int(os.environ.get("BENCH_WARMUP", "3")),
               "connections": int(os.environ.get("BENCH_CONNECTIONS", "8")),
               "batch": os.environ.get("BENCH_MAINTAIN_BATCH"),
               "pause": os.environ.get("BENCH_MAINTAIN_PAUSE")}
    results = {"date": stamp, "options": options, "backends": {}}
    try:
        for name in [n.strip() for n in os.environ.get("BENCH_BACKENDS", "sqlite,mysql").split(",") if n.strip()]:
            if name == "mysql" and not os.environ.get("CS_TEST_MYSQL_URL"):
                results["backends"][name] = {"skipped": "CS_TEST_MYSQL_URL is not set"}
                continue
            url = sqlite_url(workdir) if name == "sqlite" else fresh_mysql_url(
                os.environ["CS_TEST_MYSQL_URL"], os.environ.get("BENCH_MAINTAIN_DATABASE", "cs_bench_maintain"))[0]
            try:
                results["backends"][name] = run_backend(name, url, wrk, workdir, stamp, **options)
            finally:
                if name == "mysql" and os.environ.get("BENCH_KEEP") != "1":
                    drop_mysql(url)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    path = RESULTS_DIR / f"{stamp}-maintain.json"
    path.write_text(json.dumps(results, indent=1))
    print(format_table(results))
    print(f"written to {path}")
    return 0 if all("failed" not in figures for figures in results["backends"].values()) else 1


def run_backend(name, url, wrk, workdir, stamp, *, fill, window_s, warmup_s, connections, batch, pause):
    """Fill, measure starts alone, then during `maintain`; the figures as a dict."""
    config = workdir / f"maintain-{name}.ini"
    config.write_text(f"[database]\nurl = {url}\n\n[retention]\ncompleted_days = {RETENTION_DAYS}\n")
    server = Gunicorn("wsgi:application", log_path=RESULTS_DIR / f"{stamp}-maintain-server-{name}.log",
                      env={"CS_CONFIG": str(config)})
    server.start()
    try:
        database.initialize(open_database(url))
        with database.connection_context():
            print(f"  [{name}] filling {fill:,} services ...", flush=True)
            fill_services(database.obj, fill, layout=LAYOUTS["default"],
                          transaction_rows=None if name == "sqlite" else 100_000)
        body_file = workdir / "start.json"
        body_file.write_text(json.dumps(start_body(with_extensions=False)))
        env = {"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(body_file)}
        status, _, _ = call(server.url, "POST", "/services/start", start_body(with_extensions=False))
        if status != 201:
            return {"failed": f"POST /services/start answered {status}"}
        due = _due(config)
        run_wrk(wrk, server.url, "post.lua", seconds=warmup_s, connections=connections, env=env)
        print(f"  [{name}] starts alone, {window_s} s ...", flush=True)
        alone = run_wrk(wrk, server.url, "post.lua", seconds=window_s, connections=connections, env=env)
        print(f"  [{name}] maintain purging {due:,} services under the same load ...", flush=True)
        during, run = _load_during_maintain(wrk, server.url, config, env, window_s, connections, batch, pause)
    finally:
        server.stop()
        if not database.is_closed():
            database.close()
    return _figures(due, alone, during, run)


def _due(config):
    dry = subprocess.run([COMMAND, "maintain", "--config", str(config), "--dry-run"],
                         capture_output=True, text=True, check=True)
    return int(re.search(r"purged (\d+)", dry.stdout)[1])


def _load_during_maintain(wrk, url, config, env, window_s, connections, batch, pause):
    """wrk windows of starts for as long as the maintain process runs; ([Load], run facts)."""
    began = time.monotonic()
    options = (["--batch-size", batch] if batch else []) + (["--pause-ratio", pause] if pause else [])
    process = subprocess.Popen([COMMAND, "maintain", "--config", str(config), *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    loads, wrk_errors = [], []
    while process.poll() is None:
        try:
            loads.append(run_wrk(wrk, url, "post.lua", seconds=window_s, connections=connections, env=env))
        except WrkError as error:       # e.g. a start slower than wrk's timeout: a failure, reported
            wrk_errors.append(str(error)[:300])
    out, err = process.communicate()
    summary = SUMMARY.search(out)
    return loads, {"exit_code": process.returncode, "summary": out.strip(), "stderr": err.strip()[-2000:],
                   "wrk_errors": wrk_errors,
                   "purged": int(summary[1]) if summary else None,
                   "seconds": float(summary[2]) if summary else time.monotonic() - began}


def _figures(due, alone, during, run):
    worst = max((load.latency_ms["p99"] for load in during), default=None)
    starts = sum(load.ok for load in during)
    errors = sum(load.errors + load.lost for load in during)
    with database.connection_context():
        left = Service.select().count()
    figures = {
        "due": due, "maintain": run, "services_left": left,
        "purge_rate_per_s": round(run["purged"] / run["seconds"]) if run["purged"] and run["seconds"] else None,
        "starts_alone": alone.as_dict(),
        "starts_during": {"windows": len(during), "ok": starts, "errors": errors,
                          "worst_window_p99_ms": worst,
                          "p50_ms": [load.latency_ms["p50"] for load in during],
                          "p99_ms": [load.latency_ms["p99"] for load in during],
                          "max_ms": max((load.latency_ms["max"] for load in during), default=None)},
    }
    problems = []
    if run["exit_code"] != 0 or run["purged"] is None or run["purged"] < due:
        problems.append(f"maintain exited {run['exit_code']} having purged {run['purged']} of {due}")
    if errors or run["wrk_errors"]:
        problems.append(f"{errors} starts failed during the run, {len(run['wrk_errors'])} wrk windows failed")
    if worst is not None and worst >= P99_LIMIT_MS:
        problems.append(f"a window's p99 was {worst} ms (limit {P99_LIMIT_MS} ms)")
    if problems:
        figures["failed"] = "; ".join(problems)
    return figures


def format_table(results):
    lines = ["", "maintenance run under load (8 connections starting services)",
             "backend  due        purged/s  starts alone p99  during: worst p99  max      ok      errors"]
    for name, figures in results["backends"].items():
        if "skipped" in figures:
            lines.append(f"{name:<8} skipped: {figures['skipped']}")
            continue
        during = figures["starts_during"]
        lines.append(f"{name:<8} {figures['due']:<10,} {figures['purge_rate_per_s'] or '-':<9} "
                     f"{figures['starts_alone']['latency_ms']['p99']:<17} {during['worst_window_p99_ms']!s:<18} "
                     f"{during['max_ms']!s:<8} {during['ok']:<7} {during['errors']}"
                     + (f"   FAILED: {figures['failed']}" if "failed" in figures else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
