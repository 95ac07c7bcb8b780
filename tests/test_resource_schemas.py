"""Real answers of the views, checked against the schemas the OpenAPI document is generated from.

Each answer is loaded through its marshmallow schema (which refuses undeclared keys, once the
extension values asked for are set aside) and validated against the served document's
component, so neither the presenters nor the document can drift from the other.
"""
import pytest

from schemas import errors, extension_definitions, resources, server
from tests.openapi_support import assert_matches_component, fetch_document
from tests.vendor import EXTENSION_SCHEMAS, register_vendor_extensions, start_example

SCHEMAS = {
    "ServiceResource": resources.ServiceResource,
    "StateResource": resources.StateResource,
    "TaskResource": resources.TaskResource,
    "ServiceCreated": resources.ServiceCreated,
    "StateCreated": resources.StateCreated,
    "TaskCreated": resources.TaskCreated,
    "ExtensionCreated": resources.ExtensionCreated,
    "BusinessAttributeDescription": resources.BusinessAttributeDescription,
    "ExtensionSchema": extension_definitions.ExtensionOutputSchema,
    "ServerStatus": server.ServerStatus,
    "ServerModeAnswer": server.ServerModeAnswer,
    "Health": server.Health,
    "ErrorResponse": errors.ErrorResponse,
}
VENDOR_EXTENSIONS = [schema["name"] for schema in EXTENSION_SCHEMAS]
ALL_FLAGS = "active_states=true&completed_states=true&active_tasks=true&completed_tasks=true"
MAPPED = {
    "business_attributes": {"map_names": "true", "Service.type": "ServiceType", "*.media_type": "Media",
                            "*.disposition": "Outcome"},
    "attribute:ServiceType": {"Sales": "100, Sales call", "Support": "200"},
    "attribute:Media": {"voice": "1", "chat": "2"},
    "attribute:Outcome": {"Done": "10"},
}


