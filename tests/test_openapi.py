"""GET /openapi.json and /docs: a valid OpenAPI 3.1 document that covers exactly the app's routes."""
import re
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.errors import HTTP_ERROR_CODES
from app.passwords import hash_password
from schemas.errors import ERROR_CODES
from tests.openapi_support import (documented_path_for, fetch_document, operations, sample_url_of,
                                   sample_urls)

REPO = Path(__file__).resolve().parent.parent
PREFIX = "/genesys/1/cs"
# Every option that changes the document: prefix, free mode, wide IDs, mapped business attributes.
VARIANT = {
    "api": {"base_path": PREFIX},
    "extensions": {"mode": "free"},
    "ids": {"layout": "wide"},
    "business_attributes": {"map_names": "true", "Service.type": "ServiceType", "*.disposition": "Outcome"},
    "attribute:ServiceType": {"Sales": "100, Sales call", "Support": "200"},
    "attribute:Outcome": {"Done": "10", "Dropped": "11"},
    "auth": {"mode": "basic"},
    "user:ann": {"password": hash_password("ann's password"), "roles": "reader"},
}


@pytest.fixture
def backend():
    """The document does not depend on the database: one backend is enough here."""
    return "sqlite"


@pytest.fixture(params=["default", "variant"])
def configured(request, make_app):
    """(test client, base path) for the built-in defaults and for the variant settings."""
    if request.param == "default":
        return make_app().test_client(), ""
    return make_app(**VARIANT).test_client(), PREFIX


