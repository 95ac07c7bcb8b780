"""One database backend's run: a fresh database, the server on it, and every case its routes allow."""
import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pymysql

from app.db import open_database
from app.passwords import hash_password
from app.ids import LAYOUTS
from bench.cases import (CASES, EXTENSION_NAMES, EXTENSION_RECORDS_PER_START, EXTENSION_SCHEMAS,
                         start_body)
from bench.cpu import CpuWatch, database_server_pids
from bench.fill import fill_services
from bench.server import Gunicorn, ServerError, call
from bench.wrk import WrkError, run_wrk
from models import ExtensionRecord, Service, State, Task, database

MYSQL_DATABASE = "cs_bench"
TABLES = {"service": Service, "state": State, "task": Task, "extension_record": ExtensionRecord}
LOG_PATTERNS = ("database is locked", "Deadlock found", "Lock wait timeout", "Traceback")
READ_SERVICES = 20
LIST_ROUTES = {"anonymous_active": "/services/anonymous/{}/active", "customer_services": "/customers/{}/services"}


class Skip(Exception):
    """A case cannot run because a route it needs is not there (404/405)."""


class Failed(Exception):
    """A case cannot run because the server answered its set-up wrongly."""


@dataclass(frozen=True)
class Settings:
    wrk: str
    duration_s: int
    warmup_s: int
    connections: int
    fill_rows: int
    cases: tuple
    keep: bool
    workdir: Path
    results_dir: Path
    stamp: str


def sqlite_url(workdir):
    return f"sqlite:///{workdir / 'cs.db'}"


def fresh_mysql_url(source_url, name=MYSQL_DATABASE):
    """A URL for the database `name` on the server of source_url, created empty (dropped first)."""
    parsed = urlparse(source_url)
    connection = pymysql.connect(host=parsed.hostname, port=parsed.port or 3306,
                                 user=parsed.username or "root", password=parsed.password or "")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
    finally:
        connection.close()
    return urlunparse(parsed._replace(path="/" + name)), version


def drop_mysql(url):
    """Drop the database the URL names (one that fresh_mysql_url made)."""
    parsed = urlparse(url)
    connection = pymysql.connect(host=parsed.hostname, port=parsed.port or 3306,
                                 user=parsed.username or "root", password=parsed.password or "")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {parsed.path.lstrip('/')}")
    finally:
        connection.close()


