"""Each operation of the served document, probed over HTTP: what it answers is what the document says.

For every operation: a malformed body is refused exactly where a body is documented, an
oversized one gives 413 there, an unknown service gives a documented 404, maintenance mode
gives 503 exactly where documented, and a bad value of a query parameter is refused exactly
where that parameter is documented. Every status and error code seen must be listed for the
operation.
"""
import itertools
import re

import pytest

from tests.openapi_support import fetch_document, operations
from tests.vendor import register_vendor_extensions, start_example

SMALL_LIMIT = 1024
# A value each query parameter refuses; a parameter added to the document needs one here.
BAD_VALUES = {
    "active_states": "maybe", "completed_states": "maybe", "active_tasks": "maybe", "completed_tasks": "maybe",
    "extensions": "zz_unknown", "cv-attribute": "Nope.nothing", "limit": "-5", "offset": "-5",
    "started_from": "yesterday", "started_to": "yesterday", "state_types": "zz_unknown",
    "task_types": "zz_unknown", "state_id": "abc", "dry_run": "maybe", "max": "lots",
    "contact_keys": "k" * 65,
}
# For states and tasks: multi-valued with a unique attribute, so the by-unique forms apply.
NOTE = {"name": "note", "type": "multi-valued", "attributes": [{"name": "text", "type": "string"}],
        "unique": ["text"]}


@pytest.fixture
def backend():
    """Probing the document's promises needs one database; the answers' bodies are checked on both."""
    return "sqlite"


@pytest.fixture
def new_world(make_app, tmp_path):
    """new_world() -> a World on a database of its own."""
    numbers = itertools.count()
    return lambda: World(make_app, f"sqlite:///{tmp_path}/world-{next(numbers)}.db")


class World:
    """A fresh app with one of everything, and URLs for the document's path templates."""

    def __init__(self, make_app, database_url):
        self.client = make_app(database={"url": database_url}, api={"max_body_bytes": SMALL_LIMIT},
                               business_attributes={"Service.type": "ServiceType"},
                               **{"attribute:ServiceType": {"Sales": "100"}}).test_client()
        self.document = fetch_document(self.client)
        register_vendor_extensions(self.client)
        for kind in ("states", "tasks"):
            assert self.client.post(f"/metadata/{kind}/extensions", json=NOTE).status_code == 201
        body = {**start_example(), "customer_id": "c1", "service_type": "Sales"}
        self.service_id = self.client.post("/services/start", json=body).get_json()["service_id"]
        self.client.post("/services/start", json={"contact_key": "k1", "service_type": 100})
        self.numbers = {}
        for kind, event in (("states", {"state_type": 1}), ("tasks", {"task_type": 1})):
            response = self.client.post(f"/services/{self.service_id}/{kind}/start", json=event)
            if response.status_code == 201:
                self.numbers[kind] = next(iter(response.get_json().values()))

    def url(self, path, *, service_id=None):
        values = {"service_id": service_id or self.service_id, "customer_id": "c1", "contact_key": "k1",
                  "filename": "swagger-ui.css", "state_id": self.numbers.get("states", 1),
                  "task_id": self.numbers.get("tasks", 1)}
        if "/business-attributes/" in path:
            values["name"] = "ServiceType"
        else:
            owned = re.search(r"/(states|tasks)/", path) is not None
            values["name"] = "note" if owned else "relatedOffers" if path.endswith("/by/unique") else "coupon"
        return re.sub(r"\{(\w+)\}", lambda match: str(values[match[1]]), path)


def documented(operation, response):
    """'' when the operation's document lists the response's status and error code, else the fault."""
    status = str(response.status_code)
    listed = operation["responses"].get(status)
    if listed is None:
        return f"status {status} is not documented ({response.get_data(as_text=True)[:200]})"
    body = response.get_json(silent=True)
    if response.status_code >= 400 and isinstance(body, dict) and "error" in body:
        code = body["error"]["error_code"]
        if f"`{code}`" not in listed["description"]:
            return f"{status} {code} is not documented ({body['error']['message']})"
    return ""


def valid_body(world, path, operation):
    """A body the operation accepts, so that what decides its answer is the path."""
    owned = re.search(r"/(states|tasks)/", path) is not None
    if path.endswith("/by/unique"):
        return {"text": "x"} if owned else {"offer_name": "x"}
    if path.endswith("/extensions/{name}"):
        return [{"text": "x"}] if owned else {"coupon_name": "x"}
    if "requestBody" not in operation:
        return None
    return _minimal(world.document, operation["requestBody"]["content"]["application/json"]["schema"])


