"""Malformed IDs and names in paths and query strings: a JSON 404/400/405, never a 500 or HTML."""
import pytest

from tests.hostile import assert_error_shape, assert_tables_intact
from tests.vendor import register_vendor_extensions

# Every shape an ID can be mangled into on its way through IVR scripts and proxies.
MALFORMED_IDS = [
    "0", "00", "-1", "-0", "+5", "%2B5", "1.0", "1.5", "1e3", "1E3", "0x10", "0b1", "0o7", "1_000",
    " 5", "%205", "5%20", "%095", "5%0A", "%00", "5%00", "%", "%zz", "%FF", "%C0%AF", "%E2%80%AE5",
    "\u0661\u0662", "%D9%A1%D9%A2", "\uff11", "\u00b2", "\u2168", "Infinity", "NaN", "null", "true", "[]", "{}",
    "9" * 20, "9" * 21, "9" * 400, str(2**53), str(2**63), str(2**64), str(2**64 + 1),
    "..", "%2e%2e", "5;drop", "5%3B%20DROP%20TABLE%20service", "'%20OR%20'1'='1", "<script>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "5/", "5//", "5/..", "a%2Fb",
]

# (method, path template) of every route with an ID in its path; {id} is the ID under test,
# {sid} a service that exists (with state 1 and task 1), so that nested IDs are reached.
ID_ROUTES = [
    ("GET", "/services/{id}", None),
    ("POST", "/services/{id}/end", {}),
    ("POST", "/customers/c1/services/{id}", {}),
    ("POST", "/services/{id}/states/start", {"state_type": 1}),
    ("POST", "/services/{id}/states/transition", {"from": {"state_id": 1}, "to": {"state_type": 2}}),
    ("GET", "/services/{id}/states", None),
    ("GET", "/services/{id}/states/active", None),
    ("POST", "/services/{id}/tasks/start", {"task_type": 1}),
    ("GET", "/services/{id}/tasks/completed", None),
    ("PUT", "/services/{id}/extensions/coupon", {"coupon_name": "x"}),
    ("PUT", "/services/{id}/extensions/relatedOffers/by/unique", {"offer_name": "x"}),
    ("GET", "/services/{sid}/states/{id}", None),
    ("POST", "/services/{sid}/states/{id}/end", {}),
    ("PUT", "/services/{sid}/states/{id}/extensions/coupon", {"coupon_name": "x"}),
    ("GET", "/services/{sid}/tasks/{id}", None),
    ("POST", "/services/{sid}/tasks/{id}/end", {}),
    ("PUT", "/services/{sid}/tasks/{id}/extensions/relatedOffers/delete/by/unique", {"offer_name": "x"}),
]


@pytest.fixture
def service_id(client):
    register_vendor_extensions(client)
    service = client.post("/services/start", json={"contact_key": "k", "service_type": 1}).get_json()["service_id"]
    assert client.post(f"/services/{service}/states/start", json={"state_type": 1}).status_code == 201
    assert client.post(f"/services/{service}/tasks/start", json={"task_type": 1}).status_code == 201
    return service


@pytest.mark.parametrize("method, template, body", ID_ROUTES)
def test_malformed_path_ids_are_json_404s(client, service_id, method, template, body):
    for bad in MALFORMED_IDS:
        response = client.open(template.format(id=bad, sid=service_id), method=method, json=body)
        assert_error_shape(response)
        assert response.status_code in (404, 405), (bad, response.status_code)
    assert_tables_intact()


@pytest.mark.parametrize("method, template, body", ID_ROUTES)
def test_ids_in_range_that_name_nothing_are_404(client, service_id, method, template, body):
    for unknown in ("2", "02", "9" * 9, str(2**31 - 1), "9" * 16, str(2**53 - 1)):
        response = client.open(template.format(id=unknown, sid=service_id), method=method, json=body)
        assert_error_shape(response, 404)


NAMES = [
    "%00", "a" * 27, "a" * 5000, "%3Cscript%3E", "<script>alert(1)</script>", "\u0661", "%F0%9F%98%80", "%FF",
    "a%2Fb", "..", "a%20b", "a%0Ab", "'%3B%20DROP%20TABLE%20extension_schema%3B%20--", "%E2%80%AE",
]


@pytest.mark.parametrize("kind", ["services", "states", "tasks", "profiles", "%00", "<b>"])
def test_malformed_extension_names_are_json_errors(client, kind):
    for name in NAMES:
        for method in ("GET", "DELETE", "PUT", "POST"):
            response = client.open(f"/metadata/{kind}/extensions/{name}", method=method, json={})
            assert response.status_code in (404, 405), (kind, name, method)
            assert_error_shape(response)
    assert_tables_intact()


@pytest.mark.parametrize("query", [
    "extensions=%3Cscript%3E", "extensions=%00", "extensions=" + "a," * 5000, "extensions=%F0%9F%98%80",
    "extensions=,,,", "active_states=%FF", "active_states=%3Cb%3E", "completed_tasks=2", "active_states=",
    "active_states=true&active_states=%00",
])
def test_hostile_query_strings_on_a_read_are_400_or_ignored(client, query):
    location = client.post("/services/start", json={"contact_key": "k", "service_type": 1}).headers["Location"]
    response = client.get(f"{location}?{query}")
    if response.status_code != 200:
        assert_error_shape(response, 400)
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("path", [
    "/<script>alert(1)</script>", "/%3Cscript%3E", "/%FF", "/%00", "/" + "a" * 5000, "/services/start/",
    "/metadata/business-attributes/%3Cscript%3E", "/metadata/business-attributes?cv-attribute=%3Cscript%3E",
    "/server/status/%00", "//services//start", "/services/./start", "/services//start", "/metadata//services/extensions",
    "/metadata/services//extensions", "/services/1//end", "/healthz//",
])
def test_unknown_and_hostile_paths_answer_json(client, path):
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        assert_error_shape(_open_literally(client, path, method))
    for method in ("HEAD", "OPTIONS"):
        response = _open_literally(client, path, method)
        assert response.mimetype == "application/json" or response.status_code == 204, (path, method)


def _open_literally(client, path, method):
    # The test client reads "//services/..." as host "services" and path "/" (the root page);
    # a server passes such a request line on as the path itself.
    if path.startswith("//"):
        return client.open("/", method=method, environ_overrides={"PATH_INFO": path})
    return client.open(path, method=method)


@pytest.mark.parametrize("method, path", [("OPTIONS", "/healthz"), ("OPTIONS", "/services/start"),
                                          ("DELETE", "/metadata/services/extensions/probe")])
def test_answers_without_a_body_carry_no_type_and_every_answer_says_nosniff(client, method, path):
    definition = {"name": "probe", "type": "single-valued", "attributes": []}
    assert client.post("/metadata/services/extensions", json=definition).status_code == 201
    response = client.open(path, method=method)
    assert response.status_code == 204 and response.get_data() == b""
    assert "Content-Type" not in response.headers
    for response in (response, client.get("/healthz"), client.get("/nothing"), client.get("/services/abc")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
