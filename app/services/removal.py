"""Removing services for good: one service, a customer's erasure, and batches (SPEC §13).

A service goes with its states, tasks and every extension value of them, all in one
transaction, so no reader or crash ever sees half of one. Nothing else refers to a
service, so nothing is left pointing at a removed one.
"""
from dataclasses import dataclass, field

import peewee as pw

from app.errors import NotFound
from models import ExtensionRecord, ExtensionUniqueKey, Service, State, Task, database
from models.statements import MAX_PARAMETERS

# The most services one transaction removes: the maintenance run's batch, and what keeps
# an erasure of a customer with a long history from holding locks for long.
MAX_BATCH = 1000
# SQLite has one writer at a time: a batch holds every other write back for as long as it
# takes, so its batches are smaller (measured: ~0.25 ms a service on a loaded 2-core machine).
# Below MAX_PARAMETERS too, the most parameters one statement may bind on older SQLite.
SQLITE_BATCH = 100


def default_batch_size():
    """MAX_BATCH on MySQL, where a batch locks only its own rows; SQLITE_BATCH on SQLite."""
    return SQLITE_BATCH if isinstance(database.obj, pw.SqliteDatabase) else MAX_BATCH



def lock_services(service_ids):
    """The services' rows locked until the transaction ends (MySQL), so that no value, state
    or task can be added to a service being removed: every writer of a service locks its row
    first (app.services.lifecycle). Returns the IDs of those that exist.

    SQLite's write transaction holds the database's lock already: the IDs come back as given.
    """
    if isinstance(database.obj, pw.SqliteDatabase):
        return list(service_ids)
    query = Service.select(Service.id).where(Service.id.in_(list(service_ids))).for_update()
    return [row[0] for row in query.tuples()]


def remove_services(service_ids):
    """Delete the services and everything they own, inside the caller's transaction.

    Returns how many service rows went (services removed meanwhile by another run count 0).
    """
    service_ids = lock_services(service_ids) if service_ids else []
    if not service_ids:
        return 0
    # Children first, so no foreign key ever points at a removed row. The unique keys are
    # found through their records (no index of theirs starts with service_id), by ID lists:
    # MariaDB before 11.1 runs DELETE ... IN (SELECT ...) as a scan of the whole table.
    records = [row[0] for row in (ExtensionRecord
                                  .select(ExtensionRecord.id)
                                  .where(ExtensionRecord.service_id.in_(service_ids))
                                  .tuples())]
    for first in range(0, len(records), MAX_PARAMETERS):
        chunk = records[first:first + MAX_PARAMETERS]
        ExtensionUniqueKey.delete().where(ExtensionUniqueKey.record.in_(chunk)).execute()
    ExtensionRecord.delete().where(ExtensionRecord.service_id.in_(service_ids)).execute()
    for model in (Task, State):
        model.delete().where(model.service.in_(service_ids)).execute()
    return Service.delete().where(Service.id.in_(service_ids)).execute()


def delete_service(service_id):
    """Remove one service with its states, tasks and values; NotFound when there is none."""
    with database.atomic():
        if not remove_services([service_id]):
            raise NotFound(f"no service {service_id}", error_code="SERVICE_NOT_FOUND")


@dataclass
class Erasure:
    """What a right-to-erasure request removed, by kind of row."""
    customer_id: str
    contact_keys: list
    counts: dict = field(default_factory=lambda: {"services": 0, "anonymous_services": 0})

    def add(self, kind, count):
        self.counts[kind] = self.counts.get(kind, 0) + count


def _customer_services(erasure):
    """Services that name the customer."""
    _remove_all(Service.customer_id == erasure.customer_id, erasure, "services")


def _anonymous_services(erasure):
    """Services without a customer filed under one of the contact keys listed."""
    if erasure.contact_keys:
        where = Service.contact_key.in_(erasure.contact_keys) & Service.customer_id.is_null()
        _remove_all(where, erasure, "anonymous_services")


def _remove_all(where, erasure, kind):
    """Remove the services where selects, at most default_batch_size() whole services per transaction."""
    size = default_batch_size()
    while True:
        with database.atomic():
            ids = [row[0] for row in Service.select(Service.id).where(where).limit(size).tuples()]
            erasure.add(kind, remove_services(ids))
        if len(ids) < size:
            return


# One function per kind of data a customer leaves; a customer profile, once profiles exist,
# is one more step in this list.
ERASURE_STEPS = (_customer_services, _anonymous_services)


def erase_customer(customer_id, contact_keys=()):
    """Remove everything stored about the customer and the anonymous services of contact_keys.

    Each batch of whole services is its own transaction: an interrupted erasure leaves only
    whole services, and running it again finishes it. Returns the Erasure with its counts.
    """
    erasure = Erasure(customer_id, sorted(set(contact_keys)))
    for step in ERASURE_STEPS:
        step(erasure)
    return erasure