def check(client, component, response, status, *, extensions=(), many=False, prefix=""):
    """The answer's body, after asserting its status and that it fits `component` both ways."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    document = fetch_document(client, prefix)
    if many:
        assert isinstance(body, list) and body
        for item in body:
            _check_one(document, component, item, extensions)
    else:
        _check_one(document, component, body, extensions)
    return body


def _check_one(document, component, body, extensions):
    core = {key: value for key, value in body.items() if key not in extensions}
    assert SCHEMAS[component]().validate(core) == {}, core
    assert_matches_component(document, component, body)


def start(client, body, prefix=""):
    return check(client, "ServiceCreated", client.post(f"{prefix}/services/start", json=body), 201, prefix=prefix)


# --- services ------------------------------------------------------------------------

def test_vendor_example_answers_fit_their_schemas(client):
    register_vendor_extensions(client)
    service_id = start(client, start_example())["service_id"]
    body = check(client, "ServiceResource",
                 client.get(f"/services/{service_id}?{ALL_FLAGS}&extensions={','.join(VENDOR_EXTENSIONS)}"),
                 200, extensions=VENDOR_EXTENSIONS)
    assert set(VENDOR_EXTENSIONS) <= set(body)


def test_an_anonymous_minimal_service_fits(client):
    service_id = start(client, {"contact_key": "k", "service_type": "3"})["service_id"]
    check(client, "ServiceResource", client.get(f"/services/{service_id}"), 200)


def test_names_instead_of_ids_fit(make_app):
    client = make_app(**MAPPED).test_client()
    service_id = start(client, {"customer_id": "c", "service_type": "sales", "media_type": "chat",
                                "disposition": "done", "application_type": 7})["service_id"]
    body = check(client, "ServiceResource", client.get(f"/services/{service_id}"), 200)
    assert body["service_type"] == "Sales" and body["started"]["media_type"] == "chat"
    assert body["started"]["application_type"] == 7


def test_wide_ids_are_strings_and_fit(make_app):
    client = make_app(ids={"layout": "wide"}, api={"base_path": "/cs"}).test_client()
    service_id = start(client, {"customer_id": "c", "service_type": 1}, prefix="/cs")["service_id"]
    assert isinstance(service_id, str)
    check(client, "ServiceResource", client.get(f"/cs/services/{service_id}"), 200, prefix="/cs")


def test_free_mode_values_of_any_type_fit(make_app):
    client = make_app(extensions={"mode": "free"}).test_client()
    service_id = start(client, {"customer_id": "c", "service_type": 1, "note": "plain text", "tags": [1, 2]})[
        "service_id"]
    body = check(client, "ServiceResource", client.get(f"/services/{service_id}?extensions=note,tags"), 200,
                 extensions=["note", "tags"])
    assert body["note"] == "plain text"


# --- extension schemas and business attributes ---------------------------------------

def test_extension_schema_answers_fit(client):
    for schema in EXTENSION_SCHEMAS:
        body = check(client, "ExtensionCreated", client.post("/metadata/services/extensions", json=schema), 201)
        assert body == {"name": schema["name"]}
    check(client, "ExtensionSchema", client.get("/metadata/services/extensions"), 200, many=True)
    check(client, "ExtensionSchema", client.get("/metadata/services/extensions/relatedoffers"), 200)


def test_business_attribute_answers_fit(make_app):
    client = make_app(**MAPPED).test_client()
    check(client, "BusinessAttributeDescription", client.get("/metadata/business-attributes"), 200, many=True)
    check(client, "BusinessAttributeDescription", client.get("/metadata/business-attributes/media"), 200)
    check(client, "BusinessAttributeDescription",
          client.get("/metadata/business-attributes?cv-attribute=Service.type"), 200)


# --- server ----------------------------------------------------------------------------

def test_server_answers_fit(client):
    check(client, "Health", client.get("/healthz"), 200)
    check(client, "ServerStatus", client.get("/server/status"), 200)
    check(client, "ServerModeAnswer", client.post("/server/mode", json={"mode": "maintenance"}), 200)
    check(client, "ServerModeAnswer", client.post("/server/mode", json={"mode": "production"}), 200)


# --- errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/services/start", {"service_type": 1}, 400),                          # MISSING_CONTACT
    ("POST", "/services/start", {"customer_id": 5, "service_type": "x"}, 400),      # fields
    ("POST", "/services/start", {"customer_id": "c", "service_type": 1, "x": {}}, 400),
    ("POST", "/services/start", b"{", 400),
    ("POST", "/metadata/services/extensions", {"name": "coupon", "type": "none", "attributes": [{}]}, 400),
    ("GET", "/services/1", None, 404),
    ("GET", "/services/1?active_states=maybe", None, 400),
    ("GET", "/metadata/states/extensions/nothing", None, 404),
    ("DELETE", "/services/start", None, 405),
    ("POST", "/services/start", b"[" * 2_000_000, 413),
])
def test_error_answers_fit(client, method, path, body, status):
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body} if body is not None else {}
    check(client, "ErrorResponse", client.open(path, method=method, **kwargs), status)


def test_maintenance_answer_fits(client):
    client.post("/server/mode", json={"mode": "maintenance"})
    check(client, "ErrorResponse", client.post("/services/start", json={"customer_id": "c", "service_type": 1}),
          503)


# --- states, tasks, completion, lists ----------------------------------------------------

NOTE = {"name": "note", "type": "multi-valued", "attributes": [{"name": "text", "type": "string"}],
        "unique": ["text"]}


def test_states_tasks_and_completed_services_fit(client):
    register_vendor_extensions(client)
    for kind in ("states", "tasks"):
        assert client.post(f"/metadata/{kind}/extensions", json=NOTE).status_code == 201
    service_id = start(client, {**start_example(), "customer_id": "c1"})["service_id"]
    service = f"/services/{service_id}"
    check(client, "StateCreated", client.post(f"{service}/states/start", json={
        "state_type": 1, "interaction_id": "i", "note": [{"text": "a"}]}), 201)
    check(client, "TaskCreated", client.post(f"{service}/tasks/start", json={"task_type": 2, "state_id": 1}), 201)
    check(client, "TaskCreated", client.post(f"{service}/tasks/start", json={"task_type": 3}), 201)
    check(client, "StateCreated", client.post(f"{service}/states/transition", json={
        "from": {"state_id": 1, "disposition": 4}, "to": {"state_type": 2}}), 201)
    check(client, "TaskResource", client.post(f"{service}/tasks/2/end?extensions=note", json={
        "note": [{"text": "done"}], "disposition_desc": "ok"}), 200, extensions=["note"])
    check(client, "StateResource", client.get(f"{service}/states/1?active_tasks=true&completed_tasks=true"
                                              "&extensions=note"), 200, extensions=["note"])
    check(client, "StateResource", client.get(f"{service}/states?completed_tasks=true"), 200, many=True)
    check(client, "TaskResource", client.get(f"{service}/tasks?extensions=note"), 200, many=True,
          extensions=["note"])
    check(client, "ServiceResource", client.get(f"{service}?{ALL_FLAGS}"), 200)
    check(client, "ServiceResource", client.post(f"{service}/end?{ALL_FLAGS}&extensions=coupon", json={
        "disposition": 5, "coupon": {"coupon_name": "X"}}), 200, extensions=["coupon"])
    check(client, "StateResource", client.get(f"{service}/states/2"), 200)
    check(client, "ServiceResource", client.get(f"/customers/c1/services?{ALL_FLAGS}"), 200, many=True)


def test_lists_and_association_fit(client):
    start(client, {"contact_key": "k", "service_type": 1})
    anonymous = check(client, "ServiceResource", client.get("/services/anonymous/k/active"), 200, many=True)
    service_id = anonymous[0]["service_id"]
    check(client, "ServiceResource", client.post(f"/customers/c2/services/{service_id}",
                                                 json={"media_type": 3}), 200)
    check(client, "ServiceResource", client.get("/customers/c2/services/active?limit=5"), 200, many=True)
    assert client.get("/services/anonymous/k").get_json() == []


def test_extension_value_answers_fit(client):
    register_vendor_extensions(client)
    service_id = start(client, start_example())["service_id"]
    response = client.put(f"/services/{service_id}/extensions/relatedOffers", json=[{"offer_name": "a"}])
    assert response.status_code == 200
    assert_matches_component(fetch_document(client), "ExtensionValue", response.get_json())
