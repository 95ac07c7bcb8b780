"""Access control (SPEC §11) through the test client: roles of every route, 401/403 answers, the cache and the failure limit."""
import statistics
import time

import pytest

from app.access import declared_role
from app.passwords import hash_password
from models import AuthFailure, database
from tests.calls import start_service
from tests.openapi_support import fetch_document, operations, sample_url_of, sample_urls
from tests.support import basic_auth

PASSWORD = "correct horse battery"
USERS = {"reader": "ann", "writer": "bob", "admin": "cid"}

# SPEC §11, written out by hand: a route the app serves and this table does not list fails
# test_every_route_gets_exactly_the_rights_of_its_role. A route added later gets one line here.
SPEC_ROLES = {
    "server.healthz": "public", "server.status": "reader", "server.set_mode": "admin",
    "metadata.create_extension": "admin", "metadata.delete_extension": "admin",
    "metadata.list_extensions": "reader", "metadata.read_extension": "reader",
    "metadata.list_business_attributes": "reader", "metadata.read_business_attribute": "reader",
    "services.start_service": "writer", "services.complete_service": "writer",
    "services.associate_service": "writer", "services.read_service": "reader",
    "services.list_customer_services": "reader", "services.list_anonymous_services": "reader",
    "states.start_state": "writer", "states.transition": "writer", "states.end_state": "writer",
    "states.list_states": "reader", "states.read_state": "reader",
    "tasks.start_task": "writer", "tasks.end_task": "writer", "tasks.list_tasks": "reader",
    "tasks.read_task": "reader",
    "extension_values.replace_value": "writer", "extension_values.update_record": "writer",
    "extension_values.delete_record": "writer",
    "docs.openapi": "public", "docs.page": "public", "docs.asset": "public", "docs.page_with_slash": "public",
    "server.index": "reader", "server.prometheus_metrics": "reader",
    "removal.delete_service": "writer", "removal.erase_customer": "admin", "maintenance.purge": "admin",
}
LEVELS = ("reader", "writer", "admin")


@pytest.fixture(scope="module")
def password_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def make_guarded(make_app, password_hash):
    """make_guarded(**auth_options) -> a test client of an app with [auth] mode = basic and one user per role."""
    def make(**auth):
        users = {f"user:{name}": {"password": password_hash, "roles": role} for role, name in USERS.items()}
        return make_app(auth={"mode": "basic", **auth}, **users).test_client()
    return make


@pytest.fixture
def guarded(make_guarded):
    return make_guarded(max_failures_per_minute=10_000)


def as_role(role):
    return basic_auth(USERS[role], PASSWORD)


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()["error"]


