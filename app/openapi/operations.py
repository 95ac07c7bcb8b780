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
    summary: str                    # {kind}, {one} (singular), {status_prefix} filled in by paths._fill
    description: str = ""
    answers: tuple = ()
    body: str = None                # component name of the request body
    body_required: bool = True
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
    {"name": "Profiles", "description": "Customer profiles and Identify Customer."},
    {"name": "Profile schemas", "description": "The core profile schema and the identification keys "
                                               "(profile extension schemas are under Extension schemas)."},
    {"name": "Business attributes", "description": "The configured business attributes."},
    {"name": "Data lifecycle", "description": "Delete services, erase a customer, purge old data."},
    {"name": "Server", "description": "Health, status and maintenance mode."},
    {"name": "Documentation", "description": "This document and its browsable page."},
)

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
    "WWW-Authenticate": {"description": "`Basic realm=\"context-services\"`: send HTTP Basic credentials.",
                         "schema": {"type": "string"}},
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

_VALUE_LIMITS = ("TOO_MANY_RECORDS", "VALUE_TOO_LARGE")
_ERRORS_OF_EVENTS = ("VALIDATION_ERROR", "UNKNOWN_EXTENSION", *_VALUE_LIMITS)
_READ_ERRORS = ("INVALID_PARAMETER", "UNKNOWN_EXTENSION")
_NUMBER = {"state_id": "The state's number within the service.", "task_id": "The task's number within the service."}
_VALUE_PATH = {"name": "The extension's name (case-insensitive)."}

_INDEX = {"type": "object", "required": ["name", "version", "links"], "properties": {
    "name": {"type": "string"}, "version": {"type": "string"},
    "links": {"type": "object", "additionalProperties": {"type": "string"},
              "description": "Paths (under the base path) of docs, openapi, healthz, status and metrics."}}}

