"""Hostile request bodies through HTTP, on both databases: a clear 4xx or a faithful store, never a 500.

Every test runs through the Flask test client against the real database, and the `apps`
fixture asserts at the end that no request was answered with a 5xx. Malformed JSON and
oversized bodies on every route: test_hostile_routes.py.
"""
import json

import pytest

from models import ExtensionRecord, ExtensionSchema, Service, database
from tests.hostile import HOSTILE_TEXTS, HUGE_NUMBERS, assert_error_shape, assert_tables_intact
from tests.vendor import EXTENSION_SCHEMAS, register_vendor_extensions, start_example

START = {"contact_key": "k", "service_type": 1}


@pytest.fixture
def apps(make_app):
    """make_app, remembering each app so the end-of-test check can read its counters."""
    made = []

    def make(**sections):
        app = make_app(**sections)
        made.append(app)
        return app

    yield make
    for app in made:
        assert app.extensions["context_services"].stats.server_errors_today == 0, "a request got a 5xx"


@pytest.fixture
def client(apps):
    return apps().test_client()


def start_with(key, raw_value):
    """A start body as bytes, with key set to the raw JSON text raw_value."""
    others = [json.dumps(k) + ": " + json.dumps(v) for k, v in START.items() if k != key]
    return ("{" + ", ".join(others + [json.dumps(key) + ": "])).encode() + raw_value + b"}"


def stored_counts():
    with database.connection_context():
        return Service.select().count(), ExtensionRecord.select().count(), ExtensionSchema.select().count()


# --- JSON that parses to something unusual (malformed JSON: test_hostile_routes.py) ---

def test_a_number_beyond_a_double_is_refused_even_where_any_json_goes(apps):
    client = apps(extensions={"mode": "free"}).test_client()
    for literal in (b"1e400", b"[1, -1e400]", b'{"a": 2.5e308}'):
        raw = b'{"contact_key": "k", "service_type": 1, "notes": ' + literal + b"}"
        error = assert_error_shape(client.post("/services/start", data=raw), 400)
        assert error["error_code"] == "INVALID_JSON" and "beyond the range of a double" in error["message"]
    assert stored_counts() == (0, 0, 0)


def test_nesting_is_limited_to_100_levels_well_below_the_recursion_limit(apps):
    client = apps(extensions={"mode": "free", "max_value_bytes": 1 << 20}).test_client()
    # the body is level 1, so the value holds 99 levels
    deepest = json.loads("[" * 98 + '{"a": 1}' + "]" * 98)
    for value in (deepest, {"k": deepest}):
        response = client.post("/services/start", json={"contact_key": "k", "customer_id": "c", "service_type": 1,
                                                         "notes": value})
        if value is deepest:
            assert response.status_code == 201
            assert client.get(response.headers["Location"] + "?extensions=notes").get_json()["notes"] == value
            assert client.get("/customers/c/services?extensions=notes").get_json()[0]["notes"] == value
        else:
            error = assert_error_shape(response, 400)
            assert error["error_code"] == "INVALID_JSON" and "more than 100 levels" in error["message"]
    for depth in (101, 500, 980, 985, 989):
        raw = b'{"contact_key": "k", "service_type": 1, "notes": ' + b"[" * depth + b"]" * depth + b"}"
        assert assert_error_shape(client.post("/services/start", data=raw), 400)["error_code"] == "INVALID_JSON"
    # wide but shallow is fine: many brackets, little depth
    wide = [[{}] * 10 for _ in range(10_000)]
    assert client.post("/services/start", json={"contact_key": "k", "service_type": 1, "notes": wide}).status_code == 201
    assert stored_counts() == (2, 2, 0)


def test_escaped_surrogate_pairs_and_escaped_backslashes_are_fine(client):
    raw = rb'{"contact_key": "\ud83d\ude00 \\ud800", "service_type": 1}'
    response = client.post("/services/start", data=raw)
    assert response.status_code == 201
    assert client.get(response.headers["Location"]).get_json()["contact_key"] == "\U0001F600 \\ud800"


