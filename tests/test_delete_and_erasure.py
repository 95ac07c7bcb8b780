"""DELETE /services/<id> and DELETE /customers/<id> (SPEC §13)."""
import json

from models import ALL_TABLES, ExtensionRecord, ExtensionUniqueKey, Service, State, Task, database
from tests.calls import error_of, ok, start_service, start_state, start_task

ORDERS = {"name": "Orders", "type": "multi-valued", "unique": ["order_id"], "attributes": [
    {"name": "order_id", "type": "string", "length": 20}, {"name": "amount", "type": "integer"}]}
NOTE = {"name": "Note", "type": "single-valued", "attributes": [{"name": "text", "type": "string"}]}


def register_extensions(client):
    for kind in ("services", "states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=ORDERS), 201)
        ok(client.post(f"/metadata/{kind}/extensions", json=NOTE), 201)


def full_service(client, **owner):
    """A service with a state, a task and values with unique keys on all three."""
    service_id = start_service(client, Orders=[{"order_id": "A1", "amount": 3}], **owner)
    state_id = start_state(client, service_id, Note={"text": "hello"})
    start_task(client, service_id, state_id=state_id, Orders=[{"order_id": "T1", "amount": 1}])
    ok(client.put(f"/services/{service_id}/states/{state_id}/extensions/Orders",
                  json=[{"order_id": "S1", "amount": 2}]))
    return service_id


def rows_of(service_id):
    return {model.__name__: model.select().where(column == service_id).count()
            for model, column in ((Service, Service.id), (State, State.service), (Task, Task.service),
                                  (ExtensionRecord, ExtensionRecord.service_id),
                                  (ExtensionUniqueKey, ExtensionUniqueKey.service_id))}


def test_delete_service_removes_it_with_states_tasks_and_values(client):
    register_extensions(client)
    doomed, kept = full_service(client, customer_id="c1"), full_service(client, customer_id="c1")
    kept_rows = rows_of(kept)
    assert all(rows_of(doomed).values())

    response = client.delete(f"/services/{doomed}")
    assert response.status_code == 204 and response.data == b""

    assert error_of(client.get(f"/services/{doomed}"), 404)["error_code"] == "SERVICE_NOT_FOUND"
    assert not any(rows_of(doomed).values())
    assert rows_of(kept) == kept_rows
    assert [service["service_id"] for service in ok(client.get("/customers/c1/services"))] == [kept]


def test_delete_service_twice_or_unknown_is_404(client):
    service_id = start_service(client)
    assert client.delete(f"/services/{service_id}").status_code == 204
    assert error_of(client.delete(f"/services/{service_id}"), 404)["error_code"] == "SERVICE_NOT_FOUND"
    assert error_of(client.delete(f"/services/{service_id + 1}"), 404)["error_code"] == "SERVICE_NOT_FOUND"
    assert error_of(client.delete("/services/0"), 404)["error_code"] == "SERVICE_NOT_FOUND"
    assert error_of(client.delete("/services/99999999999999999999"), 404)["error_code"] == "SERVICE_NOT_FOUND"


def test_a_deleted_service_takes_no_more_writes(client):
    service_id = start_service(client)
    client.delete(f"/services/{service_id}")
    assert error_of(client.post(f"/services/{service_id}/states/start", json={"state_type": 1}),
                    404)["error_code"] == "SERVICE_NOT_FOUND"
    assert error_of(client.post(f"/services/{service_id}/end"), 404)["error_code"] == "SERVICE_NOT_FOUND"
    assert State.select().count() == 0


def _every_row_as_text():
    """(table, row text) of every row of every table of the server."""
    for model in ALL_TABLES:
        for row in model.select().dicts():
            yield model._meta.table_name, json.dumps(row, default=str, ensure_ascii=False)


def test_erasure_leaves_no_row_anywhere_that_mentions_the_customer_or_the_contact_keys(client):
    register_extensions(client)
    for _ in range(3):
        full_service(client, customer_id="ERASE-ME", contact_key="+33100000001")
    full_service(client, contact_key="+33100000002")                     # anonymous, listed key
    full_service(client, contact_key="+33100000003")                     # anonymous, listed key
    associated = full_service(client, contact_key="+33100000009")        # later identified
    ok(client.post(f"/customers/ERASE-ME/services/{associated}"))
    other = full_service(client, customer_id="KEEP-ME", contact_key="+33100000004")
    unlisted = full_service(client, contact_key="+33100000005")
    other_rows, unlisted_rows = rows_of(other), rows_of(unlisted)

    body = ok(client.delete("/customers/ERASE-ME?contact_keys=%2B33100000002,%2B33100000003,,%2B33100000002"))

    assert body == {"customer_id": "ERASE-ME", "contact_keys": ["+33100000002", "+33100000003"],
                    "services": 4, "anonymous_services": 2}
    secrets = ("ERASE-ME", "33100000001", "33100000002", "33100000003", "33100000009")
    leaks = [(table, text) for table, text in _every_row_as_text() if any(s in text for s in secrets)]
    assert leaks == []
    assert rows_of(other) == other_rows and rows_of(unlisted) == unlisted_rows
    assert ok(client.get("/customers/ERASE-ME/services")) == []


def test_erasure_of_an_unknown_customer_answers_zero_counts(client):
    assert ok(client.delete("/customers/nobody")) == {
        "customer_id": "nobody", "contact_keys": [], "services": 0, "anonymous_services": 0}


def test_erasure_keeps_a_customers_services_found_by_contact_key_only_when_anonymous(client):
    mine = start_service(client, customer_id="c1", contact_key="k")
    theirs = start_service(client, customer_id="c2", contact_key="k")
    body = ok(client.delete("/customers/c1?contact_keys=k"))
    assert (body["services"], body["anonymous_services"]) == (1, 0)
    assert client.get(f"/services/{mine}").status_code == 404
    assert ok(client.get(f"/services/{theirs}"))["customer_id"] == "c2"


def test_erasure_refuses_bad_parameters_and_changes_nothing(client):
    service_id = start_service(client, customer_id="c1")
    too_long = error_of(client.delete("/customers/c1?contact_keys=" + "9" * 65))
    assert too_long["error_code"] == "INVALID_PARAMETER" and "contact_keys" in too_long["fields"]
    too_many = error_of(client.delete("/customers/c1?contact_keys=" + ",".join(str(n) for n in range(101))))
    assert too_many["error_code"] == "INVALID_PARAMETER"
    assert error_of(client.delete("/customers/" + "c" * 17))["error_code"] == "VALIDATION_ERROR"
    assert ok(client.get(f"/services/{service_id}"))["customer_id"] == "c1"


def test_erasure_of_more_services_than_one_batch_removes_them_all(client, monkeypatch):
    from app.services import removal
    for name in ("MAX_BATCH", "SQLITE_BATCH"):          # several transactions without 1000s of services
        monkeypatch.setattr(removal, name, 3)
    for _ in range(7):
        start_service(client, customer_id="many")
    assert ok(client.delete("/customers/many"))["services"] == 7
    assert Service.select().count() == 0


def test_deletes_are_refused_in_maintenance_mode(client):
    service_id = start_service(client, customer_id="c1")
    ok(client.post("/server/mode", json={"mode": "maintenance"}))
    assert error_of(client.delete(f"/services/{service_id}"), 503)["error_code"] == "MAINTENANCE"
    assert error_of(client.delete("/customers/c1"), 503)["error_code"] == "MAINTENANCE"
    ok(client.post("/server/mode", json={"mode": "production"}))
    assert client.delete(f"/services/{service_id}").status_code == 204


def test_database_holds_nothing_after_deleting_every_service(client):
    register_extensions(client)
    ids = [full_service(client, customer_id="c1") for _ in range(2)]
    for service_id in ids:
        assert client.delete(f"/services/{service_id}").status_code == 204
    with database.atomic():
        assert [model.select().count() for model in (Service, State, Task, ExtensionRecord, ExtensionUniqueKey)] \
            == [0, 0, 0, 0, 0]
