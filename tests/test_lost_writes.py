"""A connection lost while a write waits on the server: never sent twice, never a 500.

The write is held on the server by a table lock, the connection is cut while it waits, and
the lock is released: the server then runs the orphaned statement to its end, as a database
node does that commits a write whose client has gone. An autocommit write may thus have been
stored: the client is told the outcome is unknown (503 WRITE_OUTCOME_UNKNOWN). Inside a
transaction nothing can have been stored before the COMMIT: the request runs again.
"""
import threading
import time
from urllib.parse import urlparse

from tests.conftest import MYSQL_URL
from tests.test_database_faults import mysql_admin, mysql_url_through, only_mysql, proxy  # noqa: F401

WAIT_TIMEOUT_S = 30


def _database_name():
    return urlparse(MYSQL_URL).path.lstrip("/")


def _wait_for_a_statement_held_by_the_lock(cursor):
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while time.monotonic() < deadline:
        cursor.execute("SELECT COUNT(*) FROM information_schema.processlist "
                       "WHERE state LIKE 'Waiting for table%%' AND db = %s", (_database_name(),))
        if cursor.fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"no statement waited for the table lock within {WAIT_TIMEOUT_S} s")


def _post_in_a_thread(client, path, body):
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(response=client.post(path, json=body)))
    thread.start()
    return thread, answer


def _cut_connection_while_held(proxy, table, send):  # noqa: F811
    """Lock table, send (in a thread), cut the connection while the statement waits, unlock."""
    with mysql_admin() as admin, admin.cursor() as cursor:
        cursor.execute(f"USE `{_database_name()}`")
        cursor.execute(f"LOCK TABLES `{table}` WRITE")
        try:
            thread, answer = send()
            _wait_for_a_statement_held_by_the_lock(cursor)
            proxy.cut()             # the database stays reachable: a client could reconnect and resend
        finally:
            cursor.execute("UNLOCK TABLES")
    thread.join(WAIT_TIMEOUT_S)
    return answer["response"]


def _assert_outcome_unknown(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["error_code"] == "WRITE_OUTCOME_UNKNOWN"
    assert response.headers["Retry-After"]


@only_mysql
def test_connection_lost_during_an_autocommit_insert_is_503_and_not_sent_again(make_app, proxy):  # noqa: F811
    client = make_app(database={"url": mysql_url_through(proxy.start())}).test_client()
    assert client.get("/healthz").status_code == 200
    body = {"contact_key": "lost-during-insert", "service_type": 1}
    response = _cut_connection_while_held(proxy, "service",
                                          lambda: _post_in_a_thread(client, "/services/start", body))
    _assert_outcome_unknown(response)
    with mysql_admin() as admin, admin.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM `{_database_name()}`.service WHERE contact_key = %s",
                       (body["contact_key"],))
        assert cursor.fetchone()[0] <= 1
    assert client.post("/services/start", json=body).status_code == 201


@only_mysql
def test_connection_lost_inside_a_transaction_runs_the_request_again_and_stores_it_once(make_app, proxy):  # noqa: F811
    client = make_app(database={"url": mysql_url_through(proxy.start())}).test_client()
    started = client.post("/services/start", json={"contact_key": "lost-during-state", "service_type": 1})
    service_id = started.get_json()["service_id"]
    response = _cut_connection_while_held(
        proxy, "state",
        lambda: _post_in_a_thread(client, f"/services/{service_id}/states/start", {"state_type": 1}))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"state_id": 1}
    assert [state["state_id"] for state in client.get(f"/services/{service_id}/states").get_json()] == [1]
    retries = client.get("/server/status").get_json()["worker"]["transaction_retries"]
    assert retries["connection_lost"] == 1
