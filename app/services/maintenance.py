"""The maintenance run: idle auto-complete, retention purge, values of deleted schemas (SPEC §13).

Each kind of work is a Job that can count what is due at a given time and do one batch of
it in one transaction of at most MAX_BATCH services. A run takes the time once, so what is
due cannot grow while it works, and stops at `max_services`; running it again continues.
The clock is a parameter, so tests can put a service one millisecond either side of a limit.
"""
import logging
import time
from dataclasses import dataclass, field

import peewee as pw

from app.retry import MAX_TRIES, retry_reason
from app.services.lifecycle import cascade_columns
from app.services.removal import MAX_BATCH, default_batch_size, remove_services
from models import ExtensionRecord, ExtensionSchema, ExtensionUniqueKey, Service, State, Task, database

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000
AUTO_COMPLETED = "auto-completed"


@dataclass(frozen=True)
class Policy:
    """The [retention] and [lifecycle] settings, names already resolved to DB IDs."""
    completed_days: float = 0
    retention_by_type: dict = field(default_factory=dict)
    auto_complete_after_s: int = 0
    auto_complete_disposition: int = None

    @classmethod
    def from_settings(cls, settings):
        return cls(completed_days=settings["retention"]["completed_days"],
                   retention_by_type=dict(settings.retention_by_type),
                   auto_complete_after_s=settings["lifecycle"]["auto_complete_after_s"],
                   auto_complete_disposition=settings.auto_complete_disposition)


def _batch_transaction():
    """One batch's transaction. On MySQL in READ COMMITTED: its locking reads of a range
    then lock the rows they select and no gaps between index records, so services started
    meanwhile (whose index entries land in such gaps) never wait for a batch."""
    if isinstance(database.obj, pw.SqliteDatabase):
        return database.atomic()
    return database.atomic(isolation_level="READ COMMITTED")


def _locked(query):
    """query.for_update() on MySQL; a SQLite write transaction holds the database lock anyway."""
    return query if isinstance(database.obj, pw.SqliteDatabase) else query.for_update()


class Job:
    """One kind of maintenance work over the services a condition selects at a time `now`."""
    name = ""

    def condition(self, now):
        raise NotImplementedError

    def count_due(self, now):
        return Service.select().where(self.condition(now)).count()

    def run_batch(self, now, size):
        """Do the work on at most size due services in one transaction; return how many."""
        with _batch_transaction():
            query = Service.select(Service.id).where(self.condition(now)).limit(size)
            ids = [row[0] for row in _locked(query).tuples()]
            return self.apply(ids, now) if ids else 0

    def apply(self, ids, now):
        raise NotImplementedError


class AutoComplete(Job):
    """Active services with no write for after_s seconds are completed with their states and tasks."""
    name = "auto_completed"

    def __init__(self, after_s, disposition=None):
        self.after_ms = after_s * 1000
        self.disposition = disposition

    def condition(self, now):
        return Service.completed_ms.is_null() & (Service.last_activity_ms <= now - self.after_ms)

    def apply(self, ids, now):
        columns = {"disposition_desc": AUTO_COMPLETED}
        for model in (State, Task):
            (model
             .update({**cascade_columns(_not_before_start(model, now)), **columns})
             .where(model.service.in_(ids) & model.completed_ms.is_null())
             .execute())
        if self.disposition is not None:
            columns["disposition"] = self.disposition
        return (Service
                .update({**cascade_columns(_not_before_start(Service, now)), **columns})
                .where(Service.id.in_(ids))
                .execute())


def _not_before_start(model, now):
    # A start sent with a timestamp ahead of our clock completes at its start, never before.
    return pw.Case(None, [(model.started_ms > now, model.started_ms)], now)


class Purge(Job):
    """Services a condition selects are removed with everything they own."""

    def __init__(self, name, condition):
        self.name = name
        self._condition = condition

    def condition(self, now):
        return self._condition(now)

    def apply(self, ids, now):
        return remove_services(ids)


def retention_conditions(policy):
    """One condition per retention rule: completed longer ago than its days, by service type."""
    rules = []
    overridden = list(policy.retention_by_type)
    for service_type, days in policy.retention_by_type.items():
        if days > 0:
            rules.append(_completed_before(days, Service.service_type == service_type))
    if policy.completed_days > 0:
        others = Service.service_type.not_in(overridden) if overridden else None
        rules.append(_completed_before(policy.completed_days, others))
    return rules


def _completed_before(days, restriction):
    keep_ms = round(days * DAY_MS)

    def condition(now):
        # "Older than": completed strictly more than the retention ago.
        where = Service.completed_ms < now - keep_ms
        return where if restriction is None else where & restriction
    return condition


class Retention(Job):
    """Completed services past their retention are removed; one rule per service-type override."""
    name = "purged"

    def __init__(self, policy):
        self.conditions = retention_conditions(policy)

    def count_due(self, now):
        return sum(Service.select().where(condition(now)).count() for condition in self.conditions)

    def run_batch(self, now, size):
        for condition in self.conditions:
            done = Purge(self.name, condition).run_batch(now, size)
            if done:
                return done
        return 0


def _orphan_records():
    """Values whose extension schema was deleted: its row is marked (a tombstone).

    A schema row cannot go while records point at it (their foreign key), so the mark is
    the only way a record is orphaned; the condition walks the index on schema_id.
    """
    deleted = ExtensionSchema.select(ExtensionSchema.id).where(~ExtensionSchema.live())
    return ExtensionRecord.schema.in_(deleted)


