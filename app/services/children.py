"""States and tasks: the numbered children of a service, one implementation for both (SPEC §4, §5).

A ChildKind names what differs: the table, the Service column that numbers the kind, the
states a start may refer to, whether completing one completes the active tasks started in
it, and how its extension values are filed. Starting, ending, reading and listing are the
same for both.
"""
from dataclasses import dataclass

from app.errors import BadRequest, NotFound
from app.services.extension_values import integrity_refusals, replace_values, store_values
from app.services.lifecycle import (cascade_columns, completion_ms, end_columns, latest_start, next_number,
                                    refuse_completed_service, split_context, start_time, with_status)
from app.services.owners import OwnerKind
from app.services.services import get_service
from models import Service, State, Task, database
from models.statements import insert, select_rows


@dataclass(frozen=True)
class ChildKind:
    name: str                   # "states" / "tasks": the URL segment and the extension-schema kind
    label: str                  # "state" / "task": messages, error codes and the `<label>_id` column
    model: type
    references: tuple = ()      # (event field naming a state, whether that state must be active)
    completes_tasks: bool = False

    @property
    def number(self):
        return getattr(self.model, f"{self.label}_id")

    @property
    def counter(self):
        return getattr(Service, f"last_{self.label}_id")

    @property
    def owners(self):
        return _OWNER_KINDS[self.name]

    def number_of(self, row):
        return getattr(row, f"{self.label}_id")

    def identifies(self, service_id, number):
        return (self.model.service == service_id) & (self.number == number)


STATES = ChildKind("states", "state", State, references=(("previous_state_id", False),), completes_tasks=True)
TASKS = ChildKind("tasks", "task", Task, references=(("state_id", True),))


def _lock_child(kind):
    def lock(service_id, number):
        get_service(service_id, for_update=True)
        get_child(kind, service_id, number)
    return lock


# A state files its values at +state_id, a task at -task_id (see app/services/owners.py).
_OWNER_KINDS = {
    "states": OwnerKind("states", filed=lambda service_id, number: (service_id, number),
                        file_of=lambda row: (row.service_id, row.state_id), lock=_lock_child(STATES)),
    "tasks": OwnerKind("tasks", filed=lambda service_id, number: (service_id, -number),
                       file_of=lambda row: (row.service_id, -row.task_id), lock=_lock_child(TASKS)),
}


def start_child(kind, service_id, event, extensions):
    """Store a new child numbered after the service's last one of its kind; return its number.

    Raises NotFound for an unknown service, BadRequest when the service is completed or a
    state the event refers to is absent (or, where it must be, not active).
    """
    started_ms = start_time(event)
    start_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            refuse_completed_service(service)
            for field, must_be_active in kind.references:
                if field in event:
                    state_in(service_id, event[field], field=field, must_be_active=must_be_active)
            return insert_child(kind, service, started_ms, start_context, event, extensions)


def insert_child(kind, service, started_ms, start_context, event, extensions):
    """Insert the row and its values; the caller holds the service lock (see next_number)."""
    number = next_number(service, kind.counter)
    insert(kind.model, {"service": service.id, kind.number.name: number, "started_ms": started_ms,
                        "start_context": start_context, **event})
    store_values(*kind.owners.filed(service.id, number), extensions)
    return number


def end_child(kind, service_id, number, event, extensions):
    """Complete the child (a state with its active tasks, at one time); return its row.

    Raises NotFound, and BadRequest for a completed child or a timestamp before a start.
    """
    explicit_ms = event.pop("timestamp", None)
    end_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            get_service(service_id, for_update=True)
            complete_child(kind, get_child(kind, service_id, number), explicit_ms, end_context, event)
            replace_values(*kind.owners.filed(service_id, number), extensions)
    return get_child(kind, service_id, number)


