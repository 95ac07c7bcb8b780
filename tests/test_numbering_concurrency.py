"""state_id / task_id numbering under concurrent starts through a multi-worker gunicorn (SPEC §2, §4, §5)."""
import concurrent.futures

import pytest
import requests

from models import Service, database
from tests.support import running_gunicorn

THREADS = 8
STARTS_PER_THREAD = 25          # of each kind


@pytest.fixture
def shared_database(make_app, database_url):
    """The test's database, emptied, for the gunicorn workers to share."""
    make_app()
    return database_url


def _start_states_and_tasks(base_url, service_id):
    """One client thread: alternate state and task starts on the one service; return the numbers given."""
    states, tasks = [], []
    with requests.Session() as session:
        for _ in range(STARTS_PER_THREAD):
            response = session.post(f"{base_url}/services/{service_id}/states/start", json={"state_type": 1},
                                    timeout=60)
            assert response.status_code == 201, response.text
            states.append(response.json()["state_id"])
            response = session.post(f"{base_url}/services/{service_id}/tasks/start",
                                    json={"task_type": 2, "state_id": 1}, timeout=60)
            assert response.status_code == 201, response.text
            tasks.append(response.json()["task_id"])
    return states, tasks


def test_concurrent_starts_on_one_service_get_distinct_gap_free_numbers(shared_database, tmp_path):
    with running_gunicorn({"database": {"url": shared_database}}, workers=4, tmp_path=tmp_path) as base_url:
        started = requests.post(f"{base_url}/services/start", json={"contact_key": "k", "service_type": 1})
        service_id = started.json()["service_id"]
        assert requests.post(f"{base_url}/services/{service_id}/states/start",
                             json={"state_type": 1}).json() == {"state_id": 1}
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda _: _start_states_and_tasks(base_url, service_id), range(THREADS)))
        listed_states = requests.get(f"{base_url}/services/{service_id}/states").json()
        listed_tasks = requests.get(f"{base_url}/services/{service_id}/tasks?state_id=1").json()

    count = THREADS * STARTS_PER_THREAD
    state_ids = sorted(number for states, _ in results for number in states)
    task_ids = sorted(number for _, tasks in results for number in tasks)
    assert state_ids == list(range(2, count + 2))
    assert task_ids == list(range(1, count + 1))
    # each thread saw its own numbers rise: a number is taken when its start commits
    assert all(states == sorted(states) and tasks == sorted(tasks) for states, tasks in results)
    assert [state["state_id"] for state in listed_states] == list(range(1, count + 2))
    assert [task["task_id"] for task in listed_tasks] == task_ids
    with database.connection_context():
        service = Service.get_by_id(service_id)
        assert (service.last_state_id, service.last_task_id) == (count + 1, count)
