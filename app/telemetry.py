"""Per-request bookkeeping: the request ID, the Prometheus series and the /server/status counters."""
import itertools
import os
import re
import secrets
import time

from flask import g, request

from app import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# A sane token: what proxies and tracing tools send (UUIDs, hex, base64-ish IDs), short enough
# for a log line; anything else (spaces, CR/LF, quotes, kilobytes) is replaced, never echoed.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=@-]{0,127}")
# WSGI environ key of the authenticated user, for the access log; access control sets it.
USER_ENVIRON_KEY = "context_services.user"


class _NewRequestIds:
    """32 hex digits: 16 random ones drawn once per process, then the process's count.

    Unique across workers and hosts as far as logs need, without reading the kernel's random
    source on every request as uuid4 does. The pid check gives a forked child its own prefix.
    """

    def __init__(self):
        self._pid = None

    def __call__(self):
        if os.getpid() != self._pid:
            self._prefix, self._count, self._pid = secrets.token_hex(8), itertools.count(1), os.getpid()
        return f"{self._prefix}{next(self._count):016x}"


new_request_id = _NewRequestIds()


def request_id_from(header_value):
    """The client's X-Request-ID when it is a sane token, else a new one (32 hex digits)."""
    if header_value and _SANE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return new_request_id()


def current_request_id():
    """The ID of the request being answered, or "-" outside one (for log messages)."""
    return g.get("request_id", "-")


def install(app, runtime):
    """Register the hooks; the before_request one goes first, so it runs even when a later one refuses.

    `[metrics] enabled = false` leaves the Prometheus series out; /server/status always counts.
    """
    record_metrics = runtime.settings["metrics"]["enabled"]

    def _begin():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_began = time.perf_counter()

    def _finish(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id_from(None)
        runtime.stats.record(response.status_code)
        if record_metrics:
            began = g.get("request_began")
            route = request.url_rule.rule if request.url_rule is not None else metrics.UNMATCHED_ROUTE
            metrics.observe_request(route, request.method, response.status_code,
                                    time.perf_counter() - began if began else 0.0)
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
