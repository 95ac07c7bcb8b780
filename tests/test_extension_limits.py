"""Limits on what one request may store in extension schemas and values (SPEC §12).

Small configured limits show each mechanism on every path that stores a value; the
default-size versions show the defaults of a schema cannot multiply what a small body stores.
"""
import pytest
import requests

from app.config import SCHEMA
from tests.calls import error_of, ok, start_service, start_state, start_task
from tests.support import running_gunicorn

SMALL = {"max_records": 3, "max_value_bytes": 300}
# `note` has a default: three records of {"k": ...} alone take 3 x 109 bytes, over 300.
LIMITED = {"name": "mv", "type": "multi-valued",
           "attributes": [{"name": "k", "type": "string"}, {"name": "note", "type": "string", "length": 1000, "default": "d" * 90}],
           "unique": ["k"]}
TOO_MANY = [{"k": str(n)} for n in range(4)]
TOO_BIG = [{"k": "1", "note": "y" * 300}]
BIG_BY_DEFAULTS = [{"k": "1"}, {"k": "2"}, {"k": "3"}]
OVERSIZED = [(TOO_MANY, "TOO_MANY_RECORDS", "[extensions] max_records = 3"),
             (TOO_BIG, "VALUE_TOO_LARGE", "[extensions] max_value_bytes = 300"),
             (BIG_BY_DEFAULTS, "VALUE_TOO_LARGE", "[extensions] max_value_bytes = 300")]


def test_the_limits_are_options_with_the_spec_defaults():
    extensions, api = SCHEMA["extensions"], SCHEMA["api"]
    assert {name: extensions[name].default for name in
            ("max_schemas", "max_attributes", "max_string_length", "max_records", "max_value_bytes")} == {
        "max_schemas": 200, "max_attributes": 64, "max_string_length": 65535, "max_records": 1000,
        "max_value_bytes": 65536}
    assert api["max_response_bytes"].default == 16 * 1024 * 1024


def refused_for(response, code, limit):
    error = error_of(response)
    assert error["error_code"] == code and limit in error["message"], error
    assert list(error["fields"]) == ["mv"], error
    return error


# --- every path that stores a value --------------------------------------------------

