"""Request counters of GET /server/status: host-wide under gunicorn, per UTC day as in 8.1."""
import datetime as dt
import time

from prometheus_client import CollectorRegistry, Counter, Gauge

from app import metrics

_DAY_SECONDS = 86400


def _outcome(status):
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "answered"


class RequestStats:
    """Counts per UTC day; `clock` returns seconds since the Unix epoch (injectable for tests).

    The counters are Prometheus series labelled by day. Under gunicorn they live in the shared
    directory of app.metrics, so every worker reads the figures of the whole host; otherwise in
    a registry of this instance alone. A new day simply has no samples yet: it reads zero.
    """

    def __init__(self, *, clock=time.time):
        self._clock = clock
        self._registry = CollectorRegistry()
        self._requests = Counter("cs_status_requests", "Requests by UTC day and outcome.", ["day", "outcome"],
                                 registry=self._registry)
        self._last_request = Gauge("cs_status_last_request_seconds", "Time of the latest request.",
                                   multiprocess_mode="max", registry=self._registry)
        self._started = Gauge("cs_status_started_seconds", "Start of the earliest worker.",
                              multiprocess_mode="min", registry=self._registry)
        self.started = clock()
        self._started.set(self.started)
        self._day, self._day_ends = None, 0
        self._today = {}        # outcome -> the counter child of the current day

    def _day_of(self, now):
        if not self._day_ends - _DAY_SECONDS <= now < self._day_ends:
            self._day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date().isoformat()
            self._day_ends = (now // _DAY_SECONDS + 1) * _DAY_SECONDS
            self._today = {}
        return self._day

    def record(self, status):
        now = self._clock()
        day, outcome = self._day_of(now), _outcome(status)
        counter = self._today.get(outcome)
        if counter is None:
            counter = self._today.setdefault(outcome, self._requests.labels(day, outcome))
        counter.inc()
        self._last_request.set(now)

    def snapshot(self):
        """(now, figures): started, last_request (None before any) and the counts of today."""
        now = self._clock()
        today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date().isoformat()
        found = (metrics.families(with_status=True) if metrics.multiprocess_dir()
                 else self._registry.collect())
        by_outcome, values = {}, {}
        for family in found:
            for sample in family.samples:
                if sample.name == "cs_status_requests_total" and sample.labels.get("day") == today:
                    outcome = sample.labels["outcome"]
                    by_outcome[outcome] = by_outcome.get(outcome, 0) + int(sample.value)
                elif sample.name in ("cs_status_last_request_seconds", "cs_status_started_seconds"):
                    values[sample.name] = sample.value
        client, server = by_outcome.get("client_error", 0), by_outcome.get("server_error", 0)
        return now, {
            "started": values.get("cs_status_started_seconds") or self.started,
            "last_request": values.get("cs_status_last_request_seconds") or None,
            "request_today": by_outcome.get("answered", 0) + client + server,
            "client_errors_today": client,
            "server_errors_today": server,
        }

    @property
    def server_errors_today(self):
        return self.snapshot()[1]["server_errors_today"]
