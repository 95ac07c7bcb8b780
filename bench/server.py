"""A gunicorn master started with deploy/gunicorn.conf.py, its workers' memory, and plain HTTP calls to it."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


class ServerError(RuntimeError):
    """The server did not start, or did not answer as a benchmark needs."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """One gunicorn master serving `app_spec` (e.g. "wsgi:application") on a free local port.

    Runs from the repository root with the interpreter running the bench, so the code
    measured is this checkout's. Its output goes to log_path, which the report scans.
    """

    def __init__(self, app_spec, *, log_path, env=None):
        self.app_spec = app_spec
        self.log_path = Path(log_path)
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env["BIND"] = f"127.0.0.1:{self.port}"
        # This checkout first, whatever else the caller's PYTHONPATH holds.
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        self.process = None
        self.memory = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s=60):
        """Start and wait until every worker has booted and one answers GET /healthz with 200."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), self.app_spec],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn {self.app_spec} exited with {self.process.returncode}; "
                                  f"see {self.log_path}")
            try:
                status, _, _ = call(self.url, "GET", "/healthz", timeout_s=2)
            except OSError:
                status = None
            if status == 200 and len(self.worker_pids()) >= self.expected_workers():
                self.memory = MemorySampler(self)
                self.memory.start()
                return self
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"gunicorn {self.app_spec} did not answer GET /healthz within {timeout_s} s; "
                          f"see {self.log_path}")

    def expected_workers(self):
        """What deploy/gunicorn.conf.py will start: WEB_CONCURRENCY, else 2 per core."""
        return int(self.env.get("WEB_CONCURRENCY") or os.cpu_count() * 2)

    def worker_pids(self):
        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def pids(self):
        """The master and its workers."""
        return [self.process.pid, *self.worker_pids()] if self.process else []

    def stop(self):
        """SIGTERM to the master (workers finish their request and release their leases)."""
        if self.memory is not None:
            self.memory.stop()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_lines_containing(self, text):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return [line.rstrip("\n") for line in log if text in line]


class MemorySampler(threading.Thread):
    """Samples the RSS of every worker every 0.2 s; keeps each worker's peak and last value."""

    INTERVAL_S = 0.2

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = {}
        self.last = {}
        self._stopping = threading.Event()

    def run(self):
        while not self._stopping.wait(self.INTERVAL_S):
            self.sample()

    def sample(self):
        for pid in self.server.worker_pids():
            try:
                rss = psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                continue
            self.last[pid] = rss
            self.peak[pid] = max(rss, self.peak.get(pid, 0))

    def stop(self):
        self._stopping.set()
        if self.is_alive():
            self.join()

    def report(self):
        """Per worker: peak RSS seen and RSS now (MB); call while the server still runs."""
        self.sample()
        live = set(self.server.worker_pids())
        megabytes = 1024 * 1024
        workers = [{"pid": pid, "peak_rss_mb": round(self.peak[pid] / megabytes, 1),
                    "rss_after_mb": round(self.last[pid] / megabytes, 1) if pid in live else None}
                   for pid in sorted(self.peak)]
        return {
            "workers": workers,
            "peak_rss_mb": max((w["peak_rss_mb"] for w in workers), default=0.0),
            "max_rss_after_mb": max((w["rss_after_mb"] or 0.0 for w in workers), default=0.0),
            "workers_replaced": len(self.peak) - len(live & set(self.peak)),
        }


def call(base_url, method, path, body=None, *, timeout_s=10, headers=None):
    """One HTTP request (with further headers); returns (status, headers, parsed JSON body or None)."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return response.status, dict(response.getheaders()), parsed
