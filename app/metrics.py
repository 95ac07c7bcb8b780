"""Prometheus series of the server (GET /metrics), summed over every gunicorn worker of the host.

Under gunicorn, deploy/gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker starts:
each worker then writes its figures to files there and any worker can read the sum
(prometheus_client's multiprocess mode). Without it (the Flask test client, `flask run`) the
figures are this process's own. The series are module-level, as prometheus_client intends:
counters only grow, and any code may call the `count_*` functions below.
"""
import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Series that only /server/status reads (figures of 8.1's day); /metrics leaves them out.
STATUS_PREFIX = "cs_status_"
# Requests that matched no route share one label, so that scanners cannot grow the series.
UNMATCHED_ROUTE = "<unmatched>"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REGISTRY = CollectorRegistry()

REQUESTS = Counter("cs_http_requests", "HTTP requests answered, by route template, method and status.",
                   ["route", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("cs_http_request_duration_seconds",
                    "Time from the first request hook to the answer, by route template.", ["route"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10),
                    registry=REGISTRY)
DATABASE_ERRORS = Counter("cs_database_errors", "Requests answered 503 because the database failed, by kind.",
                          ["kind"], registry=REGISTRY)
DATABASE_RETRIES = Counter("cs_database_retries", "Transactions tried again after a deadlock or lock wait.",
                           registry=REGISTRY)
IDS_ISSUED = Counter("cs_ids_issued", "Service IDs issued.", registry=REGISTRY)
LEASES_HELD = Gauge("cs_worker_leases_held", "Worker-ID leases held by living processes.",
                    multiprocess_mode="livesum", registry=REGISTRY)


def multiprocess_dir():
    """The directory shared by the workers of this host, or None when this process is on its own."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    return directory if directory and os.path.isdir(directory) else None


def method_label(method):
    """The method as sent when it is a standard one; anything else is OTHER (bounded series)."""
    return method if method in _KNOWN_METHODS else "OTHER"


# (route, method, status) -> (counter, histogram) children. labels() validates and locks on
# every call; the set of keys is bounded (route templates, method labels, statuses), so the
# children are looked up once each.
_REQUEST_SERIES = {}


def observe_request(route, method, status, seconds):
    key = (route, method, status)
    series = _REQUEST_SERIES.get(key)
    if series is None:
        series = _REQUEST_SERIES.setdefault(key, (REQUESTS.labels(route, method_label(method), str(status)),
                                                  LATENCY.labels(route)))
    series[0].inc()
    series[1].observe(seconds)


def count_database_error(kind):
    """One answer refused because the database failed; kind is e.g. "unavailable"."""
    DATABASE_ERRORS.labels(kind).inc()


def count_database_retry():
    """One transaction attempt that the database refused (deadlock, lock wait) and that is tried again.

    Call it once per retry, before the next attempt; it never raises.
    """
    DATABASE_RETRIES.inc()


def count_id_issued():
    IDS_ISSUED.inc()


def set_lease_held(held):
    LEASES_HELD.set(1 if held else 0)


def families(*, with_status=False):
    """Metric families of the host (every worker) under gunicorn, else of this process."""
    directory = multiprocess_dir()
    if directory is None:
        return list(REGISTRY.collect())
    found = MultiProcessCollector(None, path=directory).collect()
    return [family for family in found if with_status or not family.name.startswith(STATUS_PREFIX)]


class _Families:
    def __init__(self, found):
        self._found = found

    def collect(self):
        return self._found


def exposition():
    """The Prometheus text format of families()."""
    return generate_latest(_Families(families()))
