"""Gunicorn settings for production and for `make run` / `make bench`.

Environment: PORT (8080), BIND (127.0.0.1:$PORT), WEB_CONCURRENCY (workers, 2 per core),
ACCESS_LOG (where the access log goes: - for stderr, the default, a file path, or off),
PROMETHEUS_MULTIPROC_DIR (where the workers share their metrics; default a new temporary directory).
"""
import glob
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
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
forwarded_allow_ips = "127.0.0.1"


def worker_exit(server, worker):
    """Give the worker-ID lease back at once, so a restarted worker need not wait for expiry."""
    application = getattr(worker, "wsgi", None)
    runtime = getattr(application, "extensions", {}).get("context_services") if application else None
    if runtime is not None:
        runtime.ids.release()


_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir = []


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


def child_exit(server, worker):
    """A worker ended (cleanly or not): its live gauges (leases held) stop counting."""
    from prometheus_client import multiprocess   # imported after on_starting set the directory
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for directory in _made_metrics_dir:
        shutil.rmtree(directory, ignore_errors=True)