# --- size ----------------------------------------------------------------------------

def test_one_mebibyte_strings_under_a_larger_limit_meet_the_field_limits(apps):
    client = apps(api={"max_body_bytes": 4 << 20}).test_client()
    register_vendor_extensions(client)
    huge = "x" * (1 << 20)
    for body, field in [({"contact_key": huge, "service_type": 1}, "contact_key"),
                        ({"contact_key": "k", "service_type": huge}, "service_type"),
                        ({"contact_key": "k", "service_type": 1, "coupon": {"coupon_name": huge}}, "coupon")]:
        error = assert_error_shape(client.post("/services/start", json=body), 400)
        assert field in error["fields"]
    extension = {"name": huge, "type": "single-valued", "attributes": []}
    assert "name" in assert_error_shape(client.post("/metadata/services/extensions", json=extension), 400)["fields"]
    assert "mode" in assert_error_shape(client.post("/server/mode", json={"mode": huge}), 400)["fields"]
    assert stored_counts() == (0, 0, 3)


def test_values_and_definitions_beyond_64_kib_are_stored_whole(apps):
    client = apps(api={"max_body_bytes": 4 << 20},
                  extensions={"mode": "free", "max_value_bytes": 4 << 20}).test_client()
    wide = {"name": "wide", "type": "multi-valued", "attributes": [
        {"name": "a", "type": "string", "length": 65535, "default": "é" * 65535},
        {"name": "b", "type": "string", "length": 65535, "default": "😀" * 65535}]}
    assert client.post("/metadata/services/extensions", json=wide).status_code == 201
    assert client.get("/metadata/services/extensions/wide").get_json()["attributes"][1]["default"] == "😀" * 65535
    values = {"wide": [{"a": "😀" * 65535, "b": "😀" * 65535}, {}], "notes": "x" * (1 << 20),
              "more": ["😀" * 100_000, {"k": "é" * 100_000}]}
    response = client.post("/services/start", json={"contact_key": "k", "service_type": 1, **values})
    assert response.status_code == 201
    read = client.get(response.headers["Location"] + "?extensions=wide,notes,more").get_json()
    assert read["wide"] == [values["wide"][0], {"a": "é" * 65535, "b": "😀" * 65535}]
    assert (read["notes"], read["more"]) == (values["notes"], values["more"])


def test_a_value_with_a_hundred_thousand_records_is_stored_whole(apps):
    client = apps(extensions={"max_records": 100_000, "max_value_bytes": 1 << 20}).test_client()
    # 7 parameters a record: far beyond SQLite's limit on parameters in one statement
    definition = {"name": "many", "type": "multi-valued", "attributes": [{"name": "a", "type": "integer"}]}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    records = [{}] * 90_000 + [{"a": n} for n in range(10_000)]
    response = client.post("/services/start", json={"contact_key": "k", "service_type": 1, "many": records})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(response.headers["Location"] + "?extensions=many").get_json()["many"] == records
    assert stored_counts() == (1, 100_000, 1)


# --- numbers -------------------------------------------------------------------------

START_NUMBER_FIELDS = ["service_type", "application_type", "application_id", "resource_type", "resource_id",
                       "media_type", "est_duration", "disposition"]


@pytest.mark.parametrize("field", START_NUMBER_FIELDS)
def test_numbers_beyond_64_bits_are_refused_naming_the_field(client, field):
    for number in HUGE_NUMBERS:
        for raw in (number, b'"' + number + b'"'):
            error = assert_error_shape(client.post("/services/start", data=start_with(field, raw)), 400)
            assert field in error["fields"], (field, raw)
    assert stored_counts() == (0, 0, 0)