class BackendRun:
    """Runs the cases against one database URL and returns their figures as a dict."""

    def __init__(self, name, url, settings, baseline):
        self.name = name
        self.url = url
        self.settings = settings
        self.baseline = baseline            # baseline key -> Load
        self.server = None
        self.db = None
        self.authorization = None           # the Authorization header while a case runs with auth

    def run(self):
        settings = self.settings
        config = settings.workdir / f"cs-{self.name}.ini"
        config.write_text(f"[database]\nurl = {self.url}\n")
        self.config = config
        log_path = settings.results_dir / f"{settings.stamp}-server-{self.name}.log"
        self.server = Gunicorn("wsgi:application", log_path=log_path, env={"CS_CONFIG": str(config)})
        self.db = open_database(self.url)
        database.initialize(self.db)
        self.server.start()
        result = {"url": _redact(self.url), "workers": len(self.server.worker_pids()),
                  "server_log": str(log_path), "cases": {}}
        try:
            extensions_ready = None
            for case in CASES:
                if case.key not in settings.cases:
                    continue
                if case.key in ("start_ext", "read") and extensions_ready is None:
                    extensions_ready = self._register_extensions()
                if case.key in LIST_ROUTES and "fill" not in result:
                    result["fill"] = self._fill_if_routes_exist()
                if case.with_auth_of:
                    result["cases"][case.key] = self._run_with_auth(case, result["cases"].get(case.with_auth_of))
                    continue
                result["cases"][case.key] = self._run_case(case, extensions_ready, result.get("fill"))
            result["memory"] = self.server.memory.report()
        finally:
            self.server.stop()
            if not database.is_closed():
                database.close()
        result["log"] = {pattern: len(self.server.log_lines_containing(pattern)) for pattern in LOG_PATTERNS}
        return result

    # -- cases -----------------------------------------------------------------------

    def _run_case(self, case, extensions_ready, fill):
        print(f"  [{self.name}] {case.title} ...", flush=True)
        outcome = {"title": case.title, "baseline": case.baseline}
        if case.key == "observability":
            return self._observability_cost(case, outcome)
        try:
            env = self._prepare(case, extensions_ready, fill)
            before = self._count_rows(case)
            warmup = run_wrk(self.settings.wrk, self.server.url, case.script,
                             seconds=self.settings.warmup_s, connections=self.settings.connections, env=env)
            with CpuWatch(self._system_pids) as cpu:
                load = run_wrk(self.settings.wrk, self.server.url, case.script,
                               seconds=self.settings.duration_s, connections=self.settings.connections, env=env)
            after = self._count_rows(case)
        except Skip as reason:
            print(f"    skipped: {reason}", flush=True)
            return {**outcome, "status": "skipped", "reason": str(reason)}
        except (Failed, WrkError) as reason:
            print(f"    FAILED: {reason}", flush=True)
            return {**outcome, "status": "failed", "reason": str(reason)}
        baseline = self.baseline.get(case.baseline)
        outcome.update(status="ok", load=load.as_dict(), warmup=warmup.as_dict(),
                       cpu={"system_cores": cpu.system_cores, "other_cores": cpu.other_cores},
                       ratio=round(load.requests_per_s / baseline.requests_per_s, 3)
                       if baseline and baseline.requests_per_s else None)
        if case.writes:
            outcome["rows"] = self._rows_check(case, before, after, warmup, load)
        return outcome

    def _observability_cost(self, case, outcome):
        """Start Service here (metrics and access log on) and on a twin server with both off.

        The two take turns, twice each for half the case's duration, so that both see the same
        machine and database; the ratio is the mean req/s with them on over the mean with them off.
        """
        settings = self.settings
        body_file = settings.workdir / "observability.json"
        body_file.write_text(json.dumps(start_body(with_extensions=False)))
        env = {"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(body_file)}
        quiet_config = settings.workdir / f"cs-{self.name}-quiet.ini"
        quiet_config.write_text(self.config.read_text() + "\n[metrics]\nenabled = false\n")
        quiet = Gunicorn("wsgi:application", log_path=settings.results_dir / f"{settings.stamp}-quiet-{self.name}.log",
                         env={"CS_CONFIG": str(quiet_config), "ACCESS_LOG": "off"})
        loads = {"on": [], "off": []}
        try:
            self._probe("POST", "/services/start", start_body(with_extensions=False))
            quiet.start()
            for server in (quiet, self.server):
                run_wrk(settings.wrk, server.url, case.script, seconds=settings.warmup_s,
                        connections=settings.connections, env=env)
            for _ in range(2):
                for label, server in (("off", quiet), ("on", self.server)):
                    loads[label].append(run_wrk(settings.wrk, server.url, case.script,
                                                seconds=max(1, settings.duration_s // 2),
                                                connections=settings.connections, env=env))
        except (Skip, Failed, WrkError, ServerError) as reason:
            print(f"    FAILED: {reason}", flush=True)
            return {**outcome, "status": "failed", "reason": str(reason)}
        finally:
            quiet.stop()
        rate = {label: sum(load.requests_per_s for load in runs) / len(runs) for label, runs in loads.items()}
        print(f"    on {rate['on']:.1f} req/s, off {rate['off']:.1f} req/s", flush=True)
        return {**outcome, "status": "ok", "load": loads["on"][-1].as_dict(),
                "load_off": loads["off"][-1].as_dict(), "requests_per_s": rate,
                "cpu": {"system_cores": None, "other_cores": None},
                "ratio": round(rate["on"] / rate["off"], 3) if rate["off"] else None}
    def _run_with_auth(self, case, without_auth):
        """The case on a second server of the same database with [auth] mode = basic (one writer);
        its ratio to the same case without auth (run just before) goes in vs_without_auth."""
        password = "bench-password"
        config = self.settings.workdir / f"cs-{self.name}-basic.ini"
        config.write_text(f"[database]\nurl = {self.url}\n\n[auth]\nmode = basic\n\n[user:bench]\n"
                          f"password = {hash_password(password)}\nroles = writer\n")
        log_path = self.settings.results_dir / f"{self.settings.stamp}-server-{self.name}-basic.log"
        plain, self.server = self.server, Gunicorn("wsgi:application", log_path=log_path,
                                                   env={"CS_CONFIG": str(config)})
        self.authorization = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()
        try:
            self.server.start()
            self._until_every_worker_checked_the_password()
            outcome = self._run_case(case, None, None)
        finally:
            self.server.stop()
            self.server, self.authorization = plain, None
        if outcome["status"] == "ok" and without_auth and without_auth.get("status") == "ok":
            outcome["vs_without_auth"] = round(outcome["load"]["requests_per_s"]
                                               / without_auth["load"]["requests_per_s"], 3)
        return outcome

    def _until_every_worker_checked_the_password(self, *, timeout_s=60):
        """GET /server/status until every worker has answered once: all have booted, and each
        holds the credential in its cache, as a server that has run a while does."""
        expected, seen = self.server.expected_workers(), set()
        deadline = time.monotonic() + timeout_s
        while len(seen) < expected and time.monotonic() < deadline:
            status, _, answer = call(self.server.url, "GET", "/server/status",
                                     headers={"Authorization": self.authorization})
            if status != 200:
                raise Failed(f"GET /server/status with the bench user's credentials answered {status}")
            seen.add(answer["worker"]["pid"])

    def _system_pids(self):
        """The system under test: gunicorn, and the database server when there is one."""
        return self.server.pids() + (database_server_pids() if self.name == "mysql" else [])

    def _prepare(self, case, extensions_ready, fill):
        """Probe the case's routes and write its inputs; returns the env of its Lua script."""
        workdir = self.settings.workdir
        if case.key == "healthz":
            self._probe("GET", "/healthz")
            return self._paths_env(case, ["/healthz"])
        if case.key in ("start", "start_basic", "start_ext"):
            with_extensions = case.key == "start_ext"
            if with_extensions and extensions_ready is not True:
                raise extensions_ready
            body = start_body(with_extensions=with_extensions)
            self._probe("POST", "/services/start", body)
            body_file = workdir / f"{case.key}.json"
            body_file.write_text(json.dumps(body))
            env = {"BENCH_PATH": "/services/start", "BENCH_BODY_FILE": str(body_file)}
            return {**env, "BENCH_AUTHORIZATION": self.authorization} if self.authorization else env
        if case.key == "read":
            if extensions_ready is not True:
                raise extensions_ready
            body = start_body(with_extensions=True)
            ids = [self._started_id(body) for _ in range(READ_SERVICES)]
            paths = [f"/services/{service_id}?extensions={','.join(EXTENSION_NAMES)}" for service_id in ids]
            read_back = self._probe("GET", paths[0])
            missing = [name for name in EXTENSION_NAMES if read_back.get(name) != body[name]]
            if missing:
                raise Failed(f"GET {paths[0]} did not return what was sent for {', '.join(missing)}")
            return self._paths_env(case, paths)
        if case.key == "journey":
            return self._probe_journey()
        if case.key in LIST_ROUTES:
            self._probe("GET", LIST_ROUTES[case.key].format("0000000000"))
            if fill is None or "skipped" in fill:
                raise Failed("no pre-filled database: " + (fill or {}).get("skipped", "the fill did not run"))
            sample = fill["sample"]["anonymous_active_keys" if case.key == "anonymous_active" else "customers"]
            paths = [LIST_ROUTES[case.key].format(value) for value in sample]
            answer = self._probe("GET", paths[0])
            if not isinstance(answer, list) or not answer:
                raise Failed(f"GET {paths[0]} answered {str(answer)[:200]}, expected a non-empty array")
            return self._paths_env(case, paths)
        raise ValueError(f"no preparation for case {case.key}")

    def _started_id(self, body):
        answer = self._probe("POST", "/services/start", body)
        if not isinstance(answer, dict) or "service_id" not in answer:
            raise Failed(f"POST /services/start answered {str(answer)[:200]}, expected a service_id")
        return answer["service_id"]

    def _paths_env(self, case, paths):
        paths_file = self.settings.workdir / f"{case.key}.paths"
        paths_file.write_text("\n".join(paths) + "\n")
        return {"BENCH_PATHS_FILE": str(paths_file)}

    def _probe(self, method, path, body=None):
        """One request that must succeed; 404/405 mean the route is missing (Skip)."""
        headers = {"Authorization": self.authorization} if self.authorization else None
        status, _, answer = call(self.server.url, method, path, body, headers=headers)
        if status in (404, 405):
            raise Skip(f"{method} {path.split('?')[0]} answered {status} (route not there yet?)")
        if not 200 <= status < 300:
            raise Failed(f"{method} {path.split('?')[0]} answered {status}: {json.dumps(answer)[:300]}")
        return answer

    def _probe_journey(self):
        """Run journeys on one connection for a second: Skip when a step's route is missing."""
        probe = run_wrk(self.settings.wrk, self.server.url, "journey.lua", seconds=1, connections=1)
        if probe.journeys and not probe.errors:
            return {}
        reason = "; ".join(probe.notes) or f"answers {probe.statuses}"
        if any(status in ("404", "405") for status in probe.statuses):
            raise Skip(reason + " (route not there yet?)")
        raise Failed(reason)

    def _register_extensions(self):
        """True once the three schemas exist, else the Skip or Failed that says why they cannot."""
        for schema in EXTENSION_SCHEMAS:
            status, _, answer = call(self.server.url, "POST", "/metadata/services/extensions", schema)
            if status in (404, 405):
                return Skip(f"POST /metadata/services/extensions answered {status} (route not there yet?)")
            if status not in (201, 409):
                return Failed(f"registering {schema['name']} answered {status}: {json.dumps(answer)[:300]}")
        # SPEC §6: a schema is usable through every worker within one second.
        time.sleep(1.2)
        return True

    # -- the 1M fill ------------------------------------------------------------------

    def _fill_if_routes_exist(self):
        """Fill only when a list route exists: without one, the fill's time buys nothing."""
        missing = []
        for route in LIST_ROUTES.values():
            path = route.format("0000000000")
            status, _, _ = call(self.server.url, "GET", path)
            if status in (404, 405):
                missing.append(f"GET {path} answered {status}")
        if len(missing) == len(LIST_ROUTES):
            reason = "; ".join(missing) + " (routes not there yet?)"
            print(f"  [{self.name}] no 1M fill: {reason}", flush=True)
            return {"skipped": reason}
        print(f"  [{self.name}] filling {self.settings.fill_rows:,} services ...", flush=True)
        with database.connection_context():
            report = fill_services(self.db, self.settings.fill_rows, layout=self._layout(),
                                   transaction_rows=None if self.name == "sqlite" else 100_000)
        print(f"    {report.rows:,} rows in {report.seconds:.1f} s "
              f"({report.index_seconds:.1f} s of it rebuilding indexes)", flush=True)
        return {**report.as_dict(), "sample": {"anonymous_active_keys": report.anonymous_active_keys,
                                               "customers": report.customers}}

    def _layout(self):
        # The server's own layout: bench writes no [ids] section, so the default one.
        return LAYOUTS["default"]

    # -- rows versus answers ------------------------------------------------------------

    def _count_rows(self, case):
        expected = dict(case.writes)
        if case.key == "start_ext":
            expected["extension_record"] = case.writes["service"]
        with database.connection_context():
            return {table: TABLES[table].select().count() for table in expected}

    def _rows_check(self, case, before, after, warmup, load):
        checks = {}
        for table in before:
            kind = case.writes.get(table) or case.writes["service"]
            per_answer = EXTENSION_RECORDS_PER_START if table == "extension_record" else 1
            answers = (warmup.kinds.get(kind, 0) + load.kinds.get(kind, 0)) * per_answer
            written = after[table] - before[table]
            checks[table] = {"rows_written": written, "expected_from_2xx": answers, "equal": written == answers}
        return checks


def _redact(url):
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(":" + parsed.password + "@", ":***@")
    return url
