"""What starting and completing services, states and tasks share: numbering and end times.

Every write on a service's states, tasks or extension values runs in one transaction whose
first read is `get_service(service_id, for_update=True)`: writers of one service queue on
that row (so they cannot deadlock each other), and on MySQL the snapshot of the later plain
reads is taken after the previous holder committed. SQLite's BEGIN IMMEDIATE has taken the
database's write lock already.
"""
import json

from app.errors import BadRequest
from models import Service, now_ms
from models.statements import execute
from schemas.events import CONTEXT_FIELDS
from schemas.timestamps import format_ms

INT32_MAX = 2**31 - 1


def refuse_completed_service(service):
    if service.completed_ms is not None:
        raise BadRequest(f"service {service.id} is completed; nothing can start in it",
                         error_code="SERVICE_COMPLETED")


def next_number(service, column):
    """Take the service's next state_id or task_id (column: Service.last_state_id / last_task_id).

    Gap-free and distinct under concurrency only because the caller holds the service lock
    and a rolled-back transaction takes its number back with it.
    """
    number = getattr(service, column.name) + 1
    if number > INT32_MAX:
        raise BadRequest(f"service {service.id} has used every {column.name[5:]}", error_code="TOO_MANY")
    execute(_set_number, (number, service.id), column.name)
    return number


def record_activity(service_id):
    """Set the service's last activity to now; the UPDATE also takes its row lock on MySQL."""
    execute(_set_last_activity, (now_ms(), service_id))


def _set_last_activity(P):
    return (Service
            .update({Service.last_activity_ms: P})
            .where(Service.id == P))


def _set_number(P, column_name):
    return (Service
            .update({getattr(Service, column_name): P})
            .where(Service.id == P))


def start_time(event):
    """The start time an event gives (popped from it), else the server's; 0 (the epoch) is a time."""
    started_ms = event.pop("timestamp", None)
    return now_ms() if started_ms is None else started_ms


def split_context(event):
    """(context fields as compact JSON, the rest of the event) for storing a start or end."""
    context = {name: event.pop(name) for name in CONTEXT_FIELDS if name in event}
    return json.dumps(context, separators=(",", ":"), ensure_ascii=False), event


def with_status(where, model, status):
    """where narrowed to the model's active or completed rows ("all" leaves it as it is)."""
    if status == "active":
        return where & model.completed_ms.is_null()
    if status == "completed":
        return where & model.completed_ms.is_null(False)
    return where


def status_of(active, completed):
    """The status filter that keeps rows of the kinds wanted (both or neither: "all")."""
    if active == completed:
        return "all"
    return "active" if active else "completed"


def latest_start(model, number, label, where):
    """[(label n, started_ms)] of the latest-started row matching where, or [] when none does."""
    latest = (model
              .select(number, model.started_ms)
              .where(where)
              .order_by(model.started_ms.desc())
              .tuples()
              .first())
    return [] if latest is None else [(f"{label} {latest[0]}", latest[1])]


def completion_ms(explicit_ms, starts):
    """The one completion time of a row and everything that completes with it.

    `starts` is [(label, started_ms)] of every row completing. An explicit time earlier than
    one of them is refused; a missing one is the server's time, raised to the latest start
    when a client's start time lies ahead of our clock, so no duration is negative.
    """
    latest_label, latest_ms = max(starts, key=lambda item: item[1])
    if explicit_ms is None:
        return max(now_ms(), latest_ms)
    if explicit_ms < latest_ms:
        started = format_ms(latest_ms)
        raise BadRequest(f"timestamp is earlier than the start of {latest_label} ({started})",
                         error_code="TIMESTAMP_BEFORE_START",
                         fields={"timestamp": [f"Earlier than the start of {latest_label} ({started})."]})
    return explicit_ms


def end_columns(completed_ms, end_context, event):
    """Columns an end event writes on the row it completes."""
    columns = {"completed_ms": completed_ms, "end_context": end_context}
    for name in ("disposition", "disposition_desc"):
        if name in event:
            columns[name] = event[name]
    return columns


def cascade_columns(completed_ms):
    """Columns written on rows completed by their parent's end: the time, no context of their own."""
    return {"completed_ms": completed_ms, "end_context": "{}"}