def test_numbers_beyond_64_bits_in_extension_values_and_definitions_are_refused(client):
    register_vendor_extensions(client)
    for number in HUGE_NUMBERS:
        value = json.loads(number)
        body = {"contact_key": "k", "service_type": 1, "satisfaction": {"score": value},
                "relatedOffers": [{"offer_name": "a", "type": value}]}
        error = assert_error_shape(client.post("/services/start", json=body), 400)
        assert set(error["fields"]) == {"satisfaction", "relatedOffers"}
        for attribute in ({"name": "n", "type": "long", "default": value},
                          {"name": "n", "type": "string", "length": value}):
            definition = {"name": "big", "type": "single-valued", "attributes": [attribute]}
            assert "attributes" in assert_error_shape(
                client.post("/metadata/services/extensions", json=definition), 400)["fields"]
    assert stored_counts() == (0, 0, 3)


@pytest.mark.parametrize("amount", ["1e999999999", "-1E+999999999", "1e-999999999", "9" * 5000, "1e13",
                                    "9999999999999.995", 1e300, "0e999999999"])
def test_currency_amounts_beyond_its_range_are_refused(client, amount):
    definition = {"name": "price", "type": "single-valued", "attributes": [{"name": "c", "type": "currency"}]}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    response = client.post("/services/start", json={"contact_key": "k", "service_type": 1, "price": {"c": amount}})
    if amount == "0e999999999":
        assert response.status_code == 201    # zero, however it is spelled
        return
    assert "price" in assert_error_shape(response, 400)["fields"]
    with_default = {"name": "fee", "type": "single-valued",
                    "attributes": [{"name": "c", "type": "currency", "default": amount}]}
    assert "attributes" in assert_error_shape(client.post("/metadata/services/extensions", json=with_default),
                                              400)["fields"]
    assert stored_counts() == (0, 0, 1)


def test_the_64_bit_edges_of_a_long_attribute_are_stored_exactly(client):
    definition = {"name": "edges", "type": "multi-valued", "attributes": [{"name": "n", "type": "long"}]}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    records = [{"n": -2**63}, {"n": 2**63 - 1}, {"n": 2**53 + 1}, {"n": 0}]
    response = client.post("/services/start", json={"contact_key": "k", "service_type": 1, "edges": records})
    assert response.status_code == 201
    assert client.get(response.headers["Location"] + "?extensions=edges").get_json()["edges"] == records


# --- nulls, arrays and objects where something else belongs --------------------------

WRONG_SHAPES = [None, [], {}, [None], [[]], True, 1.5, "", " ", "\u0000"]


@pytest.mark.parametrize("field", ["customer_id", "contact_key", "service_type", "session_id", "interaction_id",
                                   "application_id", "est_duration", "disposition", "disposition_desc",
                                   "timestamp", "media_type"])
def test_wrong_shapes_in_start_fields_are_refused_or_mean_absent(client, field):
    for value in WRONG_SHAPES:
        body = {"customer_id": "c", "service_type": 1, field: value}
        response = client.post("/services/start", json=body)
        if response.status_code == 201:
            # only a null on an optional field, or a string that is a valid value, gets in
            read = client.get(response.headers["Location"]).get_json()
            assert value is None or isinstance(value, str), (field, value)
            shown = read.get(field, read["started"].get(field))
            if field == "timestamp":
                assert value is None and shown       # null: the server's time, as when absent
            else:
                assert shown == value or (value is None and shown is None), (field, value, read)
        else:
            error = assert_error_shape(response, 400)
            assert field in error["fields"], (field, value)
    assert_tables_intact()


@pytest.mark.parametrize("value", [None, [], "x", 1, True, [None], [[]], [1], [{"coupon_name": "x"}],
                                   {"coupon_name": None}, {"coupon_name": {}}, {"coupon_name": ["x"]}])
def test_wrong_shapes_of_single_valued_extension_values_are_refused(client, value):
    register_vendor_extensions(client)
    body = {"contact_key": "k", "service_type": 1, "coupon": value}
    assert "coupon" in assert_error_shape(client.post("/services/start", json=body), 400)["fields"]
    assert stored_counts() == (0, 0, 3)


