"""Rows to the resources of SPEC §3.2: plain dicts, absent values left out."""
import json

from schemas.events import CONTEXT_FIELDS
from schemas.timestamps import format_ms

_CONTEXT_ATTRIBUTES = ("application_type", "resource_type", "media_type")


class Presenter:
    """Knows the ID layout and the business-attribute output mapping of one app."""

    def __init__(self, layout, business_attributes):
        self.layout = layout
        self._outputs = {}
        for resource in ("Service", "State", "Task"):
            for name in ("type", "disposition", *_CONTEXT_ATTRIBUTES):
                mapper = business_attributes.output(f"{resource}.{name}")
                if mapper is not None:
                    self._outputs[(resource, name)] = mapper

    def _mapped(self, resource, name, value):
        mapper = self._outputs.get((resource, name))
        return value if mapper is None or value is None else mapper(value)

    def _block(self, resource, ms, context_json):
        block = {"timestamp": format_ms(ms)}
        context = json.loads(context_json) if context_json else {}
        for name in CONTEXT_FIELDS:
            if name in context:
                block[name] = self._mapped(resource, name, context[name]) if name in _CONTEXT_ATTRIBUTES \
                    else context[name]
        return block

    def _lifecycle(self, resource, row, body):
        if row.est_duration is not None:
            body["est_duration"] = row.est_duration
        body["started"] = self._block(resource, row.started_ms, row.start_context)
        if row.completed_ms is not None:
            body["completed"] = self._block(resource, row.completed_ms, row.end_context)
        if row.disposition is not None:
            body["disposition"] = self._mapped(resource, "disposition", row.disposition)
        if row.disposition_desc is not None:
            body["disposition_desc"] = row.disposition_desc
        if row.completed_ms is not None:
            body["duration"] = row.completed_ms - row.started_ms
        return body

    def service(self, row):
        body = {"service_id": self.layout.export(row.id),
                "service_type": self._mapped("Service", "type", row.service_type)}
        if row.customer_id is not None:
            body["customer_id"] = row.customer_id
        if row.contact_key is not None:
            body["contact_key"] = row.contact_key
        return self._lifecycle("Service", row, body)

    def state(self, row, *, with_service=True):
        body = {"service_id": self.layout.export(row.service_id)} if with_service else {}
        body["state_id"] = row.state_id
        body["state_type"] = self._mapped("State", "type", row.state_type)
        if row.previous_state_id is not None:
            body["previous_state_id"] = row.previous_state_id
        return self._lifecycle("State", row, body)

    def task(self, row, *, with_service=True):
        body = {"service_id": self.layout.export(row.service_id)} if with_service else {}
        body["task_id"] = row.task_id
        body["task_type"] = self._mapped("Task", "type", row.task_type)
        if row.state_id is not None:
            body["state_id"] = row.state_id
        return self._lifecycle("Task", row, body)


def split_context(event):
    """(context fields as compact JSON, the rest of the event) for storing a start or end."""
    context = {name: event.pop(name) for name in CONTEXT_FIELDS if name in event}
    return json.dumps(context, separators=(",", ":"), ensure_ascii=False), event
