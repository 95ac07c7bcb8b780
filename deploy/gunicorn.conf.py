"""Gunicorn settings for production and for `make run` / `make bench`.

Environment: PORT (8080), BIND (127.0.0.1:$PORT), WEB_CONCURRENCY (workers, 2 per core).
"""
import multiprocessing
import os

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
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
# Peers whose X-Forwarded-* headers are believed: the same addresses as [auth] trusted_proxies.
forwarded_allow_ips = "127.0.0.1,::1"


def worker_exit(server, worker):
    """Give the worker-ID lease back at once, so a restarted worker need not wait for expiry."""
    application = getattr(worker, "wsgi", None)
    runtime = getattr(application, "extensions", {}).get("context_services") if application else None
    if runtime is not None:
        runtime.ids.release()