@pytest.mark.parametrize("value", [None, {}, "x", 1, [None], [[]], [1], [{"offer_name": None}],
                                   {"offer_name": "x"}, [{"offer_name": ["x"]}], [{"offer_name": {"x": 1}}]])
def test_wrong_shapes_of_multi_valued_extension_values_are_refused(client, value):
    register_vendor_extensions(client)
    body = {"contact_key": "k", "service_type": 1, "relatedOffers": value}
    assert "relatedOffers" in assert_error_shape(client.post("/services/start", json=body), 400)["fields"]
    assert stored_counts() == (0, 0, 3)


DEFINITION_FIELDS = ["name", "type", "attributes", "unique"]
ATTRIBUTE_FIELDS = ["name", "type", "length", "default", "mandatory", "encrypt", "unique"]
DEFINITION_VALUES = WRONG_SHAPES + [[{}], [[None]], {"a": 1}, -1, 2**31, "multi-valued", ["a", ["a"]]]


@pytest.mark.parametrize("field", DEFINITION_FIELDS)
def test_wrong_shapes_in_extension_definitions_never_break_the_server(client, field):
    base = {"name": "probe", "type": "multi-valued", "attributes": [{"name": "a", "type": "string"}]}
    for number, value in enumerate(DEFINITION_VALUES):
        body = {**base, "name": f"probe{number}", field: value}
        response = client.post("/metadata/services/extensions", json=body)
        if response.status_code == 201:
            assert client.get(response.headers["Location"]).status_code == 200
        else:
            assert_error_shape(response, 400)


@pytest.mark.parametrize("field", ATTRIBUTE_FIELDS)
@pytest.mark.parametrize("attribute_type", ["string", "integer", "long", "double", "boolean", "date", "datetime",
                                            "currency"])
def test_wrong_shapes_in_attribute_definitions_never_break_the_server(client, field, attribute_type):
    for number, value in enumerate(DEFINITION_VALUES):
        attribute = {"name": "a", "type": attribute_type, field: value}
        body = {"name": f"probe{number}", "type": "single-valued", "attributes": [attribute]}
        response = client.post("/metadata/services/extensions", json=body)
        if response.status_code == 201:
            # an accepted definition must also accept values: its default is a valid one
            read = client.get(response.headers["Location"]).get_json()
            started = client.post("/services/start", json={"contact_key": "k", "service_type": 1,
                                                           read["name"]: {}})
            assert started.status_code in (201, 400), started.get_data(as_text=True)
            if started.status_code == 400:
                assert_error_shape(started, 400)
        else:
            assert "attributes" in assert_error_shape(response, 400)["fields"]


@pytest.mark.parametrize("value", WRONG_SHAPES + ["Production", "maintenance ", "maintenance\u0000", 1])
def test_wrong_modes_are_refused_and_change_nothing(client, value):
    assert "mode" in assert_error_shape(client.post("/server/mode", json={"mode": value}), 400)["fields"]
    assert client.get("/server/status").get_json()["mode"] == "production"
    assert client.post("/services/start", json=START).status_code == 201


# --- text that must come back exactly as sent ----------------------------------------

