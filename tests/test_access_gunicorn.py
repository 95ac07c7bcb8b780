"""Access control through gunicorn with 4 workers: each worker keeps its own credential cache,
and the failure limit holds for the whole server during a burst."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.passwords import hash_password
from tests.support import basic_auth, running_gunicorn

PASSWORD = "gunicorn secret"
WORKERS = 4


@pytest.fixture(scope="module")
def password_hash():
    return hash_password(PASSWORD)


def config(tmp_path, password_hash, **auth):
    return {"database": {"url": f"sqlite:///{tmp_path}/cs.db"}, "auth": {"mode": "basic", **auth},
            "user:ann": {"password": password_hash, "roles": "reader"}}


def _each_on_a_new_connection(count, call):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_each_worker_runs_the_kdf_once_then_answers_from_its_cache(tmp_path, password_hash):
    with running_gunicorn(config(tmp_path, password_hash), workers=WORKERS, tmp_path=tmp_path) as base_url:
        def status():
            response = requests.get(base_url + "/server/status", headers=basic_auth("ann", PASSWORD), timeout=30)
            assert response.status_code == 200, response.text
            return response.json()["worker"]
        figures = _each_on_a_new_connection(60, status)
    by_worker = {}
    for worker in figures:
        by_worker.setdefault(worker["pid"], []).append(worker)
    assert len(by_worker) >= 2, "the requests all reached one worker; the test proves nothing"
    for pid, seen in by_worker.items():
        assert max(worker["password_checks"] for worker in seen) == 1, (pid, seen)
        assert max(worker["cached_credentials"] for worker in seen) == len(seen) - 1, (pid, seen)


def test_the_failure_limit_holds_across_workers_during_a_burst(tmp_path, password_hash):
    limit = 10
    with running_gunicorn(config(tmp_path, password_hash, max_failures_per_minute=limit), workers=WORKERS,
                          tmp_path=tmp_path) as base_url:
        def attempt(password="guess"):
            headers = {**basic_auth("ann", password), "X-Forwarded-For": "203.0.113.20"}
            return requests.get(base_url + "/server/status", headers=headers, timeout=30)
        # Failures are counted per clock minute: a burst across the turn of one would start over.
        if time.time() % 60 > 40:
            time.sleep(60 - time.time() % 60)
        answers = _each_on_a_new_connection(80, attempt)
        after = attempt(PASSWORD)
        other_client = requests.get(base_url + "/server/status", timeout=30,
                                    headers={**basic_auth("ann", PASSWORD), "X-Forwarded-For": "203.0.113.21"})
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {401, 429}
    # Requests already past the check when the count reached the limit may still be
    # answered 401: at most one per other worker.
    assert limit <= statuses.count(401) <= limit + WORKERS - 1, statuses
    refused = [answer for answer in answers if answer.status_code == 429]
    assert all(answer.json()["error"]["error_code"] == "TOO_MANY_FAILURES" for answer in refused)
    assert all(1 <= int(answer.headers["Retry-After"]) <= 60 for answer in refused)
    assert after.status_code == 429, "right credentials from a blocked address wait too"
    assert other_client.status_code == 200
