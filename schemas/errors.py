"""The one error body of SPEC §2, and every error_code a client can meet, with its status and meaning."""
import marshmallow as ma

from schemas.resources import Resource, StrictInteger


class ErrorDetail(Resource):
    http_method = ma.fields.String(required=True, metadata={"description": "method of the request refused"})
    uri = ma.fields.String(required=True, metadata={"description": "path of the request refused"})
    http_code = StrictInteger(required=True, metadata={"description": "the HTTP status again"})
    error_code = ma.fields.String(required=True, metadata={
        "description": "stable upper-case code; docs/API.md lists them all. Clients should treat an "
                       "unknown code by its http_code."})
    message = ma.fields.String(required=True, metadata={"description": "for people; wording may change"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), metadata={
        "description": "validation errors only: field name -> list of problems; a nested object or "
                       "array element has its own map (array elements keyed by index). At most 100 "
                       "entries in all; where a map was cut, `_more` says how many were left out"})


class ErrorResponse(Resource):
    error = ma.fields.Nested(ErrorDetail, required=True)


# An answer to a bad request stays small whatever the request: `fields` holds at most
# MAX_FIELD_ENTRIES keys in all (nested maps count against the same total), a list at most
# MAX_MESSAGES messages, and where a map or list was cut its last place says how many more
# there were; long keys and texts are shortened.
MAX_FIELD_ENTRIES = 100
MAX_MESSAGES = 10
MORE_KEY = "_more"
MAX_KEY_CHARS = 64
MAX_FIELD_TEXT_CHARS = 200
MAX_MESSAGE_CHARS = 1000


def bounded_fields(fields):
    """`fields` cut to at most MAX_FIELD_ENTRIES keys, `_more` included: a cut map's last key
    `_more` says how many keys were left out."""
    budget = [MAX_FIELD_ENTRIES - 1]     # one place is kept for the top level's `_more`
    return _bounded_map(fields, budget)


