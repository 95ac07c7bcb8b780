"""Gunicorn settings for production and for `make run` / `make bench`.

Environment: PORT (8080), BIND (127.0.0.1:$PORT), WEB_CONCURRENCY (workers, 2 per core, at
most the 64 worker IDs of the default ID layout), CS_CONFIG (the app's INI file),
GUNICORN_CONTROL_SOCKET (a path: turns on gunicorn's control socket there; off by default),
ACCESS_LOG (where the access log goes: - for stderr, the default, a file path, or off),
PROMETHEUS_MULTIPROC_DIR (where the workers share their metrics; default a new temporary directory).
"""
import glob
import multiprocessing
import os
import re
import shutil
import tempfile

from gunicorn.glogging import Logger

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8080')}"
# 2 per core, but never more than the default ID layout's 64 worker IDs (a 33-core host would
# ask for 66); on_starting refuses an explicit count above the configured layout's.
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 64)))
worker_class = "sync"
# Behind nginx, which buffers slow clients; keep in step with deploy/nginx.conf.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Connections and worker-ID leases are taken after fork, in each worker: never preload.
preload_app = False
max_requests = 0
limit_request_line = 8190
_access_log = os.environ.get("ACCESS_LOG", "-")
accesslog = None if _access_log.lower() in ("", "off", "none") else _access_log
# time, client, request line, status, bytes, duration, request ID, user (set once access control
# has checked the credentials, "-" until then).
access_log_format = ('%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms '
                     'request_id=%({x-request-id}o)s user=%({context_services.user}e)s')
errorlog = "-"

# gunicorn makes every access line from every request header, response header and WSGI environ
# key (some fifty atoms, each copied and escaped) and decodes the Basic credentials for %(u)s,
# whatever the format prints. AccessLogger hands gunicorn's own atoms() only what the format
# names, so each atom printed is exactly gunicorn's (tests/test_access_log.py compares them).
# It lives here, not in app/: importing the app in the master, before on_starting has set
# PROMETHEUS_MULTIPROC_DIR, would put prometheus_client in single-process mode for good.

# What gunicorn's base atoms read from the environ; the credentials only for %(u)s.
_ACCESS_BASE_ENVIRON = ("REMOTE_ADDR", "REQUEST_METHOD", "RAW_URI", "SERVER_PROTOCOL", "PATH_INFO",
                        "QUERY_STRING", "HTTP_REFERER", "HTTP_USER_AGENT")
_ACCESS_USER_ENVIRON = "HTTP_AUTHORIZATION"
_ACCESS_NAMED_ATOM = re.compile(r"%\(([^)]+)\)")


class AccessLogger(Logger):
    def setup(self, cfg):
        """Also note what the format names: base environ keys, lowered request headers and environ
        keys. gunicorn runs setup at start and on every configuration reload."""
        super().setup(cfg)
        names = {name.lower() for name in _ACCESS_NAMED_ATOM.findall(cfg.access_log_format)}
        self._base_environ = _ACCESS_BASE_ENVIRON + ((_ACCESS_USER_ENVIRON,) if "u" in names else ())
        self._wanted_headers = {name[1:-2] for name in names if name.startswith("{") and name.endswith("}i")}
        self._wanted_environ = {name[1:-2] for name in names if name.startswith("{") and name.endswith("}e")}

    def atoms(self, resp, req, environ, request_time):
        headers = [(name, value) for name, value in getattr(req, "headers", req)
                   if name.lower() in self._wanted_headers]
        needed = {key: environ[key] for key in self._base_environ if key in environ}
        if self._wanted_environ:
            needed.update((key, value) for key, value in environ.items() if key.lower() in self._wanted_environ)
        return super().atoms(resp, headers, needed, request_time)


logger_class = AccessLogger

# Peers whose X-Forwarded-* headers are believed: the same addresses as [auth] trusted_proxies.
forwarded_allow_ips = "127.0.0.1,::1"
# gunicorn >= 25.1 opens a control socket at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl):
# a second instance on the host takes it over, and the last to exit removes it. Off unless a
# path of this instance's own is given.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def worker_exit(server, worker):
    """Give the worker-ID lease back at once, so a restarted worker need not wait for expiry."""
    application = getattr(worker, "wsgi", None)
    runtime = getattr(application, "extensions", {}).get("context_services") if application else None
    if runtime is not None:
        runtime.ids.release()


_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir = []


def _refuse_workers_and_free_dead_leases(server):
    """Before any worker: refuse more workers than worker IDs; free leases of dead processes."""
    from app.config import ConfigError
    from app.master import (TooManyWorkers, refuse_too_many_workers, release_leases_of_dead_processes,
                            settings_of_this_deployment)
    try:
        settings = settings_of_this_deployment()
    except ConfigError as error:
        # Said as wsgi.py says it, before any worker boots.
        raise SystemExit(f"context-services: configuration error: {error}") from None
    try:
        refuse_too_many_workers(server.num_workers, settings)
    except TooManyWorkers as error:
        raise SystemExit(f"context-services: {error}") from None
    released = release_leases_of_dead_processes(settings)
    if released:
        server.log.info("gave back %d worker-ID lease(s) of processes that died with an earlier master", released)


def _give_back_lease(server, worker):
    """In the master, after a worker exited for any reason (SIGKILL, timeout): give its
    worker-ID lease back, so restarts never exhaust the pool."""
    from app.master import release_lease_of_worker, settings_of_this_deployment
    if release_lease_of_worker(worker.pid, settings_of_this_deployment()):
        server.log.info("gave back the worker-ID lease of worker %s", worker.pid)


def on_starting(server):
    """Master start: the workers' metrics directory, emptied, so counts start at zero with the server.

    Set here, before any worker forks, so that every worker imports prometheus_client in its
    multiprocess mode.
    """
    directory = os.environ.get(_METRICS_DIR)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for stale in glob.glob(os.path.join(directory, "*.db")):
            os.remove(stale)
    else:
        directory = tempfile.mkdtemp(prefix="context-services-metrics-")
        _made_metrics_dir.append(directory)
        os.environ[_METRICS_DIR] = directory
    # Only now may the master import the app (and prometheus_client with it).
    _refuse_workers_and_free_dead_leases(server)


def child_exit(server, worker):
    """A worker ended (cleanly or not, SIGKILL or timeout): its live gauges (leases held) stop
    counting, and its worker-ID lease goes back to the pool, so restarts never exhaust it."""
    from prometheus_client import multiprocess   # imported after on_starting set the directory
    multiprocess.mark_process_dead(worker.pid)
    _give_back_lease(server, worker)


def on_exit(server):
    for directory in _made_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
