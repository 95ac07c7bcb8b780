"""Tasks of a service: start, end, read and list (SPEC §5)."""
from app.errors import BadRequest, NotFound
from app.services.extension_values import owner_no, read_values, replace_values, store_values
from app.services.lifecycle import (completion_ms, end_columns, next_number, refuse_completed_service)
from app.services.presenters import split_context
from app.services.services import get_service, integrity_refusals
from models import Service, State, Task, database, now_ms
from models.statements import execute, insert, select_rows


def start_task(service_id, event, extensions):
    """Store a new task numbered after the service's last one; return its task_id.

    Raises NotFound for an unknown service, BadRequest when the service is completed or
    state_id names no active state of it.
    """
    started_ms = event.pop("timestamp", None)
    started_ms = now_ms() if started_ms is None else started_ms
    start_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            refuse_completed_service(service)
            if "state_id" in event:
                _refuse_unless_active_state(service_id, event["state_id"])
            task_id = next_number(service, Service.last_task_id)
            insert(Task, {"service": service_id, "task_id": task_id, "started_ms": started_ms,
                          "start_context": start_context, **event})
            store_values(service_id, owner_no("tasks", task_id), extensions)
    return task_id


def _refuse_unless_active_state(service_id, state_id):
    completed_ms = execute(_state_completed_ms, (service_id, state_id)).fetchone()
    if completed_ms is None:
        raise BadRequest(f"no state {state_id} in service {service_id}", error_code="UNKNOWN_STATE",
                         fields={"state_id": [f"No state {state_id} in this service."]})
    if completed_ms[0] is not None:
        raise BadRequest(f"state {state_id} is completed; a task starts only in an active state",
                         error_code="STATE_NOT_ACTIVE", fields={"state_id": [f"State {state_id} is completed."]})


def _state_completed_ms(P):
    return (State
            .select(State.completed_ms)
            .where((State.service == P) & (State.state_id == P)))


def end_task(service_id, task_id, event, extensions):
    """Complete the task; return its row.

    Raises NotFound, and BadRequest for a completed task or a timestamp before its start.
    """
    explicit_ms = event.pop("timestamp", None)
    end_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            get_service(service_id, for_update=True)
            task = get_task(service_id, task_id)
            if task.completed_ms is not None:
                raise BadRequest(f"task {task_id} is completed already", error_code="ALREADY_COMPLETED")
            completed_ms = completion_ms(explicit_ms, [(f"task {task_id}", task.started_ms)])
            (Task
             .update(end_columns(completed_ms, end_context, event))
             .where((Task.service == service_id) & (Task.task_id == task_id))
             .execute())
            replace_values(service_id, owner_no("tasks", task_id), extensions)
    return get_task(service_id, task_id)


def _task_by_number(P):
    return (Task
            .select()
            .where((Task.service == P) & (Task.task_id == P)))


def get_task(service_id, task_id):
    """The task row (a light tuple with column attributes); NotFound when there is none."""
    rows = select_rows(Task, _task_by_number, (service_id, task_id))
    task = rows[0] if rows else None
    if task is None:
        raise NotFound(f"no task {task_id} in service {service_id}", error_code="TASK_NOT_FOUND")
    return task


def list_tasks(service_id, *, status="all", state_id=None, task_types=()):
    """The service's tasks in start order, filtered by status, state and type DB IDs; NotFound for no service."""
    get_service(service_id)
    where = Task.service == service_id
    if status == "active":
        where &= Task.completed_ms.is_null()
    elif status == "completed":
        where &= Task.completed_ms.is_null(False)
    if state_id is not None:
        where &= Task.state_id == state_id
    if task_types:
        where &= Task.task_type.in_(list(task_types))
    return list(Task.select().where(where).order_by(Task.task_id))


def present_tasks(rows, presenter, extensions):
    """Task resources with the extension values asked for."""
    bodies = [presenter.task(row) for row in rows]
    if not rows or not extensions:
        return bodies
    values = read_values({row.service_id for row in rows}, [owner_no("tasks", row.task_id) for row in rows],
                         extensions)
    for row, body in zip(rows, bodies):
        own_values = values.get((row.service_id, owner_no("tasks", row.task_id)), {})
        for extension in extensions:
            if extension.name in own_values:
                body[extension.name] = own_values[extension.name]
    return bodies
