"""GET /healthz, GET /server/status and POST /server/mode (SPEC §9)."""
import os
import resource

from flask import Blueprint, jsonify

from app import __version__, db as db_lifecycle
from app.api import load, runtime
from app.api.body import json_body
from app.errors import DatabaseUnavailable
from app.ids import IdUnavailable
from schemas.server import ServerModeSchema
from schemas.timestamps import format_ms

blueprint = Blueprint("server", __name__)
_mode_schema = ServerModeSchema()


@blueprint.get("/healthz")
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
    """Figures of the worker process that answers; the counts exclude this request itself."""
    state = runtime()
    answers = db_lifecycle.ping()
    now, counts = state.stats.snapshot()
    body = {
        "version": __version__,
        "mode": state.mode.current() if answers else "unknown",
        "started": _timestamp(state.stats.started),
        "system_time": _timestamp(now),
        "last_request": _timestamp(counts["last_request"]) if counts["last_request"] else None,
        "request_today": counts["request_today"],
        "client_errors_today": counts["client_errors_today"],
        "server_errors_today": counts["server_errors_today"],
        "memory": _memory(),
        "database": {"kind": state.database_kind, "answers": answers},
        "worker": {"pid": os.getpid(), "worker_id": state.ids.worker_id,
                   "transaction_retries": state.retries.snapshot()},
    }
    return jsonify({key: value for key, value in body.items() if value is not None})


@blueprint.post("/server/mode")
def set_mode():
    mode = load(_mode_schema, json_body(), message="mode must be maintenance or production")["mode"]
    runtime().mode.set(mode)
    return jsonify({"mode": mode})


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
