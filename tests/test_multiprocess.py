"""Behaviour across real gunicorn worker processes sharing one database."""
import concurrent.futures
import http.client
import json
import time

import pytest
import requests

from models import Service, database
from tests.support import running_gunicorn
from tests.vendor import EXTENSION_SCHEMAS


@pytest.fixture
def shared_database(make_app, database_url):
    """The test's database, emptied, for servers in other processes to share."""
    make_app()
    return database_url


def _start_many(base_url, count, threads):
    # http.client rather than requests: the client shares these 2 cores with the server.
    host, port = base_url.rsplit("/", 1)[1].split(":")

    def run(share):
        answers = []
        for number in range(share):
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("POST", "/services/start",
                               body=json.dumps({"contact_key": f"caller-{number}", "service_type": 1}))
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read()).get("service_id")))
            connection.close()
        return answers

    shares = [count // threads + (1 if n < count % threads else 0) for n in range(threads)]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return [answer for answers in pool.map(run, shares) for answer in answers]


def test_four_workers_issue_distinct_ids_for_20000_starts(shared_database, tmp_path):
    with running_gunicorn({"database": {"url": shared_database}}, workers=4, tmp_path=tmp_path) as base_url:
        answers = _start_many(base_url, 20000, threads=8)
    statuses = {status for status, _ in answers}
    ids = [service_id for _, service_id in answers]
    assert statuses == {201}
    assert len(set(ids)) == 20000
    assert all(isinstance(service_id, int) and 0 < service_id < 2**53 for service_id in ids)
    with database.connection_context():
        assert Service.select().count() == 20000
    # the IDs came from more than one worker: the lease gave each its own worker ID
    from app.ids import LAYOUTS
    assert len({LAYOUTS["default"].decompose(service_id)[1] for service_id in ids}) > 1


def test_a_schema_registered_or_deleted_in_one_process_is_honoured_by_another(shared_database, tmp_path):
    config = {"database": {"url": shared_database}}
    coupon = EXTENSION_SCHEMAS[0]
    body = {"contact_key": "k", "service_type": 1, "coupon": {"coupon_name": "X"}}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_gunicorn(config, workers=1, tmp_path=tmp_path / "a") as first, \
            running_gunicorn(config, workers=1, tmp_path=tmp_path / "b") as second:
        assert requests.post(f"{second}/services/start", json=body).status_code == 400   # caches "absent"
        assert requests.post(f"{first}/metadata/services/extensions", json=coupon).status_code == 201
        time.sleep(1.0)    # SPEC §6: honoured everywhere within one second
        started = requests.post(f"{second}/services/start", json=body)
        assert started.status_code == 201, started.text
        read = requests.get(f"{second}/services/{started.json()['service_id']}?extensions=coupon")
        assert read.json()["coupon"] == {"coupon_name": "X"}

        assert requests.delete(f"{first}/metadata/services/extensions/coupon").status_code == 204
        time.sleep(1.0)
        refused = requests.post(f"{second}/services/start", json=body)
        assert refused.status_code == 400
        assert refused.json()["error"]["error_code"] == "UNKNOWN_EXTENSION"
