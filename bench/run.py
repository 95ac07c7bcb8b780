"""`python -m bench.run` (`make bench`): per backend the baseline then the cases; then the table and the JSON.

Environment (all optional):
  BENCH_DURATION (10)  seconds measured per case     BENCH_WARMUP (3)  seconds of warm-up before each
  BENCH_CONNECTIONS (8)  concurrent connections      BENCH_FILL (1000000)  services pre-filled for d.
  BENCH_CASES  comma list of case keys (default all: see bench/cases.py)
  BENCH_BACKENDS (sqlite,mysql)  mysql runs only when CS_TEST_MYSQL_URL is set
  BENCH_KEEP=1  keep the scratch directory and the cs_bench MySQL database
  WEB_CONCURRENCY  gunicorn workers, as deploy/gunicorn.conf.py reads it (default 2 per core)
"""
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.backend import BackendRun, Settings, drop_mysql, fresh_mysql_url, sqlite_url
from bench.cpu import CpuWatch
from bench.cases import BASELINES, CASE_KEYS, start_body
from bench.report import format_table, write_json
from bench.server import Gunicorn
from bench.wrk import ensure_wrk, run_wrk, wrk_version

RESULTS_DIR = Path(__file__).with_name("results")


def settings_from_env(wrk, workdir, stamp):
    cases = tuple(key.strip() for key in os.environ.get("BENCH_CASES", ",".join(CASE_KEYS)).split(",") if key.strip())
    unknown = set(cases) - set(CASE_KEYS)
    if unknown:
        raise SystemExit(f"BENCH_CASES: unknown case(s) {sorted(unknown)}; known: {', '.join(CASE_KEYS)}")
    return Settings(
        wrk=wrk,
        duration_s=int(os.environ.get("BENCH_DURATION", "10")),
        warmup_s=int(os.environ.get("BENCH_WARMUP", "3")),
        connections=int(os.environ.get("BENCH_CONNECTIONS", "8")),
        fill_rows=int(os.environ.get("BENCH_FILL", "1000000")),
        cases=cases,
        keep=os.environ.get("BENCH_KEEP") == "1",
        workdir=workdir,
        results_dir=RESULTS_DIR,
        stamp=stamp,
    )


def measure_baseline(settings, tag, *, kinds=tuple(BASELINES)):
    """The baseline's figures for each kind of case in kinds, measured now, under the same gunicorn settings.

    Measured again before each backend, so that a ratio compares two measurements taken
    minutes apart, not the first and the last of the run.
    """
    workdir = settings.workdir
    (workdir / "post.json").write_text(json.dumps(start_body(with_extensions=False)))
    (workdir / "post_ext.json").write_text(json.dumps(start_body(with_extensions=True)))
    (workdir / "get.paths").write_text("/services/17592186044417\n")
    scripts = {
        "get": ("get.lua", {"BENCH_PATHS_FILE": str(workdir / "get.paths")}),
        "post": ("post.lua", {"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(workdir / "post.json")}),
        "post_ext": ("post.lua", {"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(workdir / "post_ext.json")}),
        "journey": ("journey.lua", {}),
    }
    # No access log: the baseline is the bare minimum of a gunicorn-served JSON app.
    server = Gunicorn("bench.baseline:app", log_path=settings.results_dir / f"{settings.stamp}-baseline-{tag}.log",
                      env={"ACCESS_LOG": "off"})
    server.start()
    loads, cpu = {}, {}
    workers = len(server.worker_pids())
    try:
        for key in kinds:
            script, env = scripts[key]
            print(f"  [baseline {tag}] {BASELINES[key]} ...", flush=True)
            run_wrk(settings.wrk, server.url, script, seconds=settings.warmup_s,
                    connections=settings.connections, env=env)
            with CpuWatch(server.pids) as watch:
                loads[key] = run_wrk(settings.wrk, server.url, script, seconds=settings.duration_s,
                                     connections=settings.connections, env=env)
            cpu[key] = {"system_cores": watch.system_cores, "other_cores": watch.other_cores}
        memory = server.memory.report()
    finally:
        server.stop()
    figures = {key: {**load.as_dict(), "cpu": cpu[key]} for key, load in loads.items()}
    return loads, {"cases": figures, "memory": memory, "workers": workers}


def baseline_drift(before, after):
    """The GET baseline measured again after a backend's cases: how far the machine moved meanwhile."""
    first, last = before["cases"]["get"]["requests_per_s"], after["cases"]["get"]["requests_per_s"]
    return {"get_before": first, "get_after": last,
            "ratio": round(last / first, 3) if first else None, "cpu_after": after["cases"]["get"]["cpu"]}


def machine(wrk):
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    return {
        "cpu": model, "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "wrk": wrk_version(wrk),
    }


def main():
    started = time.monotonic()
    now = dt.datetime.now(dt.timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="cs-bench-"))
    settings = settings_from_env(wrk, workdir, stamp)
    backends = [name.strip() for name in os.environ.get("BENCH_BACKENDS", "sqlite,mysql").split(",") if name.strip()]
    results = {
        "date": now.isoformat(timespec="seconds"), "machine": machine(wrk),
        "settings": {"duration_s": settings.duration_s, "warmup_s": settings.warmup_s,
                     "connections": settings.connections, "wrk_threads": settings.connections,
                     "fill_rows": settings.fill_rows, "cases": list(settings.cases)},
        "baseline_titles": BASELINES, "backends": {},
    }
    print(f"bench: {settings.duration_s} s per case after {settings.warmup_s} s of warm-up, "
          f"{settings.connections} connections; scratch in {workdir}", flush=True)
    try:
        for name in backends:
            if name == "sqlite":
                url = sqlite_url(workdir)
            elif name == "mysql":
                source = os.environ.get("CS_TEST_MYSQL_URL")
                if not source:
                    results["backends"][name] = {"skipped": "CS_TEST_MYSQL_URL is not set"}
                    print("  [mysql] skipped: CS_TEST_MYSQL_URL is not set", flush=True)
                    continue
                url, version = fresh_mysql_url(source)
                results["machine"]["mariadb"] = version
            else:
                raise SystemExit(f"BENCH_BACKENDS: unknown backend {name!r}")
            try:
                loads, baseline = measure_baseline(settings, f"before {name}")
                results["backends"][name] = {"baseline": baseline, **BackendRun(name, url, settings, loads).run()}
                # A machine that got faster or slower during the cases shows here, other load or not.
                _, after = measure_baseline(settings, f"after {name}", kinds=("get",))
                results["backends"][name]["baseline_drift"] = baseline_drift(baseline, after)
            finally:
                if name == "mysql" and not settings.keep:
                    drop_mysql(url)
    finally:
        if settings.keep:
            print(f"kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    path = RESULTS_DIR / f"{stamp}.json"
    write_json(results, path)
    print()
    print(format_table(results))
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    print(f"\n{results['elapsed_s']} s in all; written to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