def complete_child(kind, row, explicit_ms, end_context, event):
    """Write the end of row (and of its state's active tasks); return the completion time."""
    number = kind.number_of(row)
    if row.completed_ms is not None:
        raise BadRequest(f"{kind.label} {number} is completed already", error_code="ALREADY_COMPLETED")
    starts = [(f"{kind.label} {number}", row.started_ms)]
    active_tasks = None
    if kind.completes_tasks:
        active_tasks = ((Task.service == row.service_id) & (Task.state_id == number)
                        & Task.completed_ms.is_null())
        starts += latest_start(Task, Task.task_id, "task", active_tasks)
    completed_ms = completion_ms(explicit_ms, starts)
    if active_tasks is not None:
        Task.update(cascade_columns(completed_ms)).where(active_tasks).execute()
    (kind.model
     .update(end_columns(completed_ms, end_context, event))
     .where(kind.identifies(row.service_id, number))
     .execute())
    return completed_ms


def state_in(service_id, state_id, *, field, must_be_active=False):
    """A state the body refers to; 400 (not 404: the path named an existing service) when absent."""
    state = find_child(STATES, service_id, state_id)
    if state is None:
        messages = [f"No state {state_id} in this service."]
        raise BadRequest(f"no state {state_id} in service {service_id}", error_code="UNKNOWN_STATE",
                         fields={field: {"state_id": messages} if field == "from" else messages})
    if must_be_active and state.completed_ms is not None:
        raise BadRequest(f"state {state_id} is completed; a task starts only in an active state",
                         error_code="STATE_NOT_ACTIVE", fields={field: [f"State {state_id} is completed."]})
    return state


def _by_number(P, model, number_name):
    return (model
            .select()
            .where((model.service == P) & (getattr(model, number_name) == P)))


def find_child(kind, service_id, number):
    """The child row (a light tuple with column attributes), or None."""
    rows = select_rows(kind.model, _by_number, (service_id, number), kind.model, kind.number.name)
    return rows[0] if rows else None


def get_child(kind, service_id, number):
    """The child row; NotFound (STATE_NOT_FOUND / TASK_NOT_FOUND) when there is none."""
    row = find_child(kind, service_id, number)
    if row is None:
        raise NotFound(f"no {kind.label} {number} in service {service_id}",
                       error_code=f"{kind.label.upper()}_NOT_FOUND")
    return row


def list_children(kind, service_id, *, status="all", types=(), state_id=None):
    """The service's children in start order, filtered by status, type DB IDs and (tasks) state.

    Raises NotFound for an unknown service.
    """
    get_service(service_id)
    where = with_status(kind.model.service == service_id, kind.model, status)
    if state_id is not None:
        where &= kind.model.state_id == state_id
    if types:
        where &= getattr(kind.model, f"{kind.label}_type").in_(list(types))
    return list(kind.model.select().where(where).order_by(kind.number))


def transition(service_id, event, extensions):
    """Complete the `from` state and start the `to` state at one time, in one transaction.

    The shared context fields go to both the end and the start; extension values sent
    belong to the new state. Returns the new state_id.
    """
    explicit_ms = event.pop("timestamp", None)
    source, target = event.pop("from"), event.pop("to")
    context, _ = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            refuse_completed_service(service)
            state = state_in(service_id, source.pop("state_id"), field="from")
            at_ms = complete_child(STATES, state, explicit_ms, context, source)
            return insert_child(STATES, service, at_ms, context, {**target, "previous_state_id": state.state_id},
                                extensions)


def _of_services_query(P, model, number_name, service_count, status):
    return (model
            .select()
            .where(with_status(model.service.in_([P] * service_count), model, status))
            .order_by(model.service, getattr(model, number_name)))


def children_of_services(kind, service_ids, status):
    """{service_id: [child row in number order]} of the given status."""
    grouped = {}
    rows = select_rows(kind.model, _of_services_query, tuple(service_ids), kind.model, kind.number.name,
                       len(service_ids), status)
    for row in rows:
        grouped.setdefault(row.service_id, []).append(row)
    return grouped


def tasks_of_states(states, status):
    """{(service_id, state_id): [task row in number order]} of the tasks started in the states."""
    where = (Task.service.in_(list({row.service_id for row in states}))
             & Task.state_id.in_([row.state_id for row in states]))
    grouped = {}
    for task in Task.select().where(with_status(where, Task, status)).order_by(Task.service, Task.task_id):
        grouped.setdefault((task.service_id, task.state_id), []).append(task)
    return grouped
