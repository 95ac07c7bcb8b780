"""Request counters of this worker process for GET /server/status."""
import datetime as dt
import threading
import time


class RequestStats:
    """Counts per UTC day; `clock` returns seconds since the Unix epoch (injectable for tests)."""

    def __init__(self, *, clock=time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self.started = clock()
        self.last_request = None
        self._day = None
        self.requests_today = self.client_errors_today = self.server_errors_today = 0

    def _roll_over(self, now):
        day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
        if day != self._day:
            self._day = day
            self.requests_today = self.client_errors_today = self.server_errors_today = 0

    def record(self, status):
        now = self._clock()
        with self._lock:
            self._roll_over(now)
            self.last_request = now
            self.requests_today += 1
            if 400 <= status < 500:
                self.client_errors_today += 1
            elif status >= 500:
                self.server_errors_today += 1

    def snapshot(self):
        """(now, counters of today): a day without requests yet reads zero, not yesterday's counts."""
        now = self._clock()
        with self._lock:
            self._roll_over(now)
            return now, {
                "last_request": self.last_request,
                "request_today": self.requests_today,
                "client_errors_today": self.client_errors_today,
                "server_errors_today": self.server_errors_today,
            }
