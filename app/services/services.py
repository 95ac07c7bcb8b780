"""Services: start, read, complete, associate and list (SPEC §3.1–§3.5)."""
import json

from app.errors import BadRequest, NotFound
from app.services.extension_values import dump_json, integrity_refusals, replace_values, store_values
from app.services.lifecycle import (cascade_columns, completion_ms, end_columns, latest_start, record_activity,
                                    split_context, start_time, with_status)
from app.services.owners import OwnerKind
from models import Service, State, Task, database, now_ms
from models.statements import compiled_sql, insert, select_rows
from schemas.events import CONTEXT_FIELDS

SERVICE_OWNER = 0


def start_service(ids, event, extensions):
    """Store a service and its extension records in one transaction; return its ID.

    Raises Conflict when an extension schema is deleted while the values are stored.
    """
    service_id = ids.next_id()
    started_ms = start_time(event)
    start_context, event = split_context(event)
    row = {"id": service_id, "started_ms": started_ms, "start_context": start_context,
           "last_activity_ms": now_ms(), **event}
    if not extensions:
        # One statement is atomic by itself; BEGIN and COMMIT would be two more round trips.
        insert(Service, row)
        return service_id
    with integrity_refusals(extensions):
        with database.atomic():
            insert(Service, row)
            store_values(service_id, SERVICE_OWNER, extensions)
    return service_id


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


def _lock_service(service_id, _number):
    get_service(service_id, for_update=True)


SERVICES = OwnerKind("services", filed=lambda service_id, _number: (service_id, SERVICE_OWNER),
                     file_of=lambda row: (row.id, SERVICE_OWNER), lock=_lock_service)


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
    return [start
            for model, label in ((State, "state"), (Task, "task"))
            for start in latest_start(model, getattr(model, f"{label}_id"), label,
                                      (model.service == service_id) & model.completed_ms.is_null())]


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
    where = with_status(where, Service, status)
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
