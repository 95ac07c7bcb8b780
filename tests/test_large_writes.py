"""SQLite under large writes with the limits in place (finding 10 of issue 13).

Three clients write maximum-size extension values (65,000 characters, the most one value
may hold by default) while a fourth starts services, through gunicorn with 4 workers on
one SQLite file. Before the limits, a writer could store hundreds of megabytes in one
transaction and 4 of 840 starts waited out the 10 s busy timeout (503). Every answer must
now be a 2xx; the figures are printed for the README.
"""
import collections
import threading
import time

import pytest
import requests

from tests.support import running_gunicorn

NOTE = {"name": "note", "type": "single-valued", "attributes": [{"name": "text", "type": "string", "length": 65535}]}
TEXT = "x" * 65_000
SECONDS = 60


def _writer(url, stop, statuses):
    with requests.Session() as http:
        service_id = http.post(f"{url}/services/start", json={"contact_key": "w", "service_type": 1},
                               timeout=60).json()["service_id"]
        while not stop.is_set():
            answer = http.put(f"{url}/services/{service_id}/extensions/note", json={"text": TEXT}, timeout=60)
            statuses["writes"][answer.status_code] += 1


def _starter(url, stop, statuses):
    with requests.Session() as http:
        while not stop.is_set():
            answer = http.post(f"{url}/services/start", json={"contact_key": "s", "service_type": 1,
                                                              "note": {"text": "small"}}, timeout=60)
            statuses["starts"][answer.status_code] += 1


@pytest.mark.stress
def test_three_maximum_size_writers_and_a_starter_get_no_503_on_sqlite(tmp_path):
    database = {"database": {"url": f"sqlite:///{tmp_path}/large.db"}}
    statuses = {"writes": collections.Counter(), "starts": collections.Counter()}
    stop = threading.Event()
    with running_gunicorn(database, workers=4, tmp_path=tmp_path) as url:
        assert requests.post(f"{url}/metadata/services/extensions", json=NOTE, timeout=60).status_code == 201
        threads = [threading.Thread(target=_writer, args=(url, stop, statuses)) for _ in range(3)]
        threads.append(threading.Thread(target=_starter, args=(url, stop, statuses)))
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join()
    print(f"in {SECONDS} s: writes {dict(statuses['writes'])}, starts {dict(statuses['starts'])}")
    assert set(statuses["writes"]) == {200} and set(statuses["starts"]) == {201}