@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_is_stored_and_returned_verbatim(client, text):
    register_vendor_extensions(client)
    body = {"customer_id": text[:16], "contact_key": text[:64], "service_type": 1, "session_id": text[:32],
            "interaction_id": text[:50], "disposition_desc": text[:64],
            "coupon": {"coupon_name": text},
            "relatedOffers": [{"offer_name": text, "comments": text}, {"offer_name": text + "2"}]}
    response = client.post("/services/start", json=body)
    assert response.status_code == 201, response.get_json()
    read = client.get(response.headers["Location"] + "?extensions=coupon,relatedOffers")
    assert read.mimetype == "application/json"
    got = read.get_json()
    assert (got["customer_id"], got["contact_key"], got["disposition_desc"]) == (
        text[:16], text[:64], text[:64])
    assert (got["started"]["session_id"], got["started"]["interaction_id"]) == (text[:32], text[:50])
    assert got["coupon"] == body["coupon"] and got["relatedOffers"] == body["relatedOffers"]
    # byte-identical on the wire: the UTF-8 of the text's JSON string, nothing re-encoded
    assert json.dumps(text, ensure_ascii=False).encode() in read.get_data()
    assert_tables_intact()
    assert stored_counts() == (1, 3, 3)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_in_a_definition_default_is_returned_verbatim(client, text):
    definition = {"name": "probe", "type": "single-valued",
                  "attributes": [{"name": "a", "type": "string", "default": text}]}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    read = client.get("/metadata/services/extensions/probe").get_json()
    assert read["attributes"][0]["default"] == text
    started = client.post("/services/start", json={"contact_key": "k", "service_type": 1, "probe": {}})
    assert client.get(started.headers["Location"] + "?extensions=probe").get_json()["probe"] == {"a": text}
    assert_tables_intact()


@pytest.mark.parametrize("stamp", ["\u0662\u0660\u0660\u0669-05-12T12:05:12Z", "2009-05-12T12:05:12.\u0661Z",
                                   "2009-05-12T12:05:12+\uff10\uff12:00", "\U0001d7d0009-05-12T12:05:12Z"])
def test_timestamps_with_digits_outside_ascii_are_refused(client, stamp):
    register_vendor_extensions(client)
    definition = {"name": "when", "type": "single-valued", "attributes": [{"name": "at", "type": "datetime"}]}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    for body in ({"contact_key": "k", "service_type": 1, "timestamp": stamp},
                 {"contact_key": "k", "service_type": 1, "when": {"at": stamp}}):
        error = assert_error_shape(client.post("/services/start", json=body), 400)
        assert set(error["fields"]) & {"timestamp", "when"}
    assert stored_counts() == (0, 0, 4)


