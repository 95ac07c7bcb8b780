"""What the OpenAPI document says of each endpoint: summary, parameters, body, answers, error codes.

Keyed by Flask endpoint. Bodies and answers name components generated from the marshmallow
schemas (components.py); the generic errors (malformed body, 413, 405, 404 for a malformed
path ID, maintenance, database) are added by paths.py from what the route is.
"""
from dataclasses import dataclass, field

BODY_CONTENT_TYPES = ("application/json", "text/plain")


@dataclass(frozen=True)
class Answer:
    status: int
    description: str
    schema: object = None           # a component name, or a Schema Object dict
    many: bool = False
    headers: tuple = ()
    content_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    tag: str
    summary: str                    # str.format()ted with {kind}, {one} (singular), {status_prefix}
    description: str = ""
    answers: tuple = ()
    body: str = None                # component name of the request body
    body_required: bool = True
    query: tuple = ()               # names in PARAMETERS
    errors: dict = field(default_factory=dict)      # status -> error codes beyond the generic ones
    rename: dict = field(default_factory=dict)      # path variable -> name shown (formatted like summary)
    path_help: dict = field(default_factory=dict)   # path variable shown -> description


TAGS = (
    {"name": "Services", "description": "Start, read, complete and list customer services."},
    {"name": "States", "description": "States of a service."},
    {"name": "Tasks", "description": "Tasks of a service."},
    {"name": "Extension values", "description": "Replace or edit extension values of a service, "
                                                "state or task."},
    {"name": "Extension schemas", "description": "Register, read and delete extension schemas."},
    {"name": "Business attributes", "description": "The configured business attributes."},
    {"name": "Server", "description": "Health, status and maintenance mode."},
    {"name": "Documentation", "description": "This document and its browsable page."},
)

# What app.api.flag reads: true/false, 1/0, yes/no in any case, or nothing (false). Typed
# boolean alone, the document would call ?active_states= invalid, which the server accepts.
_FLAG_PATTERN = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0|[Yy][Ee][Ss]|[Nn][Oo])?\s*$"
_FLAG = {"in": "query", "required": False,
         "schema": {"type": ["boolean", "string"], "pattern": _FLAG_PATTERN, "default": False}}
_NAMES = {"in": "query", "required": False, "style": "form", "explode": False,
          "schema": {"type": "array", "items": {"type": "string"}}}

PARAMETERS = {
    "active_states": {**_FLAG, "description": "Add `active_states`: the service's states not completed. "
                                              "true or false (also 1/0, yes/no, any case; empty is false); "
                                              "anything else gives 400."},
    "completed_states": {**_FLAG, "description": "Add `completed_states`. true or false."},
    "active_tasks": {**_FLAG, "description": "Add `active_tasks`. true or false."},
    "completed_tasks": {**_FLAG, "description": "Add `completed_tasks`. true or false."},
    "extensions": {**_NAMES, "description": "Comma-separated extension names: each one's value is added as a "
                                            "top-level key, in the order asked (a name with no value stored "
                                            "is left out). Unknown names give 400 `UNKNOWN_EXTENSION`."},
    "state_types": {**_NAMES, "description": "Comma-separated state types (DB IDs, or value names where a "
                                             "business attribute backs `State.type`); only states of these "
                                             "types. An unknown one gives 400."},
    "task_types": {**_NAMES, "description": "Comma-separated task types (DB IDs or names); only tasks of these "
                                            "types."},
    "state_id": {"in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
                 "description": "Only the tasks started in this state."},
    "cv-attribute": {"in": "query", "required": False, "schema": {"type": "string"}, "example": "Service.type",
                     "description": "`Resource.field` (e.g. `Service.type`, case-insensitive): answer with the "
                                    "one attribute backing that field instead of the list; 404 when none does."},
}

