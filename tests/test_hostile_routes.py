"""Malformed JSON and oversized bodies on every route that reads a body, on both databases.

Each route is refused the same way (400 INVALID_JSON / INVALID_BODY / MISSING_BODY, 413),
in the SPEC §2 shape, and a refused request changes nothing in the database.
"""
import json

import pytest

from models import ExtensionRecord, ExtensionSchema, Service, ServerSetting, State, Task, database
from tests.hostile import INVALID_UTF8, NON_FINITE, assert_error_shape, deeply_nested
from tests.vendor import EXTENSION_SCHEMAS


def _journey(client):
    """A service with a state, a task and one relatedOffers record on each; their paths."""
    offers = [{"offer_name": "a", "type": 1}]
    service = client.post("/services/start", json={"contact_key": "k", "service_type": 1,
                                                   "relatedOffers": offers}).get_json()["service_id"]
    state = client.post(f"/services/{service}/states/start",
                        json={"state_type": 1, "relatedOffers": offers}).get_json()["state_id"]
    task = client.post(f"/services/{service}/tasks/start",
                       json={"task_type": 1, "state_id": state, "relatedOffers": offers}).get_json()["task_id"]
    return f"/services/{service}", f"/services/{service}/states/{state}", f"/services/{service}/tasks/{task}"


# name -> (method, path from the journey's paths, a body the route accepts (or a function of
# the paths giving one), whether it takes only an object). The hostile variants are built
# from the accepted body.
ROUTES = {
    "start service": ("POST", lambda s, st, t: "/services/start", {"contact_key": "k", "service_type": 1}, True),
    "register extension": ("POST", lambda s, st, t: "/metadata/tasks/extensions",
                           {"name": "probe", "type": "single-valued", "attributes": [{"name": "a", "type": "string"}]},
                           True),
    "server mode": ("POST", lambda s, st, t: "/server/mode", {"mode": "production"}, True),
    "complete service": ("POST", lambda s, st, t: f"{s}/end", {"disposition": 1}, True),
    "associate": ("POST", lambda s, st, t: f"/customers/c1{s}", {"service_type": 2}, True),
    "start state": ("POST", lambda s, st, t: f"{s}/states/start", {"state_type": 1}, True),
    "transition": ("POST", lambda s, st, t: f"{s}/states/transition",
                   lambda s, st, t: {"from": {"state_id": int(st.rsplit("/", 1)[1])}, "to": {"state_type": 2}},
                   True),
    "complete state": ("POST", lambda s, st, t: f"{st}/end", {"disposition": 1}, True),
    "start task": ("POST", lambda s, st, t: f"{s}/tasks/start", {"task_type": 1}, True),
    "complete task": ("POST", lambda s, st, t: f"{t}/end", {"disposition": 1}, True),
    "replace service value": ("PUT", lambda s, st, t: f"{s}/extensions/coupon", {"coupon_name": "x"}, False),
    "replace state value": ("PUT", lambda s, st, t: f"{st}/extensions/coupon", {"coupon_name": "x"}, False),
    "update task record": ("PUT", lambda s, st, t: f"{t}/extensions/relatedOffers/by/unique",
                           {"offer_name": "a", "type": 2}, True),
    "delete service record": ("PUT", lambda s, st, t: f"{s}/extensions/relatedOffers/delete/by/unique",
                              {"offer_name": "a"}, True),
}


@pytest.fixture
def client(app):
    client = app.test_client()
    for kind in ("services", "states", "tasks"):
        for schema in EXTENSION_SCHEMAS:
            assert client.post(f"/metadata/{kind}/extensions", json=schema).status_code == 201
    yield client
    assert app.extensions["context_services"].stats.server_errors_today == 0, "a request got a 5xx"


@pytest.fixture(params=ROUTES)
def route(request, client):
    """(method, path, accepted body, object only) of one route, on a fresh journey."""
    method, path_of, body, object_only = ROUTES[request.param]
    paths = _journey(client)
    return method, path_of(*paths), body(*paths) if callable(body) else body, object_only


def fingerprint(client):
    """What any accepted request on these routes would change."""
    with database.connection_context():
        return (
            [(row.id, row.customer_id, row.service_type, row.completed_ms) for row in Service.select()],
            [(row.state_id, row.completed_ms) for row in State.select()],
            [(row.task_id, row.completed_ms) for row in Task.select()],
            sorted(row.value for row in ExtensionRecord.select()),
            ExtensionSchema.select().count(),
            ServerSetting.get_value("mode"),
        )


def with_raw(body, key, raw_value):
    """The body as JSON bytes, with key set to the raw JSON text raw_value."""
    others = [json.dumps(k) + ": " + json.dumps(v) for k, v in body.items() if k != key]
    return ("{" + ", ".join(others + [json.dumps(key) + ": "])).encode() + raw_value + b"}"


def refused(client, method, path, raw, status=400):
    response = client.open(path, method=method, data=raw)
    return assert_error_shape(response, status)


def test_malformed_json_of_every_kind_is_refused_and_changes_nothing(client, route):
    method, path, body, object_only = route
    before = fingerprint(client)
    key = next(iter(body))
    hostile = []
    for kind in ("array", "object"):
        hostile.append((with_raw(body, "x", deeply_nested(10_000, kind=kind)), "nested too deeply"))
        hostile.append((deeply_nested(10_000, kind=kind), "nested too deeply"))
    for literal in NON_FINITE:
        hostile.append((with_raw(body, "x", literal), "JSON"))
    hostile.append((json.dumps(body)[:-1].encode() + f', "{key}": {json.dumps(body[key])}}}'.encode(), "appears twice"))
    hostile.append((with_raw(body, "x", b'{"y": [{"q": 1, "q": 2}]}'), "appears twice"))
    for bad in INVALID_UTF8:
        hostile.append((with_raw(body, key, b'"ok' + bad + b'"'), "UTF-8"))
    for escaped in (rb'"\ud800"', rb'"x\udfffy"', rb'["ok", {"\udbff": 1}]'):
        hostile.append((with_raw(body, key, escaped), "surrogate"))
    for truncated in (b"{", b'{"a": ', b'{"a": "b', b"{}}", b"[1,]", b"{'a': 1}", b"\x00"):
        hostile.append((truncated, "JSON"))
    for raw, says in hostile:
        error = refused(client, method, path, raw)
        assert error["error_code"] == "INVALID_JSON" and says in error["message"], (raw[:60], error)
    if object_only:
        for raw in (b"[]", b"[{}]", b'"text"', b"1", b"null", b"true"):
            assert refused(client, method, path, raw)["error_code"] == "INVALID_BODY", raw
    assert fingerprint(client) == before


def test_oversized_bodies_are_413_and_change_nothing(client, route):
    method, path, body, _ = route
    before = fingerprint(client)
    key = next(iter(body))
    error = refused(client, method, path, json.dumps({**body, key: "x" * (1 << 20)}).encode(), 413)
    assert error["error_code"] == "PAYLOAD_TOO_LARGE"
    padded = json.dumps(body).encode()
    padded += b" " * ((1 << 20) - len(padded))
    refused(client, method, path, padded + b" ", 413)
    assert fingerprint(client) == before
    # exactly at the limit it is an ordinary request
    assert client.open(path, method=method, data=padded).status_code in (200, 201, 204)