def routes(app):
    return [(rule, method) for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


# --- every route has its role ---------------------------------------------------------

@pytest.mark.parametrize("mode", ["none", "basic"])
def test_every_route_declares_a_role(make_app, password_hash, mode):
    app = make_app(auth={"mode": mode}, **{"user:ann": {"password": password_hash, "roles": "reader"}})
    undeclared = [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in routes(app)
                  if declared_role(app, rule.endpoint, method) is None]
    assert not undeclared, "declare a role (app/access.py) for:\n" + "\n".join(undeclared)


def _outcome(needed, credentials):
    """What SPEC §11 says a request with these credentials gets: 'passes', 401 or 403."""
    if needed == "public":
        return "passes"
    if credentials in ("none", "wrong password"):
        return 401
    return "passes" if LEVELS.index(credentials) >= LEVELS.index(needed) else 403


def _headers(credentials):
    if credentials == "none":
        return {}
    if credentials == "wrong password":
        return basic_auth(USERS["admin"], "not the password")
    return as_role(credentials)


def test_every_route_gets_exactly_the_rights_of_its_role(guarded):
    """Every route x no credentials / wrong password / each role. A request that passes the gate
    is answered by the route itself (here mostly 400/404: sample IDs and no bodies), never 401/403."""
    faults = []
    for rule, method in routes(guarded.application):
        needed = SPEC_ROLES.get(rule.endpoint)
        if needed is None:
            faults.append(f"{rule.endpoint}: not in SPEC_ROLES")
            continue
        for url in sample_urls(rule):
            for credentials in ("none", "wrong password", *LEVELS):
                response = guarded.open(url, method=method, headers=_headers(credentials))
                expected = _outcome(needed, credentials)
                got = response.status_code
                if expected == "passes" and (got in (401, 403, 429) or got >= 500):
                    faults.append(f"{method} {url} as {credentials}: {got}, expected the route's own answer")
                elif expected != "passes" and got != expected:
                    faults.append(f"{method} {url} as {credentials}: {got}, expected {expected}")
    assert not faults, "\n".join(faults)


def test_each_role_succeeds_at_its_own_level(guarded):
    assert guarded.get("/server/status", headers=as_role("reader")).status_code == 200
    service_id = start_service(_Authorised(guarded, "writer"))
    assert guarded.get(f"/services/{service_id}", headers=as_role("reader")).status_code == 200
    assert guarded.post(f"/services/{service_id}/end", headers=as_role("writer")).status_code == 200
    schema = {"name": "note", "type": "single-valued", "attributes": [{"name": "text", "type": "string"}]}
    assert guarded.post("/metadata/services/extensions", json=schema, headers=as_role("admin")).status_code == 201
    assert guarded.post("/server/mode", json={"mode": "maintenance"}, headers=as_role("admin")).status_code == 200


class _Authorised:
    """A test client that sends one role's credentials with every request."""

    def __init__(self, client, role):
        self.client, self.role = client, role

    def post(self, url, **kwargs):
        return self.client.post(url, headers=as_role(self.role), **kwargs)


def test_head_and_options_need_credentials_too(guarded):
    assert guarded.head("/server/status").status_code == 401
    assert guarded.options("/services/start").status_code == 401
    assert guarded.options("/services/start", headers=as_role("reader")).status_code == 204


def test_a_path_that_is_no_route_needs_credentials_before_its_404(guarded):
    assert error_of(guarded.get("/no/such/route"), 401)["error_code"] == "UNAUTHORIZED"
    assert error_of(guarded.get("/no/such/route", headers=as_role("reader")), 404)["error_code"] == "NOT_FOUND"
    assert guarded.delete("/server/status", headers=as_role("reader")).status_code == 405


def test_docs_are_open_by_default_and_closed_with_open_docs_false(make_guarded):
    assert make_guarded().get("/openapi.json").status_code == 200
    closed = make_guarded(open_docs="false")
    assert error_of(closed.get("/openapi.json"), 401)["error_code"] == "UNAUTHORIZED"
    assert error_of(closed.get("/docs"), 401)["error_code"] == "UNAUTHORIZED"
    assert closed.get("/docs", headers=as_role("reader")).status_code == 200
    assert closed.get("/healthz").status_code == 200


# --- the answers ---------------------------------------------------------------------------

def test_missing_credentials_get_401_with_the_realm(guarded):
    response = guarded.post("/services/start", json={"service_type": 1, "contact_key": "k"})
    error = error_of(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="context-services"'
    assert error == {"http_method": "POST", "uri": "/services/start", "http_code": 401,
                     "error_code": "UNAUTHORIZED", "message": error["message"]}


def test_a_missing_role_gets_403_naming_it_and_changes_nothing(guarded):
    response = guarded.post("/server/mode", json={"mode": "maintenance"}, headers=as_role("writer"))
    error = error_of(response, 403)
    assert error["error_code"] == "FORBIDDEN"
    assert "admin" in error["message"]
    assert guarded.get("/server/status", headers=as_role("reader")).get_json()["mode"] == "production"
    refused = guarded.post("/services/start", json={"service_type": 1, "contact_key": "k"},
                           headers=as_role("reader"))
    assert error_of(refused, 403)["error_code"] == "FORBIDDEN"
    listed = guarded.get("/services/anonymous/k", headers=as_role("reader")).get_json()
    assert listed == []


def test_unknown_user_and_wrong_password_get_the_same_answer(guarded):
    unknown = guarded.get("/server/status", headers=basic_auth("nobody", PASSWORD))
    wrong = guarded.get("/server/status", headers=basic_auth(USERS["admin"], "guess"))
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]


def test_unknown_user_and_wrong_password_take_the_same_time(guarded):
    """Median over repeats, interleaved, within 20 % of each other: both run the KDF once."""
    timings = {"unknown user": [], "wrong password": []}
    headers = {"unknown user": basic_auth("nobody", "guess"), "wrong password": basic_auth(USERS["admin"], "guess")}
    for _ in range(15):
        for kind, sent in headers.items():
            started = time.perf_counter()
            assert guarded.get("/server/status", headers=sent).status_code == 401
            timings[kind].append(time.perf_counter() - started)
    unknown, wrong = (statistics.median(values) for values in timings.values())
    assert abs(unknown - wrong) <= 0.2 * max(unknown, wrong), timings


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "eA==", "Digest username=x"])
def test_malformed_credentials_get_401(guarded, header):
    assert error_of(guarded.get("/server/status", headers={"Authorization": header}), 401)["error_code"] \
        == "UNAUTHORIZED"


def test_a_password_may_hold_any_text(make_app):
    password = "pässwörd:with colon ✓"
    client = make_app(auth={"mode": "basic"},
                      **{"user:zoe": {"password": hash_password(password), "roles": "reader"}}).test_client()
    assert client.get("/server/status", headers=basic_auth("zoe", password)).status_code == 200


