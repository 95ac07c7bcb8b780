"""POST /services/<id>/end (SPEC §3.3)."""
import pytest

from tests.calls import error_of, ok, start_service
from tests.vendor import register_vendor_extensions, start_example


def test_complete_answers_200_with_the_completed_resource(client):
    service_id = start_service(client, customer_id="c1", timestamp="2026-03-01T10:00:00.000Z")
    body = ok(client.post(f"/services/{service_id}/end", json={
        "timestamp": "2026-03-01T10:02:03.456Z", "disposition": 4, "disposition_desc": "sold",
        "interaction_id": "I-2", "media_type": 3}))
    assert body == {
        "service_id": service_id, "service_type": 1, "customer_id": "c1",
        "started": {"timestamp": "2026-03-01T10:00:00.000Z"},
        "completed": {"timestamp": "2026-03-01T10:02:03.456Z", "interaction_id": "I-2", "media_type": 3},
        "disposition": 4, "disposition_desc": "sold", "duration": 123456,
    }
    assert ok(client.get(f"/services/{service_id}")) == body


def test_complete_without_a_body_takes_the_server_time(client):
    service_id = start_service(client)
    body = ok(client.post(f"/services/{service_id}/end"))
    assert body["duration"] >= 0
    assert set(body["completed"]) == {"timestamp"}


def test_complete_accepts_an_empty_object_and_text_plain(client):
    service_id = start_service(client)
    response = client.post(f"/services/{service_id}/end", data="{}", content_type="text/plain")
    assert "completed" in ok(response)


def test_complete_twice_is_refused_and_keeps_the_first_completion(client):
    service_id = start_service(client, timestamp="2026-03-01T10:00:00Z")
    first = ok(client.post(f"/services/{service_id}/end", json={"timestamp": "2026-03-01T10:00:01Z"}))
    error = error_of(client.post(f"/services/{service_id}/end", json={"timestamp": "2026-03-01T10:00:09Z",
                                                                      "disposition": 9}))
    assert error["error_code"] == "ALREADY_COMPLETED"
    assert error["http_method"] == "POST" and error["uri"] == f"/services/{service_id}/end"
    assert ok(client.get(f"/services/{service_id}")) == first


def test_completion_before_the_start_is_refused(client):
    service_id = start_service(client, timestamp="2026-03-01T10:00:00Z")
    error = error_of(client.post(f"/services/{service_id}/end", json={"timestamp": "2026-03-01T09:59:59.999Z"}))
    assert error["error_code"] == "TIMESTAMP_BEFORE_START"
    assert "timestamp" in error["fields"]
    assert "completed" not in ok(client.get(f"/services/{service_id}"))


def test_completion_at_the_start_time_has_duration_zero(client):
    service_id = start_service(client, timestamp="2026-03-01T10:00:00Z")
    assert ok(client.post(f"/services/{service_id}/end", json={"timestamp": "2026-03-01T12:00:00+02:00"})
              )["duration"] == 0


def test_completion_without_timestamp_of_a_service_started_in_the_future_has_duration_zero(client):
    service_id = start_service(client, timestamp="2999-01-01T00:00:00Z")
    body = ok(client.post(f"/services/{service_id}/end"))
    assert body["completed"]["timestamp"] == "2999-01-01T00:00:00.000Z"
    assert body["duration"] == 0


def test_completion_replaces_the_extension_values_sent_and_keeps_the_others(client):
    register_vendor_extensions(client)
    service_id = start_service(client, **start_example())
    ok(client.post(f"/services/{service_id}/end", json={
        "coupon": {"coupon_name": "THANKS"},
        "relatedOffers": [{"offer_name": "only this one"}]}))
    body = ok(client.get(f"/services/{service_id}?extensions=coupon,satisfaction,relatedOffers"))
    assert body["coupon"] == {"coupon_name": "THANKS"}
    assert body["satisfaction"] == start_example()["satisfaction"]
    assert body["relatedOffers"] == [{"offer_name": "only this one"}]


def test_completion_with_an_invalid_extension_value_changes_nothing(client):
    register_vendor_extensions(client)
    service_id = start_service(client, **start_example())
    error = error_of(client.post(f"/services/{service_id}/end", json={
        "disposition": 3, "relatedOffers": [{"offer_name": "a"}, {"offer_name": "a"}]}))
    assert error["error_code"] == "VALIDATION_ERROR"
    assert "relatedOffers" in error["fields"]
    body = ok(client.get(f"/services/{service_id}?extensions=relatedOffers"))
    assert "completed" not in body and body["disposition"] == 10
    assert body["relatedOffers"] == start_example()["relatedOffers"]


@pytest.mark.parametrize("body, field", [
    ({"customer_id": "c2"}, "customer_id"),
    ({"service_type": 2}, "service_type"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"disposition_desc": "x" * 65}, "disposition_desc"),
    ({"unknownThing": {"a": 1}}, "unknownThing"),
])
def test_completion_with_a_bad_field_is_refused_naming_it(client, body, field):
    service_id = start_service(client)
    error = error_of(client.post(f"/services/{service_id}/end", json=body))
    assert field in error["fields"]
    assert "completed" not in ok(client.get(f"/services/{service_id}"))


def test_completion_body_that_is_not_an_object_is_refused(client):
    service_id = start_service(client)
    assert error_of(client.post(f"/services/{service_id}/end", json=[1]))["error_code"] == "INVALID_BODY"


def test_completing_an_unknown_service_is_404(client):
    error = error_of(client.post("/services/12345/end", json={}), 404)
    assert error["error_code"] == "SERVICE_NOT_FOUND"


@pytest.mark.parametrize("path_id", ["0", str(2**53), "99999999999999999999"])
def test_completing_a_service_id_out_of_range_is_404(client, path_id):
    assert error_of(client.post(f"/services/{path_id}/end"), 404)["error_code"] == "SERVICE_NOT_FOUND"
