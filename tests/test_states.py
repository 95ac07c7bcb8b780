"""States under /services/<id> (SPEC §4): start, end, transition, lists, read."""
import pytest

from tests.calls import error_of, ok, start_service, start_state, start_task

T = "2026-03-01T10:00:{:02d}.000Z"

STATE_TYPES = {"business-attributes": {"State.type": "StateType"},
               "attribute:StateType": {"Greeting": "1, Greeting", "Menu": "2, Main menu", "Agent": "3, Agent"}}


def test_start_answers_201_with_location_and_the_first_number(client):
    service_id = start_service(client)
    response = client.post(f"/services/{service_id}/states/start", json={"state_type": 5})
    assert response.status_code == 201
    assert response.get_json() == {"state_id": 1}
    assert response.headers["Location"] == f"/services/{service_id}/states/1"


def test_states_are_numbered_per_service_from_1_in_start_order(client):
    first, second = start_service(client), start_service(client)
    assert [start_state(client, first) for _ in range(3)] == [1, 2, 3]
    assert start_state(client, second) == 1
    assert start_state(client, first) == 4


def test_a_state_reads_back_with_every_field_sent(client):
    service_id = start_service(client)
    start_state(client, service_id)
    state_id = start_state(client, service_id, state_type="7", previous_state_id="1", est_duration=20,
                           timestamp=T.format(5), session_id="S", application_id=3, media_type=2)
    assert ok(client.get(f"/services/{service_id}/states/{state_id}")) == {
        "service_id": service_id, "state_id": 2, "state_type": 7, "previous_state_id": 1, "est_duration": 20,
        "started": {"timestamp": T.format(5), "session_id": "S", "application_id": 3, "media_type": 2},
    }


def test_end_answers_200_with_the_completed_state(client):
    service_id = start_service(client)
    state_id = start_state(client, service_id, timestamp=T.format(1))
    body = ok(client.post(f"/services/{service_id}/states/{state_id}/end",
                          json={"timestamp": T.format(4), "disposition": 2, "disposition_desc": "done",
                                "interaction_id": "I"}))
    assert body == {"service_id": service_id, "state_id": 1, "state_type": 1,
                    "started": {"timestamp": T.format(1)},
                    "completed": {"timestamp": T.format(4), "interaction_id": "I"},
                    "disposition": 2, "disposition_desc": "done", "duration": 3000}


def test_end_completes_the_states_active_tasks_at_the_same_time_and_no_others(client):
    service_id = start_service(client)
    state_id = start_state(client, service_id, timestamp=T.format(1))
    in_state = start_task(client, service_id, state_id=state_id, timestamp=T.format(2))
    done = start_task(client, service_id, state_id=state_id, timestamp=T.format(2))
    ok(client.post(f"/services/{service_id}/tasks/{done}/end", json={"timestamp": T.format(3)}))
    outside = start_task(client, service_id, timestamp=T.format(2))
    body = ok(client.post(f"/services/{service_id}/states/{state_id}/end?completed_tasks=true",
                          json={"timestamp": T.format(9)}))
    completed = {task["task_id"]: task for task in body["completed_tasks"]}
    assert completed[in_state]["completed"] == {"timestamp": T.format(9)}
    assert completed[in_state]["duration"] == 7000
    assert completed[done]["completed"] == {"timestamp": T.format(3)}
    assert "completed" not in ok(client.get(f"/services/{service_id}/tasks/{outside}"))


def test_completing_a_completed_state_is_refused(client):
    service_id = start_service(client)
    state_id = start_state(client, service_id)
    first = ok(client.post(f"/services/{service_id}/states/{state_id}/end", json={"disposition": 1}))
    error = error_of(client.post(f"/services/{service_id}/states/{state_id}/end", json={"disposition": 2}))
    assert error["error_code"] == "ALREADY_COMPLETED"
    assert ok(client.get(f"/services/{service_id}/states/{state_id}")) == first


def test_a_state_end_before_its_start_or_its_tasks_start_is_refused_naming_the_latest_start(client):
    service_id = start_service(client)
    state_id = start_state(client, service_id, timestamp=T.format(5))
    task_id = start_task(client, service_id, state_id=state_id, timestamp=T.format(8))
    for moment in (4, 7):
        error = error_of(client.post(f"/services/{service_id}/states/{state_id}/end",
                                     json={"timestamp": T.format(moment)}))
        assert error["error_code"] == "TIMESTAMP_BEFORE_START"
        assert f"task {task_id} ({T.format(8)})" in error["message"]
    assert "completed" not in ok(client.get(f"/services/{service_id}/tasks/{task_id}"))
    assert "completed" not in ok(client.get(f"/services/{service_id}/states/{state_id}"))


