"""GET /healthz, GET /server/status, POST /server/mode (SPEC §9), GET /metrics and the root page."""
import os
import resource

from flask import Blueprint, Response, jsonify, url_for

from app import db as db_lifecycle, metrics
from app.access import PUBLIC, default_roles, requires
from app.api import load, runtime
from app.version import server_version
from app.api.body import json_body
from app.errors import DatabaseUnavailable
from app.ids import IdUnavailable
from schemas.server import ServerModeSchema
from schemas.timestamps import format_ms

blueprint = default_roles(Blueprint("server", __name__), read="reader", write="admin")
_mode_schema = ServerModeSchema()


@blueprint.get("/", strict_slashes=False)
def index():
    """What this server is and where to go next, for a person or a script that lands on the root."""
    return jsonify({
        "name": "Context Services",
        "version": server_version(),
        "links": {
            "docs": url_for("docs.page"),
            "openapi": url_for("docs.openapi"),
            "healthz": url_for(".healthz"),
            "status": url_for(".status"),
            "metrics": url_for(".prometheus_metrics"),
        },
    })


@blueprint.get("/metrics")
def prometheus_metrics():
    """Prometheus text format: the series of app.metrics, summed over the workers of this host."""
    return Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)


@blueprint.get("/healthz")
@requires(PUBLIC)
def healthz():
    """200 when the database answers and this worker can issue IDs; else the SPEC §2 503."""
    if not db_lifecycle.ping():
        raise DatabaseUnavailable()
    if not runtime().ids.can_issue():
        raise IdUnavailable("NO_WORKER_ID", "this worker holds no worker-ID lease: every worker ID is "
                                            "leased by another process")
    return jsonify({"status": "ok"})


@blueprint.get("/server/status")
def status():
    """Counters of the whole host (every gunicorn worker); memory and worker of the one that answers.

    The counts exclude this request itself."""
    app_runtime = runtime()
    answers = db_lifecycle.ping()
    now, counts = app_runtime.stats.snapshot()
    body = {
        "version": server_version(),
        "mode": app_runtime.mode.current() if answers else "unknown",
        "started": _timestamp(counts["started"]),
        "system_time": _timestamp(now),
        "last_request": _timestamp(counts["last_request"]) if counts["last_request"] else None,
        "request_today": counts["request_today"],
        "client_errors_today": counts["client_errors_today"],
        "server_errors_today": counts["server_errors_today"],
        "memory": _memory(),
        "database": {"kind": app_runtime.database_kind, "answers": answers},
        "worker": {"pid": os.getpid(), "worker_id": app_runtime.ids.worker_id,
                   "transaction_retries": app_runtime.retries.snapshot(),
                   **_auth_figures(app_runtime.authenticator)},
    }
    return jsonify({key: value for key, value in body.items() if value is not None})


@blueprint.post("/server/mode")
def set_mode():
    mode = load(_mode_schema, json_body(), message="mode must be maintenance or production")["mode"]
    runtime().mode.set(mode)
    return jsonify({"mode": mode})


def _auth_figures(authenticator):
    if authenticator is None:
        return {}
    return {"password_checks": authenticator.password_checks, "cached_credentials": authenticator.cached_hits}


def _timestamp(seconds):
    return format_ms(int(seconds * 1000))


def _memory():
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        size, rss = (int(n) for n in statm.read().split()[:2])
    return {
        "rss_bytes": rss * page,
        "vms_bytes": size * page,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
