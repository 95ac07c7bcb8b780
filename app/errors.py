"""The APIError tree and the one place that turns any failure into the SPEC §2 JSON error.

It imports no database or ID code: the factory tells register_error_handlers which of their
exceptions mean "unavailable" and what to do about them.
"""
import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from app import metrics
from app.telemetry import current_request_id
from schemas.errors import bounded_fields, bounded_text

logger = logging.getLogger(__name__)

try:
    # Raised while the app reads a body that gunicorn cannot parse (a bad chunk size or
    # terminator): the request is malformed, not the server broken.
    from gunicorn.http.errors import ParseException as MalformedHttp
except ImportError:     # served by another WSGI server, which reports its own
    MalformedHttp = None


class APIError(Exception):
    """Root of every error a client is told about; carries the SPEC §2 fields."""
    status = 400
    error_code = "BAD_REQUEST"

    def __init__(self, message, *, error_code=None, fields=None, headers=None):
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code
        self.fields = fields
        self.headers = headers or {}


class BadRequest(APIError):
    status = 400
    error_code = "BAD_REQUEST"


class ValidationFailed(BadRequest):
    error_code = "VALIDATION_ERROR"


class NotFound(APIError):
    status = 404
    error_code = "NOT_FOUND"


class Conflict(APIError):
    status = 409
    error_code = "CONFLICT"


class Unavailable(APIError):
    status = 503
    error_code = "SERVICE_UNAVAILABLE"


class DatabaseUnavailable(Unavailable):
    error_code = "DATABASE_UNAVAILABLE"

    def __init__(self, message="the database cannot be reached; try again shortly", **kwargs):
        kwargs.setdefault("headers", {"Retry-After": "1"})
        super().__init__(message, **kwargs)


# error_code for the errors Werkzeug raises itself (routing, body size).
HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    411: "LENGTH_REQUIRED",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    431: "HEADERS_TOO_LARGE",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    502: "BAD_GATEWAY",           # also nginx's own answer when gunicorn cannot be reached
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",       # also nginx's own answer when gunicorn does not answer in time
}

HTTP_MESSAGES = {
    404: "no such resource",
    405: "method not allowed on this resource",
    413: "request body too large",
}


def error_response(status, error_code, message, *, fields=None, headers=None):
    error = {
        "http_method": request.method,
        "uri": request.path,
        "http_code": status,
        "error_code": error_code,
        "message": bounded_text(message),
    }
    if fields:
        error["fields"] = bounded_fields(fields)
    response = jsonify({"error": error})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _api_error(error):
    return error_response(error.status, error.error_code, error.message, fields=error.fields, headers=error.headers)


def _http_error(error):
    status = error.code or 500
    if status == 413:
        message = f"request body larger than {request.max_content_length} bytes"
    else:
        message = HTTP_MESSAGES.get(status) or error.description or error.name
    # Start from Werkzeug's own response so headers such as Allow survive.
    headers = {name: value for name, value in error.get_response().headers.items()
               if name.lower() not in ("content-type", "content-length")}
    return error_response(status, HTTP_ERROR_CODES.get(status, error.name.upper().replace(" ", "_")),
                          message, headers=headers)


def _database_unavailable(discard_connection):
    def answer(error):
        logger.warning("database unavailable (request %s): %s", current_request_id(), error)
        metrics.count_database_error("unavailable")
        discard_connection(error)
        return _api_error(DatabaseUnavailable())
    return answer


def _write_outcome_unknown(discard_connection):
    def answer(error):
        logger.warning("connection lost during a write (request %s); its outcome is unknown: %s",
                       current_request_id(), error)
        metrics.count_database_error("outcome_unknown")
        discard_connection(error)
        return _api_error(DatabaseUnavailable(
            "the connection to the database was lost while this write was being stored: it may or may "
            "not have been stored; read before sending it again", error_code="WRITE_OUTCOME_UNKNOWN"))
    return answer


def _id_unavailable(error):
    logger.error("no ID issued (request %s): %s", current_request_id(), error.message)
    return error_response(503, error.error_code, error.message, headers={"Retry-After": "1"})


def _malformed_http(error):
    logger.info("malformed HTTP body on %s %s: %s", request.method, request.path, type(error).__name__)
    return error_response(400, "BAD_REQUEST", f"the request body is malformed HTTP ({type(error).__name__})",
                          headers={"Connection": "close"})


def _internal_error(error):
    original = getattr(error, "original_exception", None) or error
    logger.error("unhandled error on %s %s (request %s)", request.method, request.path, current_request_id(),
                 exc_info=original)
    return error_response(500, "INTERNAL_ERROR", "internal server error; it has been logged")


def register_error_handlers(app, *, database_errors=(), discard_connection=lambda error: None, id_errors=(),
                            outcome_unknown_errors=()):
    """Register on the app, not a blueprint: routing 404/405 never reach a blueprint's handler.

    database_errors are answered 503 DATABASE_UNAVAILABLE and outcome_unknown_errors (a connection
    lost after a write went out) 503 WRITE_OUTCOME_UNKNOWN, each after discard_connection(error),
    which decides whether the connection is worth keeping; id_errors (carrying error_code and
    message) 503 with their own code.
    """
    app.register_error_handler(APIError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    for error_class in id_errors:
        app.register_error_handler(error_class, _id_unavailable)
    for error_class in outcome_unknown_errors:
        app.register_error_handler(error_class, _write_outcome_unknown(discard_connection))
    for error_class in database_errors:
        app.register_error_handler(error_class, _database_unavailable(discard_connection))
    if MalformedHttp is not None:
        app.register_error_handler(MalformedHttp, _malformed_http)
    app.register_error_handler(Exception, _internal_error)