def test_starting_a_state_on_a_completed_service_is_refused(client):
    service_id = start_service(client)
    ok(client.post(f"/services/{service_id}/end"))
    error = error_of(client.post(f"/services/{service_id}/states/start", json={"state_type": 1}))
    assert error["error_code"] == "SERVICE_COMPLETED"
    assert ok(client.get(f"/services/{service_id}/states")) == []


def test_a_refused_start_uses_no_number(client):
    service_id = start_service(client)
    error_of(client.post(f"/services/{service_id}/states/start", json={"state_type": 1, "previous_state_id": 5}))
    assert start_state(client, service_id) == 1


@pytest.mark.parametrize("body, field", [
    ({}, "state_type"),
    ({"state_type": None}, "state_type"),
    ({"state_type": 1, "previous_state_id": 0}, "previous_state_id"),
    ({"state_type": 1, "est_duration": -5}, "est_duration"),
    ({"state_type": 1, "timestamp": "noon"}, "timestamp"),
    ({"state_type": 1, "disposition": 1}, "disposition"),
    ({"state_type": 1, "notAnExtension": {}}, "notAnExtension"),
])
def test_a_bad_state_start_is_refused_naming_the_field(client, body, field):
    service_id = start_service(client)
    assert field in error_of(client.post(f"/services/{service_id}/states/start", json=body))["fields"]
    assert ok(client.get(f"/services/{service_id}/states")) == []


def test_previous_state_id_must_name_a_state_of_this_service(client):
    other = start_service(client)
    start_state(client, other)
    service_id = start_service(client)
    error = error_of(client.post(f"/services/{service_id}/states/start", json={"state_type": 1,
                                                                               "previous_state_id": 1}))
    assert error["error_code"] == "UNKNOWN_STATE" and "previous_state_id" in error["fields"]


def test_a_start_without_a_body_is_refused(client):
    service_id = start_service(client)
    assert error_of(client.post(f"/services/{service_id}/states/start"))["error_code"] == "MISSING_BODY"


def test_starting_a_state_on_an_unknown_service_is_404(client):
    error = error_of(client.post("/services/424242/states/start", json={"state_type": 1}), 404)
    assert error["error_code"] == "SERVICE_NOT_FOUND"


# --- transition ------------------------------------------------------------------------

def test_transition_ends_one_state_and_starts_the_next_at_one_time(client):
    service_id = start_service(client)
    start_state(client, service_id, timestamp=T.format(1))
    task_id = start_task(client, service_id, state_id=1, timestamp=T.format(2))
    response = client.post(f"/services/{service_id}/states/transition", json={
        "from": {"state_id": 1, "disposition": 4, "disposition_desc": "chose billing"},
        "to": {"state_type": 9, "est_duration": 30},
        "interaction_id": "I-7", "timestamp": T.format(6)})
    assert response.status_code == 201
    assert response.get_json() == {"state_id": 2}
    assert response.headers["Location"] == f"/services/{service_id}/states/2"
    old, new = ok(client.get(f"/services/{service_id}/states"))
    assert old["completed"] == {"timestamp": T.format(6), "interaction_id": "I-7"}
    assert old["disposition"] == 4 and old["disposition_desc"] == "chose billing" and old["duration"] == 5000
    assert new == {"service_id": service_id, "state_id": 2, "state_type": 9, "previous_state_id": 1,
                   "est_duration": 30, "started": {"timestamp": T.format(6), "interaction_id": "I-7"}}
    assert ok(client.get(f"/services/{service_id}/tasks/{task_id}"))["completed"] == {"timestamp": T.format(6)}


def test_transition_from_a_completed_state_changes_nothing(client):
    service_id = start_service(client)
    state_id = start_state(client, service_id)
    ok(client.post(f"/services/{service_id}/states/{state_id}/end"))
    error = error_of(client.post(f"/services/{service_id}/states/transition",
                                 json={"from": {"state_id": state_id}, "to": {"state_type": 2}}))
    assert error["error_code"] == "ALREADY_COMPLETED"
    assert len(ok(client.get(f"/services/{service_id}/states"))) == 1
    assert start_state(client, service_id) == 2


