"""A whole IVR journey through HTTP: anonymous call, hang-up, call back, identification, completion."""
from tests.calls import ok

CALLER = "+15550123"
T = "2026-03-01T10:{:02d}:{:02d}.000Z"
CONFIG = {
    "business_attributes": {"Service.type": "ServiceType", "State.type": "StateType", "Task.type": "TaskType",
                            "*.disposition": "Outcome"},
    "attribute:ServiceType": {"Billing": "100, Billing enquiry"},
    "attribute:StateType": {"Greeting": "1, Greeting", "Identify": "2, Identification"},
    "attribute:TaskType": {"PlayPrompt": "10, Play prompt", "CollectPin": "11, Collect PIN"},
    "attribute:Outcome": {"Done": "1, Done", "HungUp": "2, Caller hung up", "Resolved": "3, Resolved"},
}


def created(response, key):
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/{response.get_json()[key]}")
    return response.get_json()[key]


def test_anonymous_call_hang_up_call_back_identification_and_completion(make_app):
    client = make_app(**CONFIG).test_client()
    ok(client.post("/metadata/services/extensions", json={
        "name": "callbacks", "type": "single-valued", "attributes": [{"name": "count", "type": "integer"}]}), 201)

    # First call: the IVR knows only the caller's number.
    service_id = created(client.post("/services/start", json={
        "contact_key": CALLER, "service_type": "Billing", "interaction_id": "CALL-1", "timestamp": T.format(0, 0),
        "callbacks": {"count": 0}}), "service_id")
    service = f"/services/{service_id}"
    greeting = created(client.post(f"{service}/states/start", json={
        "state_type": "Greeting", "timestamp": T.format(0, 1)}), "state_id")
    prompt = created(client.post(f"{service}/tasks/start", json={
        "task_type": "PlayPrompt", "state_id": greeting, "timestamp": T.format(0, 2)}), "task_id")
    ok(client.post(f"{service}/tasks/{prompt}/end", json={"timestamp": T.format(0, 4), "disposition": "Done"}))
    identify = created(client.post(f"{service}/states/transition", json={
        "from": {"state_id": greeting, "disposition": "Done"}, "to": {"state_type": "Identify"},
        "timestamp": T.format(0, 5)}), "state_id")
    pin = created(client.post(f"{service}/tasks/start", json={
        "task_type": "CollectPin", "state_id": identify, "timestamp": T.format(0, 6)}), "task_id")
    assert (greeting, prompt, identify, pin) == (1, 1, 2, 2)

    # The caller hangs up while entering the PIN; the service stays active.
    ok(client.post(f"{service}/tasks/{pin}/end", json={"timestamp": T.format(0, 20), "disposition": "HungUp"}))

    # Call back: the IVR looks for the number's active anonymous services.
    found = ok(client.get(f"/services/anonymous/{CALLER}/active?active_states=true&extensions=callbacks"))
    assert [s["service_id"] for s in found] == [service_id]
    assert [s["state_id"] for s in found[0]["active_states"]] == [identify]
    assert found[0]["callbacks"] == {"count": 0}

    # The caller is identified: the service moves to the customer, with the new call's context.
    associated = ok(client.post(f"/customers/CUST-0042/services/{service_id}", json={
        "interaction_id": "CALL-2", "callbacks": {"count": 1}}))
    assert associated["customer_id"] == "CUST-0042" and associated["contact_key"] == CALLER
    assert ok(client.get(f"/services/anonymous/{CALLER}")) == []
    assert [s["service_id"] for s in ok(client.get("/customers/CUST-0042/services/active"))] == [service_id]

    # Resolved: completing the service completes the Identify state with it.
    completed = ok(client.post(f"{service}/end", json={
        "timestamp": T.format(5, 0), "disposition": "Resolved", "disposition_desc": "bill explained"}))
    assert completed["duration"] == 300000
    assert ok(client.get("/customers/CUST-0042/services/active")) == []

    history = ok(client.get("/customers/CUST-0042/services/completed?completed_states=true&completed_tasks=true"
                            "&active_states=true&active_tasks=true&extensions=callbacks"))
    assert history == [{
        "service_id": service_id, "service_type": 100, "customer_id": "CUST-0042", "contact_key": CALLER,
        "started": {"timestamp": T.format(0, 0), "interaction_id": "CALL-2"},
        "completed": {"timestamp": T.format(5, 0)},
        "disposition": 3, "disposition_desc": "bill explained", "duration": 300000,
        "active_states": [],
        "completed_states": [
            {"state_id": 1, "state_type": 1, "started": {"timestamp": T.format(0, 1)},
             "completed": {"timestamp": T.format(0, 5)}, "disposition": 1, "duration": 4000},
            {"state_id": 2, "state_type": 2, "previous_state_id": 1, "started": {"timestamp": T.format(0, 5)},
             "completed": {"timestamp": T.format(5, 0)}, "duration": 295000},
        ],
        "active_tasks": [],
        "completed_tasks": [
            {"task_id": 1, "task_type": 10, "state_id": 1, "started": {"timestamp": T.format(0, 2)},
             "completed": {"timestamp": T.format(0, 4)}, "disposition": 1, "duration": 2000},
            {"task_id": 2, "task_type": 11, "state_id": 2, "started": {"timestamp": T.format(0, 6)},
             "completed": {"timestamp": T.format(0, 20)}, "disposition": 2, "duration": 14000},
        ],
        "callbacks": {"count": 1},
    }]
