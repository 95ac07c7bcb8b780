"""POST /customers/<customer_id>/services/<service_id> (SPEC §3.4)."""
import pytest

from tests.calls import error_of, ok, start_service
from tests.vendor import register_vendor_extensions, start_example


def associate(client, customer_id, service_id, body=None):
    return client.post(f"/customers/{customer_id}/services/{service_id}", json=body)


def test_associating_an_anonymous_service_attaches_it_and_keeps_the_contact_key(client):
    service_id = start_service(client, contact_key="+15550101")
    body = ok(associate(client, "cust-1", service_id))
    assert body["customer_id"] == "cust-1" and body["contact_key"] == "+15550101"
    assert ok(client.get(f"/services/{service_id}")) == body


def test_associating_without_a_body_changes_only_the_customer(client):
    service_id = start_service(client, contact_key="k", interaction_id="I-1", est_duration=30, disposition=2)
    before = ok(client.get(f"/services/{service_id}"))
    after = ok(client.post(f"/customers/c9/services/{service_id}"))
    assert after == {**before, "customer_id": "c9"}


def test_associating_updates_start_fields_and_merges_context(client):
    service_id = start_service(client, contact_key="k", interaction_id="I-1", media_type=1,
                               timestamp="2026-03-01T10:00:00Z")
    body = ok(associate(client, "c1", service_id, {
        "service_type": 7, "interaction_id": "I-2", "resource_id": 5, "est_duration": 90,
        "disposition": 1, "disposition_desc": "identified"}))
    assert body["service_type"] == 7 and body["est_duration"] == 90
    assert body["disposition"] == 1 and body["disposition_desc"] == "identified"
    assert body["started"] == {"timestamp": "2026-03-01T10:00:00.000Z", "interaction_id": "I-2",
                               "resource_id": 5, "media_type": 1}


def test_associating_keeps_the_start_time_when_a_timestamp_is_sent(client):
    service_id = start_service(client, contact_key="k", timestamp="2026-03-01T10:00:00Z")
    body = ok(associate(client, "c1", service_id, {"timestamp": "2026-03-01T11:00:00Z"}))
    assert body["started"]["timestamp"] == "2026-03-01T10:00:00.000Z"


def test_associating_replaces_the_extension_values_sent(client):
    register_vendor_extensions(client)
    service_id = start_service(client, **start_example())
    ok(associate(client, "c1", service_id, {"satisfaction": {"score": 99}}))
    body = ok(client.get(f"/services/{service_id}?extensions=coupon,satisfaction"))
    assert body["satisfaction"] == {"score": 99}
    assert body["coupon"] == start_example()["coupon"]


def test_a_second_association_moves_the_service_to_the_other_customer(client):
    service_id = start_service(client, customer_id="first")
    ok(associate(client, "second", service_id))
    assert ok(client.get("/customers/first/services")) == []
    assert [s["service_id"] for s in ok(client.get("/customers/second/services"))] == [service_id]


def test_a_completed_service_can_be_associated(client):
    service_id = start_service(client, contact_key="k")
    ok(client.post(f"/services/{service_id}/end"))
    assert ok(associate(client, "late", service_id))["customer_id"] == "late"


def test_a_customer_id_longer_than_16_characters_is_refused(client):
    service_id = start_service(client, contact_key="k")
    error = error_of(associate(client, "x" * 17, service_id))
    assert error["error_code"] == "VALIDATION_ERROR" and "customer_id" in error["fields"]
    assert "customer_id" not in ok(client.get(f"/services/{service_id}"))


def test_a_16_character_customer_id_is_accepted(client):
    service_id = start_service(client, contact_key="k")
    assert ok(associate(client, "x" * 16, service_id))["customer_id"] == "x" * 16


@pytest.mark.parametrize("body, field", [
    ({"customer_id": "other"}, "customer_id"),
    ({"contact_key": "other"}, "contact_key"),
    ({"service_type": "x"}, "service_type"),
    ({"est_duration": -1}, "est_duration"),
    ({"nope": {}}, "nope"),
])
def test_associating_with_a_bad_field_changes_nothing(client, body, field):
    service_id = start_service(client, contact_key="k")
    before = ok(client.get(f"/services/{service_id}"))
    error = error_of(associate(client, "c1", service_id, body))
    assert field in error["fields"]
    assert ok(client.get(f"/services/{service_id}")) == before


def test_associating_an_unknown_service_is_404(client):
    assert error_of(associate(client, "c1", 777), 404)["error_code"] == "SERVICE_NOT_FOUND"