def routes(app):
    """(rule, method) of every route the app serves, less Flask's static files, HEAD and OPTIONS."""
    return [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def test_document_is_valid_openapi_3_1(configured):
    client, prefix = configured
    document = fetch_document(client, prefix)
    assert document["openapi"] == "3.1.0"
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, errors[:5]


def test_every_route_is_documented(configured):
    client, prefix = configured
    document = fetch_document(client, prefix)
    missing = []
    for rule, method in routes(client.application):
        for url in sample_urls(rule):
            path = documented_path_for(document, url)
            if path is None or method.lower() not in document["paths"][path]:
                missing.append(f"{method} {rule.rule} (as {url})")
    assert not missing, "routes missing from app/openapi/operations.py:\n" + "\n".join(missing)


def test_every_documented_operation_is_a_route(configured):
    client, prefix = configured
    document = fetch_document(client, prefix)
    adapter = client.application.url_map.bind("localhost")
    phantom = []
    for path, method, operation in operations(document):
        try:
            adapter.match(sample_url_of(path, operation), method=method.upper())
        except (NotFound, MethodNotAllowed) as error:
            phantom.append(f"{method.upper()} {path}: {type(error).__name__}")
    assert not phantom, phantom


def test_paths_carry_the_base_path(make_app):
    document = fetch_document(make_app(api={"base_path": PREFIX}).test_client(), PREFIX)
    assert document["paths"] and all(path.startswith(PREFIX + "/") for path in document["paths"])
    assert f"{PREFIX}/services/start" in document["paths"]


def test_operation_ids_are_unique(client):
    ids = [operation["operationId"] for _, _, operation in operations(fetch_document(client))]
    assert len(ids) == len(set(ids))


def test_every_operation_documents_405_and_503_with_the_error_shape(client):
    for path, method, operation in operations(fetch_document(client)):
        for status in ("405", "503"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            refs = [schema.get("$ref")] + [item.get("$ref") for item in schema.get("anyOf", [])]
            assert "#/components/schemas/ErrorResponse" in refs, (method, path, status)


def test_settings_shape_the_document(make_app):
    default = fetch_document(make_app().test_client())
    variant = fetch_document(make_app(**VARIANT).test_client(), PREFIX)
    schemas, varied = default["components"]["schemas"], variant["components"]["schemas"]

    assert schemas["ServiceResource"]["properties"]["service_id"]["type"] == "integer"
    assert varied["ServiceResource"]["properties"]["service_id"]["type"] == "string"

    assert "anyOf" in schemas["ExtensionValue"]                     # strict: object or array of objects
    assert "anyOf" not in varied["ExtensionValue"]                  # free: any JSON value
    assert schemas["ServiceStartEvent"]["additionalProperties"] == {"$ref": "#/components/schemas/ExtensionValue"}
    assert schemas["ServiceResource"]["additionalProperties"] == {"$ref": "#/components/schemas/ExtensionValue"}

    assert schemas["ServiceResource"]["properties"]["service_type"]["type"] == "integer"
    assert varied["ServiceResource"]["properties"]["service_type"]["type"] == ["integer", "string"]
    described = varied["ServiceStartEvent"]["properties"]["service_type"]["description"]
    assert "`Sales` = 100" in described and "`Support` = 200" in described
    assert "names are refused" in schemas["ServiceStartEvent"]["properties"]["service_type"]["description"]


def test_custom_fields_have_their_openapi_types(client):
    schemas = fetch_document(client)["components"]["schemas"]
    start = schemas["ServiceStartEvent"]["properties"]
    assert start["est_duration"]["type"] == ["integer", "string", "null"]      # null: optional = absent
    assert start["est_duration"]["minimum"] == 0
    assert start["timestamp"]["format"] == "date-time"
    assert start["customer_id"]["maxLength"] == 16
    attribute = schemas["AttributeSchemaDefinition"]["properties"]
    assert attribute["mandatory"]["type"] == ["boolean", "string"]
    assert re.search(attribute["mandatory"]["pattern"], "True")
    assert schemas["ContextBlock"]["properties"]["timestamp"]["pattern"]
    assert schemas["ServiceStartEvent"]["required"] == ["service_type"]


def test_document_is_the_same_on_every_request(client):
    assert client.get("/openapi.json").data == client.get("/openapi.json").data


# --- error codes -----------------------------------------------------------------------

_RAISED = [
    re.compile(r'error_code\s*=\s*f?"([A-Z][A-Z_]+)"'),
    re.compile(r'IdUnavailable\(\s*"([A-Z][A-Z_]+)"'),
    re.compile(r'super\(\)\.__init__\(\s*"([A-Z][A-Z_]+)"'),
    re.compile(r'error_response\(\s*\d+,\s*"([A-Z][A-Z_]+)"'),
]


def codes_in_the_code():
    found = set(HTTP_ERROR_CODES.values())
    # schemas/ too: a value over a limit is refused there, with its code, before app/ words the 400.
    for path in [*(REPO / "app").rglob("*.py"), *(REPO / "schemas").rglob("*.py")]:
        text = path.read_text()
        for pattern in _RAISED:
            found.update(pattern.findall(text))
        # f"{label.upper()}_NOT_FOUND" and the like: the code is built from a word.
        for prefix_words, suffix in re.findall(r'error_code\s*=\s*f"\{(\w+)\.upper\(\)\}(_[A-Z_]+)"', text):
            found.update(code for code in ERROR_CODES if code.endswith(suffix))
    return found


def test_every_error_code_the_app_raises_is_documented_and_no_other():
    raised = codes_in_the_code()
    assert raised - set(ERROR_CODES) == set(), "add these to schemas/errors.py ERROR_CODES"
    assert set(ERROR_CODES) - raised == set(), "no code raises these any more"


def test_every_documented_error_code_is_known(client):
    for path, method, operation in operations(fetch_document(client)):
        for status, response in operation["responses"].items():
            for code in re.findall(r"- `([A-Z_]+)`", response["description"]):
                assert code in ERROR_CODES, (method, path, code)
                assert str(ERROR_CODES[code][0]) == status, (method, path, code, status)


# --- /docs ---------------------------------------------------------------------------

def test_docs_page_uses_only_local_assets(configured):
    client, prefix = configured
    response = client.get(f"{prefix}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and not [link for link in links if "//" in link], links
    for link in links:
        asset = client.get(link)
        assert asset.status_code == 200, link
        assert asset.content_length and asset.content_length > 0, link
    assert f'"{prefix}/openapi.json"' in html


def test_an_unknown_docs_file_is_a_json_404(client):
    response = client.get("/docs/nothing.js")
    assert response.status_code == 404
    assert response.get_json()["error"]["error_code"] == "NOT_FOUND"
