"""Services, states and tasks: the records of a customer's journey.

Times are integer milliseconds since the Unix epoch (UTC). The context fields of a start
or end event (session_id, interaction_id, application/resource/media types and IDs) are
never filtered on, so each event keeps them as one compact JSON object.
"""
import peewee as pw

from models.base import BaseModel


class _Lifecycle(BaseModel):
    est_duration = pw.BigIntegerField(null=True)
    disposition = pw.BigIntegerField(null=True)
    disposition_desc = pw.CharField(max_length=64, null=True)
    started_ms = pw.BigIntegerField()
    start_context = pw.TextField(default="{}")
    completed_ms = pw.BigIntegerField(null=True)
    end_context = pw.TextField(null=True)


class Service(_Lifecycle):
    id = pw.BigIntegerField(primary_key=True)
    customer_id = pw.CharField(max_length=16, null=True)
    contact_key = pw.CharField(max_length=64, null=True)
    service_type = pw.BigIntegerField()
    # Highest state_id / task_id handed out; the next start takes it + 1 under the row lock.
    # DEFAULT in the table too: the hot insert path names only the columns it sets.
    last_state_id = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    last_task_id = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    # Server time of the latest write on the service, its states, tasks or values: idle
    # auto-complete finds its services by a range scan of (completed_ms IS NULL, this).
    last_activity_ms = pw.BigIntegerField(null=True)

    class Meta:
        # One index per list (SPEC §3.5): the filter fixes its leading columns (IS NULL is an
        # equality for both databases) and the index order, with the primary key at its end,
        # is the list's order (started_ms DESC, id DESC), so a page reads only its own rows.
        # The completed_ms ones serve the active lists, which IVRs ask on every call: without
        # them a caller ID with a long history (or a withheld one) scans all of it.
        indexes = (
            (("customer_id", "started_ms"), False),
            (("customer_id", "completed_ms", "started_ms"), False),
            (("contact_key", "customer_id", "started_ms"), False),
            (("contact_key", "customer_id", "completed_ms", "started_ms"), False),
            # The maintenance run's: idle active services (completed_ms IS NULL, by last
            # activity) and completed ones past retention (a range of completed_ms).
            (("completed_ms", "last_activity_ms"), False),
        )


class State(_Lifecycle):
    service = pw.ForeignKeyField(Service, column_name="service_id", backref="states", on_delete="CASCADE")
    state_id = pw.IntegerField()
    state_type = pw.BigIntegerField()
    previous_state_id = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("service", "state_id"), True),)


class Task(_Lifecycle):
    service = pw.ForeignKeyField(Service, column_name="service_id", backref="tasks", on_delete="CASCADE")
    task_id = pw.IntegerField()
    task_type = pw.BigIntegerField()
    state_id = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("service", "task_id"), True),)
