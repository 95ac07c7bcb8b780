"""POST /services/start (SPEC §3.1) and what it leaves in the database."""
import pytest

from models import ExtensionRecord, ExtensionUniqueKey, Service, database
from tests.vendor import (START_EXAMPLE_WITH_TRAILING_COMMAS, register_vendor_extensions,
                          start_example)


def start(client, body, **kwargs):
    return client.post("/services/start", json=body, **kwargs)


def stored_counts():
    with database.connection_context():
        return Service.select().count(), ExtensionRecord.select().count(), ExtensionUniqueKey.select().count()


def error_of(response, status=400):
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_vendor_example_is_stored_and_read_back_whole(client):
    register_vendor_extensions(client)
    response = start(client, start_example())
    assert response.status_code == 201
    service_id = response.get_json()["service_id"]
    assert isinstance(service_id, int) and 0 < service_id < 2**53
    assert response.headers["Location"] == f"/services/{service_id}"

    body = client.get(f"/services/{service_id}?extensions=coupon,satisfaction,relatedOffers").get_json()
    example = start_example()
    assert body == {
        "service_id": service_id,
        "service_type": 100,
        "contact_key": "42",
        "est_duration": 60,
        "started": {"timestamp": "2009-05-12T12:05:12.145Z", "interaction_id": "123ABCAADFJ1259ACF",
                    "application_type": 400, "application_id": 40, "resource_type": 2, "resource_id": 5005,
                    "media_type": 1},
        "disposition": 10,
        "coupon": example["coupon"],
        "satisfaction": example["satisfaction"],
        "relatedOffers": example["relatedOffers"],
    }
    assert stored_counts() == (1, 5, 3)


def test_vendor_example_with_its_trailing_commas_names_line_and_column(client):
    register_vendor_extensions(client)
    error = error_of(client.post("/services/start", data=START_EXAMPLE_WITH_TRAILING_COMMAS,
                                 content_type="text/plain"))
    assert error["error_code"] == "INVALID_JSON"
    assert "line 5 column 46" in error["message"]
    assert stored_counts() == (0, 0, 0)


def test_minimal_start_with_customer_only(client):
    response = start(client, {"customer_id": "c1", "service_type": "7"})
    assert response.status_code == 201
    body = client.get(response.headers["Location"]).get_json()
    assert body["customer_id"] == "c1" and body["service_type"] == 7
    assert "contact_key" not in body and "disposition" not in body and "completed" not in body
    assert set(body["started"]) == {"timestamp"}


def test_absent_timestamp_means_server_time(client):
    import time
    before = time.time()
    location = start(client, {"contact_key": "k", "service_type": 1}).headers["Location"]
    stamp = client.get(location).get_json()["started"]["timestamp"]
    from schemas.timestamps import parse_timestamp
    assert before - 1 <= parse_timestamp(stamp) / 1000 <= time.time() + 1


@pytest.mark.parametrize("sent,stored", [
    ("2009-05-12T12:05:12.145Z", "2009-05-12T12:05:12.145Z"),
    ("2009-05-12T12:05:12Z", "2009-05-12T12:05:12.000Z"),
    ("2009-05-12T12:05:12", "2009-05-12T12:05:12.000Z"),           # no offset: UTC
    ("2009-05-12T14:05:12.5+02:00", "2009-05-12T12:05:12.500Z"),
    ("2009-05-12T07:35:12.123456-04:30", "2009-05-12T12:05:12.123Z"),
    ("2009-05-12T12:05:12.999+0000", "2009-05-12T12:05:12.999Z"),
])
def test_timestamps_with_and_without_offsets_are_stored_in_utc(client, sent, stored):
    location = start(client, {"contact_key": "k", "service_type": 1, "timestamp": sent}).headers["Location"]
    assert client.get(location).get_json()["started"]["timestamp"] == stored


@pytest.mark.parametrize("bad", ["yesterday", "2009-05-12", "2009-13-12T12:00:00Z", "12:00:00",
                                 "2009-05-12T25:00:00Z", "2009-05-12T12:00:00+25:00", 1242129912145, True])