def test_transition_from_an_unknown_state_is_refused(client):
    service_id = start_service(client)
    error = error_of(client.post(f"/services/{service_id}/states/transition",
                                 json={"from": {"state_id": 3}, "to": {"state_type": 2}}))
    assert error["error_code"] == "UNKNOWN_STATE" and error["fields"] == {"from": {"state_id": [
        "No state 3 in this service."]}}


def test_transition_before_the_old_states_start_changes_nothing(client):
    service_id = start_service(client)
    start_state(client, service_id, timestamp=T.format(5))
    error = error_of(client.post(f"/services/{service_id}/states/transition",
                                 json={"from": {"state_id": 1}, "to": {"state_type": 2}, "timestamp": T.format(4)}))
    assert error["error_code"] == "TIMESTAMP_BEFORE_START"
    assert [s.get("completed") for s in ok(client.get(f"/services/{service_id}/states"))] == [None]


@pytest.mark.parametrize("body, field", [
    ({"to": {"state_type": 2}}, "from"),
    ({"from": {"state_id": 1}}, "to"),
    ({"from": {}, "to": {"state_type": 2}}, "from"),
    ({"from": {"state_id": 1}, "to": {}}, "to"),
    ({"from": {"state_id": 1, "extra": 1}, "to": {"state_type": 2}}, "from"),
    ({"from": {"state_id": 1}, "to": {"state_type": 2, "previous_state_id": 1}}, "to"),
    ({"from": 1, "to": {"state_type": 2}}, "from"),
])
def test_a_malformed_transition_is_refused_naming_the_part(client, body, field):
    service_id = start_service(client)
    start_state(client, service_id)
    error = error_of(client.post(f"/services/{service_id}/states/transition", json=body))
    assert field in error["fields"]
    assert len(ok(client.get(f"/services/{service_id}/states/active"))) == 1


def test_transition_on_a_completed_service_is_refused(client):
    service_id = start_service(client)
    start_state(client, service_id)
    ok(client.post(f"/services/{service_id}/end"))
    error = error_of(client.post(f"/services/{service_id}/states/transition",
                                 json={"from": {"state_id": 1}, "to": {"state_type": 2}}))
    assert error["error_code"] == "SERVICE_COMPLETED"


# --- service completion ----------------------------------------------------------------

def test_service_completion_completes_active_states_and_tasks_at_its_time(client):
    service_id = start_service(client, timestamp=T.format(0))
    start_state(client, service_id, timestamp=T.format(1))
    ok(client.post(f"/services/{service_id}/states/1/end", json={"timestamp": T.format(2)}))
    start_state(client, service_id, timestamp=T.format(3))
    start_task(client, service_id, state_id=2, timestamp=T.format(4))
    start_task(client, service_id, timestamp=T.format(5))
    body = ok(client.post(f"/services/{service_id}/end?completed_states=true&completed_tasks=true"
                          "&active_states=true&active_tasks=true", json={"timestamp": T.format(10)}))
    assert body["active_states"] == [] and body["active_tasks"] == []
    assert [(s["state_id"], s["completed"]["timestamp"], s["duration"]) for s in body["completed_states"]] == [
        (1, T.format(2), 1000), (2, T.format(10), 7000)]
    assert [(t["task_id"], t["completed"]["timestamp"], t["duration"]) for t in body["completed_tasks"]] == [
        (1, T.format(10), 6000), (2, T.format(10), 5000)]


def test_service_completion_before_an_active_states_start_changes_nothing(client):
    service_id = start_service(client, timestamp=T.format(0))
    start_state(client, service_id, timestamp=T.format(8))
    error = error_of(client.post(f"/services/{service_id}/end", json={"timestamp": T.format(5)}))
    assert error["error_code"] == "TIMESTAMP_BEFORE_START" and "state 1" in error["message"]
    assert "completed" not in ok(client.get(f"/services/{service_id}"))
    assert len(ok(client.get(f"/services/{service_id}/states/active"))) == 1


# --- lists and reads -------------------------------------------------------------------

def test_lists_split_by_status_in_start_order(client):
    service_id = start_service(client)
    for _ in range(3):
        start_state(client, service_id)
    ok(client.post(f"/services/{service_id}/states/2/end"))
    numbers = lambda path: [s["state_id"] for s in ok(client.get(f"/services/{service_id}/states{path}"))]
    assert numbers("") == [1, 2, 3]
    assert numbers("/active") == [1, 3]
    assert numbers("/completed") == [2]