OPERATIONS = {
    # --- server --------------------------------------------------------------------------
    "server.index": Operation(
        tag="Server", summary="What this server is",
        description="Name, version and the paths of the documentation, this document, the health check, "
                    "the status and the metrics.",
        answers=(Answer(200, "Name, version and links.", _INDEX),),
    ),
    "server.prometheus_metrics": Operation(
        tag="Server", summary="Prometheus metrics",
        description="Prometheus text format, summed over every gunicorn worker of this host: "
                    "`cs_http_requests_total` (route template, method, status), "
                    "`cs_http_request_duration_seconds` (histogram by route), `cs_database_errors_total`, "
                    "`cs_database_retries_total`, `cs_ids_issued_total` and `cs_worker_leases_held`.",
        answers=(Answer(200, "The series.", {"type": "string"}, content_type="text/plain"),),
    ),
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
        description="Request counters of the whole host (every gunicorn worker), counted per UTC day; "
                    "`started` is the start of the earliest worker; `memory` and `worker` describe the "
                    "worker that answered.",
        answers=(Answer(200, "Status of this host.", "ServerStatus"),),
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
                    "`[extensions] refresh_seconds`. Limits (`[extensions]` options): at most `max_schemas` "
                    "(200) schemas of a resource, `max_attributes` (64) attributes, a string `length` up to "
                    "`max_string_length` (65535), and defaults that fit `length` and together fit "
                    "`max_value_bytes` (65536 bytes of JSON).",
        body="ExtensionSchemaDefinition",
        answers=(Answer(201, "Registered.", "ExtensionCreated", headers=("Location",)),),
        errors={400: ("VALIDATION_ERROR", "RESERVED_NAME", "TOO_MANY_SCHEMAS"), 409: ("EXTENSION_EXISTS",)},
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
        description="Answers at once whatever the number of values: the schema and its values become "
                    "unreachable and the name free; the maintenance run removes the rows afterwards, in "
                    "batches of at most 1,000 records. A write under the deleted schema in flight gets 409 "
                    "CONCURRENT_CHANGE. A profile extension that an identification key is built on is "
                    "refused (409) until the key is deleted.",
        answers=(Answer(204, "Deleted."),),
        errors={404: ("EXTENSION_NOT_FOUND",), 409: ("EXTENSION_IN_USE",)},
        path_help={"name": "The extension's name (case-insensitive)."},
    ),
    "services.complete_service": Operation(
        tag="Services", summary="Complete a service",
        description="Body (optional): a Service End Event. Extension values sent replace that extension's "
                    "value wholesale. Still-active states and tasks of the service complete with it, at the "
                    "same time. A `timestamp` earlier than a start of what completes is 400; none means "
                    "the server's time (never earlier than the latest start). The query parameters shape the "
                    "answer as for a read.",
        body="ServiceEndEvent", body_required=False,
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
        body="ServiceUpdateEvent", body_required=False,
        answers=(Answer(200, "The service, now the customer's.", "ServiceResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, *_READ_ERRORS), 404: ("SERVICE_NOT_FOUND",),
                409: ("CONCURRENT_CHANGE",)},
    ),
    "services.list_customer_services": Operation(
        tag="Services", summary="List a customer's {status_prefix}services",
        description="Newest start first. `started_from` is inclusive, `started_to` exclusive.",
        answers=(Answer(200, "The services (an empty array when none).", "ServiceResource", many=True),),
        errors={400: (*_READ_ERRORS, "VALIDATION_ERROR", "RESPONSE_TOO_LARGE")},
    ),
    "services.list_anonymous_services": Operation(
        tag="Services", summary="List the {status_prefix}anonymous services of a contact key",
        description="Only services with no customer: a service associated with a customer no longer appears "
                    "here. Newest start first.",
        answers=(Answer(200, "The services (an empty array when none).", "ServiceResource", many=True),),
        errors={400: (*_READ_ERRORS, "VALIDATION_ERROR", "RESPONSE_TOO_LARGE")},
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
        body="StateEndEvent", body_required=False,
        answers=(Answer(200, "The completed state.", "StateResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, *_READ_ERRORS, "ALREADY_COMPLETED", "TIMESTAMP_BEFORE_START"),
                404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND"), 409: ("CONCURRENT_CHANGE",)},
        path_help=_NUMBER,
    ),
    "states.list_states": Operation(
        tag="States", summary="List the {status_prefix}states of a service",
        description="In start order. `active_tasks` / `completed_tasks` nest the tasks started in each state.",
        answers=(Answer(200, "The states (an empty array when none).", "StateResource", many=True),),
        errors={400: (*_READ_ERRORS, "RESPONSE_TOO_LARGE"), 404: ("SERVICE_NOT_FOUND",)},
    ),
    "states.read_state": Operation(
        tag="States", summary="Read a state",
        answers=(Answer(200, "The state.", "StateResource"),),
        errors={400: (*_READ_ERRORS, "RESPONSE_TOO_LARGE"), 404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND")},
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
        body="TaskEndEvent", body_required=False,
        answers=(Answer(200, "The completed task.", "TaskResource"),),
        errors={400: (*_ERRORS_OF_EVENTS, "ALREADY_COMPLETED", "TIMESTAMP_BEFORE_START"),
                404: ("SERVICE_NOT_FOUND", "TASK_NOT_FOUND"), 409: ("CONCURRENT_CHANGE",)},
        path_help=_NUMBER,
    ),
    "tasks.list_tasks": Operation(
        tag="Tasks", summary="List the {status_prefix}tasks of a service",
        description="In start order.",
        answers=(Answer(200, "The tasks (an empty array when none).", "TaskResource", many=True),),
        errors={400: (*_READ_ERRORS, "RESPONSE_TOO_LARGE"), 404: ("SERVICE_NOT_FOUND",)},
    ),
    "tasks.read_task": Operation(
        tag="Tasks", summary="Read a task",
        answers=(Answer(200, "The task.", "TaskResource"),),
        errors={400: ("UNKNOWN_EXTENSION", "RESPONSE_TOO_LARGE"), 404: ("SERVICE_NOT_FOUND", "TASK_NOT_FOUND")},
        path_help=_NUMBER,
    ),
    # --- extension values ----------------------------------------------------------------
    "extension_values.replace_value": Operation(
        tag="Extension values", summary="Replace a {one} extension value",
        description="The body is the whole new value: an object for a single-valued extension, an array of "
                    "objects for a multi-valued one. Values may be written on completed resources. "
                    "At most `[extensions] max_records` (1000) records and `max_value_bytes` (65536) bytes "
                    "of JSON as stored, defaults filled in included.",
        body="ExtensionValue", rename={"number": "{one}_id"},
        answers=(Answer(200, "The value now stored.", "ExtensionValue"),),
        errors={400: ("VALIDATION_ERROR", *_VALUE_LIMITS), 404: ("SERVICE_NOT_FOUND", "STATE_NOT_FOUND", "TASK_NOT_FOUND",
                                                  "EXTENSION_NOT_FOUND"),
                409: ("CONCURRENT_CHANGE", "UNIQUE_CONFLICT")},
        path_help={**_VALUE_PATH, **_NUMBER},
    ),
    "extension_values.update_record": Operation(
        tag="Extension values", summary="Update one record of a {one} extension value, picked by its unique attributes",
        description="The body is one record: its unique attributes pick the record, the other attributes "
                    "sent overwrite the record's, those not sent keep their values. Only for multi-valued "
                    "extensions with unique attributes. The whole value must stay within "
                    "`[extensions] max_value_bytes`.",
        body="ExtensionRecord", rename={"number": "{one}_id"},
        answers=(Answer(204, "Updated."),),
        errors={400: ("VALIDATION_ERROR", "NO_UNIQUE_ATTRIBUTES", "MISSING_UNIQUE_ATTRIBUTES", "VALUE_TOO_LARGE"),
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
                503: ("NO_WORKER_ID", "CLOCK_MOVED_BACKWARDS", "CLOCK_OUT_OF_RANGE")},
    ),
    "services.read_service": Operation(
        tag="Services", summary="Read a service",
        answers=(Answer(200, "The service.", "ServiceResource"),),
        errors={400: ("INVALID_PARAMETER", "UNKNOWN_EXTENSION", "RESPONSE_TOO_LARGE"), 404: ("SERVICE_NOT_FOUND",)},
    ),
    # --- data lifecycle ------------------------------------------------------------------
    "removal.delete_service": Operation(
        tag="Data lifecycle", summary="Delete a service",
        description="Removes the service with its states, tasks and every extension value of them, in one "
                    "transaction: a reader sees all of it or none.",
        answers=(Answer(204, "Deleted."),),
        errors={404: ("SERVICE_NOT_FOUND",)},
    ),
    "removal.erase_customer": Operation(
        tag="Data lifecycle", summary="Erase a customer (right to erasure)",
        description="Removes the customer's profile (with its extension values and identification rows), "
                    "every service of the customer (with states, tasks and values) and the anonymous "
                    "services of the contact keys listed. Services go whole, in transactions of at most 1000 "
                    "services: if the call is interrupted, calling it again finishes it. Answers the counts "
                    "removed (0 when there was nothing).",
        answers=(Answer(200, "What was removed.", "ErasureOutcome"),),
        errors={400: ("VALIDATION_ERROR", "INVALID_PARAMETER")},
    ),
    "maintenance.purge": Operation(
        tag="Data lifecycle", summary="Run the maintenance once, bounded",
        description="Without a body: the configured work, as the `maintain` command does it: idle active "
                    "services auto-completed (`[lifecycle]`), completed services past `[retention]` removed, "
                    "values of deleted extension schemas removed. With 8.5's body: the services started "
                    "before `limit` that `operation` selects are removed. At most `max` in one call, in "
                    "transactions of at most 1000 services, resting after each as `[lifecycle] "
                    "maintenance_pause_ratio` says; answers what was done and what is still due. "
                    "Works in maintenance mode.",
        body="PurgeBody", body_required=False,
        answers=(Answer(200, "Counts done and still due, per kind of work.", "PurgeOutcome"),),
        errors={400: ("VALIDATION_ERROR", "INVALID_PARAMETER"), 409: ("MAINTENANCE_RUNNING",)},
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
    "docs.page_with_slash": Operation(
        tag="Documentation", summary="Redirect to the browsable documentation",
        answers=(Answer(301, "`Location` leads to the page without the final slash."),),
    ),
    "docs.asset": Operation(
        tag="Documentation", summary="Files of the browsable documentation",
        answers=(Answer(200, "The file.", {}, content_type="*/*"),),
        errors={404: ("NOT_FOUND",)},
    ),
}


def _describe_access(auth):
    if auth["mode"] == "none":
        return ("`[auth] mode = none`: every caller may do everything. Each operation names the role it "
                "would need with `mode = basic`.")
    docs = "; `/openapi.json` and `/docs` answer without them" if auth["open_docs"] else ""
    return ("`[auth] mode = basic`: every operation but `GET /healthz` needs HTTP Basic credentials of a "
            f"configured user{docs}. Roles: `reader` (every GET), `writer` (+ runtime writes), `admin` "
            "(+ extension schemas, server mode). No or wrong credentials: 401 `UNAUTHORIZED`; a role "
            f"too low: 403 `FORBIDDEN`; more than {auth['max_failures_per_minute']} failed attempts from "
            "one client address in a minute: 429 `TOO_MANY_FAILURES` until the minute is over.")


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
bug and carries no stack trace. Every answer carries `X-Request-ID`: the request's own when it is a
token of at most 128 letters, digits and `._:+/=@-`, else one made by the server; the access log
shows it.

**Access.** {_describe_access(settings['auth'])}

**Extension values** are further top-level keys of events and resources, named after a
registered extension (additionalProperties of those schemas).
"""