@pytest.fixture
def latin1_mysql_url(backend):
    """A new MySQL database whose default character set is latin1, next to the test database."""
    if backend != "mysql":
        pytest.skip("about the character set of a MySQL database")
    from urllib.parse import urlparse
    from app.db import open_database
    from tests.conftest import MYSQL_URL
    name = urlparse(MYSQL_URL).path.lstrip("/") + "_latin1"
    server = open_database(MYSQL_URL)
    with server.connection_context():
        server.execute_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.execute_sql(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
    yield MYSQL_URL.rsplit("/", 1)[0] + "/" + name
    with server.connection_context():
        server.execute_sql(f"DROP DATABASE IF EXISTS `{name}`")


def test_unicode_survives_a_mysql_database_created_as_latin1(latin1_mysql_url, apps):
    client = apps(database={"url": latin1_mysql_url}).test_client()
    register_vendor_extensions(client)
    text = HOSTILE_TEXTS[7]      # emoji: four bytes each in UTF-8
    response = client.post("/services/start", json={"contact_key": text, "service_type": 1,
                                                    "coupon": {"coupon_name": text}})
    assert response.status_code == 201
    read = client.get(response.headers["Location"] + "?extensions=coupon").get_json()
    assert (read["contact_key"], read["coupon"]["coupon_name"]) == (text, text)


def test_length_limits_count_characters_not_bytes(client):
    register_vendor_extensions(client)
    emoji = "😀"     # one character, four UTF-8 bytes, two UTF-16 units
    ok = client.post("/services/start", json={"customer_id": emoji * 16, "contact_key": emoji * 64,
                                               "service_type": 1})
    assert ok.status_code == 201
    assert client.get(ok.headers["Location"]).get_json()["contact_key"] == emoji * 64
    for field, limit in (("customer_id", 16), ("contact_key", 64)):
        refused = client.post("/services/start", json={"contact_key": "k", "service_type": 1,
                                                       field: emoji * (limit + 1)})
        assert field in assert_error_shape(refused, 400)["fields"]


def test_injection_text_in_extension_and_query_names_is_refused_and_harmless(client):
    register_vendor_extensions(client)
    for name in ("x'; DROP TABLE extension_schema; --", "<script>", "a" * 27, "é", "a b"):
        body = {"name": name, "type": "single-valued", "attributes": []}
        assert "name" in assert_error_shape(client.post("/metadata/services/extensions", json=body), 400)["fields"]
        started = client.post("/services/start", json={"contact_key": "k", "service_type": 1, name: {}})
        assert name in assert_error_shape(started, 400)["fields"]
    service = client.post("/services/start", json=start_example()).headers["Location"]
    read = client.get(service + "?extensions=coupon,x'%3B%20DROP%20TABLE%20service%3B--")
    assert assert_error_shape(read, 400)["error_code"] == "UNKNOWN_EXTENSION"
    assert_tables_intact()
    assert [s["name"] for s in client.get("/metadata/services/extensions").get_json()] == [
        s["name"] for s in EXTENSION_SCHEMAS]


# --- free mode: anything JSON is stored as sent --------------------------------------

@pytest.mark.parametrize("value", [
    "'; DROP TABLE extension_record; --", "<script>alert(1)</script>", "a\u0000b😀", 123456789012345678901234567890,
    -0.0, 1.7976931348623157e308, 5e-324, [None, True, {"": ""}, []], {"nested": {"deep": [[[["x"]]]]}},
])
def test_free_mode_stores_any_json_value_verbatim(apps, value):
    client = apps(extensions={"mode": "free"}).test_client()
    response = client.post("/services/start", json={"contact_key": "k", "service_type": 1, "notes": value})
    assert response.status_code == 201
    read = client.get(response.headers["Location"] + "?extensions=notes")
    assert read.get_json()["notes"] == value
    assert json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() in read.get_data()
    assert_tables_intact()


# --- states, tasks and the other lifecycle routes ------------------------------------

def journey(client):
    """A service, an active state and an active task in it: (service_id, state_id, task_id)."""
    service = client.post("/services/start", json={"contact_key": "k", "service_type": 1}).get_json()["service_id"]
    state = client.post(f"/services/{service}/states/start", json={"state_type": 1}).get_json()["state_id"]
    task = client.post(f"/services/{service}/tasks/start", json={"task_type": 1, "state_id": state})
    return service, state, task.get_json()["task_id"]


LIFECYCLE_FIELDS = {
    "start state": ("/services/{s}/states/start", {"state_type": 1},
                    ["state_type", "previous_state_id", "est_duration", "timestamp", "session_id", "application_id",
                     "media_type"]),
    "start task": ("/services/{s}/tasks/start", {"task_type": 1},
                   ["task_type", "state_id", "est_duration", "timestamp", "interaction_id", "resource_id"]),
    "complete state": ("/services/{s}/states/{st}/end", {}, ["disposition", "disposition_desc", "timestamp"]),
    "complete task": ("/services/{s}/tasks/{t}/end", {}, ["disposition", "disposition_desc", "resource_type"]),
    "complete service": ("/services/{s}/end", {}, ["disposition", "disposition_desc", "timestamp", "session_id"]),
    "associate": ("/customers/c1/services/{s}", {}, ["service_type", "est_duration", "media_type"]),
    "transition from": ("/services/{s}/states/transition", None, ["state_id", "disposition", "disposition_desc"]),
    "transition to": ("/services/{s}/states/transition", None, ["state_type", "est_duration"]),
}
LIFECYCLE_VALUES = WRONG_SHAPES + [-1, 0, 2**31, 2**63, 2**64 + 1, "9" * 30, "x" * 65, {"a": 1}]


@pytest.mark.parametrize("route", LIFECYCLE_FIELDS)
def test_wrong_shapes_in_lifecycle_events_are_refused_naming_the_field_or_accepted(client, route):
    template, base, fields = LIFECYCLE_FIELDS[route]
    for field in fields:
        for value in LIFECYCLE_VALUES:
            service, state, task = journey(client)
            path = template.format(s=service, st=state, t=task)
            if route.startswith("transition"):
                sides = {"from": {"state_id": state}, "to": {"state_type": 2}}
                side = route.split()[1]
                sides[side] = {**sides[side], field: value}
                body = sides
            else:
                body = {**base, field: value}
            response = client.post(path, json=body)
            if response.status_code in (200, 201):
                continue
            error = assert_error_shape(response)
            named = error.get("fields") or {}
            # a refused value is named (inside from/to for a transition); a value that is
            # well formed but names nothing (state 0, an unknown state) may be a 404 instead
            assert field in json.dumps(named) or response.status_code == 404, (route, field, value, error)
    assert_tables_intact()


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_in_states_tasks_and_extension_puts_comes_back_verbatim(client, text):
    register_vendor_extensions(client)
    for kind in ("states", "tasks"):
        for schema in EXTENSION_SCHEMAS:
            client.post(f"/metadata/{kind}/extensions", json=schema)
    service, state, task = journey(client)
    started = client.post(f"/services/{service}/states/start", json={
        "state_type": 1, "session_id": text[:32], "interaction_id": text[:50], "coupon": {"coupon_name": text}})
    assert started.status_code == 201
    read = client.get(started.headers["Location"] + "?extensions=coupon").get_json()
    assert (read["started"]["session_id"], read["started"]["interaction_id"], read["coupon"]) == (
        text[:32], text[:50], {"coupon_name": text})
    offers = [{"offer_name": text, "comments": text}, {"offer_name": text + "!", "comments": text}]
    put = client.put(f"/services/{service}/tasks/{task}/extensions/relatedOffers", json=offers)
    assert put.status_code == 200 and put.get_json() == offers
    update = client.put(f"/services/{service}/tasks/{task}/extensions/relatedOffers/by/unique",
                        json={"offer_name": text, "comments": text[::-1]})
    assert update.status_code == 204
    offers[0]["comments"] = text[::-1]
    read = client.get(f"/services/{service}/tasks/{task}?extensions=relatedOffers").get_json()
    assert read["relatedOffers"] == offers
    deleted = client.put(f"/services/{service}/tasks/{task}/extensions/relatedOffers/delete/by/unique",
                         json={"offer_name": text + "!"})
    assert deleted.status_code == 204
    ended = client.post(f"/services/{service}/end", json={"disposition_desc": text[:64]})
    assert ended.status_code == 200 and ended.get_json()["disposition_desc"] == text[:64]
    assert_tables_intact()


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_customer_ids_and_contact_keys_in_paths_find_their_services(client, text):
    from urllib.parse import quote
    customer, contact_key = text[:16], text[:64]
    service_id = client.post("/services/start", json={"contact_key": contact_key, "service_type": 1}
                             ).get_json()["service_id"]
    # WSGI hands the router a decoded path, so %2F is a separator: a key or customer ID with
    # a slash is stored, but cannot be named in a path (a clear 404; for a customer_id, 400).
    anonymous = client.get(f"/services/anonymous/{quote(contact_key, safe='')}")
    if "/" in contact_key:
        assert_error_shape(anonymous, 404)
    else:
        assert [s["service_id"] for s in anonymous.get_json()] == [service_id]
    associated = client.post(f"/customers/{quote(customer, safe='')}/services/{service_id}")
    if "/" in customer:
        assert_error_shape(associated, 400)     # a customer_id may not hold /: refused as such
        return
    assert associated.status_code == 200 and associated.get_json()["customer_id"] == customer
    listed = client.get(f"/customers/{quote(customer, safe='')}/services").get_json()
    assert [(s["service_id"], s["customer_id"], s["contact_key"]) for s in listed] == [
        (service_id, customer, contact_key)]
    if "/" not in contact_key:
        assert client.get(f"/services/anonymous/{quote(contact_key, safe='')}").get_json() == []
    assert_tables_intact()