def test_state_types_filter_takes_names_and_ids(make_app):
    client = make_app(**STATE_TYPES).test_client()
    service_id = start_service(client)
    for state_type in ("Greeting", "menu", 3, "2"):
        start_state(client, service_id, state_type=state_type)
    numbers = lambda query: [s["state_id"] for s in ok(client.get(f"/services/{service_id}/states?{query}"))]
    assert numbers("state_types=Menu") == [2, 4]
    assert numbers("state_types=greeting,3") == [1, 3]
    assert numbers("state_types=") == [1, 2, 3, 4]
    error = error_of(client.get(f"/services/{service_id}/states/active?state_types=Menu,Nope"))
    assert error["error_code"] == "INVALID_PARAMETER" and "Greeting" in error["fields"]["state_types"][0]


def test_state_types_of_an_unmapped_field_must_be_integers(client):
    service_id = start_service(client)
    start_state(client, service_id, state_type=8)
    assert len(ok(client.get(f"/services/{service_id}/states?state_types=8"))) == 1
    assert error_of(client.get(f"/services/{service_id}/states?state_types=eight"))["error_code"] == \
        "INVALID_PARAMETER"


def test_task_flags_nest_the_tasks_started_in_each_state(client):
    service_id = start_service(client)
    start_state(client, service_id)
    start_state(client, service_id)
    start_task(client, service_id, state_id=1)
    start_task(client, service_id, state_id=2)
    start_task(client, service_id, state_id=1)
    start_task(client, service_id)
    ok(client.post(f"/services/{service_id}/tasks/3/end"))
    first, second = ok(client.get(f"/services/{service_id}/states?active_tasks=true&completed_tasks=true"))
    assert [t["task_id"] for t in first["active_tasks"]] == [1]
    assert [t["task_id"] for t in first["completed_tasks"]] == [3]
    assert [t["task_id"] for t in second["active_tasks"]] == [2] and second["completed_tasks"] == []
    assert all("service_id" not in t for t in first["active_tasks"] + first["completed_tasks"])
    only_active = ok(client.get(f"/services/{service_id}/states/1?active_tasks=true"))
    assert "completed_tasks" not in only_active and len(only_active["active_tasks"]) == 1


def test_state_lists_of_an_unknown_service_are_404(client):
    assert error_of(client.get("/services/31337/states/active"), 404)["error_code"] == "SERVICE_NOT_FOUND"


@pytest.mark.parametrize("path", ["states/9", "states/9/end"])
def test_an_unknown_state_is_404(client, path):
    service_id = start_service(client)
    method = client.post if path.endswith("end") else client.get
    assert error_of(method(f"/services/{service_id}/{path}"), 404)["error_code"] == "STATE_NOT_FOUND"


@pytest.mark.parametrize("state_id", ["0", str(2**31), "99999999999999999999"])
def test_state_ids_outside_the_positive_32_bit_range_are_404(client, state_id):
    service_id = start_service(client)
    assert error_of(client.get(f"/services/{service_id}/states/{state_id}"), 404)["error_code"] == \
        "STATE_NOT_FOUND"
    assert error_of(client.post(f"/services/{service_id}/states/{state_id}/end"), 404)["error_code"] == \
        "STATE_NOT_FOUND"


def test_state_extension_values_are_stored_on_start_and_replaced_on_end(client):
    ok(client.post("/metadata/states/extensions", json={
        "name": "menuChoice", "type": "single-valued", "attributes": [{"name": "key", "type": "string"}]}), 201)
    service_id = start_service(client)
    state_id = start_state(client, service_id, menuChoice={"key": "1"})
    assert ok(client.get(f"/services/{service_id}/states/{state_id}?extensions=menuChoice"))["menuChoice"] == \
        {"key": "1"}
    body = ok(client.post(f"/services/{service_id}/states/{state_id}/end?extensions=menuChoice",
                          json={"menuChoice": {"key": "2"}}))
    assert body["menuChoice"] == {"key": "2"}
    assert "menuChoice" not in ok(client.get(f"/services/{service_id}/states/{state_id}"))
    error = error_of(client.get(f"/services/{service_id}/states?extensions=nope"))
    assert error["error_code"] == "UNKNOWN_EXTENSION"
