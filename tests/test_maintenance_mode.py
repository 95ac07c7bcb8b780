"""Maintenance mode refuses every service, state and task operation with 503 (SPEC §9)."""
import pytest

from tests.calls import error_of, ok, start_service, start_state, start_task

NOTE = {"name": "note", "type": "multi-valued", "attributes": [{"name": "n", "type": "string"}], "unique": ["n"]}

ROUTES = [
    ("post", "{s}/end", {}),
    ("post", "/customers/c1/services/{id}", {}),
    ("get", "/customers/c1/services", None),
    ("get", "/customers/c1/services/active", None),
    ("get", "/customers/c1/services/completed", None),
    ("get", "/services/anonymous/k", None),
    ("get", "/services/anonymous/k/active", None),
    ("get", "/services/anonymous/k/completed", None),
    ("post", "{s}/states/start", {"state_type": 1}),
    ("post", "{s}/states/1/end", {}),
    ("post", "{s}/states/transition", {"from": {"state_id": 1}, "to": {"state_type": 2}}),
    ("get", "{s}/states", None),
    ("get", "{s}/states/active", None),
    ("get", "{s}/states/completed", None),
    ("get", "{s}/states/1", None),
    ("post", "{s}/tasks/start", {"task_type": 1}),
    ("post", "{s}/tasks/1/end", {}),
    ("get", "{s}/tasks", None),
    ("get", "{s}/tasks/active", None),
    ("get", "{s}/tasks/completed", None),
    ("get", "{s}/tasks/1", None),
] + [("put", f"{owner}/extensions/note{suffix}", body)
     for owner in ("{s}", "{s}/states/1", "{s}/tasks/1")
     for suffix, body in (("", [{"n": "b"}]), ("/by/unique", {"n": "a"}), ("/delete/by/unique", {"n": "a"}))]


@pytest.fixture
def service_in_maintenance(client):
    for kind in ("services", "states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=NOTE), 201)
    service_id = start_service(client, contact_key="k", note=[{"n": "a"}])
    start_state(client, service_id, note=[{"n": "a"}])
    start_task(client, service_id, state_id=1, note=[{"n": "a"}])
    before = ok(client.get(f"/services/{service_id}?active_states=true&active_tasks=true&extensions=note"))
    ok(client.post("/server/mode", json={"mode": "maintenance"}))
    return service_id, before


@pytest.mark.parametrize("method, path, body", ROUTES, ids=[f"{m.upper()} {p}" for m, p, _ in ROUTES])
def test_every_lifecycle_route_is_refused_in_maintenance_and_changes_nothing(client, service_in_maintenance,
                                                                             method, path, body):
    service_id, before = service_in_maintenance
    url = path.format(s=f"/services/{service_id}", id=service_id)
    error = error_of(getattr(client, method)(url, json=body), 503)
    assert error["error_code"] == "MAINTENANCE"
    ok(client.post("/server/mode", json={"mode": "production"}))
    assert ok(client.get(f"/services/{service_id}?active_states=true&active_tasks=true&extensions=note")) == before
    assert getattr(client, method)(url, json=body).status_code < 300
