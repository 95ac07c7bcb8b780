"""Tasks under /services/<id> (SPEC §5): start, end, lists, read."""
import pytest

from tests.calls import error_of, ok, start_service, start_state, start_task

T = "2026-03-01T10:00:{:02d}.000Z"
TASK_TYPES = {"business-attributes": {"Task.type": "TaskType"},
              "attribute:TaskType": {"Identify": "10, Identify caller", "Pay": "20, Payment"}}


def test_start_answers_201_with_location_and_the_first_number(client):
    service_id = start_service(client)
    response = client.post(f"/services/{service_id}/tasks/start", json={"task_type": 4})
    assert response.status_code == 201
    assert response.get_json() == {"task_id": 1}
    assert response.headers["Location"] == f"/services/{service_id}/tasks/1"


def test_tasks_and_states_are_numbered_independently(client):
    service_id = start_service(client)
    assert start_task(client, service_id) == 1
    assert start_state(client, service_id) == 1
    assert start_task(client, service_id, state_id=1) == 2
    assert start_state(client, service_id) == 2


def test_a_task_reads_back_with_every_field_sent(client):
    service_id = start_service(client)
    start_state(client, service_id)
    task_id = start_task(client, service_id, task_type="6", state_id="1", est_duration=12,
                         timestamp=T.format(3), interaction_id="I", resource_type=4, resource_id=77)
    assert ok(client.get(f"/services/{service_id}/tasks/{task_id}")) == {
        "service_id": service_id, "task_id": 1, "task_type": 6, "state_id": 1, "est_duration": 12,
        "started": {"timestamp": T.format(3), "interaction_id": "I", "resource_type": 4, "resource_id": 77},
    }


def test_end_answers_200_with_the_completed_task(client):
    service_id = start_service(client)
    task_id = start_task(client, service_id, timestamp=T.format(1))
    body = ok(client.post(f"/services/{service_id}/tasks/{task_id}/end",
                          json={"timestamp": T.format(3), "disposition": 5, "disposition_desc": "paid",
                                "session_id": "S"}))
    assert body == {"service_id": service_id, "task_id": 1, "task_type": 1,
                    "started": {"timestamp": T.format(1)},
                    "completed": {"timestamp": T.format(3), "session_id": "S"},
                    "disposition": 5, "disposition_desc": "paid", "duration": 2000}


def test_completing_a_completed_task_is_refused(client):
    service_id = start_service(client)
    task_id = start_task(client, service_id)
    first = ok(client.post(f"/services/{service_id}/tasks/{task_id}/end"))
    assert error_of(client.post(f"/services/{service_id}/tasks/{task_id}/end"))["error_code"] == \
        "ALREADY_COMPLETED"
    assert ok(client.get(f"/services/{service_id}/tasks/{task_id}")) == first


def test_a_task_end_before_its_start_is_refused(client):
    service_id = start_service(client)
    task_id = start_task(client, service_id, timestamp=T.format(5))
    error = error_of(client.post(f"/services/{service_id}/tasks/{task_id}/end", json={"timestamp": T.format(4)}))
    assert error["error_code"] == "TIMESTAMP_BEFORE_START"
    assert "completed" not in ok(client.get(f"/services/{service_id}/tasks/{task_id}"))


def test_a_task_can_start_only_in_an_active_state_of_its_own_service(client):
    other = start_service(client)
    start_state(client, other)
    service_id = start_service(client)
    error = error_of(client.post(f"/services/{service_id}/tasks/start", json={"task_type": 1, "state_id": 1}))
    assert error["error_code"] == "UNKNOWN_STATE" and "state_id" in error["fields"]
    start_state(client, service_id)
    ok(client.post(f"/services/{service_id}/states/1/end"))
    error = error_of(client.post(f"/services/{service_id}/tasks/start", json={"task_type": 1, "state_id": 1}))
    assert error["error_code"] == "STATE_NOT_ACTIVE" and "state_id" in error["fields"]
    assert ok(client.get(f"/services/{service_id}/tasks")) == []
    assert start_task(client, service_id) == 1


def test_starting_a_task_on_a_completed_service_is_refused(client):
    service_id = start_service(client)
    ok(client.post(f"/services/{service_id}/end"))
    error = error_of(client.post(f"/services/{service_id}/tasks/start", json={"task_type": 1}))
    assert error["error_code"] == "SERVICE_COMPLETED"


