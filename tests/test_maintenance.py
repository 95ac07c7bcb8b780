"""Idle auto-complete, retention and values of deleted schemas: the maintenance run (SPEC §13).

The run's clock is its `now` argument, so each rule is checked one millisecond either side
of its limit; the services themselves are made and read through the HTTP API.
"""
import threading

import peewee as pw
import pytest

from app.services import maintenance
from app.services.run_lock import RunLock
from models import ExtensionRecord, ExtensionSchema, Service, database
from tests.calls import error_of, ok, start_service, start_state, start_task

DAY_MS = 86_400_000
ATTRIBUTES = {
    "attribute:ServiceType": {"Sales": "100, Sales", "Support": "200, Support", "Billing": "300, Billing"},
    "attribute:Disposition": {"Abandoned": "40, Abandoned"},
    "business_attributes": {"Service.type": "ServiceType", "*.disposition": "Disposition"},
}


def run_at(app, now, **options):
    """The configured maintenance run of app at time now; its Outcome."""
    policy = maintenance.Policy.from_settings(app.extensions["context_services"].settings)
    return maintenance.run(maintenance.configured_jobs(policy), now, max_services=10**6, **options)


def last_activity(service_id):
    return Service.select(Service.last_activity_ms).where(Service.id == service_id).scalar()


def completed_ms_of(client, service_id, timestamp):
    ok(client.post(f"/services/{service_id}/end", json={"timestamp": timestamp}))
    return Service.select(Service.completed_ms).where(Service.id == service_id).scalar()


# --- idle auto-complete ------------------------------------------------------------------

def test_an_idle_service_is_auto_completed_at_its_idle_time_and_not_a_millisecond_before(make_app):
    app = make_app(lifecycle={"auto_complete_after_s": 600, "auto_complete_disposition": "Abandoned"},
                   **ATTRIBUTES)
    client = app.test_client()
    service_id = start_service(client, customer_id="c1", service_type="Sales")
    state_id = start_state(client, service_id)
    start_task(client, service_id, state_id=state_id)
    idle_since = last_activity(service_id)

    assert run_at(app, idle_since + 600_000 - 1).done["auto_completed"] == 0
    assert "completed" not in ok(client.get(f"/services/{service_id}"))

    outcome = run_at(app, idle_since + 600_000 + 1)
    assert outcome.done["auto_completed"] == 1 and outcome.still_due["auto_completed"] == 0

    service = ok(client.get(f"/services/{service_id}?completed_states=true&completed_tasks=true"))
    assert service["disposition"] == 40 and service["disposition_desc"] == "auto-completed"
    completed_at = service["completed"]["timestamp"]
    state, task = service["completed_states"][0], service["completed_tasks"][0]
    assert state["completed"]["timestamp"] == task["completed"]["timestamp"] == completed_at
    assert state["disposition_desc"] == task["disposition_desc"] == "auto-completed"
    assert "disposition" not in state and "disposition" not in task


def test_at_exactly_the_idle_time_the_service_is_due(make_app):
    app = make_app(lifecycle={"auto_complete_after_s": 60})
    service_id = start_service(app.test_client())
    assert run_at(app, last_activity(service_id) + 60_000).done["auto_completed"] == 1


@pytest.mark.parametrize("write", ["state_start", "state_end", "transition", "task_start", "task_end",
                                   "service_value", "state_value", "associate", "update_record",
                                   "delete_record"])
def test_every_write_on_a_service_counts_as_activity(make_app, write):
    app = make_app(lifecycle={"auto_complete_after_s": 60})
    client = app.test_client()
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    ok(client.post("/metadata/states/extensions", json=ORDERS), 201)
    service_id = start_service(client, Orders=[{"order_id": "A", "amount": 1}])
    state_id = start_state(client, service_id)
    task_id = start_task(client, service_id)
    Service.update(last_activity_ms=0).where(Service.id == service_id).execute()     # long idle

    base = f"/services/{service_id}"
    response = {
        "state_start": lambda: client.post(f"{base}/states/start", json={"state_type": 1}),
        "state_end": lambda: client.post(f"{base}/states/{state_id}/end"),
        "transition": lambda: client.post(f"{base}/states/transition",
                                          json={"from": {"state_id": state_id}, "to": {"state_type": 2}}),
        "task_start": lambda: client.post(f"{base}/tasks/start", json={"task_type": 1}),
        "task_end": lambda: client.post(f"{base}/tasks/{task_id}/end"),
        "service_value": lambda: client.put(f"{base}/extensions/Orders", json=[{"order_id": "B", "amount": 2}]),
        "state_value": lambda: client.put(f"{base}/states/{state_id}/extensions/Orders",
                                          json=[{"order_id": "S", "amount": 2}]),
        "associate": lambda: client.post(f"/customers/c9/services/{service_id}"),
        "update_record": lambda: client.put(f"{base}/extensions/Orders/by/unique",
                                            json={"order_id": "A", "amount": 5}),
        "delete_record": lambda: client.put(f"{base}/extensions/Orders/delete/by/unique", json={"order_id": "A"}),
    }[write]()
    assert response.status_code < 300, response.get_json()
    assert last_activity(service_id) > 0
    assert run_at(app, last_activity(service_id) + 60_000 - 1).done["auto_completed"] == 0


