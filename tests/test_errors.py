"""SPEC §2 errors through HTTP: one JSON shape for routing, body and server faults.

POST /server/mode is the JSON-consuming route: a valid body gives 200, so every other
answer below comes from the body or routing layer.
"""
import io
import logging

import pytest
import requests

from tests.support import running_gunicorn

ERROR_KEYS = {"http_method", "uri", "http_code", "error_code", "message"}
VALID = b'{"mode": "production"}'
SMALL_LIMIT = 1024   # the smallest [api] max_body_bytes the schema allows


def error_of(response, status, error_code):
    """The "error" object of a SPEC §2 error response, after checking its shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) in (ERROR_KEYS, ERROR_KEYS | {"fields"})
    assert error["http_code"] == status
    assert error["error_code"] == error_code
    assert error["uri"] == response.request.path
    assert error["http_method"] == response.request.method
    return error


def post_mode(client, data, **kwargs):
    return client.post("/server/mode", data=data, **kwargs)


# --- routing -------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/no/such/thing"),
    ("POST", "/services/start/extra"),
    ("GET", "/server/status/"),
])
def test_unknown_route_is_a_json_404(client, method, path):
    error = error_of(client.open(path, method=method), 404, "NOT_FOUND")
    assert set(error) == ERROR_KEYS


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/server/mode", {"POST", "OPTIONS"}),
    ("DELETE", "/server/mode", {"POST", "OPTIONS"}),
    ("POST", "/healthz", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/server/status", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_method_is_a_json_405_with_allow(client, method, path, allowed):
    response = client.open(path, method=method, data=VALID)
    error = error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert set(error) == ERROR_KEYS
    assert {name.strip() for name in response.headers["Allow"].split(",")} == allowed


def test_error_uri_carries_the_base_path(make_app):
    client = make_app(api={"base_path": "/genesys/1/cs"}).test_client()
    assert client.get("/genesys/1/cs/healthz").status_code == 200
    error = error_of(client.get("/genesys/1/cs/nothing"), 404, "NOT_FOUND")
    assert error["uri"] == "/genesys/1/cs/nothing"
    error_of(client.get("/healthz"), 404, "NOT_FOUND")


# --- body size -----------------------------------------------------------------------

def padded(size):
    """A valid mode body of exactly size bytes: JSON allows trailing whitespace."""
    return VALID + b" " * (size - len(VALID))


def test_body_at_the_limit_is_accepted(make_app):
    client = make_app(api={"max_body_bytes": SMALL_LIMIT}).test_client()
    assert post_mode(client, padded(SMALL_LIMIT)).status_code == 200


def test_body_over_the_limit_is_413(make_app):
    client = make_app(api={"max_body_bytes": SMALL_LIMIT}).test_client()
    error = error_of(post_mode(client, padded(SMALL_LIMIT + 1)), 413, "PAYLOAD_TOO_LARGE")
    assert str(SMALL_LIMIT) in error["message"]


def chunked(client, data):
    # What gunicorn hands the app for Transfer-Encoding: chunked: no Content-Length, and a
    # stream the server itself terminates.
    return client.post("/server/mode", input_stream=io.BytesIO(data),
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_at_the_limit_is_accepted(make_app):
    client = make_app(api={"max_body_bytes": SMALL_LIMIT}).test_client()
    assert chunked(client, padded(SMALL_LIMIT)).status_code == 200


def test_chunked_body_over_the_limit_is_413_not_cut_short(make_app):
    # Cut at the limit, this body would still be valid JSON and be accepted.
    client = make_app(api={"max_body_bytes": SMALL_LIMIT}).test_client()
    error_of(chunked(client, padded(SMALL_LIMIT + 1)), 413, "PAYLOAD_TOO_LARGE")


def test_default_limit_is_one_mebibyte(client):
    assert post_mode(client, padded(1 << 20)).status_code == 200
    error_of(post_mode(client, padded((1 << 20) + 1)), 413, "PAYLOAD_TOO_LARGE")


def test_body_limits_through_gunicorn(tmp_path):
    with running_gunicorn({"api": {"max_body_bytes": SMALL_LIMIT}}, workers=1, tmp_path=tmp_path) as url:
        def send(body, *, chunks):
            # requests sends a generator body with Transfer-Encoding: chunked.
            data = (body[i:i + 100] for i in range(0, len(body), 100)) if chunks else body
            return requests.post(url + "/server/mode", data=data, timeout=30)

        for chunks in (False, True):
            assert send(padded(SMALL_LIMIT), chunks=chunks).status_code == 200
            response = send(padded(SMALL_LIMIT + 1), chunks=chunks)
            assert response.status_code == 413
            assert response.json()["error"]["error_code"] == "PAYLOAD_TOO_LARGE"


# --- body parsing --------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "application/json",
    "application/json; charset=utf-8", "application/octet-stream",
])
def test_json_is_read_whatever_the_content_type(client, content_type):
    response = post_mode(client, b'{"mode": "maintenance"}', content_type=content_type)
    assert response.status_code == 200
    assert response.request.headers.get("Content-Type") == content_type
    assert response.get_json() == {"mode": "maintenance"}


def test_utf8_byte_order_mark_is_accepted(client):
    assert post_mode(client, b"\xef\xbb\xbf" + VALID, content_type="text/plain").status_code == 200


@pytest.mark.parametrize("body, where", [
    (b'{\n  "mode": "production",\n}', "line 3 column 1"),
    (b'{"mode": "production"', "line 1 column 22"),
    (b'{"mode": production}', "line 1 column 10"),
    (b"{'mode': 'production'}", "line 1 column 2"),
    (b'{"mode": "production"}\n{"mode": "maintenance"}', "line 2 column 1"),
    (b'\n\n   {"mode" "production"}', "line 3 column 12"),
])
def test_invalid_json_names_line_and_column(client, body, where):
    error = error_of(post_mode(client, body, content_type="text/plain"), 400, "INVALID_JSON")
    assert where in error["message"]
    assert "fields" not in error


def test_invalid_utf8_is_400(client):
    error = error_of(post_mode(client, b'{"mode": "\xff\xfe"}'), 400, "INVALID_JSON")
    assert "UTF-8" in error["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(client, constant):
    body = b'{"mode": "production", "x": ' + constant.encode() + b"}"
    error = error_of(post_mode(client, body), 400, "INVALID_JSON")
    assert constant in error["message"]


def test_duplicate_keys_are_refused(client):
    error = error_of(post_mode(client, b'{"mode": "production", "mode": "maintenance"}'), 400, "INVALID_JSON")
    assert "'mode' appears twice" in error["message"]


def test_duplicate_keys_in_a_nested_object_are_refused(client):
    body = b'{"mode": "production", "x": {"a": 1, "a": 2}}'
    assert "'a' appears twice" in error_of(post_mode(client, body), 400, "INVALID_JSON")["message"]


@pytest.mark.parametrize("opening, closing", [(b"[", b"]"), (b'{"a": ', b"}")])
def test_ten_thousand_levels_of_nesting_are_400(client, opening, closing):
    body = b'{"mode": ' + opening * 10_000 + b"1" + closing * 10_000 + b"}"
    error = error_of(post_mode(client, body), 400, "INVALID_JSON")
    assert "nested too deeply" in error["message"]


def test_an_integer_with_thousands_of_digits_is_400(client):
    error_of(post_mode(client, b'{"mode": ' + b"9" * 5000 + b"}"), 400, "INVALID_JSON")


@pytest.mark.parametrize("body", [b"[]", b'[{"mode": "production"}]', b'"production"', b"42", b"null", b"true"])
def test_a_body_that_is_not_an_object_is_400(client, body):
    error_of(post_mode(client, body), 400, "INVALID_BODY")


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
def test_a_missing_mandatory_body_is_400(client, body):
    error_of(post_mode(client, body), 400, "MISSING_BODY")


# --- server faults -------------------------------------------------------------------

def test_500_carries_no_stack_trace_and_is_logged(make_app, caplog):
    app = make_app()

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("secret detail of a bug")

    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = app.test_client().get("/test-only/boom")
    error = error_of(response, 500, "INTERNAL_ERROR")
    assert set(error) == ERROR_KEYS
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret detail" not in text and "RuntimeError" not in text
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert logged[0].exc_info[0] is RuntimeError
    assert "GET /test-only/boom" in logged[0].getMessage()
    assert "secret detail of a bug" in caplog.text
