"""GET /healthz, GET /server/status and POST /server/mode (SPEC §9)."""
import datetime as dt
import os
import resource
import time

from flask import Blueprint, jsonify

from app import __version__, db as db_lifecycle
from app.api import load, runtime
from app.api.body import json_body
from schemas.server import ServerModeSchema
from schemas.timestamps import format_ms

blueprint = Blueprint("server", __name__)
_mode_schema = ServerModeSchema()


@blueprint.get("/healthz")
def healthz():
    if db_lifecycle.ping():
        return jsonify({"status": "ok"})
    return jsonify({"status": "database unavailable"}), 503


@blueprint.get("/server/status")
def status():
    state = runtime()
    stats = state.stats
    answers = db_lifecycle.ping()
    body = {
        "version": __version__,
        "mode": state.mode.current() if answers else "unknown",
        "started": format_ms(int(stats.started * 1000)),
        "system_time": format_ms(int(time.time() * 1000)),
        "last_request": format_ms(int(stats.last_request * 1000)) if stats.last_request else None,
        "request_today": stats.requests_today,
        "client_errors_today": stats.client_errors_today,
        "server_errors_today": stats.server_errors_today,
        "memory": _memory(),
        "database": {"kind": state.database_kind, "answers": answers},
        "worker": {"pid": os.getpid(), "worker_id": state.ids.worker_id},
    }
    return jsonify({key: value for key, value in body.items() if value is not None})


@blueprint.post("/server/mode")
def set_mode():
    mode = load(_mode_schema, json_body(), message="mode must be maintenance or production")["mode"]
    runtime().mode.set(mode)
    return jsonify({"mode": mode})


def _memory():
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        size, rss = (int(n) for n in statm.read().split()[:2])
    return {
        "rss_bytes": rss * page,
        "vms_bytes": size * page,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