ORDERS = {"name": "Orders", "type": "multi-valued", "unique": ["order_id"], "attributes": [
    {"name": "order_id", "type": "string"}, {"name": "amount", "type": "integer"}]}


def test_a_refused_write_is_no_activity(make_app):
    app = make_app(lifecycle={"auto_complete_after_s": 60})
    client = app.test_client()
    service_id = start_service(client)
    Service.update(last_activity_ms=0).where(Service.id == service_id).execute()
    error_of(client.post(f"/services/{service_id}/states/start", json={"state_type": "x"}))
    error_of(client.post(f"/services/{service_id}/tasks/start", json={"task_type": 1, "state_id": 9}))
    assert last_activity(service_id) == 0


def test_auto_complete_is_off_by_default_and_leaves_completed_services_alone(make_app):
    app = make_app()
    client = app.test_client()
    active = start_service(client)
    ended = start_service(client)
    ok(client.post(f"/services/{ended}/end", json={"disposition_desc": "mine"}))
    assert "auto_completed" not in run_at(app, last_activity(active) + 365 * DAY_MS).done
    app_on = make_app(lifecycle={"auto_complete_after_s": 1})
    assert run_at(app_on, last_activity(active) + DAY_MS).done["auto_completed"] == 1
    assert ok(client.get(f"/services/{ended}"))["disposition_desc"] == "mine"


def test_a_service_started_ahead_of_the_clock_completes_at_its_start(make_app):
    app = make_app(lifecycle={"auto_complete_after_s": 1})
    client = app.test_client()
    service_id = start_service(client, timestamp="2999-01-01T00:00:00Z")
    run_at(app, last_activity(service_id) + 5_000)
    service = ok(client.get(f"/services/{service_id}"))
    assert service["completed"]["timestamp"] == "2999-01-01T00:00:00.000Z" and service["duration"] == 0


# --- retention ---------------------------------------------------------------------------

def test_retention_purges_a_completed_service_a_millisecond_after_its_days(make_app):
    app = make_app(retention={"completed_days": 2})
    client = app.test_client()
    service_id = start_service(client, customer_id="c1", timestamp="2026-01-01T00:00:00Z")
    start_state(client, service_id, timestamp="2026-01-01T00:10:00Z")
    completed = completed_ms_of(client, service_id, "2026-01-01T01:00:00Z")

    assert run_at(app, completed + 2 * DAY_MS - 1).done["purged"] == 0
    assert run_at(app, completed + 2 * DAY_MS).done["purged"] == 0         # not older than 2 days yet
    assert ok(client.get(f"/services/{service_id}"))["service_id"] == service_id
    outcome = run_at(app, completed + 2 * DAY_MS + 1)
    assert outcome.done["purged"] == 1 and outcome.still_due["purged"] == 0
    assert error_of(client.get(f"/services/{service_id}"), 404)["error_code"] == "SERVICE_NOT_FOUND"


def test_retention_never_purges_active_services(make_app):
    app = make_app(retention={"completed_days": 1})
    client = app.test_client()
    service_id = start_service(client, timestamp="2020-01-01T00:00:00Z")
    assert run_at(app, last_activity(service_id) + 1000 * DAY_MS).done["purged"] == 0
    assert ok(client.get(f"/services/{service_id}"))


def test_retention_per_service_type_overrides_the_default(make_app):
    app = make_app(retention={"completed_days": 1}, **{"retention:Sales": {"completed_days": 3},
                                                       "retention:200": {"completed_days": 0}}, **ATTRIBUTES)
    client = app.test_client()
    ids = {kind: start_service(client, service_type=kind, timestamp="2026-01-01T00:00:00Z")
           for kind in ("Sales", "Support", 300)}
    completed = {kind: completed_ms_of(client, service_id, "2026-01-01T00:00:01Z")
                 for kind, service_id in ids.items()}
    at = completed[300]

    assert run_at(app, at + DAY_MS).done["purged"] == 0
    assert run_at(app, at + DAY_MS + 1).done["purged"] == 1                 # the default: type 300
    assert client.get(f"/services/{ids[300]}").status_code == 404
    assert run_at(app, at + 3 * DAY_MS).done["purged"] == 0
    assert run_at(app, at + 3 * DAY_MS + 1).done["purged"] == 1             # Sales: 3 days
    assert client.get(f"/services/{ids['Sales']}").status_code == 404
    assert run_at(app, at + 10_000 * DAY_MS).done["purged"] == 0            # Support (200): forever
    assert ok(client.get(f"/services/{ids['Support']}"))