def bounded_text(text, limit=MAX_MESSAGE_CHARS):
    """The text shortened to `limit` characters."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _bounded(value, budget):
    if isinstance(value, dict):
        return _bounded_map(value, budget)
    if isinstance(value, (list, tuple)):
        shown = [_bounded(item, budget) for item in value[:MAX_MESSAGES]]
        if len(value) > MAX_MESSAGES:
            shown.append(f"{len(value) - MAX_MESSAGES} more not shown.")
        return shown
    return bounded_text(value, MAX_FIELD_TEXT_CHARS) if isinstance(value, str) else value


def _bounded_map(messages, budget):
    shown = {}
    for count, (key, value) in enumerate(messages.items()):
        if budget[0] <= 0:
            shown[MORE_KEY] = [f"{len(messages) - count} more not shown."]
            break
        budget[0] -= 1
        shown[bounded_text(key, MAX_KEY_CHARS) if isinstance(key, str) else key] = _bounded(value, budget)
    return shown


# error_code -> (HTTP status, when). A test compares this with every code the app can raise,
# so a new code cannot ship undocumented and a removed one cannot linger here.
ERROR_CODES = {
    "INVALID_JSON": (400, "The body is not valid JSON (the message names line and column), is not UTF-8, "
                          "repeats a key in one object, holds NaN/Infinity or a number beyond a double, "
                          "escapes half a UTF-16 surrogate pair, or nests more than 100 levels."),
    "MISSING_BODY": (400, "The operation needs a JSON object body and none was sent."),
    "INVALID_BODY": (400, "The body is valid JSON but not an object (or, for an extension value, "
                          "not an object or array)."),
    "VALIDATION_ERROR": (400, "A field is missing, of the wrong type, out of range or too long, or an "
                              "extension value breaks its schema; `fields` names each fault."),
    "MISSING_CONTACT": (400, "Start Service without `customer_id` and without `contact_key`."),
    "UNKNOWN_EXTENSION": (400, "A body key or an `extensions=` name is not a registered extension of "
                               "that resource (strict mode)."),
    "RESERVED_NAME": (400, "An extension schema named like a core field of that resource's events."),
    "INVALID_PARAMETER": (400, "A query parameter has a value the operation cannot use (flags, limit, "
                               "offset, started_from/started_to, type filters)."),
    "ALREADY_COMPLETED": (400, "Completing a service, state or task that is completed already (or a "
                               "transition from a completed state)."),
    "SERVICE_COMPLETED": (400, "Starting a state or a task in a completed service."),
    "TIMESTAMP_BEFORE_START": (400, "An end event's `timestamp` is earlier than the start of something it "
                                    "completes; the message names the earliest accepted time."),
    "UNKNOWN_STATE": (400, "A `state_id` in a body (`previous_state_id`, a task's `state_id`, a transition's "
                           "`from.state_id`) names no state of the service."),
    "STATE_NOT_ACTIVE": (400, "A task started in a completed state."),
    "TOO_MANY": (400, "The service has used every state_id or task_id (2^31 - 1)."),
    "NO_UNIQUE_ATTRIBUTES": (400, "A by-unique form on an extension that is not multi-valued with unique "
                                  "attributes."),
    "MISSING_UNIQUE_ATTRIBUTES": (400, "A by-unique body that does not hold every attribute of one unique "
                                       "constraint."),
    "TOO_MANY_SCHEMAS": (400, "Registering one more extension schema of a resource that has "
                              "`[extensions] max_schemas` (default 200) already."),
    "TOO_MANY_RECORDS": (400, "A multi-valued extension value with more records than `[extensions] "
                              "max_records` (default 1,000); nothing is stored."),
    "VALUE_TOO_LARGE": (400, "An extension value larger than `[extensions] max_value_bytes` (default 65,536 "
                             "bytes of JSON as stored, defaults filled in included); nothing is stored."),
    "UNKNOWN_ATTRIBUTE": (400, "An attribute that is not in the profile's core schema nor in the extension "
                               "named: in an identification key, or a parameter of Identify Customer (also "
                               "when given twice)."),
    "NO_IDENTIFICATION_KEY": (400, "Identify Customer with no attribute, or with none that starts a registered "
                                   "identification key, or an `id_key` that names no key or whose first "
                                   "attribute is not given."),
    "CUSTOMER_ID_REQUIRED": (400, "Create Profile without `customer_id` under `[ids] layout = wide`, whose IDs "
                                  "do not fit the 16 characters of a customer ID."),
    "RESPONSE_TOO_LARGE": (400, "A list, or a read of one service, state, task or profile, whose answer would "
                                "be larger than `[api] max_response_bytes` (default 16 MiB); ask for fewer "
                                "items with `limit` and `offset`, or fewer extensions or nested lists."),
    "BAD_REQUEST": (400, "A request the HTTP layer itself refused as malformed."),
    "UNAUTHORIZED": (401, "`[auth] mode = basic`: no credentials, an unknown user or a wrong password (the "
                          "answer does not say which); `WWW-Authenticate` names the realm."),
    "FORBIDDEN": (403, "The user's role lacks the right; the message names the role needed."),
    "TOO_MANY_FAILURES": (429, "More than `[auth] max_failures_per_minute` failed credentials from this client "
                               "address in this minute; `Retry-After` says when the minute is over."),
    "NOT_FOUND": (404, "No route matches the path, or a path ID is not a positive integer in range."),
    "SERVICE_NOT_FOUND": (404, "No service has this service_id."),
    "STATE_NOT_FOUND": (404, "The service has no state with this state_id."),
    "TASK_NOT_FOUND": (404, "The service has no task with this task_id."),
    "RECORD_NOT_FOUND": (404, "No record of the extension value has the unique attribute values sent."),
    "EXTENSION_NOT_FOUND": (404, "No extension schema of that resource has this name."),
    "ATTRIBUTE_NOT_FOUND": (404, "No business attribute has this name, or none backs the field asked "
                                 "for with `cv-attribute`."),
    "PROFILE_NOT_FOUND": (404, "No profile has this customer_id."),
    "IDENTIFICATION_KEY_NOT_FOUND": (404, "No identification key has this name."),
    "METHOD_NOT_ALLOWED": (405, "The path exists but not for this method; the `Allow` header lists "
                                "the methods that are."),
    "EXTENSION_EXISTS": (409, "An extension schema of that resource already has this name (names "
                              "ignore case)."),
    "CONCURRENT_CHANGE": (409, "An extension schema was deleted by another request while the values "
                               "were being stored; nothing was stored, send the request again."),
    "UNIQUE_CONFLICT": (409, "Two records of one multi-valued extension on one owner would share their "
                             "unique attribute values."),
    "PROFILE_EXISTS": (409, "A profile with this customer_id exists already."),
    "IDENTIFICATION_CONFLICT": (409, "Another customer holds the same values of a `unique` identification key "
                                     "(the message names the key); nothing was stored."),
    "IDENTIFICATION_KEY_EXISTS": (409, "An identification key already has this name (names ignore case)."),
    "EXTENSION_IN_USE": (409, "Deleting a profile extension that an identification key is built on; the message "
                              "names the keys to delete first."),
    "MAINTENANCE_RUNNING": (409, "`POST /maintenance/purge` while another maintenance run (the "
                                 "`maintain` command or another purge) is working; try again later."),
    "PAYLOAD_TOO_LARGE": (413, "The body is larger than `[api] max_body_bytes`."),
    "INTERNAL_ERROR": (500, "A bug: it has been logged with its stack trace; the answer carries none."),
    "MAINTENANCE": (503, "The server is in maintenance mode (`POST /server/mode`): service, state and "
                         "task operations are refused, metadata and server operations work."),
    "DATABASE_UNAVAILABLE": (503, "The database cannot be reached, or refused the transaction three times; "
                                  "nothing of the request was stored. `Retry-After` says when to try again."),
    "WRITE_OUTCOME_UNKNOWN": (503, "The connection to the database broke after the write was sent: it may or "
                                   "may not have been stored. Ends, completes and extension-value writes "
                                   "can simply be sent again; before sending a start again, read the "
                                   "service's active states or tasks (or the customer's active services) "
                                   "to see whether it was stored."),
    "NO_WORKER_ID": (503, "This process holds no worker-ID lease (every worker ID is leased by another "
                          "process), so it cannot issue a service_id."),
    "CLOCK_MOVED_BACKWARDS": (503, "The system clock stepped back by more than `[ids] max_clock_skew_ms`; "
                                   "service IDs are refused until it catches up."),
    "CLOCK_OUT_OF_RANGE": (503, "The system clock reads a time before the ID epoch (2026-01-01) or past the "
                                "last millisecond the ID layout holds; service IDs are refused until it is "
                                "set right."),
    # Mapped from Werkzeug's own HTTP errors (app/errors.py HTTP_ERROR_CODES); rare in practice.
    "REQUEST_TIMEOUT": (408, "The HTTP layer gave up waiting for the request."),
    "LENGTH_REQUIRED": (411, "The HTTP layer needed a Content-Length."),
    "URI_TOO_LONG": (414, "The request line is too long for the HTTP layer."),
    "UNSUPPORTED_MEDIA_TYPE": (415, "The HTTP layer refused the media type."),
    "HEADERS_TOO_LARGE": (431, "The request headers are too large for the HTTP layer."),
    "NOT_IMPLEMENTED": (501, "The HTTP layer does not implement the method."),
    "CONFLICT": (409, "A conflict the HTTP layer reported without a more specific code."),
    "SERVICE_UNAVAILABLE": (503, "Unavailable, without a more specific code."),
    # Answered by the example nginx (deploy/nginx.conf) itself, never by the application.
    "BAD_GATEWAY": (502, "nginx could not reach the application server (stopped, restarting or "
                         "overloaded); try again shortly."),
    "GATEWAY_TIMEOUT": (504, "nginx gave up waiting for the application server's answer; the request "
                             "may or may not have taken effect."),
}
