"""Hostile inputs shared by the robustness tests, and the checks every answer to them must pass."""
from models import ALL_TABLES, database

ERROR_KEYS = {"http_method", "uri", "http_code", "error_code", "message"}

# Text that must be stored and returned exactly as sent: injection attempts, and Unicode
# that trips up byte-oriented or UTF-16-minded code (astral planes, joiners, bidi
# overrides, NUL, a BOM inside a string, non-characters).
HOSTILE_TEXTS = [
    "'; DROP TABLE service; --",
    "\" OR \"1\"=\"1",
    "1; DELETE FROM extension_record WHERE 1=1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}${7*7}%s%n",
    "\\\\server\\share\\..\\..",
    "😀👩‍👩‍👧‍👦🏳️‍🌈",
    "\u202eevil\u202c עברית عربى",
    "a\u0000b",
    "\ufeffbom",
    "\uffff\ufffe\U0010ffff",
    "e\u0301\u0327\u20dd",
    " leading and trailing ",
    "line\nbreak\r\ttab",
]

# Bytes that are not UTF-8: a lone continuation byte, an overlong '/', a UTF-8-encoded
# surrogate, a truncated sequence, and bytes that never occur in UTF-8.
INVALID_UTF8 = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xff\xfe"]

# Numbers JSON can spell but no field here can hold, and literals JSON does not have.
HUGE_NUMBERS = [b"18446744073709551617", b"-18446744073709551617", b"1" + b"0" * 400]
NON_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"1.5e999999"]


def deeply_nested(levels=10_000, *, kind="array"):
    opening, closing = (b"[", b"]") if kind == "array" else (b'{"a":', b"}")
    return opening * levels + b"1" + closing * levels


def assert_error_shape(response, status=None):
    """The SPEC §2 error object of a 4xx/5xx answer, after checking its shape; no 500 allowed."""
    body_text = response.get_data(as_text=True)
    assert response.status_code != 500, body_text
    if status is not None:
        assert response.status_code == status, body_text
    else:
        assert 400 <= response.status_code < 500, body_text
    assert response.mimetype == "application/json", body_text
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert ERROR_KEYS <= set(error) <= ERROR_KEYS | {"fields"}
    assert error["http_code"] == response.status_code
    assert error["http_method"] == response.request.method
    assert error["uri"] == response.request.path
    assert error["error_code"] == error["error_code"].upper() and error["error_code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in body_text
    return error


def assert_tables_intact():
    """Every table the server needs still exists (nothing was dropped by injected SQL)."""
    with database.connection_context():
        existing = set(database.get_tables())
    assert {model._meta.table_name for model in ALL_TABLES} <= existing