def test_invalid_timestamps_are_refused_naming_the_field(client, bad):
    error = error_of(start(client, {"contact_key": "k", "service_type": 1, "timestamp": bad}))
    assert "timestamp" in error["fields"]
    assert stored_counts()[0] == 0


def test_customer_id_or_contact_key_is_required(client):
    error = error_of(start(client, {"service_type": 1}))
    assert error["error_code"] == "MISSING_CONTACT"
    assert error["message"] == "customer_id or contact_key is required"
    assert error["http_method"] == "POST" and error["uri"] == "/services/start" and error["http_code"] == 400


def test_service_type_is_required(client):
    error = error_of(start(client, {"contact_key": "k"}))
    assert error["error_code"] == "VALIDATION_ERROR"
    assert error["fields"] == {"service_type": ["Missing data for required field."]}


@pytest.mark.parametrize("field,limit", [("customer_id", 16), ("contact_key", 64), ("session_id", 32),
                                         ("interaction_id", 50), ("disposition_desc", 64)])
def test_length_limits_are_enforced_at_the_limit(client, field, limit):
    body = {"customer_id": "c", "service_type": 1}
    assert start(client, {**body, field: "x" * limit}).status_code == 201
    error = error_of(start(client, {**body, field: "x" * (limit + 1)}))
    assert field in error["fields"] and str(limit) in error["fields"][field][0]
    assert field in error["message"]
    assert stored_counts()[0] == 1


@pytest.mark.parametrize("field,value", [
    ("customer_id", 5), ("contact_key", ["a"]), ("service_type", "abc"), ("service_type", True),
    ("service_type", 1.5), ("service_type", 2**64), ("media_type", {}), ("application_id", "x"),
    ("resource_id", 2.5), ("est_duration", -1), ("est_duration", "soon"), ("disposition", []),
    ("session_id", 12), ("customer_id", ""),
])
def test_wrong_core_field_types_are_refused(client, field, value):
    body = {"customer_id": "c", "service_type": 1, field: value}
    error = error_of(start(client, body))
    assert field in error["fields"]
    assert stored_counts()[0] == 0


def test_nulls_on_optional_fields_mean_absent_but_not_on_required_ones(client):
    response = start(client, {"contact_key": "k", "service_type": 1, "customer_id": None, "media_type": None})
    assert response.status_code == 201
    assert "customer_id" not in client.get(response.headers["Location"]).get_json()
    assert "service_type" in error_of(start(client, {"contact_key": "k", "service_type": None}))["fields"]


def test_decimal_strings_are_accepted_for_numbers(client):
    response = start(client, {"contact_key": "k", "service_type": "100", "application_id": "40",
                              "est_duration": "60"})
    body = client.get(response.headers["Location"]).get_json()
    assert (body["service_type"], body["started"]["application_id"], body["est_duration"]) == (100, 40, 60)


def test_unknown_extension_is_refused_naming_it_and_how_to_register(client):
    error = error_of(start(client, {"contact_key": "k", "service_type": 1, "feedback": {"a": 1}}))
    assert error["error_code"] == "UNKNOWN_EXTENSION"
    assert "feedback" in error["fields"]
    assert "POST /metadata/services/extensions" in error["message"]
    assert stored_counts() == (0, 0, 0)


def test_extension_names_ignore_case_on_start(client):
    register_vendor_extensions(client)
    response = start(client, {"contact_key": "k", "service_type": 1, "COUPON": {"coupon_name": "x"}})
    assert response.status_code == 201
    assert client.get(response.headers["Location"] + "?extensions=Coupon").get_json()["coupon"] == {
        "coupon_name": "x"}
    both = {"contact_key": "k", "service_type": 1, "coupon": {"coupon_name": "x"}, "Coupon": {"coupon_name": "y"}}
    assert error_of(start(client, both))["error_code"] == "VALIDATION_ERROR"


