"""Request counters of this worker process for GET /server/status."""
import datetime as dt
import threading
import time


class RequestStats:
    def __init__(self):
        self._lock = threading.Lock()
        self.started = time.time()
        self.last_request = None
        self._day = None
        self.requests_today = self.client_errors_today = self.server_errors_today = 0

    def record(self, status):
        now = time.time()
        day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
        with self._lock:
            if day != self._day:
                self._day = day
                self.requests_today = self.client_errors_today = self.server_errors_today = 0
            self.last_request = now
            self.requests_today += 1
            if 400 <= status < 500:
                self.client_errors_today += 1
            elif status >= 500:
                self.server_errors_today += 1
