"""Services: start, read, complete, associate and list (SPEC §3.1–§3.5)."""
import json
from contextlib import contextmanager
from dataclasses import dataclass, field

import peewee as pw

from app.errors import BadRequest, Conflict, NotFound
from app.services.extension_values import SERVICE_OWNER, dump_json, read_values, replace_values, store_values
from app.services.lifecycle import cascade_columns, completion_ms, end_columns, record_activity
from app.services.presenters import split_context
from models import ExtensionSchema, Service, State, Task, database, now_ms
from models.statements import compiled_sql, insert, select_rows
from schemas.events import CONTEXT_FIELDS


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
    row = {"id": service_id, "started_ms": started_ms, "start_context": start_context,
           "last_activity_ms": now_ms(), **event}
    if not extensions:
        # One statement is atomic by itself; BEGIN and COMMIT would be two more round trips.
        insert(Service, row)
        return service_id
    try:
        with database.atomic():
            insert(Service, row)
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


@contextmanager
def integrity_refusals(extensions, *, unique_conflict=False):
    """Around a transaction that stores extension values: the database's refusals that are not bugs.

    A schema deleted by another worker meanwhile is a 409 CONCURRENT_CHANGE; with
    unique_conflict, a key refused by the ExtensionUniqueKey index is a 409 UNIQUE_CONFLICT.
    """
    try:
        yield
    except pw.IntegrityError:
        raise_if_schemas_vanished(extensions)
        if unique_conflict:
            raise Conflict("a record with the same unique attribute values exists already",
                           error_code="UNIQUE_CONFLICT") from None
        raise


def _service_by_id(P):
    return (Service
            .select()
            .where(Service.id == P))


def get_service(service_id, *, for_update=False):
    """The service row (a light tuple with column attributes); NotFound when there is none.

    for_update is what every write on the service, its states, tasks or values starts with:
    it records the write as the service's last activity, and that UPDATE locks the row until
    the transaction ends (SQLite transactions hold the database's write lock anyway). On
    MySQL the plain read after it takes its snapshot once the lock is held.
    """
    if for_update:
        record_activity(service_id)
    rows = select_rows(Service, _service_by_id, (service_id,))
    if not rows:
        raise NotFound(f"no service {service_id}", error_code="SERVICE_NOT_FOUND")
    return rows[0]


def complete_service(service_id, event, extensions):
    """Complete the service and its active states and tasks at one time; return the service row.

    Extension values sent replace the stored ones wholesale. Raises NotFound, and BadRequest
    for a second completion or a timestamp before a start.
    """
    explicit_ms = event.pop("timestamp", None)
    end_context, event = split_context(event)
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            if service.completed_ms is not None:
                raise BadRequest(f"service {service_id} is completed already", error_code="ALREADY_COMPLETED")
            starts = [(f"service {service_id}", service.started_ms), *_latest_active_starts(service_id)]
            completed_ms = completion_ms(explicit_ms, starts)
            for model in (State, Task):
                (model
                 .update(cascade_columns(completed_ms))
                 .where((model.service == service_id) & model.completed_ms.is_null())
                 .execute())
            (Service
             .update(end_columns(completed_ms, end_context, event))
             .where(Service.id == service_id)
             .execute())
            replace_values(service_id, SERVICE_OWNER, extensions)
    return get_service(service_id)


def _latest_active_starts(service_id):
    starts = []
    for model, number, label in ((State, State.state_id, "state"), (Task, Task.task_id, "task")):
        latest = (model
                  .select(number, model.started_ms)
                  .where((model.service == service_id) & model.completed_ms.is_null())
                  .order_by(model.started_ms.desc())
                  .tuples()
                  .first())
        if latest is not None:
            starts.append((f"{label} {latest[0]}", latest[1]))
    return starts


def associate_service(service_id, customer_id, event, extensions):
    """Attach the service to customer_id (last write wins) and apply the updates sent.

    Context fields sent are merged into the start context; the contact key is kept; a
    `timestamp` is the time of this update, which is not recorded (the start time stays).
    """
    event.pop("timestamp", None)
    context = {name: event.pop(name) for name in CONTEXT_FIELDS if name in event}
    with integrity_refusals(extensions):
        with database.atomic():
            service = get_service(service_id, for_update=True)
            columns = {"customer_id": customer_id, **event}
            if context:
                columns["start_context"] = dump_json({**json.loads(service.start_context or "{}"), **context})
            Service.update(columns).where(Service.id == service_id).execute()
            replace_values(service_id, SERVICE_OWNER, extensions)
    return get_service(service_id)


def list_services(**criteria):
    """A customer's services, or the anonymous ones of a contact key; newest start first.

    Criteria as services_query takes them.
    """
    shape, params = _list_shape(**criteria)
    return select_rows(Service, _list_query, params, *shape)


def services_query(**criteria):
    """(SQL, parameters) of a list, for EXPLAIN in tests and tools."""
    shape, params = _list_shape(**criteria)
    return compiled_sql(_list_query, *shape), params


def _list_shape(*, customer_id=None, contact_key=None, status="all", started_from=None, started_to=None,
                limit, offset=0):
    """The statement's shape and its parameters; started_from is inclusive, started_to exclusive."""
    params = [customer_id if customer_id is not None else contact_key]
    params += [bound for bound in (started_from, started_to) if bound is not None]
    shape = (customer_id is not None, status, started_from is not None, started_to is not None)
    return shape, tuple(params) + (limit, offset)


def _list_query(P, by_customer, status, has_from, has_to):
    """Each filter fixes the leading columns of one Service index whose order is the list's
    order, so the database reads only the page's rows and never sorts (docs/DECISIONS.md)."""
    if by_customer:
        where = Service.customer_id == P
    else:
        where = (Service.contact_key == P) & Service.customer_id.is_null()
    if status == "active":
        where &= Service.completed_ms.is_null()
    elif status == "completed":
        where &= Service.completed_ms.is_null(False)
    if has_from:
        where &= Service.started_ms >= P
    if has_to:
        where &= Service.started_ms < P
    return (Service
            .select()
            .where(where)
            .order_by(Service.started_ms.desc(), Service.id.desc())
            .limit(P)
            .offset(P))


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
