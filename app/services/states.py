"""States of a service: start, end, transition, read and list (SPEC §4)."""
from app.errors import BadRequest, NotFound
from app.services.extension_values import owner_no, read_values, replace_values, store_values
from app.services.lifecycle import (cascade_columns, completion_ms, end_columns, next_number,
                                    refuse_completed_service)
from app.services.presenters import split_context
from app.services.services import get_service, integrity_refusals
from models import Service, State, Task, database, now_ms
from models.statements import insert, select_rows


def start_state(service_id, event, extensions):
    """Store a new state numbered after the service's last one; return its state_id.

    Raises NotFound for an unknown service, BadRequest when the service is completed or
    previous_state_id names no state of it.
    """
    started_ms = event.pop("timestamp", None)
    started_ms = now_ms() if started_ms is None else started_ms
    start_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            refuse_completed_service(service)
            if "previous_state_id" in event:
                _state_in(service_id, event["previous_state_id"], field="previous_state_id")
            return _insert(service, started_ms, start_context, event, extensions)


def _insert(service, started_ms, start_context, event, extensions):
    state_id = next_number(service, Service.last_state_id)
    insert(State, {"service": service.id, "state_id": state_id, "started_ms": started_ms,
                   "start_context": start_context, **event})
    store_values(service.id, owner_no("states", state_id), extensions)
    return state_id


def end_state(service_id, state_id, event, extensions):
    """Complete the state and its active tasks at one time; return the state row.

    Raises NotFound, and BadRequest for a completed state or a timestamp before a start.
    """
    explicit_ms = event.pop("timestamp", None)
    end_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            get_service(service_id, for_update=True)
            state = get_state(service_id, state_id)
            _complete(state, explicit_ms, end_context, event)
            replace_values(service_id, owner_no("states", state_id), extensions)
    return get_state(service_id, state_id)


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
            state = _state_in(service_id, source.pop("state_id"), field="from")
            at_ms = _complete(state, explicit_ms, context, source)
            return _insert(service, at_ms, context, {**target, "previous_state_id": state.state_id}, extensions)


def _complete(state, explicit_ms, end_context, event):
    if state.completed_ms is not None:
        raise BadRequest(f"state {state.state_id} is completed already", error_code="ALREADY_COMPLETED")
    active_tasks = ((Task.service == state.service_id) & (Task.state_id == state.state_id)
                    & Task.completed_ms.is_null())
    starts = [(f"state {state.state_id}", state.started_ms)]
    latest_task = (Task
                   .select(Task.task_id, Task.started_ms)
                   .where(active_tasks)
                   .order_by(Task.started_ms.desc())
                   .tuples()
                   .first())
    if latest_task is not None:
        starts.append((f"task {latest_task[0]}", latest_task[1]))
    completed_ms = completion_ms(explicit_ms, starts)
    Task.update(cascade_columns(completed_ms)).where(active_tasks).execute()
    (State
     .update(end_columns(completed_ms, end_context, event))
     .where((State.service == state.service_id) & (State.state_id == state.state_id))
     .execute())
    return completed_ms


def _state_in(service_id, state_id, *, field):
    """A state the body refers to; 400 (not 404: the path named an existing service) when absent."""
    state = _find_state(service_id, state_id)
    if state is None:
        messages = [f"No state {state_id} in this service."]
        raise BadRequest(f"no state {state_id} in service {service_id}", error_code="UNKNOWN_STATE",
                         fields={field: {"state_id": messages} if field == "from" else messages})
    return state


def _state_by_number(P):
    return (State
            .select()
            .where((State.service == P) & (State.state_id == P)))


def _find_state(service_id, state_id):
    rows = select_rows(State, _state_by_number, (service_id, state_id))
    return rows[0] if rows else None


def get_state(service_id, state_id):
    """The state row (a light tuple with column attributes); NotFound when there is none."""
    state = _find_state(service_id, state_id)
    if state is None:
        raise NotFound(f"no state {state_id} in service {service_id}", error_code="STATE_NOT_FOUND")
    return state


def list_states(service_id, *, status="all", state_types=()):
    """The service's states in start order, filtered by status and type DB IDs; NotFound for no service."""
    get_service(service_id)
    where = State.service == service_id
    if status == "active":
        where &= State.completed_ms.is_null()
    elif status == "completed":
        where &= State.completed_ms.is_null(False)
    if state_types:
        where &= State.state_type.in_(list(state_types))
    return list(State.select().where(where).order_by(State.state_id))


def present_states(rows, presenter, nesting):
    """State resources with their tasks (those started in the state) and extension values."""
    bodies = [presenter.state(row) for row in rows]
    if not rows:
        return bodies
    service_ids = {row.service_id for row in rows}
    tasks = {}
    if nesting.active_tasks or nesting.completed_tasks:
        query = Task.select().where(Task.service.in_(list(service_ids))
                                    & Task.state_id.in_([row.state_id for row in rows]))
        if not nesting.completed_tasks:
            query = query.where(Task.completed_ms.is_null())
        elif not nesting.active_tasks:
            query = query.where(Task.completed_ms.is_null(False))
        for task in query.order_by(Task.service, Task.task_id):
            tasks.setdefault((task.service_id, task.state_id), []).append(task)
    values = read_values(service_ids, [owner_no("states", row.state_id) for row in rows], nesting.extensions)
    for row, body in zip(rows, bodies):
        own = tasks.get((row.service_id, row.state_id), [])
        if nesting.active_tasks:
            body["active_tasks"] = [presenter.task(t, with_service=False) for t in own if t.completed_ms is None]
        if nesting.completed_tasks:
            body["completed_tasks"] = [presenter.task(t, with_service=False)
                                       for t in own if t.completed_ms is not None]
        own_values = values.get((row.service_id, owner_no("states", row.state_id)), {})
        for extension in nesting.extensions:
            if extension.name in own_values:
                body[extension.name] = own_values[extension.name]
    return bodies
