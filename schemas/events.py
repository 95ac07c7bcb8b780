"""The events clients send (SPEC §3–§5): start, end, update and transition bodies.

Schemas are built per app by `EventSchemas(resolver_for)`, because the business-attribute
fields resolve names through the configured attributes. Extension keys are split off
before these schemas load a body, so each of them refuses unknown keys.
"""
import marshmallow as ma

from schemas.fields import BusinessAttribute, FlexibleInteger, INT32, text
from schemas.profiles import customer_id_field
from schemas.timestamps import Timestamp

# Fields of the `started` / `completed` blocks (SPEC §3.2).
CONTEXT_FIELDS = ("session_id", "interaction_id", "application_type", "application_id",
                  "resource_type", "resource_id", "media_type")
# Business-attribute fields of the context: SPEC §7 mapping keys "<Resource>.<field>".
_CONTEXT_ATTRIBUTES = ("application_type", "resource_type", "media_type")


class EventSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    @ma.post_load
    def _drop_nulls(self, data, **kwargs):
        """null on an optional field means the field is absent."""
        return {key: value for key, value in data.items() if value is not None}


def _optional(field):
    if not field.required:
        field.allow_none = True
    return field


def _context(resolver_for, resource):
    fields = {
        "session_id": text(32),
        "interaction_id": text(50),
        "application_id": FlexibleInteger(),
        "resource_id": FlexibleInteger(),
        "timestamp": Timestamp(),
    }
    for name in _CONTEXT_ATTRIBUTES:
        fields[name] = BusinessAttribute(resolver_for(f"{resource}.{name}"))
    return fields


def _end(resolver_for, resource):
    return {
        **_context(resolver_for, resource),
        "disposition": BusinessAttribute(resolver_for(f"{resource}.disposition")),
        "disposition_desc": text(64),
    }


def _schema(name, fields):
    return EventSchema.from_dict({key: _optional(field) for key, field in fields.items()}, name=name)()


class EventSchemas:
    """One instance of every event schema, built once per app."""

    def __init__(self, resolver_for):
        r = resolver_for
        self.service_start = _schema("ServiceStartEvent", {
            "customer_id": customer_id_field(),
            "contact_key": text(64, min_length=1),
            "service_type": BusinessAttribute(r("Service.type"), required=True),
            "est_duration": FlexibleInteger(minimum=0),
            **_end(r, "Service"),
        })
        self.service_end = _schema("ServiceEndEvent", _end(r, "Service"))
        self.service_update = _schema("ServiceUpdateEvent", {
            "service_type": BusinessAttribute(r("Service.type")),
            "est_duration": FlexibleInteger(minimum=0),
            **_end(r, "Service"),
        })
        self.state_start = _schema("StateStartEvent", {
            "state_type": BusinessAttribute(r("State.type"), required=True),
            "previous_state_id": FlexibleInteger(minimum=1, maximum=INT32[1]),
            "est_duration": FlexibleInteger(minimum=0),
            **_context(r, "State"),
        })
        self.state_end = _schema("StateEndEvent", _end(r, "State"))
        self.task_start = _schema("TaskStartEvent", {
            "task_type": BusinessAttribute(r("Task.type"), required=True),
            "state_id": FlexibleInteger(minimum=1, maximum=INT32[1]),
            "est_duration": FlexibleInteger(minimum=0),
            **_context(r, "Task"),
        })
        self.task_end = _schema("TaskEndEvent", _end(r, "Task"))
        transition_from = _schema("StateTransitionFrom", {
            "state_id": FlexibleInteger(minimum=1, maximum=INT32[1], required=True),
            "disposition": BusinessAttribute(r("State.disposition")),
            "disposition_desc": text(64),
        })
        transition_to = _schema("StateTransitionTo", {
            "state_type": BusinessAttribute(r("State.type"), required=True),
            "est_duration": FlexibleInteger(minimum=0),
        })
        self.state_transition = _schema("StateTransitionEvent", {
            "from": ma.fields.Nested(transition_from, required=True),
            "to": ma.fields.Nested(transition_to, required=True),
            **_context(r, "State"),
        })


# Keys of each kind's events and resources: an extension may not take one of these names.
CORE_FIELDS = {
    "services": frozenset({
        "service_id", "customer_id", "contact_key", "service_type", "est_duration", "disposition",
        "disposition_desc", "timestamp", "started", "completed", "duration", "active_states",
        "completed_states", "active_tasks", "completed_tasks", *CONTEXT_FIELDS}),
    "states": frozenset({
        "service_id", "state_id", "state_type", "previous_state_id", "est_duration", "disposition",
        "disposition_desc", "timestamp", "started", "completed", "duration", "active_tasks",
        "completed_tasks", "from", "to", *CONTEXT_FIELDS}),
    "tasks": frozenset({
        "service_id", "task_id", "task_type", "state_id", "est_duration", "disposition",
        "disposition_desc", "timestamp", "started", "completed", "duration", *CONTEXT_FIELDS}),
}