# --- the cache -------------------------------------------------------------------------

def _worker_figures(client, role="reader"):
    return client.get("/server/status", headers=as_role(role)).get_json()["worker"]


def test_a_verified_credential_is_not_checked_again_within_cache_seconds(guarded):
    for _ in range(5):
        worker = _worker_figures(guarded)
    assert worker["password_checks"] == 1
    assert worker["cached_credentials"] == 4


def test_cache_seconds_zero_checks_every_request(make_guarded):
    client = make_guarded(cache_seconds=0)
    for _ in range(3):
        worker = _worker_figures(client)
    assert worker["password_checks"] == 3


def test_a_wrong_password_is_never_cached(guarded):
    for _ in range(3):
        guarded.get("/server/status", headers=basic_auth(USERS["reader"], "guess"))
    assert _worker_figures(guarded)["password_checks"] == 4


# --- failed attempts ---------------------------------------------------------------------

def _forwarded(address, user=USERS["reader"], password="guess"):
    return {**basic_auth(user, password), "X-Forwarded-For": address}


def test_more_failures_than_the_limit_get_429_until_the_minute_is_over(make_guarded):
    client = make_guarded(max_failures_per_minute=3)
    for _ in range(3):
        assert client.get("/server/status", headers=_forwarded("203.0.113.5")).status_code == 401
    refused = client.get("/server/status", headers=_forwarded("203.0.113.5", password=PASSWORD))
    error = error_of(refused, 429)
    assert error["error_code"] == "TOO_MANY_FAILURES"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another client address is not held back.
    assert client.get("/server/status", headers=_forwarded("203.0.113.6", password=PASSWORD)).status_code == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy(make_guarded):
    client = make_guarded(max_failures_per_minute=2, trusted_proxies="192.0.2.1")
    for address in ("203.0.113.7", "203.0.113.8"):
        assert client.get("/server/status", headers=_forwarded(address)).status_code == 401
    # The test client's peer, 127.0.0.1, is no trusted proxy here: both failures were its own.
    assert client.get("/server/status", headers=_forwarded("203.0.113.9", password=PASSWORD)).status_code == 429
    proxied = client.get("/server/status", headers=_forwarded("203.0.113.9", password=PASSWORD),
                         environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert proxied.status_code == 200


def test_failures_are_counted_for_every_worker_in_the_database(make_guarded):
    client = make_guarded(max_failures_per_minute=5)
    client.get("/server/status", headers=_forwarded("198.51.100.1"))
    client.get("/server/status", headers=_forwarded("198.51.100.1"))
    with database.connection_context():
        counts = {row.address: row.failures for row in AuthFailure.select()}
    assert counts == {"198.51.100.1": 2}


def test_a_failure_is_logged_with_user_and_address_never_the_password(guarded, caplog):
    guarded.get("/server/status", headers=_forwarded("203.0.113.10", password="s3cr3t-guess"))
    lines = [record.getMessage() for record in caplog.records if record.name == "app.auth"]
    assert any("'ann'" in line and "203.0.113.10" in line for line in lines), lines
    assert not any("s3cr3t-guess" in record.getMessage() for record in caplog.records)


# --- mode none -------------------------------------------------------------------------

def test_mode_none_lets_everyone_do_everything_and_says_so_at_start(make_app, caplog):
    client = make_app().test_client()
    assert any(record.levelname == "WARNING" and "mode = none" in record.getMessage() for record in caplog.records)
    assert client.post("/server/mode", json={"mode": "production"}).status_code == 200



# --- the OpenAPI document ----------------------------------------------------------------

def test_the_document_gives_each_operation_its_role_security_and_refusals(guarded):
    document = fetch_document(guarded)
    assert document["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    adapter = guarded.application.url_map.bind("localhost")
    for path, method, operation in operations(document):
        endpoint, _ = adapter.match(sample_url_of(path, operation), method=method.upper())
        role, responses = operation["x-role"], operation["responses"]
        assert role == SPEC_ROLES[endpoint].replace("public", "none"), (method, path)
        if role == "none":
            assert operation["security"] == [] and "401" not in responses, (method, path)
            continue
        assert operation["security"] == [{"basicAuth": []}], (method, path)
        assert "`UNAUTHORIZED`" in responses["401"]["description"]
        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "Retry-After" in responses["429"]["headers"]
        assert ("403" in responses) == (role != "reader"), (method, path)


def test_the_document_of_mode_none_states_roles_without_security(make_app):
    document = fetch_document(make_app().test_client())
    assert "securitySchemes" not in document["components"]
    for path, method, operation in operations(document):
        assert "security" not in operation and "401" not in operation["responses"], (method, path)
        assert operation["x-role"] in ("none", *LEVELS)
