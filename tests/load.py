"""Load against a running server, and the check that what it answered is what it stored.

Each start carries extension values (one single-valued record, three multi-valued records
with unique keys), so "stored whole" means: the service row, 4 extension records and 3
unique-key rows, all from one transaction.
"""
import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import psutil

from app.db import open_database
from tests.vendor import EXTENSION_SCHEMAS

RECORDS_PER_START = 4
KEYS_PER_START = 3
REQUEST_TIMEOUT_S = 120


@dataclass(frozen=True)
class Answer:
    contact_key: str
    status: int | None           # None: the connection broke before an answer came
    service_id: int | None = None
    error_code: str | None = None


def start_body(contact_key):
    return {"contact_key": contact_key, "service_type": 1,
            "coupon": {"coupon_name": contact_key},
            "relatedOffers": [{"offer_name": f"offer {n}", "type": n} for n in range(KEYS_PER_START)]}


def register_extensions(base_url):
    for schema in (s for s in EXTENSION_SCHEMAS if s["name"] in ("coupon", "relatedOffers")):
        status, _ = request(base_url, "POST", "/metadata/services/extensions", schema)
        assert status == 201, status


def request(base_url, method, path, body=None):
    """(status, parsed JSON body or None) over a new connection; (None, None) when it breaks."""
    parsed = urlparse(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body))
        response = connection.getresponse()
        raw = response.read()
        if response.getheader("Content-Type", "").startswith("application/json") and raw:
            return response.status, json.loads(raw)
        return response.status, None
    except (OSError, http.client.HTTPException):
        return None, None
    finally:
        connection.close()


class StartLoad:
    """`connections` threads posting starts back to back, each on a new connection.

    Runs until stop(), or until `total` starts were sent. http.client, not requests: the
    client shares the machine's cores with the server it loads.
    """

    def __init__(self, base_url, *, connections, total=None, tag="load"):
        self.base_url = base_url
        self.total = total
        self.tag = tag
        self.answers = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sent = 0
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(connections)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def join(self):
        """Wait for a load with a total to finish."""
        for thread in self._threads:
            thread.join()

    def _next_number(self):
        with self._lock:
            if self._stop.is_set() or (self.total is not None and self._sent >= self.total):
                return None
            self._sent += 1
            return self._sent

    def _run(self, thread_no):
        while (number := self._next_number()) is not None:
            key = f"{self.tag}-{thread_no}-{number}"
            status, body = request(self.base_url, "POST", "/services/start", start_body(key))
            error = (body or {}).get("error") or {}
            service_id = (body or {}).get("service_id") if status == 201 else None
            with self._lock:
                self.answers.append(Answer(key, status, service_id, error.get("error_code")))

    def count(self, predicate):
        with self._lock:
            return sum(1 for answer in self.answers if predicate(answer))

    def wait_until(self, predicate, *, at_least, timeout_s, what):
        """Wait until `at_least` answers satisfy predicate; AssertionError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while self.count(predicate) < at_least:
            if time.monotonic() > deadline:
                statuses = {}
                for answer in list(self.answers):
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
                raise AssertionError(f"waited {timeout_s} s for {at_least} answers that {what}; "
                                     f"answers so far by status: {statuses}")
            time.sleep(0.05)


def stored_services(url):
    """{contact_key: (service_id, extension records, unique keys)} of every service in the database,
    and the number of extension records and unique keys that belong to no service.

    Grouped counts joined here rather than correlated subqueries: unique keys have no index
    that starts with service_id, and a subquery per service would scan them all each time.
    """
    db = open_database(url)
    with db.connection_context():
        services = db.execute_sql("SELECT id, contact_key FROM service").fetchall()
        records = dict(db.execute_sql(
            "SELECT service_id, COUNT(*) FROM extension_record GROUP BY service_id").fetchall())
        keys = dict(db.execute_sql(
            "SELECT service_id, COUNT(*) FROM extension_unique_key GROUP BY service_id").fetchall())
    stored = {}
    for service_id, contact_key in services:
        assert contact_key not in stored, f"two services for one start: {contact_key}"
        stored[contact_key] = (service_id, records.pop(service_id, 0), keys.pop(service_id, 0))
    return stored, sum(records.values()) + sum(keys.values())


def assert_answers_match_storage(answers, url, *, in_doubt_statuses=(None, 503)):
    """Every 201 is stored whole under its ID; every stored service is whole and was sent.

    A start whose answer was a 503 or never came may or may not have committed (the database
    can fail after the commit and before the reply): it may be stored, but only whole.
    Returns (answered 201, stored, stored among the in-doubt).
    """
    stored, orphans = stored_services(url)
    assert orphans == 0, f"{orphans} extension records or unique keys belong to no service"
    created = [answer for answer in answers if answer.status == 201]
    in_doubt = {answer.contact_key for answer in answers if answer.status in in_doubt_statuses}
    ids = [answer.service_id for answer in created]
    assert len(set(ids)) == len(ids), "an ID was answered twice"
    for answer in created:
        assert answer.contact_key in stored, f"answered 201 but not stored: {answer}"
        assert stored[answer.contact_key] == (int(answer.service_id), RECORDS_PER_START, KEYS_PER_START), (
            answer, stored[answer.contact_key])
    half_written = {key: row for key, row in stored.items() if row[1:] != (RECORDS_PER_START, KEYS_PER_START)}
    assert not half_written, f"half-written services: {list(half_written.items())[:5]}"
    created_keys = {answer.contact_key for answer in created}
    unexplained = set(stored) - created_keys - in_doubt
    assert not unexplained, f"stored but answered neither 201 nor in doubt: {sorted(unexplained)[:5]}"
    return len(created), len(stored), len(set(stored) & in_doubt)


def gunicorn_processes(base_url, *, workers, timeout_s=60):
    """(master, [workers]) psutil processes of the gunicorn serving base_url, a child of this process,
    once the master has all its `workers`: /healthz answers as soon as the first has booted."""
    bind = urlparse(base_url).netloc
    master = None
    for child in psutil.Process().children(recursive=True):
        try:
            if "gunicorn" in " ".join(child.cmdline()) and bind in child.cmdline():
                master = child
                break
        except psutil.NoSuchProcess:
            continue
    if master is None:
        raise LookupError(f"no gunicorn serving {base_url} among this process's children")
    deadline = time.monotonic() + timeout_s         # bounds the wait; asserts nothing about speed
    while len(master.children()) < workers and time.monotonic() < deadline:
        time.sleep(0.05)
    return master, master.children()
