"""Reading request bodies as JSON whatever their Content-Type (SPEC §2)."""
import json

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import BadRequest


def _object_without_duplicate_keys(pairs):
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _DuplicateKey(duplicate)
    return value


class _DuplicateKey(ValueError):
    pass


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _read_body():
    """The body bytes; RequestEntityTooLarge (413) above max_content_length, chunked or not.

    Werkzeug refuses a Content-Length above the limit, but a chunked body it silently cuts
    at the limit. So when exactly the limit was read, one more byte decides.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        if request.input_stream.read(1):
            raise RequestEntityTooLarge()
    return raw


def json_body(*, required=True):
    """The parsed body: a dict, or None when it is optional and absent.

    Raises BadRequest naming line and column for malformed JSON, and for a body that is
    required but absent or not an object. Duplicate keys and NaN/Infinity are refused
    rather than silently resolved, so what is stored is exactly what was sent.
    """
    raw = _read_body()
    if not raw.strip():
        if required:
            raise BadRequest("a JSON object body is required", error_code="MISSING_BODY")
        return None
    value = _parse(raw)
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object", error_code="INVALID_BODY")
    return value


def json_value():
    """A required body of any JSON type (an extension value may be an array), checked as json_body."""
    raw = _read_body()
    if not raw.strip():
        raise BadRequest("a JSON body is required", error_code="MISSING_BODY")
    return _parse(raw)


def _parse(raw):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest(f"request body is not valid UTF-8 (byte {error.start})", error_code="INVALID_JSON") from None
    try:
        value = json.loads(text, object_pairs_hook=_object_without_duplicate_keys, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise BadRequest(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}",
                         error_code="INVALID_JSON") from None
    except _DuplicateKey as error:
        raise BadRequest(f"invalid JSON: key {str(error)!r} appears twice in one object",
                         error_code="INVALID_JSON") from None
    except RecursionError:
        raise BadRequest("invalid JSON: nested too deeply", error_code="INVALID_JSON") from None
    except ValueError as error:  # NaN/Infinity, or an integer with too many digits
        raise BadRequest(f"invalid JSON: {error}", error_code="INVALID_JSON") from None
    return value