def _minimal(document, schema):
    """The smallest instance of a schema of the document: its required properties, each minimal."""
    if "$ref" in schema:
        return _minimal(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    types = schema.get("type", "object")
    kind = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if kind == "object":
        return {name: _minimal(document, schema["properties"][name]) for name in schema.get("required", [])}
    return {"integer": 1, "string": "x", "boolean": False, "array": []}[kind]


def error_code(response):
    body = response.get_json(silent=True)
    return body["error"]["error_code"] if isinstance(body, dict) and "error" in body else None


def probe(world, path, method, **kwargs):
    return world.client.open(world.url(path, service_id=kwargs.pop("service_id", None)),
                             method=method.upper(), **kwargs)




def test_bodies_are_read_exactly_where_documented(new_world):
    faults = []
    for path, method, operation in operations(new_world().document):
        world = new_world()     # a route that reads no body does its work
        response = probe(world, path, method, data=b"{", content_type="application/json")
        reads_body = error_code(response) == "INVALID_JSON"
        if reads_body != ("requestBody" in operation):
            faults.append(f"{method.upper()} {path}: reads a body: {reads_body}, documents one: "
                          f"{'requestBody' in operation}")
        elif fault := documented(operation, response):
            faults.append(f"{method.upper()} {path}: {fault}")
        if "requestBody" in operation:
            response = probe(world, path, method, data=b" " * (SMALL_LIMIT + 1))
            fault = documented(operation, response)
            if response.status_code != 413 or fault:
                faults.append(f"{method.upper()} {path}: oversized body gave {response.status_code} {fault}")
    assert not faults, "\n".join(faults)


def test_an_unknown_service_gives_a_documented_404(new_world):
    world = new_world()
    faults = []
    for path, method, operation in operations(world.document):
        if "{service_id}" not in path:
            continue
        response = probe(world, path, method, service_id=1, json=valid_body(world, path, operation))
        fault = documented(operation, response)
        if response.status_code != 404 or fault:
            faults.append(f"{method.upper()} {path}: {response.status_code} {fault}")
    assert not faults, "\n".join(faults)


def test_maintenance_gives_503_exactly_where_documented(new_world):
    world = new_world()
    assert world.client.post("/server/mode", json={"mode": "maintenance"}).status_code == 200
    faults = []
    for path, method, operation in operations(world.document):
        promised = "`MAINTENANCE`" in operation["responses"].get("503", {}).get("description", "")
        response = probe(world, path, method, json={})
        refused = error_code(response) == "MAINTENANCE"
        if promised != refused:
            faults.append(f"{method.upper()} {path}: documented {promised}, refused {refused}")
        elif fault := documented(operation, response):
            faults.append(f"{method.upper()} {path}: {fault}")
    assert not faults, "\n".join(faults)


def test_query_parameters_are_read_exactly_where_documented(new_world):
    document = new_world().document
    known = sorted(document["components"].get("parameters", {}))
    assert set(known) <= set(BAD_VALUES), "give each new query parameter a refused value in BAD_VALUES"
    faults = []
    for path, method, operation in operations(document):
        listed = {parameter["$ref"].rsplit("/", 1)[-1] for parameter in operation.get("parameters", [])
                  if "$ref" in parameter}
        world = new_world()
        # Documented ones first: a refused request changes nothing, an accepted one may.
        for name in sorted(known, key=lambda name: name not in listed):
            response = probe(world, path, method, query_string={name: BAD_VALUES[name]}, json={})
            if refused_for(response, name) != (name in listed):
                faults.append(f"{method.upper()} {path} ?{name}={BAD_VALUES[name]}: documented {name in listed}, "
                              f"answered {response.status_code} {response.get_data(as_text=True)[:160]}")
            elif fault := documented(operation, response):
                faults.append(f"{method.upper()} {path} ?{name}: {fault}")
    assert not faults, "\n".join(faults)


def refused_for(response, name):
    """Whether the answer refuses the request because of the query parameter `name`."""
    if response.status_code not in (400, 404):
        return False
    error = response.get_json()["error"]
    return name in (error.get("fields") or {}) or name in error["message"] or BAD_VALUES[name] in error["message"]