@pytest.mark.parametrize("body, field", [
    ({}, "task_type"),
    ({"task_type": "x"}, "task_type"),
    ({"task_type": 1, "state_id": -1}, "state_id"),
    ({"task_type": 1, "state_id": 2**31}, "state_id"),
    ({"task_type": 1, "previous_state_id": 1}, "previous_state_id"),
    ({"task_type": 1, "interaction_id": "i" * 51}, "interaction_id"),
    ({"task_type": 1, "unknownExt": []}, "unknownExt"),
])
def test_a_bad_task_start_is_refused_naming_the_field(client, body, field):
    service_id = start_service(client)
    assert field in error_of(client.post(f"/services/{service_id}/tasks/start", json=body))["fields"]
    assert ok(client.get(f"/services/{service_id}/tasks")) == []


def test_lists_filter_by_status_state_and_type(make_app):
    client = make_app(**TASK_TYPES).test_client()
    service_id = start_service(client)
    start_state(client, service_id)
    start_state(client, service_id)
    start_task(client, service_id, task_type="Identify", state_id=1)
    start_task(client, service_id, task_type=20, state_id=2)
    start_task(client, service_id, task_type="pay")
    start_task(client, service_id, task_type="10", state_id=2)
    ok(client.post(f"/services/{service_id}/tasks/2/end"))
    numbers = lambda path: [t["task_id"] for t in ok(client.get(f"/services/{service_id}/tasks{path}"))]
    assert numbers("") == [1, 2, 3, 4]
    assert numbers("/active") == [1, 3, 4]
    assert numbers("/completed") == [2]
    assert numbers("?state_id=2") == [2, 4]
    assert numbers("/active?state_id=2") == [4]
    assert numbers("?task_types=Pay") == [2, 3]
    assert numbers("?task_types=identify,20&state_id=2") == [2, 4]
    assert numbers("?state_id=9") == []


@pytest.mark.parametrize("query, field", [
    ("state_id=0", "state_id"), ("state_id=one", "state_id"), ("state_id=2147483648", "state_id"),
    ("task_types=Nope", "task_types"), ("extensions=nope", "extensions"),
])
def test_bad_list_parameters_are_refused(make_app, query, field):
    client = make_app(**TASK_TYPES).test_client()
    service_id = start_service(client)
    error = error_of(client.get(f"/services/{service_id}/tasks?{query}"))
    assert field in error["fields"]


@pytest.mark.parametrize("path", ["tasks/3", "tasks/3/end"])
def test_an_unknown_task_is_404(client, path):
    service_id = start_service(client)
    method = client.post if path.endswith("end") else client.get
    assert error_of(method(f"/services/{service_id}/{path}"), 404)["error_code"] == "TASK_NOT_FOUND"


@pytest.mark.parametrize("task_id", ["0", str(2**31)])
def test_task_ids_outside_the_positive_32_bit_range_are_404(client, task_id):
    service_id = start_service(client)
    assert error_of(client.get(f"/services/{service_id}/tasks/{task_id}"), 404)["error_code"] == "TASK_NOT_FOUND"


def test_task_lists_of_an_unknown_service_are_404(client):
    assert error_of(client.get("/services/31337/tasks"), 404)["error_code"] == "SERVICE_NOT_FOUND"


def test_task_and_state_values_of_one_extension_name_stay_apart(client):
    definition = {"name": "notes", "type": "single-valued", "attributes": [{"name": "text", "type": "string"}]}
    for kind in ("states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=definition), 201)
    service_id = start_service(client)
    start_state(client, service_id, notes={"text": "state one"})
    start_task(client, service_id, notes={"text": "task one"})
    ok(client.post(f"/services/{service_id}/tasks/1/end", json={"notes": {"text": "task done"}}))
    assert ok(client.get(f"/services/{service_id}/states/1?extensions=notes"))["notes"] == {"text": "state one"}
    assert ok(client.get(f"/services/{service_id}/tasks/1?extensions=notes"))["notes"] == {"text": "task done"}
    assert ok(client.get(f"/services/{service_id}/tasks?extensions=NOTES"))[0]["notes"] == {"text": "task done"}
