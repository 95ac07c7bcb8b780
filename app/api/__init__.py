"""The blueprints, one module per resource family, mounted under [api] base_path."""
import marshmallow as ma
from flask import current_app, jsonify, url_for
from werkzeug.routing import BaseConverter

from app.errors import NotFound, Unavailable, ValidationFailed
from app.version import server_version  # noqa: F401 - the views' one way to the version


def runtime():
    return current_app.extensions["context_services"]


def created(body, endpoint, **values):
    """The 201 answer of a start: the new resource's ID in the body, its URL in Location."""
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, **values)
    return response


def summarise(messages):
    """'field: first problem; other: ...' for the top-level message of a 400."""
    parts = []
    for key, problems in list(messages.items())[:5]:
        first = problems
        while isinstance(first, (list, dict)) and first:
            first = first[0] if isinstance(first, list) else next(iter(first.values()))
        parts.append(f"{key}: {first}")
    return "invalid request: " + "; ".join(parts)


def load(schema, data, *, message=None):
    """schema.load(data), with marshmallow's errors turned into a SPEC §2 400."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise ValidationFailed(message or summarise(messages), fields=messages) from None


def load_event(schema, kind, body):
    """(event, [(extension, value)]) from a body whose non-core keys are extension values.

    Core fields and extension values are checked together, so one 400 names every fault.
    """
    from schemas.events import CORE_FIELDS
    core_names = CORE_FIELDS[kind]
    core = {key: value for key, value in body.items() if key in core_names}
    raw_extensions = {key: value for key, value in body.items() if key not in core_names}
    fields, event, extensions = {}, None, []
    try:
        event = schema.load(core)
    except ma.ValidationError as error:
        fields.update(error.messages)
    try:
        extensions = runtime().registry.load_values(kind, raw_extensions)
    except ValidationFailed as error:
        if not fields:
            raise
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(summarise(fields), fields=fields)
    return event, extensions


class PositiveIdConverter(BaseConverter):
    """Decimal path IDs; out-of-range ones are refused by the view as 404 (SPEC §2)."""
    regex = r"[0-9]{1,20}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


def number_in_range(kind, number):
    """SPEC §2: a state or task ID outside the positive 32-bit range is an unknown resource."""
    if not 0 < number < 2**31:
        label = "state" if kind == "states" else "task"
        raise NotFound(f"no {label} {number}", error_code=f"{label.upper()}_NOT_FOUND")
    return number


def refuse_in_maintenance():
    """before_request of the service, state and task blueprints (SPEC §9)."""
    if runtime().mode.current() == "maintenance":
        raise Unavailable("the server is in maintenance mode", error_code="MAINTENANCE",
                          headers={"Retry-After": "60"})


def register_blueprints(app, base_path):
    from app.api import (docs, extension_values, maintenance, metadata, removal, server, services, states,
                         tasks)
    app.url_map.converters["id"] = PositiveIdConverter
    # Werkzeug answers a path with // by redirecting to the merged path, with an HTML body
    # that no error handler sees; here such a path is simply not one of ours (404 JSON).
    # Set before any rule is added: each rule takes the setting when it is bound.
    app.url_map.merge_slashes = False
    prefix = base_path or None
    for module in (server, metadata, services, states, tasks, extension_values, removal, maintenance, docs):
        app.register_blueprint(module.blueprint, url_prefix=prefix)