class DeletedSchemaValues(Job):
    """Records of extension values whose schema was deleted (counted in records, not services),
    then the deleted schema rows themselves once no record points at them."""
    name = "deleted_schema_values"

    def count_due(self, now):
        return ExtensionRecord.select().where(_orphan_records()).count()

    def run_batch(self, now, size):
        with _batch_transaction():
            query = ExtensionRecord.select(ExtensionRecord.id).where(_orphan_records()).limit(size)
            ids = [row[0] for row in _locked(query).tuples()]
            if not ids:
                _remove_empty_tombstones()
                return 0
            ExtensionUniqueKey.delete().where(ExtensionUniqueKey.record.in_(ids)).execute()
            return ExtensionRecord.delete().where(ExtensionRecord.id.in_(ids)).execute()


def _remove_empty_tombstones():
    """Delete the rows of deleted schemas that no record points at any more.

    No write can add a record under a deleted schema (extension_values.refuse_deleted), so
    an empty tombstone stays empty. A new schema may then reuse its ID on SQLite; writers
    that still carry the old one are told apart by the registration time.
    """
    tombstones = [row[0] for row in ExtensionSchema.select(ExtensionSchema.id).where(~ExtensionSchema.live()).tuples()]
    for schema_id in tombstones:
        if not ExtensionRecord.select().where(ExtensionRecord.schema == schema_id).exists():
            ExtensionSchema.delete().where(ExtensionSchema.id == schema_id).execute()


def configured_jobs(policy):
    """The jobs the settings ask for, in the order a run does them."""
    jobs = []
    if policy.auto_complete_after_s > 0:
        jobs.append(AutoComplete(policy.auto_complete_after_s, policy.auto_complete_disposition))
    if policy.completed_days > 0 or any(days > 0 for days in policy.retention_by_type.values()):
        jobs.append(Retention(policy))
    jobs.append(DeletedSchemaValues())
    return jobs


# 8.5's purge operations: services started before `limit`, of one status and owner kind.
PURGE_OPERATIONS = {
    "purge.service.all": lambda: None,
    "purge.service.started": lambda: Service.completed_ms.is_null(),
    "purge.service.started.anonymous": lambda: Service.completed_ms.is_null() & Service.customer_id.is_null(),
    "purge.service.completed": lambda: Service.completed_ms.is_null(False),
    "purge.service.completed.anonymous": lambda: (Service.completed_ms.is_null(False)
                                                  & Service.customer_id.is_null()),
}


def operation_job(operation, limit_ms):
    """The Purge job of one 8.5 operation: services started before limit_ms."""
    extra = PURGE_OPERATIONS[operation]()

    def condition(now):
        where = Service.started_ms < limit_ms
        return where if extra is None else where & extra
    return Purge("purged", condition)


@dataclass
class Outcome:
    """Per job name: how many were done and how many are still due after the run."""
    done: dict = field(default_factory=dict)
    still_due: dict = field(default_factory=dict)

    @property
    def total_done(self):
        return sum(self.done.values())


def count_due(jobs, now):
    """{job name: count due at now}; a dry run's whole answer."""
    return {job.name: job.count_due(now) for job in jobs}


def _batch_with_retries(job, now, size):
    """job.run_batch, run again when MySQL chose its transaction as a deadlock victim or it
    waited too long for a lock: the batch was rolled back whole, so running it again is safe."""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            return job.run_batch(now, size)
        except pw.OperationalError as error:
            if attempt == MAX_TRIES or retry_reason(error) is None:
                raise
            logger.warning("maintenance batch retried after %s", retry_reason(error))


def _after_batch():
    # Without this, the WAL the run writes is copied back into the database file by whichever
    # connection commits past SQLite's auto-checkpoint threshold: often a client's start. A
    # passive checkpoint here does that work in this process and never waits for writers.
    if isinstance(database.obj, pw.SqliteDatabase):
        database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")


def run(jobs, now, *, max_services, batch_size=None, dry_run=False, progress=None, pause_ratio=0.0,
        clock=time.monotonic, sleep=time.sleep):
    """Do the jobs' work due at `now`, at most max_services in all, in batches of batch_size
    (at most MAX_BATCH; default_batch_size() when None).

    After each batch the run rests pause_ratio times as long as the batch took ([lifecycle]
    maintenance_pause_ratio). On SQLite a batch holds the one write lock and, on a small host,
    most of a core: without the rest, clients' writes queue behind batch after batch.
    progress(count) is called after each batch. A dry run changes nothing and reports every
    due item as still due. Database errors propagate; batches done before stay done.
    """
    batch_size = max(1, min(batch_size or default_batch_size(), MAX_BATCH))
    outcome = Outcome()
    budget = 0 if dry_run else max_services
    for job in jobs:
        done = 0
        while budget > 0:
            began = clock()
            count = _batch_with_retries(job, now, min(batch_size, budget))
            if not count:
                break
            _after_batch()
            if pause_ratio > 0:
                sleep((clock() - began) * pause_ratio)
            done += count
            budget -= count
            if progress is not None:
                progress(count)
        outcome.done[job.name] = outcome.done.get(job.name, 0) + done
    for job in jobs:
        outcome.still_due[job.name] = outcome.still_due.get(job.name, 0) + job.count_due(now)
    return outcome
