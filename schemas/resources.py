"""What reads and creates answer (SPEC §3.2, §4, §5, §7): the documented form of the presenters' dicts.

app/services/presenters.py builds these bodies as plain dicts for speed; these schemas are
the description of them that the OpenAPI document is generated from, and the tests load
real answers through them so that the two cannot drift apart. Extension values sit beside
the core fields as further top-level keys; the document describes them as
additionalProperties, and these schemas refuse any key they do not declare.
"""
import re

import marshmallow as ma

# SPEC §2 output form: UTC, milliseconds, Z.
OUTPUT_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
_DECIMAL_ID = re.compile(r"[1-9][0-9]{0,19}")


class Resource(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class UtcTimestamp(ma.fields.String):
    """A timestamp as the server writes it: 2009-05-12T12:05:12.145Z."""

    def __init__(self, **kwargs):
        super().__init__(validate=ma.validate.Regexp(OUTPUT_TIMESTAMP), **kwargs)


class StrictInteger(ma.fields.Integer):
    """A JSON integer; a decimal string or true is not one."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class ServiceId(ma.fields.Field):
    """service_id: a JSON number in the default ID layout, a decimal string in the wide one (SPEC §8)."""
    default_error_messages = {"invalid": "Not a service ID: a positive integer, or its decimal string."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if isinstance(value, str) and _DECIMAL_ID.fullmatch(value):
            return int(value)
        raise self.make_error("invalid")


class BusinessAttributeValue(ma.fields.Field):
    """A business-attribute field as read: the DB ID, or with map_names the value's name (SPEC §7)."""
    default_error_messages = {"invalid": "Not a business-attribute value: an integer or a name."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.make_error("invalid")
        return value


def _positive(**kwargs):
    return StrictInteger(validate=ma.validate.Range(min=1), **kwargs)


def _non_negative():
    return StrictInteger(validate=ma.validate.Range(min=0))


class ContextBlock(Resource):
    """The `started` or `completed` block: when, and the context fields of that event."""
    timestamp = UtcTimestamp(required=True)
    session_id = ma.fields.String()
    interaction_id = ma.fields.String()
    application_type = BusinessAttributeValue()
    application_id = StrictInteger()
    resource_type = BusinessAttributeValue()
    resource_id = StrictInteger()
    media_type = BusinessAttributeValue()


class _Lifecycle(Resource):
    est_duration = _non_negative()
    started = ma.fields.Nested(ContextBlock, required=True)
    completed = ma.fields.Nested(ContextBlock)
    disposition = BusinessAttributeValue()
    disposition_desc = ma.fields.String()
    duration = _non_negative()


class TaskResource(_Lifecycle):
    service_id = ServiceId()
    task_id = _positive(required=True)
    task_type = BusinessAttributeValue(required=True)
    state_id = _positive()


class StateResource(_Lifecycle):
    service_id = ServiceId()
    state_id = _positive(required=True)
    state_type = BusinessAttributeValue(required=True)
    previous_state_id = _positive()
    active_tasks = ma.fields.List(ma.fields.Nested(TaskResource))
    completed_tasks = ma.fields.List(ma.fields.Nested(TaskResource))


class ServiceResource(_Lifecycle):
    service_id = ServiceId(required=True)
    service_type = BusinessAttributeValue(required=True)
    customer_id = ma.fields.String()
    contact_key = ma.fields.String()
    active_states = ma.fields.List(ma.fields.Nested(StateResource))
    completed_states = ma.fields.List(ma.fields.Nested(StateResource))
    active_tasks = ma.fields.List(ma.fields.Nested(TaskResource))
    completed_tasks = ma.fields.List(ma.fields.Nested(TaskResource))


class ServiceCreated(Resource):
    service_id = ServiceId(required=True)


class StateCreated(Resource):
    state_id = _positive(required=True)


class TaskCreated(Resource):
    task_id = _positive(required=True)


class ExtensionCreated(Resource):
    name = ma.fields.String(required=True)


class BusinessAttributeValueDescription(Resource):
    name = ma.fields.String(required=True)
    id = StrictInteger(required=True)
    display_name = ma.fields.String(required=True)


class BusinessAttributeDescription(Resource):
    """A configured business attribute: the fields it backs and its values (SPEC §7)."""
    name = ma.fields.String(required=True)
    fields = ma.fields.List(ma.fields.String(), required=True,
                            metadata={"description": "the Resource.field keys this attribute backs"})
    values = ma.fields.List(ma.fields.Nested(BusinessAttributeValueDescription), required=True)


# Which resource each schema describes, for the extension values it carries beside its fields.
EXTENSIBLE = {ServiceResource: "services", StateResource: "states", TaskResource: "tasks"}
