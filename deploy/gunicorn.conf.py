"""Gunicorn settings for production and for `make run` / `make bench`.

Environment: PORT (8080), BIND (127.0.0.1:$PORT), WEB_CONCURRENCY (workers, 2 per core, at
most the 64 worker IDs of the default ID layout), CS_CONFIG (the app's INI file),
GUNICORN_CONTROL_SOCKET (a path: turns on gunicorn's control socket there; off by default).
"""
import multiprocessing
import os

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
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
# gunicorn >= 25.1 opens a control socket at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl):
# a second instance on the host takes it over, and the last to exit removes it. Off unless a
# path of this instance's own is given.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def on_starting(server):
    """Before any worker: refuse more workers than worker IDs; free leases of dead processes."""
    from app.master import TooManyWorkers, refuse_too_many_workers, release_leases_of_dead_processes
    from app.config import ConfigError
    from app.master import settings_of_this_deployment
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


def child_exit(server, worker):
    """In the master, after a worker exited for any reason (SIGKILL, timeout): give its
    worker-ID lease back, so restarts never exhaust the pool."""
    from app.master import release_lease_of_worker, settings_of_this_deployment
    if release_lease_of_worker(worker.pid, settings_of_this_deployment()):
        server.log.info("gave back the worker-ID lease of worker %s", worker.pid)


def worker_exit(server, worker):
    """Give the worker-ID lease back at once, so a restarted worker need not wait for expiry."""
    application = getattr(worker, "wsgi", None)
    runtime = getattr(application, "extensions", {}).get("context_services") if application else None
    if runtime is not None:
        runtime.ids.release()
