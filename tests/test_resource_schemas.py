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
