"""Rows to the resources of SPEC §3.2: plain dicts, absent values left out, nests and values added."""
import json
from dataclasses import dataclass, field

from app.services.children import STATES, TASKS, children_of_services, tasks_of_states
from app.services.lifecycle import status_of
from app.services.owners import attach_values
from app.services.services import SERVICES
from schemas.events import CONTEXT_FIELDS
from schemas.timestamps import format_ms

_CONTEXT_ATTRIBUTES = ("application_type", "resource_type", "media_type")


@dataclass
class Nesting:
    """What a read adds to each resource: nested states/tasks and extension values."""
    active_states: bool = False
    completed_states: bool = False
    active_tasks: bool = False
    completed_tasks: bool = False
    extensions: list = field(default_factory=list)


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
        return self._child("State", row, with_service=with_service, reference="previous_state_id")

    def task(self, row, *, with_service=True):
        return self._child("Task", row, with_service=with_service, reference="state_id")

    def _child(self, resource, row, *, with_service, reference):
        """A state or task: its service (unless nested in it), number, type, the state it names."""
        label = resource.lower()
        body = {"service_id": self.layout.export(row.service_id)} if with_service else {}
        body[f"{label}_id"] = getattr(row, f"{label}_id")
        body[f"{label}_type"] = self._mapped(resource, "type", getattr(row, f"{label}_type"))
        if getattr(row, reference) is not None:
            body[reference] = getattr(row, reference)
        return self._lifecycle(resource, row, body)

def present_services(rows, presenter, nesting):
    """Service resources for rows, with nested lists and extensions fetched in batches."""
    bodies = [presenter.service(row) for row in rows]
    if rows:
        keys = [row.id for row in rows]
        _nest(STATES, bodies, keys, presenter, nesting.active_states, nesting.completed_states,
              lambda status: children_of_services(STATES, keys, status))
        _nest(TASKS, bodies, keys, presenter, nesting.active_tasks, nesting.completed_tasks,
              lambda status: children_of_services(TASKS, keys, status))
    return attach_values(SERVICES, rows, bodies, nesting.extensions)


def present_children(kind, rows, presenter, nesting):
    """State or task resources; a state's with the tasks started in it, if asked for."""
    present = getattr(presenter, kind.label)
    bodies = [present(row) for row in rows]
    if rows and kind.completes_tasks:
        _nest(TASKS, bodies, [(row.service_id, row.state_id) for row in rows], presenter,
              nesting.active_tasks, nesting.completed_tasks, lambda status: tasks_of_states(rows, status))
    return attach_values(kind.owners, rows, bodies, nesting.extensions)


def _nest(kind, bodies, keys, presenter, active, completed, fetch):
    """Put under each body its children of the kind, split into active_<kind> and completed_<kind>.

    fetch(status) reads every body's children at once, grouped by the body's key.
    """
    if not (active or completed):
        return
    present = getattr(presenter, kind.label)
    grouped = fetch(status_of(active, completed))
    for key, body in zip(keys, bodies):
        own = grouped.get(key, [])
        if active:
            body[f"active_{kind.name}"] = [present(row, with_service=False) for row in own if row.completed_ms is None]
        if completed:
            body[f"completed_{kind.name}"] = [present(row, with_service=False)
                                              for row in own if row.completed_ms is not None]
