"""A transaction refused for a deadlock or a lock wait is run again before any answer (SPEC §12)."""
import threading
import time
from urllib.parse import urlparse

import peewee as pw
import pytest

from app.retry import MAX_TRIES, RetryCounter, run_with_retries
from models import State, database

pymysql = pytest.importorskip("pymysql")


def _refusal(code, message):
    """The error peewee raises for a MySQL error: the driver's error wrapped, as peewee wraps it."""
    driver_error = pymysql.err.OperationalError(code, message)
    return pw.OperationalError(driver_error, *driver_error.args)


def _scripted(failures):
    calls = []

    def run():
        calls.append(len(calls) + 1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "answer"
    return run, calls


def test_a_deadlock_is_retried_and_counted():
    counter = RetryCounter()
    run, calls = _scripted([_refusal(1213, "Deadlock found"), _refusal(1205, "Lock wait timeout")])
    assert run_with_retries(run, counter=counter, sleep=lambda s: None) == "answer"
    assert calls == [1, 2, 3]
    assert counter.snapshot() == {"deadlock": 1, "lock_wait_timeout": 1, "connection_lost": 0}


def test_after_the_last_try_the_refusal_is_raised():
    run, calls = _scripted([_refusal(1213, "Deadlock found")] * MAX_TRIES)
    with pytest.raises(pw.OperationalError):
        run_with_retries(run, counter=RetryCounter(), sleep=lambda s: None)
    assert len(calls) == MAX_TRIES == 3


@pytest.mark.parametrize("error", [
    _refusal(2013, "Lost connection to MySQL server during query"),   # may have committed
    _refusal(2006, "MySQL server has gone away"),
    pw.OperationalError("database is locked"),                        # SQLite waited already
    pw.IntegrityError("duplicate"),
])
def test_an_error_that_may_follow_a_commit_or_is_final_is_not_retried(error):
    run, calls = _scripted([error])
    with pytest.raises(type(error)):
        run_with_retries(run, counter=RetryCounter(), sleep=lambda s: None)
    assert calls == [1]


# --- a real deadlock on MariaDB ------------------------------------------------------------

def _wait_for_lock_wait(connect, *, timeout_s=30):
    """Until a transaction waits for a lock (the request is blocked behind ours)."""
    deadline = time.monotonic() + timeout_s
    # From a connection of its own: inside the transaction holding the lock, the view of
    # information_schema.innodb_trx does not show the waiter.
    with connect() as monitor, monitor.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise RuntimeError("the request never waited for our lock")


def test_a_request_chosen_as_deadlock_victim_is_run_again_and_succeeds(backend, request):
    if backend != "mysql":
        pytest.skip("SQLite has one writer at a time: no deadlock between two transactions")
    database_url = request.getfixturevalue("database_url")
    app = request.getfixturevalue("make_app")()
    client = app.test_client()
    service_id = client.post("/services/start", json={"customer_id": "c", "service_type": 1}).get_json()["service_id"]
    url = urlparse(database_url)

    def connect():
        return pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username or "root",
                               password=url.password or "", database=url.path.lstrip("/"), autocommit=False)
    other = connect()
    answers = []
    try:
        with other.cursor() as cursor:
            # Weight, so that InnoDB picks the request, not us, as the victim.
            cursor.executemany("INSERT INTO server_setting (`key`, value) VALUES (%s, 'x')",
                               [(f"weight-{n}",) for n in range(200)])
            # A gap lock where the request will insert its state.
            cursor.execute("SELECT * FROM state WHERE service_id = %s FOR UPDATE", (service_id,))
            request = threading.Thread(target=lambda: answers.append(
                client.post(f"/services/{service_id}/states/start", json={"state_type": 2})))
            request.start()
            _wait_for_lock_wait(connect)      # the request holds the service row, waits for our gap
            cursor.execute("SELECT * FROM service WHERE id = %s FOR UPDATE", (service_id,))   # deadlock
            other.rollback()
        request.join(timeout=60)
    finally:
        other.close()
    assert answers and answers[0].status_code == 201, answers and answers[0].get_json()
    assert answers[0].get_json()["state_id"] == 1
    assert client.get("/server/status").get_json()["worker"]["transaction_retries"]["deadlock"] == 1
    with database.connection_context():
        assert State.select().where(State.service == service_id).count() == 1
