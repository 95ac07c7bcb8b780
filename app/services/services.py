"""Services: start and read (SPEC §3.1, §3.2)."""
from dataclasses import dataclass, field

import peewee as pw

from app.errors import Conflict, NotFound
from app.services.extension_values import SERVICE_OWNER, read_values, store_values
from app.services.presenters import split_context
from models import ExtensionSchema, Service, State, Task, database, now_ms
from models.statements import insert, select_rows


@dataclass
class Nesting:
    """What a read adds to each service: nested states/tasks and extension values."""
    active_states: bool = False
    completed_states: bool = False
    active_tasks: bool = False
    completed_tasks: bool = False
    extensions: list = field(default_factory=list)


def start_service(ids, event, extensions):
    """Store a service and its extension records in one transaction; return its ID."""
    service_id = ids.next_id()
    started_ms = event.pop("timestamp", None) or now_ms()
    start_context, event = split_context(event)
    try:
        with database.atomic():
            insert(Service, {"id": service_id, "started_ms": started_ms, "start_context": start_context, **event})
            store_values(service_id, SERVICE_OWNER, extensions)
    except pw.IntegrityError:
        # Values were checked against each other before; what is left is a schema deleted
        # by another worker between validation and commit. Anything else is a bug.
        raise_if_schemas_vanished(extensions)
        raise
    return service_id


def raise_if_schemas_vanished(extensions):
    wanted = {extension.id for extension, _ in extensions if extension.id is not None}
    if wanted and (ExtensionSchema.select().where(ExtensionSchema.id.in_(list(wanted))).count() < len(wanted)):
        raise Conflict("an extension schema was deleted while the values were being stored; send them again",
                       error_code="CONCURRENT_CHANGE")


def _service_by_id(P):
    return (Service
            .select()
            .where(Service.id == P))


def _service_by_id_locked(P):
    return _service_by_id(P).for_update()


def get_service(service_id, *, for_update=False):
    """The service row (a light tuple with column attributes); NotFound when there is none.

    for_update locks the row until the transaction ends on MySQL; SQLite transactions
    already hold the database's write lock from their first statement.
    """
    locked = for_update and not isinstance(database.obj, pw.SqliteDatabase)
    rows = select_rows(Service, _service_by_id_locked if locked else _service_by_id, (service_id,))
    if not rows:
        raise NotFound(f"no service {service_id}", error_code="SERVICE_NOT_FOUND")
    return rows[0]


def present_services(rows, presenter, nesting):
    """Service resources for rows, with nested lists and extensions fetched in batches."""
    ids = [row.id for row in rows]
    bodies = [presenter.service(row) for row in rows]
    if not rows:
        return bodies
    want_states = nesting.active_states or nesting.completed_states
    want_tasks = nesting.active_tasks or nesting.completed_tasks
    states = _nested(State, ids, nesting.active_states, nesting.completed_states) if want_states else {}
    tasks = _nested(Task, ids, nesting.active_tasks, nesting.completed_tasks) if want_tasks else {}
    values = read_values(ids, [SERVICE_OWNER], nesting.extensions)
    for row, body in zip(rows, bodies):
        if want_states:
            own = states.get(row.id, [])
            if nesting.active_states:
                body["active_states"] = [presenter.state(s, with_service=False) for s in own if s.completed_ms is None]
            if nesting.completed_states:
                body["completed_states"] = [presenter.state(s, with_service=False)
                                            for s in own if s.completed_ms is not None]
        if want_tasks:
            own = tasks.get(row.id, [])
            if nesting.active_tasks:
                body["active_tasks"] = [presenter.task(t, with_service=False) for t in own if t.completed_ms is None]
            if nesting.completed_tasks:
                body["completed_tasks"] = [presenter.task(t, with_service=False)
                                           for t in own if t.completed_ms is not None]
        own_values = values.get((row.id, SERVICE_OWNER), {})
        for extension in nesting.extensions:       # in the order the read asked for them
            if extension.name in own_values:
                body[extension.name] = own_values[extension.name]
    return bodies


def _nested_query(P, model, service_count, active, completed):
    number = model.state_id if model is State else model.task_id
    query = (model
             .select()
             .where(model.service.in_([P] * service_count))
             .order_by(model.service, number))
    if not completed:
        query = query.where(model.completed_ms.is_null())
    elif not active:
        query = query.where(model.completed_ms.is_null(False))
    return query


def _nested(model, service_ids, active, completed):
    grouped = {}
    for row in select_rows(model, _nested_query, tuple(service_ids), model, len(service_ids), active, completed):
        grouped.setdefault(row.service_id, []).append(row)
    return grouped