TYPED = {"name": "typed", "type": "single-valued", "attributes": [
    {"name": "b", "type": "boolean"}, {"name": "s", "type": "string", "length": 5},
    {"name": "i", "type": "integer"}, {"name": "l", "type": "long"}, {"name": "d", "type": "double"},
    {"name": "dt", "type": "date"}, {"name": "ts", "type": "datetime"}, {"name": "c", "type": "currency"},
]}


@pytest.mark.parametrize("attribute,good,stored,bad", [
    ("b", True, True, "maybe"),
    ("b", "false", False, 1),
    ("s", "hello", "hello", "toolong"),
    ("s", "", "", 5),
    ("i", 2**31 - 1, 2**31 - 1, 2**31),
    ("i", "-12", -12, 1.5),
    ("l", 2**63 - 1, 2**63 - 1, 2**63),
    ("l", -2**63, -2**63, "12a"),
    ("d", 1.25, 1.25, "1.25"),
    ("d", 3, 3.0, True),
    ("dt", "2024-02-29", "2024-02-29", "2023-02-29"),
    ("ts", "2024-02-29T10:00:00+01:00", "2024-02-29T09:00:00.000Z", "2024-02-29"),
    ("c", 12.5, 12.5, 12.345),
    ("c", "19.99", 19.99, "abc"),
])
def test_extension_attribute_types_are_checked(client, attribute, good, stored, bad):
    assert client.post("/metadata/services/extensions", json=TYPED).status_code == 201
    response = start(client, {"contact_key": "k", "service_type": 1, "typed": {attribute: good}})
    assert response.status_code == 201, response.get_json()
    assert client.get(response.headers["Location"] + "?extensions=typed").get_json()["typed"] == {attribute: stored}
    error = error_of(start(client, {"contact_key": "k", "service_type": 1, "typed": {attribute: bad}}))
    assert error["fields"] == {"typed": {attribute: error["fields"]["typed"][attribute]}}
    assert stored_counts()[0] == 1


def test_mandatory_attributes_and_defaults(client):
    schema = {"name": "survey", "type": "single-valued", "attributes": [
        {"name": "question", "type": "string", "mandatory": True},
        {"name": "score", "type": "integer", "default": 5},
        {"name": "note", "type": "string"}]}
    assert client.post("/metadata/services/extensions", json=schema).status_code == 201
    error = error_of(start(client, {"contact_key": "k", "service_type": 1, "survey": {"score": 1}}))
    assert error["fields"] == {"survey": {"question": ["Missing data for required field."]}}
    response = start(client, {"contact_key": "k", "service_type": 1, "survey": {"question": "q"}})
    read = client.get(response.headers["Location"] + "?extensions=survey").get_json()
    assert read["survey"] == {"question": "q", "score": 5}


def test_unknown_attributes_and_wrong_shapes_are_refused(client):
    register_vendor_extensions(client)
    base = {"contact_key": "k", "service_type": 1}
    assert "coupon" in error_of(start(client, {**base, "coupon": {"coupon_name": "x", "extra": 1}}))["fields"]
    assert "coupon" in error_of(start(client, {**base, "coupon": [{"coupon_name": "x"}]}))["fields"]
    assert "relatedOffers" in error_of(start(client, {**base, "relatedOffers": {"offer_name": "x"}}))["fields"]
    assert "relatedOffers" in error_of(start(client, {**base, "relatedOffers": ["x"]}))["fields"]
    assert stored_counts() == (0, 0, 0)


def test_duplicate_unique_records_are_refused_and_nothing_is_stored(client):
    register_vendor_extensions(client)
    body = start_example()
    body["relatedOffers"].append({"offer_name": "life insurance", "type": 1})
    error = error_of(start(client, body))
    assert "relatedOffers" in error["fields"]
    assert "life insurance" in str(error["fields"]["relatedOffers"])
    assert stored_counts() == (0, 0, 0)


def test_the_same_unique_values_on_two_services_are_fine(client):
    register_vendor_extensions(client)
    assert start(client, start_example()).status_code == 201
    assert start(client, start_example()).status_code == 201
    assert stored_counts() == (2, 10, 6)