# Descriptions of the query parameters generated from schemas/queries.py.
QUERY_HELP = {
    "started_from": "Only services started at or after this time (inclusive); ISO 8601 as in bodies.",
    "started_to": "Only services started before this time (exclusive).",
    "limit": "At most this many items: 0 to `[api] max_list` (default and maximum 1000); more is 400.",
    "offset": "Skip this many items first (default 0).",
}

PATH_PARAMETERS = {
    "service_id": {"description": "The service's ID in decimal. A malformed, non-positive or out-of-range "
                                  "ID gives 404, as an unknown one does.", "example": 5163085127681},
    "customer_id": {"description": "The customer (at most 16 characters)."},
    "contact_key": {"description": "The contact key of anonymous services (at most 64 characters)."},
    "filename": {"description": "A file of the bundled Swagger UI."},
}

HEADERS = {
    "Location": {"description": "Path of the created resource, under `[api] base_path`.",
                 "schema": {"type": "string"}},
    "Allow": {"description": "The methods this path accepts.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
}

# Wording for properties that read the same in every schema; ("name", "input"|"output") wins.
PROPERTY_DESCRIPTIONS = {
    "customer_id": "The customer; at most 16 characters.",
    "contact_key": "Contact key (e.g. a phone number); a service with no customer_id is anonymous. "
                   "At most 64 characters.",
    "session_id": "At most 32 characters.",
    "interaction_id": "At most 50 characters.",
    "disposition_desc": "At most 64 characters.",
    "est_duration": "Estimated duration in seconds.",
    "duration": "Completed timestamp minus started timestamp, in milliseconds; completed resources only.",
    "application_id": "Integer (a decimal string is accepted on input).",
    "resource_id": "Integer (a decimal string is accepted on input).",
    ("timestamp", "input"): "ISO 8601 with `Z` or an offset (converted to UTC), with or without fractional "
                            "seconds; no offset means UTC; 1970-01-01 to 9999-12-31. Absent: the server's "
                            "current time.",
    ("timestamp", "output"): "UTC, `YYYY-MM-DDTHH:mm:ss.SSSZ`.",
    "started": "The start event: when, and its context fields.",
    "completed": "The end event; present once completed.",
    "service_id": "Snowflake-style 64-bit ID made by the server: a JSON number below 2^53 in the default "
                  "ID layout, a decimal string in `[ids] layout = wide`.",
    "state_id": "32-bit, numbered per service from 1 in start order.",
    "task_id": "32-bit, numbered per service from 1 in start order.",
    "previous_state_id": "The state this one followed (set by a transition).",
    "active_states": "With `active_states=true`; states omit service_id here.",
    "completed_states": "With `completed_states=true`.",
    "active_tasks": "With `active_tasks=true`; tasks omit service_id here.",
    "completed_tasks": "With `completed_tasks=true`.",
}

_ERRORS_OF_EVENTS = ("VALIDATION_ERROR", "UNKNOWN_EXTENSION")
_READ_PARAMS = ("active_states", "completed_states", "active_tasks", "completed_tasks", "extensions")
_STATE_READ_PARAMS = ("active_tasks", "completed_tasks", "extensions")
_WINDOW = ("started_from", "started_to", "limit", "offset")
_READ_ERRORS = ("INVALID_PARAMETER", "UNKNOWN_EXTENSION")
_NUMBER = {"state_id": "The state's number within the service.", "task_id": "The task's number within the service."}
_VALUE_PATH = {"name": "The extension's name (case-insensitive)."}

OPERATIONS = {
    # --- server --------------------------------------------------------------------------
    "server.healthz": Operation(
        tag="Server", summary="Health check",
        description="For nginx and load balancers: 200 when the database answers and the worker that "
                    "answered can issue service IDs, else 503 `DATABASE_UNAVAILABLE` or `NO_WORKER_ID` in "
                    "the error shape of every other route.",
        answers=(Answer(200, "The database answers and this worker can issue IDs.", "Health"),),
        errors={503: ("NO_WORKER_ID",)},
    ),
    "server.status": Operation(
        tag="Server", summary="Server status",
        description="Figures of the worker process that answered: with several gunicorn workers each "
                    "keeps its own request counters since it started.",
        answers=(Answer(200, "Status of this worker.", "ServerStatus"),),
    ),
    "server.set_mode": Operation(
        tag="Server", summary="Switch maintenance mode",
        description="Held in the database, so every worker on every host agrees within "
                    "`[extensions] refresh_seconds`. In maintenance, service, state and task operations "
                    "give 503 `MAINTENANCE`; extension schemas, business attributes and server routes work.",
        body="ServerMode",
        answers=(Answer(200, "The mode now in force.", "ServerModeAnswer"),),
        errors={400: ("VALIDATION_ERROR",)},
    ),
    # --- extension schemas ---------------------------------------------------------------
    "metadata.create_extension": Operation(
        tag="Extension schemas", summary="Register a {one} extension schema",
        description="Names start with a letter, then letters, digits or `_`, at most 26 characters, and "
                    "are unique without regard to case. Attribute `length`, `mandatory` and `encrypt` "
                    "accept the strings `\"10\"` / `\"true\"`. Usable through every worker within "
                    "`[extensions] refresh_seconds`.",
        body="ExtensionSchemaDefinition",
        answers=(Answer(201, "Registered.", "ExtensionCreated", headers=("Location",)),),
        errors={400: ("VALIDATION_ERROR", "RESERVED_NAME"), 409: ("EXTENSION_EXISTS",)},
    ),
    "metadata.list_extensions": Operation(
        tag="Extension schemas", summary="List the {one} extension schemas",
        answers=(Answer(200, "Every registered {one} extension schema, oldest first.", "ExtensionSchema",
                        many=True),),
    ),
    "metadata.read_extension": Operation(
        tag="Extension schemas", summary="Read a {one} extension schema",
        answers=(Answer(200, "The schema; every attribute carries name, type, length, default (when set), "
                             "mandatory, encrypt and unique.", "ExtensionSchema"),),
        errors={404: ("EXTENSION_NOT_FOUND",)},
        path_help={"name": "The extension's name (case-insensitive)."},
    ),
    "metadata.delete_extension": Operation(
        tag="Extension schemas", summary="Delete a {one} extension schema and its values",
        description="Drops the schema and every value stored under it, in one transaction.",
        answers=(Answer(204, "Deleted."),),
        errors={404: ("EXTENSION_NOT_FOUND",)},
        path_help={"name": "The extension's name (case-insensitive)."},
    ),
    "services.complete_service": Operation(
        tag="Services", summary="Complete a service",
        description="Body (optional): a Service End Event. Extension values sent replace that extension's "
                    "value wholesale. Still-active states and tasks of the service complete with it, at the "
                    "same time. A `timestamp` earlier than a start of what completes is 400; none means "
                    "the server's time (never earlier than the latest start). The query parameters shape the "
                    "answer as for a read.",
        body="ServiceEndEvent", body_required=False, query=_READ_PARAMS,
        answers=(Answer(200, "The completed service.", "ServiceResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, *_READ_ERRORS, "ALREADY_COMPLETED", "TIMESTAMP_BEFORE_START"),
                404: ("SERVICE_NOT_FOUND",), 409: ("CONCURRENT_CHANGE",)},
    ),
    "services.associate_service": Operation(
        tag="Services", summary="Associate a service with a customer",
        description="Attaches an anonymous service to the customer, or moves a service to another one (last "
                    "write wins). Body (optional): start-event fields to update (`service_type`, "
                    "`est_duration`, `disposition`, `disposition_desc`, context fields, merged into `started`) "
                    "and extension values (each replaces that extension's value). The contact key is kept; a "
                    "`timestamp` is accepted and not stored.",
        body="ServiceUpdateEvent", body_required=False, query=_READ_PARAMS,
        answers=(Answer(200, "The service, now the customer's.", "ServiceResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, *_READ_ERRORS), 404: ("SERVICE_NOT_FOUND",),
                409: ("CONCURRENT_CHANGE",)},
    ),
    "services.list_customer_services": Operation(
        tag="Services", summary="List a customer's {status_prefix}services",
        description="Newest start first. `started_from` is inclusive, `started_to` exclusive.",
        query=(*_READ_PARAMS, *_WINDOW),
        answers=(Answer(200, "The services (an empty array when none).", "ServiceResource", many=True),),
        errors={400: (*_READ_ERRORS, "VALIDATION_ERROR")},
    ),
    "services.list_anonymous_services": Operation(
        tag="Services", summary="List the {status_prefix}anonymous services of a contact key",
        description="Only services with no customer: a service associated with a customer no longer appears "
                    "here. Newest start first.",
        query=(*_READ_PARAMS, *_WINDOW),
        answers=(Answer(200, "The services (an empty array when none).", "ServiceResource", many=True),),
        errors={400: (*_READ_ERRORS, "VALIDATION_ERROR")},
    ),
    # --- states --------------------------------------------------------------------------
    "states.start_state": Operation(
        tag="States", summary="Start a state",
        description="Body: a State Start Event. States are numbered per service from 1. `previous_state_id` "
                    "must name a state of this service.",
        body="StateStartEvent",
        answers=(Answer(201, "Started.", "StateCreated", headers=("Location",)),),
        errors={400: (*_ERRORS_OF_EVENTS, "SERVICE_COMPLETED", "UNKNOWN_STATE", "TOO_MANY"),
                404: ("SERVICE_NOT_FOUND",), 409: ("CONCURRENT_CHANGE",)},
    ),
    "states.transition": Operation(
        tag="States", summary="Complete one state and start the next",
        description="`from` names the state to complete (with its `disposition`), `to` the state to start; "
                    "shared context fields go to both. One transaction: the new state starts when the old "
                    "one completes, with `previous_state_id` set. Extension values belong to the new state.",
        body="StateTransitionEvent",
        answers=(Answer(201, "The new state.", "StateCreated", headers=("Location",)),),
        errors={400: (*_ERRORS_OF_EVENTS, "SERVICE_COMPLETED", "UNKNOWN_STATE", "ALREADY_COMPLETED",
                      "TIMESTAMP_BEFORE_START", "TOO_MANY"),
                404: ("SERVICE_NOT_FOUND",), 409: ("CONCURRENT_CHANGE",)},
    ),
    "states.end_state": Operation(
        tag="States", summary="Complete a state",
        description="Body (optional): a State End Event. Its active tasks complete with it.",
        body="StateEndEvent", body_required=False, query=_STATE_READ_PARAMS,
        answers=(Answer(200, "The completed state.", "StateResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, *_READ_ERRORS, "ALREADY_COMPLETED", "TIMESTAMP_BEFORE_START"),
                404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND"), 409: ("CONCURRENT_CHANGE",)},
        path_help=_NUMBER,
    ),
    "states.list_states": Operation(
        tag="States", summary="List the {status_prefix}states of a service",
        description="In start order. `active_tasks` / `completed_tasks` nest the tasks started in each state.",
        query=(*_STATE_READ_PARAMS, "state_types"),
        answers=(Answer(200, "The states (an empty array when none).", "StateResource", many=True),),
        errors={400: _READ_ERRORS, 404: ("SERVICE_NOT_FOUND",)},
    ),
    "states.read_state": Operation(
        tag="States", summary="Read a state",
        query=_STATE_READ_PARAMS,
        answers=(Answer(200, "The state.", "StateResource"),),
        errors={400: _READ_ERRORS, 404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND")},
        path_help=_NUMBER,
    ),
    # --- tasks ---------------------------------------------------------------------------
    "tasks.start_task": Operation(
        tag="Tasks", summary="Start a task",
        description="Body: a Task Start Event. A `state_id` must name an active state of this service.",
        body="TaskStartEvent",
        answers=(Answer(201, "Started.", "TaskCreated", headers=("Location",)),),
        errors={400: (*_ERRORS_OF_EVENTS, "SERVICE_COMPLETED", "UNKNOWN_STATE", "STATE_NOT_ACTIVE", "TOO_MANY"),
                404: ("SERVICE_NOT_FOUND",), 409: ("CONCURRENT_CHANGE",)},
    ),
    "tasks.end_task": Operation(
        tag="Tasks", summary="Complete a task",
        body="TaskEndEvent", body_required=False, query=("extensions",),
        answers=(Answer(200, "The completed task.", "TaskResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, "ALREADY_COMPLETED", "TIMESTAMP_BEFORE_START"),
                404: ("SERVICE_NOT_FOUND", "TASK_NOT_FOUND"), 409: ("CONCURRENT_CHANGE",)},
        path_help=_NUMBER,
    ),
    "tasks.list_tasks": Operation(
        tag="Tasks", summary="List the {status_prefix}tasks of a service",
        description="In start order.",
        query=("extensions", "state_id", "task_types"),
        answers=(Answer(200, "The tasks (an empty array when none).", "TaskResource", many=True),),
        errors={400: _READ_ERRORS, 404: ("SERVICE_NOT_FOUND",)},
    ),
    "tasks.read_task": Operation(
        tag="Tasks", summary="Read a task",
        query=("extensions",),
        answers=(Answer(200, "The task.", "TaskResource"),),
        errors={400: ("UNKNOWN_EXTENSION",), 404: ("SERVICE_NOT_FOUND", "TASK_NOT_FOUND")},
        path_help=_NUMBER,
    ),
    # --- extension values ----------------------------------------------------------------
    "extension_values.replace_value": Operation(
        tag="Extension values", summary="Replace a {one} extension value",
        description="The body is the whole new value: an object for a single-valued extension, an array of "
                    "objects for a multi-valued one. Values may be written on completed resources.",
        body="ExtensionValue", rename={"number": "{one}_id"},
        answers=(Answer(200, "The value now stored.", "ExtensionValue"),),
        errors={400: ("VALIDATION_ERROR",), 404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND", "TASK_NOT_FOUND",
                                                  "EXTENSION_NOT_FOUND"),
                409: ("CONCURRENT_CHANGE", "UNIQUE_CONFLICT")},
        path_help={**_VALUE_PATH, **_NUMBER},
    ),
    "extension_values.update_record": Operation(
        tag="Extension values", summary="Update one record of a {one} extension value, picked by its unique attributes",
        description="The body is one record: its unique attributes pick the record, the other attributes "
                    "sent overwrite the record's, those not sent keep their values. Only for multi-valued "
                    "extensions with unique attributes.",
        body="ExtensionRecord", rename={"number": "{one}_id"},
        answers=(Answer(204, "Updated."),),
        errors={400: ("VALIDATION_ERROR", "NO_UNIQUE_ATTRIBUTES", "MISSING_UNIQUE_ATTRIBUTES"),
                404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND", "TASK_NOT_FOUND", "EXTENSION_NOT_FOUND",
                      "RECORD_NOT_FOUND")},
        path_help={**_VALUE_PATH, **_NUMBER},
    ),
    "extension_values.delete_record": Operation(
        tag="Extension values", summary="Delete one record of a {one} extension value, picked by its unique attributes",
        description="The body holds only the unique attributes of the record to drop.",
        body="ExtensionRecord", rename={"number": "{one}_id"},
        answers=(Answer(204, "Deleted."),),
        errors={400: ("VALIDATION_ERROR", "NO_UNIQUE_ATTRIBUTES", "MISSING_UNIQUE_ATTRIBUTES"),
                404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND", "TASK_NOT_FOUND", "EXTENSION_NOT_FOUND",
                      "RECORD_NOT_FOUND")},
        path_help={**_VALUE_PATH, **_NUMBER},
    ),
    # --- business attributes -------------------------------------------------------------
    "metadata.list_business_attributes": Operation(
        tag="Business attributes", summary="List business attributes",
        query=("cv-attribute",),
        answers=(Answer(200, "Every configured attribute; with `cv-attribute`, the one backing that field.",
                        {"anyOf": [{"type": "array",
                                    "items": {"$ref": "#/components/schemas/BusinessAttributeDescription"}},
                                   {"$ref": "#/components/schemas/BusinessAttributeDescription"}]}),),
        errors={404: ("ATTRIBUTE_NOT_FOUND",)},
    ),
    "metadata.read_business_attribute": Operation(
        tag="Business attributes", summary="Read a business attribute",
        answers=(Answer(200, "The attribute, the fields it backs and its values.",
                        "BusinessAttributeDescription"),),
        errors={404: ("ATTRIBUTE_NOT_FOUND",)},
        path_help={"name": "The attribute's name (case-insensitive)."},
    ),
    # --- services ------------------------------------------------------------------------
    "services.start_service": Operation(
        tag="Services", summary="Start a service",
        description="One of `customer_id` / `contact_key` is required. Any key that is not a field of the "
                    "event is an extension value. The service and all its extension records are stored "
                    "in one transaction.",
        body="ServiceStartEvent",
        answers=(Answer(201, "Started.", "ServiceCreated", headers=("Location",)),),
        errors={400: (*_ERRORS_OF_EVENTS, "MISSING_CONTACT"), 409: ("CONCURRENT_CHANGE",),
                503: ("NO_WORKER_ID", "CLOCK_MOVED_BACKWARDS")},
    ),
    "services.read_service": Operation(
        tag="Services", summary="Read a service",
        query=_READ_PARAMS,
        answers=(Answer(200, "The service.", "ServiceResource"),),
        errors={400: ("INVALID_PARAMETER", "UNKNOWN_EXTENSION"), 404: ("SERVICE_NOT_FOUND",)},
    ),
    # --- documentation -------------------------------------------------------------------
    "docs.openapi": Operation(
        tag="Documentation", summary="This OpenAPI document",
        answers=(Answer(200, "OpenAPI 3.1, built once per process.", {"type": "object"}),),
    ),
    "docs.page": Operation(
        tag="Documentation", summary="Browsable API documentation",
        answers=(Answer(200, "Swagger UI, served from the bundled files (no CDN).", {"type": "string"},
                        content_type="text/html"),),
    ),
    "docs.asset": Operation(
        tag="Documentation", summary="Files of the browsable documentation",
        answers=(Answer(200, "The file.", {}, content_type="*/*"),),
        errors={404: ("NOT_FOUND",)},
    ),
}


def describe_api(settings):
    """info.description: the conventions of SPEC §2 and the settings of this server that shape answers."""
    api, ids = settings["api"], settings["ids"]
    mode = settings["extensions"]["mode"]
    return f"""\
The Context Management Service API of Genesys Context Services 8.1: customer services, their
states and tasks, and the extension values attached to them.

**This server:** base path `{api['base_path'] or '/'}`; extensions mode `{mode}`; ID layout
`{ids['layout']}` (service IDs sent as JSON {'strings' if ids['layout'] == 'wide' else 'numbers'});
`map_names = {str(settings['business-attributes']['map_names']).lower()}`; bodies up to
{api['max_body_bytes']} bytes; lists up to {api['max_list']} items.

**Conventions.** A body is parsed as JSON whatever its Content-Type; duplicate keys, NaN and
Infinity are refused. `null` on an optional field means the field is absent. Timestamps are
answered in UTC as `YYYY-MM-DDTHH:mm:ss.SSSZ`. Absent values are left out of answers, never
sent as null. Every 4xx/5xx answer has the body `{{"error": {{"http_method", "uri", "http_code",
"error_code", "message", "fields"?}}}}`; `fields` appears for validation errors only. A 500 is a
bug and carries no stack trace.

**Extension values** are further top-level keys of events and resources, named after a
registered extension (additionalProperties of those schemas).
"""
