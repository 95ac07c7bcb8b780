"""Deleting an extension schema (SPEC §12, findings 3 and 4 of issue 13).

The delete marks the schema and answers: its values stay in the database, unreachable, until
the maintenance run removes them in batches of at most 1,000 records, then the schema row.
A schema registered again under the same name never sees the old values, and a write that
still carries the deleted schema (another worker's cache) is refused with 409.
"""
import time

import pytest

from app.services import maintenance
from models import ExtensionRecord, ExtensionSchema, ExtensionUniqueKey
from tests.calls import error_of, ok, start_service

ORDERS = {"name": "Orders", "type": "multi-valued", "unique": ["order_id"],
          "attributes": [{"name": "order_id", "type": "string", "length": 16},
                         {"name": "amount", "type": "integer"}]}
# The same name registered again, with other attributes.
ORDERS_AGAIN = {"name": "orders", "type": "multi-valued",
                "attributes": [{"name": "sku", "type": "string", "length": 16}]}


def fill(client, services, records_each):
    """Start `services` services, then give each `records_each` Orders records by PUT."""
    ids = []
    for n in range(services):
        service_id = start_service(client)
        records = [{"order_id": f"{n}-{r}", "amount": r} for r in range(records_each)]
        ok(client.put(f"/services/{service_id}/extensions/Orders", json=records))
        ids.append(service_id)
    return ids


def maintain(app):
    """The maintenance run as `context-services maintain` does it; the sizes of its batches."""
    policy = maintenance.Policy.from_settings(app.extensions["context_services"].settings)
    batches = []
    outcome = maintenance.run(maintenance.configured_jobs(policy), 0, max_services=10**8, progress=batches.append)
    return outcome, batches


def delete_leaves_values_to_maintain(app, services, records_each):
    client = app.test_client()
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    ids = fill(client, services, records_each)
    total = services * records_each

    began = time.perf_counter()
    ok(client.delete("/metadata/services/extensions/Orders"), 204)
    answered_s = time.perf_counter() - began

    # The request removed nothing: the rows wait for the maintenance run...
    assert ExtensionRecord.select().count() == total
    # ...and are unreachable already.
    error_of(client.get("/metadata/services/extensions/Orders"), 404)
    error_of(client.get(f"/services/{ids[0]}?extensions=Orders"), 400)
    error_of(client.put(f"/services/{ids[0]}/extensions/Orders", json=[{"order_id": "x"}]), 404)

    began = time.perf_counter()
    outcome, batches = maintain(app)
    print(f"delete of a schema with {total} records answered in {answered_s * 1000:.0f} ms; maintain removed "
          f"them in {time.perf_counter() - began:.1f} s, {len(batches)} batches")
    assert outcome.done["deleted_schema_values"] == total
    assert outcome.still_due["deleted_schema_values"] == 0
    assert batches and max(batches) <= 1000
    assert ExtensionRecord.select().count() == 0 and ExtensionUniqueKey.select().count() == 0
    assert ExtensionSchema.select().count() == 0       # the schema row goes with its last value
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    assert ok(client.get(f"/services/{ids[0]}?extensions=Orders")).get("Orders") is None


def test_deleting_a_schema_of_20000_records_leaves_them_to_maintain_in_batches(make_app):
    delete_leaves_values_to_maintain(make_app(), services=20, records_each=1000)


@pytest.mark.stress
def test_deleting_a_schema_of_200000_records_leaves_them_to_maintain_in_batches(make_app):
    delete_leaves_values_to_maintain(make_app(), services=200, records_each=1000)


def test_a_name_registered_again_never_sees_the_old_values(make_app):
    client = make_app().test_client()
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    service_id = start_service(client, Orders=[{"order_id": "a", "amount": 1}])
    ok(client.delete("/metadata/services/extensions/Orders"), 204)

    ok(client.post("/metadata/services/extensions", json=ORDERS_AGAIN), 201)

    assert "orders" not in ok(client.get(f"/services/{service_id}?extensions=orders"))
    ok(client.put(f"/services/{service_id}/extensions/orders", json=[{"sku": "s1"}]))
    assert ok(client.get(f"/services/{service_id}?extensions=orders"))["orders"] == [{"sku": "s1"}]


def test_a_write_carrying_a_schema_deleted_meanwhile_is_refused_and_the_new_one_sees_nothing(make_app):
    # Two workers: `stale` loaded Orders before `other` deleted it and registered the name again.
    stale = make_app(extensions={"refresh_seconds": 3600}).test_client()
    other = make_app().test_client()
    ok(other.post("/metadata/services/extensions", json=ORDERS), 201)
    first = start_service(stale, Orders=[{"order_id": "old", "amount": 1}])

    ok(other.delete("/metadata/services/extensions/Orders"), 204)
    ok(other.post("/metadata/services/extensions", json=ORDERS_AGAIN), 201)

    refused = stale.post("/services/start", json={"service_type": 1, "contact_key": "k",
                                                  "Orders": [{"order_id": "late", "amount": 2}]})
    assert error_of(refused, 409)["error_code"] == "CONCURRENT_CHANGE"
    error_of(stale.put(f"/services/{first}/extensions/Orders", json=[{"order_id": "late"}]), 409)
    assert "orders" not in ok(other.get(f"/services/{first}?extensions=orders"))
    assert not ExtensionRecord.select().where(ExtensionRecord.value.contains("late")).exists()


def test_a_deleted_schema_frees_its_name_and_its_place_among_the_max_schemas(make_app):
    client = make_app(extensions={"max_schemas": 1}).test_client()
    ok(client.post("/metadata/services/extensions", json=ORDERS), 201)
    start_service(client, Orders=[{"order_id": "a"}])
    ok(client.delete("/metadata/services/extensions/Orders"), 204)
    error_of(client.delete("/metadata/services/extensions/Orders"), 404)
    ok(client.post("/metadata/services/extensions", json=ORDERS_AGAIN), 201)
    assert [schema["name"] for schema in ok(client.get("/metadata/services/extensions"))] == ["orders"]


def test_a_reused_id_on_sqlite_is_told_apart_by_the_registration(make_app):
    # Once maintain removed the tombstone, SQLite may give its ID to the next schema; a worker
    # still carrying the old registration is refused all the same.
    stale = make_app(extensions={"refresh_seconds": 3600}).test_client()
    app = make_app()
    other = app.test_client()
    ok(other.post("/metadata/services/extensions", json=ORDERS), 201)
    start_service(stale, Orders=[{"order_id": "old"}])
    ok(other.delete("/metadata/services/extensions/Orders"), 204)
    maintain(app)
    ok(other.post("/metadata/services/extensions", json={**ORDERS, "name": "orders"}), 201)

    refused = stale.post("/services/start", json={"service_type": 1, "contact_key": "k",
                                                  "Orders": [{"order_id": "late"}]})
    assert error_of(refused, 409)["error_code"] == "CONCURRENT_CHANGE"