def test_composite_unique_keys(client):
    schema = {"name": "phones", "type": "multi-valued",
              "attributes": [{"name": "number", "type": "string"}, {"name": "ext", "type": "string"}],
              "unique": [["number", "ext"]]}
    client.post("/metadata/services/extensions", json=schema)
    base = {"contact_key": "k", "service_type": 1}
    ok = [{"number": "1", "ext": "a"}, {"number": "1", "ext": "b"}]
    assert start(client, {**base, "phones": ok}).status_code == 201
    error_of(start(client, {**base, "phones": ok + [{"number": "1", "ext": "a"}]}))


def test_a_failed_start_leaves_nothing_behind(client):
    register_vendor_extensions(client)
    body = start_example()
    body["satisfaction"] = {"score": "high"}
    error_of(start(client, body))
    assert stored_counts() == (0, 0, 0)


def test_body_must_be_an_object(client):
    assert error_of(client.post("/services/start", data="[]"))["error_code"] == "INVALID_BODY"
    assert error_of(client.post("/services/start"))["error_code"] == "MISSING_BODY"


def test_wide_layout_sends_ids_as_strings(make_app):
    client = make_app(ids={"layout": "wide"}).test_client()
    response = start(client, {"contact_key": "k", "service_type": 1})
    service_id = response.get_json()["service_id"]
    assert isinstance(service_id, str) and int(service_id) > 0
    assert response.headers["Location"] == f"/services/{service_id}"
    assert client.get(f"/services/{service_id}").get_json()["service_id"] == service_id


def test_ids_are_distinct_and_increasing(client):
    ids = [start(client, {"contact_key": "k", "service_type": 1}).get_json()["service_id"] for _ in range(50)]
    assert ids == sorted(set(ids))


def test_base_path_prefixes_every_route(make_app):
    client = make_app(api={"base_path": "/genesys/1/cs"}).test_client()
    response = start(client, {"contact_key": "k", "service_type": 1}, base_url="http://localhost")
    assert response.status_code == 404
    response = client.post("/genesys/1/cs/services/start", json={"contact_key": "k", "service_type": 1})
    assert response.status_code == 201
    assert response.headers["Location"].startswith("/genesys/1/cs/services/")
    assert client.get(response.headers["Location"]).status_code == 200


def test_free_mode_stores_any_top_level_key(make_app):
    client = make_app(extensions={"mode": "free"}).test_client()
    register_vendor_extensions(client)
    body = {"contact_key": "k", "service_type": 1, "notes": ["a", 1, None], "flag": True,
            "coupon": {"coupon_name": "x"}}
    response = start(client, body)
    assert response.status_code == 201
    read = client.get(response.headers["Location"] + "?extensions=notes,flag,coupon").get_json()
    assert (read["notes"], read["flag"], read["coupon"]) == (["a", 1, None], True, {"coupon_name": "x"})
    # registered schemas are still enforced in free mode
    assert error_of(start(client, {**body, "coupon": {"wrong": 1}}))["fields"].keys() == {"coupon"}


def test_a_start_at_the_epoch_keeps_that_time(client):
    """1970-01-01T00:00:00Z is 0 ms: a time like any other, not the absence of one."""
    location = start(client, {"contact_key": "k", "service_type": 1,
                              "timestamp": "1970-01-01T00:00:00Z"}).headers["Location"]
    assert client.get(location).get_json()["started"]["timestamp"] == "1970-01-01T00:00:00.000Z"


def test_a_clock_before_the_id_epoch_gives_503_and_stores_nothing(app):
    from app.ids import EPOCH_MS, LeasedIdSource
    from models import WorkerLease
    from tests.support import ScriptedClock
    runtime = app.extensions["context_services"]
    runtime.ids.release()
    runtime.ids = LeasedIdSource(WorkerLease, runtime.ids.layout, clock=ScriptedClock(EPOCH_MS - 60_000))
    response = start(app.test_client(), {"contact_key": "k", "service_type": 1})
    error = error_of(response, 503)
    assert error["error_code"] == "CLOCK_OUT_OF_RANGE" and response.headers["Retry-After"]
    assert stored_counts()[0] == 0
    runtime.ids.release()