@pytest.fixture
def small(make_app):
    client = make_app(extensions=SMALL).test_client()
    for kind in ("services", "states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=LIMITED), 201)
    return client


def _value_of(client, path):
    return ok(client.get(f"{path}?extensions=mv")).get("mv")


def _attempts(client):
    """(name, send(value) -> response, what must be unchanged afterwards: () -> state) for each path."""
    sid = start_service(client, customer_id="c1")
    state = start_state(client, sid)
    task = start_task(client, sid)
    stored = [{"k": "a"}]
    for path in (f"/services/{sid}", f"/services/{sid}/states/{state}", f"/services/{sid}/tasks/{task}"):
        ok(client.put(f"{path}/extensions/mv", json=stored))
    service, state_path, task_path = (f"/services/{sid}", f"/services/{sid}/states/{state}",
                                      f"/services/{sid}/tasks/{task}")

    def everything():
        return (ok(client.get(f"{service}?extensions=mv&active_states=true&completed_states=true"
                              "&active_tasks=true&completed_tasks=true")),
                ok(client.get("/customers/c2/services")), _value_of(client, state_path), _value_of(client, task_path))

    return everything, [
        ("service start", lambda v: client.post("/services/start",
                                                json={"customer_id": "c2", "service_type": 1, "mv": v})),
        ("service end", lambda v: client.post(f"{service}/end", json={"mv": v})),
        ("associate", lambda v: client.post(f"/customers/c2/services/{sid}", json={"mv": v})),
        ("state start", lambda v: client.post(f"{service}/states/start", json={"state_type": 1, "mv": v})),
        ("state end", lambda v: client.post(f"{state_path}/end", json={"mv": v})),
        ("transition", lambda v: client.post(f"{service}/states/transition",
                                             json={"from": {"state_id": state}, "to": {"state_type": 2}, "mv": v})),
        ("task start", lambda v: client.post(f"{service}/tasks/start", json={"task_type": 1, "mv": v})),
        ("task end", lambda v: client.post(f"{task_path}/end", json={"mv": v})),
        ("service put", lambda v: client.put(f"{service}/extensions/mv", json=v)),
        ("state put", lambda v: client.put(f"{state_path}/extensions/mv", json=v)),
        ("task put", lambda v: client.put(f"{task_path}/extensions/mv", json=v)),
    ]


def test_a_value_over_a_limit_is_refused_on_every_path_and_nothing_is_stored(small):
    everything, attempts = _attempts(small)
    before = everything()
    for name, send in attempts:
        for value, code, limit in OVERSIZED:
            refused_for(send(value), code, limit)
            assert everything() == before, name
    # a value of exactly 300 bytes is stored
    at_limit = [{"k": "1", "note": "s"}, {"k": "2", "note": "s"}, {"k": "3", "note": "s" * 241}]
    assert ok(small.put(f"/services/{before[0]['service_id']}/extensions/mv", json=at_limit)) == at_limit


def test_a_record_update_that_would_pass_the_byte_limit_is_refused(small):
    sid = start_service(small)
    path = f"/services/{sid}/extensions/mv"
    ok(small.put(path, json=[{"k": "a", "note": "s"}, {"k": "b", "note": "s"}]))
    # alone the record would fit (289 bytes), with the other one (20 bytes) the value would not
    refused_for(small.put(f"{path}/by/unique", json={"k": "a", "note": "z" * 270}),
                "VALUE_TOO_LARGE", "[extensions] max_value_bytes = 300")
    assert _value_of(small, f"/services/{sid}") == [{"k": "a", "note": "s"}, {"k": "b", "note": "s"}]
    ok(small.put(f"{path}/by/unique", json={"k": "a", "note": "z" * 200}), 204)
    assert _value_of(small, f"/services/{sid}")[0] == {"k": "a", "note": "z" * 200}


def test_a_schema_less_value_over_the_byte_limit_is_refused_in_free_mode(make_app):
    client = make_app(extensions={"mode": "free", **SMALL}).test_client()
    response = client.post("/services/start", json={"customer_id": "c", "service_type": 1, "notes": "x" * 300})
    assert error_of(response)["error_code"] == "VALUE_TOO_LARGE"
    assert ok(client.get("/customers/c/services")) == []
    sid = start_service(client, notes="x" * 290)
    assert error_of(client.put(f"/services/{sid}/extensions/notes", json=["x" * 300]))["error_code"] == \
        "VALUE_TOO_LARGE"
    assert ok(client.get(f"/services/{sid}?extensions=notes"))["notes"] == "x" * 290


# --- finding 1: defaults multiply storage --------------------------------------------

# The defaults alone make a record of 60,015 bytes: one fits the default max_value_bytes.
WIDE_DEFAULTS = {"name": "wide", "type": "multi-valued", "attributes": [
    {"name": "a", "type": "string", "length": 30000, "default": "x" * 30000},
    {"name": "b", "type": "string", "length": 30000, "default": "y" * 30000}]}


def test_defaults_cannot_multiply_a_small_body_into_a_large_value(client):
    ok(client.post("/metadata/services/extensions", json=WIDE_DEFAULTS), 201)
    sid = start_service(client)
    # 4 KB of {} would have stored 1,000 records of 60 KB: 60 MB
    response = client.put(f"/services/{sid}/extensions/wide", data="[" + ",".join(["{}"] * 1000) + "]")
    error = error_of(response)
    assert error["error_code"] == "VALUE_TOO_LARGE" and "max_value_bytes = 65536" in error["message"]
    assert len(response.data) < 2000
    assert "wide" not in ok(client.get(f"/services/{sid}?extensions=wide"))
    response = client.post("/services/start", json={"customer_id": "c", "service_type": 1, "wide": [{}, {}]})
    assert error_of(response)["error_code"] == "VALUE_TOO_LARGE"
    assert ok(client.get("/customers/c/services")) == []
    # one record of defaults is a value that fits
    assert ok(client.put(f"/services/{sid}/extensions/wide", json=[{}])) == [{"a": "x" * 30000, "b": "y" * 30000}]


def test_more_records_than_the_limit_are_refused_before_any_is_loaded(client):
    ok(client.post("/metadata/services/extensions", json=WIDE_DEFAULTS), 201)
    sid = start_service(client)
    response = client.put(f"/services/{sid}/extensions/wide", data="[" + ",".join(["{}"] * 300_000) + "]")
    error = error_of(response)
    assert error["error_code"] == "TOO_MANY_RECORDS" and "300000 records" in error["message"]
    assert "max_records = 1000" in error["message"]


# --- what a schema may declare -------------------------------------------------------

def _attributes(count, **extra):
    return [{"name": f"a{n}", "type": "string", **extra} for n in range(count)]


def test_schema_limits_on_attributes_lengths_and_defaults(client):
    def register(name, attributes):
        return client.post("/metadata/services/extensions",
                           json={"name": name, "type": "single-valued", "attributes": attributes})

    error = error_of(register("many", _attributes(65)))
    assert "max_attributes" in error["fields"]["attributes"][0]
    ok(register("many", _attributes(64)), 201)
    error = error_of(register("long", [{"name": "a", "type": "string", "length": 65536}]))
    assert "max_string_length" in str(error["fields"]["attributes"])
    ok(register("long", [{"name": "a", "type": "string", "length": 65535}]), 201)
    error = error_of(register("bad_default", [{"name": "a", "type": "string", "length": 3, "default": "abcd"}]))
    assert "default" in str(error["fields"]["attributes"])
    # the schema of finding 1: fifteen 65,535-character defaults make every record 983 KB
    finding_1 = _attributes(15, length=65535, default="x" * 65535)
    error = error_of(register("defaults", finding_1))
    assert "max_value_bytes" in error["fields"]["attributes"][0]
    names = [schema["name"] for schema in ok(client.get("/metadata/services/extensions"))]
    assert names == ["many", "long"]


def test_the_number_of_schemas_of_a_kind_is_limited(make_app):
    client = make_app(extensions={"max_schemas": 3}).test_client()
    for n in range(3):
        ok(client.post("/metadata/services/extensions", json={**LIMITED, "name": f"mv{n}"}), 201)
    error = error_of(client.post("/metadata/services/extensions", json={**LIMITED, "name": "mv3"}))
    assert error["error_code"] == "TOO_MANY_SCHEMAS" and "max_schemas = 3" in error["message"]
    assert len(ok(client.get("/metadata/services/extensions"))) == 3
    ok(client.post("/metadata/states/extensions", json={**LIMITED, "name": "mv3"}), 201)
    assert client.delete("/metadata/services/extensions/mv0").status_code == 204
    ok(client.post("/metadata/services/extensions", json={**LIMITED, "name": "mv3"}), 201)


# --- finding 8: every name the naming rule allows works as an attribute name ---------

# Names a marshmallow Schema class or instance holds itself (Meta first: from_dict put the
# field where the class Meta lives, and the schema lost its options).
SCHEMA_NAMES = ["Meta", "fields", "load", "loads", "dump", "dumps", "opts", "validate", "many", "partial",
                "unknown", "only", "exclude", "context", "declared_fields", "load_fields", "dump_fields",
                "error_messages", "OPTIONS_CLASS", "TYPE_MAPPING", "from_dict", "handle_error", "dict_class",
                "get_attribute", "on_bind_field", "set_class", "ordered", "register", "include", "Schema",
                "load_only", "dump_only", "data_key", "attribute", "missing", "required", "load_default",
                "mro", "self", "data"]


def test_every_allowed_name_works_as_an_attribute_name(client):
    required = {"name": "required", "type": "single-valued",
                "attributes": [{"name": name, "type": "string", "mandatory": True} for name in SCHEMA_NAMES]}
    defaults = {"name": "defaults", "type": "multi-valued",
                "attributes": [{"name": name, "type": "integer", "default": n} for n, name in enumerate(SCHEMA_NAMES)],
                "unique": ["Meta"]}
    ok(client.post("/metadata/services/extensions", json=required), 201)
    ok(client.post("/metadata/services/extensions", json=defaults), 201)

    missing = error_of(client.post("/services/start", json={"contact_key": "k", "service_type": 1, "required": {}}))
    assert set(missing["fields"]["required"]) == set(SCHEMA_NAMES)
    sent = {name: f"v-{name}" for name in SCHEMA_NAMES}
    sid = start_service(client, required=sent, defaults=[{"Meta": 100}, {}])
    read = ok(client.get(f"/services/{sid}?extensions=required,defaults"))
    assert read["required"] == sent
    filled = {name: n for n, name in enumerate(SCHEMA_NAMES)}
    assert read["defaults"] == [{**filled, "Meta": 100}, filled]
    refused = error_of(client.put(f"/services/{sid}/extensions/required", json={**sent, "Unknown": "x"}))
    assert refused["fields"]["required"] == {"Unknown": ["Unknown field."]}
    wrong = error_of(client.put(f"/services/{sid}/extensions/defaults", json=[{"fields": "not a number"}]))
    assert list(wrong["fields"]["defaults"]["0"]) == ["fields"]
    ok(client.put(f"/services/{sid}/extensions/defaults/by/unique", json={"Meta": 100, "opts": 7}), 204)
    assert ok(client.get(f"/services/{sid}?extensions=defaults"))["defaults"][0]["opts"] == 7


# --- finding 13: a 400 answer stays small ----------------------------------------------

def _entries(fields):
    """How many keys and messages `fields` holds, at every level."""
    if isinstance(fields, dict):
        return sum(1 + _entries(value) for value in fields.values())
    if isinstance(fields, list):
        return sum(1 + _entries(value) for value in fields)
    return 0


def test_a_bad_value_of_half_a_million_records_gets_a_small_answer(make_app):
    # max_records out of the way, so that the answer has to name each bad record
    client = make_app(extensions={"max_records": 1_000_000}).test_client()
    ok(client.post("/metadata/services/extensions", json=LIMITED), 201)
    sid = start_service(client)
    body = "[" + ",".join(["0"] * 500_000) + "]"        # 1 MB
    response = client.put(f"/services/{sid}/extensions/mv", data=body)
    fields = error_of(response)["fields"]
    assert len(response.data) < 20_000
    assert len(fields["mv"]) == 99 and fields["mv"]["_more"] == ["499902 more not shown."], fields["mv"]
    assert len(fields) == 1
    assert _entries(fields) <= 200


def test_many_faults_in_one_body_get_a_small_answer(client):
    ok(client.post("/metadata/services/extensions", json=LIMITED), 201)
    sid = start_service(client)
    unknown = {f"x{n}": 0 for n in range(50_000)}
    for response in (client.put(f"/services/{sid}/extensions/mv/by/unique", json={"k": "a", **unknown}),
                     client.post("/services/start", json={"contact_key": "k", "service_type": 1, **unknown}),
                     client.post("/metadata/services/extensions",
                                 json={"name": "e", "type": "single-valued", "attributes": [{}] * 60})):
        error = error_of(response)
        assert len(response.data) < 20_000, len(response.data)
        assert len(error["message"]) <= 1000
        assert len(error["fields"]) <= 100 and _entries(error["fields"]) <= 200
    assert "and 49995 more" in error_of(client.post("/services/start", json={"service_type": 1, "contact_key": "k",
                                                                                **unknown}))["message"]


# --- finding 6: a worker keeps only the schemas that are live ------------------------

def test_the_built_schema_cache_forgets_deleted_schemas(app, client):
    registry = app.extensions["context_services"].registry
    ok(client.post("/metadata/states/extensions", json=LIMITED), 201)
    for n in range(20):
        # definitions that differ: SQLite may give each the ID of the one deleted before it
        definition = {**LIMITED, "name": f"gone{n}", "attributes": [*LIMITED["attributes"],
                                                                  {"name": f"extra{n}", "type": "integer"}]}
        ok(client.post("/metadata/services/extensions", json=definition), 201)
        start_service(client, **{f"gone{n}": [{"k": "a"}]})
        assert client.delete(f"/metadata/services/extensions/gone{n}").status_code == 204
    ok(client.get("/metadata/services/extensions"))
    assert registry.built_count == 1
    # a schema registered again under a deleted name is built from its new definition
    ok(client.post("/metadata/services/extensions",
                   json={"name": "gone0", "type": "single-valued", "attributes": [{"name": "z", "type": "integer"}]}),
       201)
    assert error_of(client.post("/services/start", json={"contact_key": "k", "service_type": 1,
                                                         "gone0": {"k": "a"}}))["fields"] == {
        "gone0": {"k": ["Unknown field."]}}
    assert registry.built_count == 2


def _rss(base_url):
    return requests.get(f"{base_url}/server/status", timeout=30).json()["memory"]["rss_bytes"]


def test_registering_and_deleting_large_schemas_keeps_a_worker_small(tmp_path):
    # 64 attributes with 65,535-character defaults: a 4 MB definition, allowed by raised limits
    config = {"api": {"max_body_bytes": 8 << 20}, "extensions": {"max_value_bytes": 8 << 20}}
    def definition(cycle):
        # each one different: SQLite may give each the ID of the one deleted before it
        return {"name": "big", "type": "single-valued",
                "attributes": [{"name": f"a{n}", "type": "string", "length": 65535 - cycle, "default": "x" * 65000}
                               for n in range(64)]}

    with running_gunicorn(config, workers=1, tmp_path=tmp_path) as url, requests.Session() as http:
        for cycle in range(25):       # each cycle used to keep ~8 MB in the worker
            response = http.post(f"{url}/metadata/services/extensions", json=definition(cycle), timeout=60)
            assert response.status_code == 201
            assert http.delete(f"{url}/metadata/services/extensions/big", timeout=60).status_code == 204
        assert http.get(f"{url}/metadata/services/extensions", timeout=60).json() == []
        rss = _rss(url)
        print(f"worker RSS after 25 register/delete cycles of a 4 MB schema: {rss / 2**20:.0f} MiB")
        assert rss < 150 * 1024 * 1024


@pytest.mark.stress
def test_finding_1_at_full_size_through_gunicorn(tmp_path):
    """The attack of finding 1 (983 MB stored, then a MemoryError) against the default limits."""
    finding_1 = {"name": "fat", "type": "multi-valued", "attributes": _attributes(15, length=65535, default="x" * 65535)}
    # the largest defaults the limits let through: 15 attributes, 60 KB together
    allowed = {"name": "fat", "type": "multi-valued", "attributes": _attributes(15, length=65535, default="x" * 4000)}
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as url, requests.Session() as http:
        response = http.post(f"{url}/metadata/services/extensions", json=finding_1, timeout=60)
        assert response.status_code == 400 and "max_value_bytes" in response.text
        assert http.post(f"{url}/metadata/services/extensions", json=allowed, timeout=60).status_code == 201
        sid = http.post(f"{url}/services/start", json={"contact_key": "k", "service_type": 1},
                        timeout=60).json()["service_id"]
        for count, code in ((1000, "VALUE_TOO_LARGE"), (300_000, "TOO_MANY_RECORDS")):
            response = http.put(f"{url}/services/{sid}/extensions/fat", data="[" + ",".join(["{}"] * count) + "]",
                                timeout=60)
            assert response.status_code == 400 and response.json()["error"]["error_code"] == code
            assert len(response.content) < 2000
        assert "fat" not in http.get(f"{url}/services/{sid}?extensions=fat", timeout=60).json()
        rss = _rss(url)
        print(f"worker RSS after the attacks of finding 1: {rss / 2**20:.0f} MiB")
        assert rss < 150 * 1024 * 1024