def test_a_type_override_purges_even_when_the_default_keeps_forever(make_app):
    app = make_app(**{"retention:7": {"completed_days": 0.5}})
    client = app.test_client()
    kept = start_service(client, service_type=8, timestamp="2026-01-01T00:00:00Z")
    gone = start_service(client, service_type=7, timestamp="2026-01-01T00:00:00Z")
    completed_ms_of(client, kept, "2026-01-01T00:00:00Z")
    at = completed_ms_of(client, gone, "2026-01-01T00:00:00Z")
    assert run_at(app, at + DAY_MS // 2 + 1).done["purged"] == 1
    assert client.get(f"/services/{gone}").status_code == 404 and ok(client.get(f"/services/{kept}"))


def due_for_purge(make_app, count):
    """(app keeping completed services one day, a time at which its count services are due)."""
    app = make_app(retention={"completed_days": 1})
    client = app.test_client()
    for _ in range(count):
        completed_ms_of(client, start_service(client, timestamp="2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z")
    return app, Service.select(pw.fn.MAX(Service.completed_ms)).scalar() + 2 * DAY_MS


def test_a_run_stops_at_its_maximum_and_the_next_one_continues(make_app):
    app, now = due_for_purge(make_app, 5)
    policy = maintenance.Policy.from_settings(app.extensions["context_services"].settings)
    first = maintenance.run(maintenance.configured_jobs(policy), now, max_services=3, batch_size=2)
    assert (first.done["purged"], first.still_due["purged"]) == (3, 2)
    second = maintenance.run(maintenance.configured_jobs(policy), now, max_services=3)
    assert (second.done["purged"], second.still_due["purged"]) == (2, 0)


def test_after_each_batch_the_run_rests_its_pause_ratio_times_the_batch_time(make_app):
    app, now = due_for_purge(make_app, 5)
    ticks = iter(range(1000))
    rests = []
    # Each reading of the clock is 10 ms after the one before: every batch "takes" 10 ms.
    outcome = run_at(app, now, batch_size=2, pause_ratio=2.5, clock=lambda: next(ticks) / 100, sleep=rests.append)
    assert outcome.done["purged"] == 5
    assert rests == [pytest.approx(0.025)] * 3        # batches of 2, 2 and 1; none after the empty one
    assert Service.select().count() == 0


def test_a_pause_ratio_of_0_runs_flat_out(make_app):
    app, now = due_for_purge(make_app, 1)
    rests = []
    outcome = run_at(app, now, pause_ratio=0, sleep=rests.append)
    assert (outcome.done["purged"], rests) == (1, [])


def test_a_dry_run_counts_and_changes_nothing(make_app):
    app = make_app(retention={"completed_days": 1}, lifecycle={"auto_complete_after_s": 1})
    client = app.test_client()
    active = start_service(client)
    completed_ms_of(client, start_service(client, timestamp="2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z")
    outcome = run_at(app, last_activity(active) + 400 * DAY_MS, dry_run=True)
    assert outcome.done == {"auto_completed": 0, "purged": 0, "deleted_schema_values": 0}
    assert outcome.still_due == {"auto_completed": 1, "purged": 1, "deleted_schema_values": 0}
    assert Service.select().count() == 2 and "completed" not in ok(client.get(f"/services/{active}"))


# --- values of deleted schemas -----------------------------------------------------------

def test_values_of_a_deleted_schema_are_removed_and_others_kept(make_app):
    app = make_app()
    client = app.test_client()
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    ok(client.post("/metadata/services/extensions", json={**ORDERS, "name": "Kept"}), 201)
    for n in range(3):
        start_service(client, Orders=[{"order_id": f"o{n}", "amount": 1}, {"order_id": "x", "amount": 2}],
                      Kept=[{"order_id": "k", "amount": 1}])
    ok(client.delete("/metadata/services/extensions/Orders"), 204)
    assert ExtensionRecord.select().count() == 9

    outcome = run_at(app, 0)
    assert outcome.done["deleted_schema_values"] == 6 and outcome.still_due["deleted_schema_values"] == 0
    assert ExtensionRecord.select().count() == 3
    assert {record.name for record in ExtensionRecord.select()} == {"Kept"}
    assert [schema.name for schema in ExtensionSchema.select()] == ["Kept"]


# --- POST /maintenance/purge -------------------------------------------------------------

def test_purge_without_a_body_runs_the_configured_work(make_app):
    app = make_app(retention={"completed_days": 1})
    client = app.test_client()
    old = start_service(client, timestamp="2020-01-01T00:00:00Z")
    ok(client.post(f"/services/{old}/end", json={"timestamp": "2020-01-01T00:00:01Z"}))
    recent = start_service(client)
    ok(client.post(f"/services/{recent}/end"))

    assert ok(client.post("/maintenance/purge?dry_run=true")) == {
        "dry_run": True, "purged": {"done": 0, "still_due": 1},
        "deleted_schema_values": {"done": 0, "still_due": 0}}
    assert ok(client.get(f"/services/{old}"))
    assert ok(client.post("/maintenance/purge", data="")) == {
        "dry_run": False, "purged": {"done": 1, "still_due": 0},
        "deleted_schema_values": {"done": 0, "still_due": 0}}
    assert client.get(f"/services/{old}").status_code == 404 and ok(client.get(f"/services/{recent}"))


@pytest.mark.parametrize("operation, purged", [
    ("purge.service.all", {"old_active", "old_completed", "old_anonymous_active", "old_anonymous_completed"}),
    ("purge.service.started", {"old_active", "old_anonymous_active"}),
    ("purge.service.started.anonymous", {"old_anonymous_active"}),
    ("purge.service.completed", {"old_completed", "old_anonymous_completed"}),
    ("purge.service.completed.anonymous", {"old_anonymous_completed"}),
])
def test_purge_operations_of_8_5_remove_what_they_name_started_before_the_limit(client, operation, purged):
    ids = {}
    for age, started in (("old", "2026-01-01T00:00:00Z"), ("new", "2026-01-01T00:00:00.001Z")):
        for owner, fields in (("", {"customer_id": "c1"}), ("anonymous_", {"contact_key": "k"})):
            for status in ("active", "completed"):
                service_id = start_service(client, timestamp=started, **fields)
                if status == "completed":
                    ok(client.post(f"/services/{service_id}/end"))
                ids[f"{age}_{owner}{status}"] = service_id

    body = ok(client.post("/maintenance/purge?max=100",
                          json={"limit": "2026-01-01T01:00:00.001+01:00", "operation": operation}))

    assert body == {"dry_run": False, "operation": operation, "limit": "2026-01-01T00:00:00.001Z",
                    "purged": {"done": len(purged), "still_due": 0}}
    gone = {name for name, service_id in ids.items() if client.get(f"/services/{service_id}").status_code == 404}
    assert gone == purged


def test_purge_refuses_bad_parameters_and_bodies_and_changes_nothing(client):
    service_id = start_service(client, timestamp="2020-01-01T00:00:00Z")
    limit = "2030-01-01T00:00:00Z"
    for query in ("max=0", "max=100001", "max=ten", "dry_run=maybe"):
        error = error_of(client.post(f"/maintenance/purge?{query}"))
        assert error["error_code"] == "INVALID_PARAMETER", query
    for body in ({"limit": limit}, {"operation": "purge.service.all"},
                 {"limit": "yesterday", "operation": "purge.service.all"},
                 {"limit": limit, "operation": "purge.everything"},
                 {"limit": limit, "operation": "purge.service.all", "extra": 1}):
        assert error_of(client.post("/maintenance/purge", json=body))["error_code"] == "VALIDATION_ERROR", body
    assert error_of(client.post("/maintenance/purge", data="[1]"))["error_code"] == "INVALID_BODY"
    assert ok(client.get(f"/services/{service_id}"))


def test_purge_answers_409_while_another_run_holds_the_lock(client):
    service_id = start_service(client, timestamp="2020-01-01T00:00:00Z")
    holding, release = threading.Event(), threading.Event()

    def other_run():
        with database.connection_context(), RunLock():
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(30)
        error = error_of(client.post("/maintenance/purge", json={"limit": "2030-01-01T00:00:00Z",
                                                                 "operation": "purge.service.all"}), 409)
        assert error["error_code"] == "MAINTENANCE_RUNNING"
        assert ok(client.get(f"/services/{service_id}"))
    finally:
        release.set()
        thread.join()
    assert ok(client.post("/maintenance/purge", json={"limit": "2030-01-01T00:00:00Z",
                                                      "operation": "purge.service.all"}))["purged"]["done"] == 1


def test_purge_works_in_maintenance_mode(client):
    ok(client.post("/server/mode", json={"mode": "maintenance"}))
    assert ok(client.post("/maintenance/purge"))["dry_run"] is False
