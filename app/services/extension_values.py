"""Storing and reading extension values, filed by owner as (service_id, owner_no).

How an owner's values are filed is declared by its kind (app/services/owners.py); the
functions here see only the file. Every function but integrity_refusals runs inside the
caller's transaction. A record of an extension with unique constraints gets one
ExtensionUniqueKey row per constraint it fills; the unique index on those rows refuses a
second record with the same key on the same owner, whatever the concurrency.
"""
import functools
import hashlib
import json
import operator
from collections import defaultdict
from contextlib import contextmanager

import peewee as pw

from app.errors import Conflict, NotFound
from app.services.extension_registry import limit_refusal, unique_keys
from models import ExtensionRecord, ExtensionSchema, ExtensionUniqueKey, database
from models.statements import execute, insert, insert_many
from schemas.values import LimitExceeded, ValueBudget, dump_json, stored_bytes


@contextmanager
def integrity_refusals(extensions, *, unique_conflict=False):
    """Around a transaction that stores extension values: the database's refusals that are not bugs.

    Values were checked against each other before, so an IntegrityError is a schema deleted
    by another worker meanwhile (409 CONCURRENT_CHANGE) or, with unique_conflict, a key
    refused by the ExtensionUniqueKey index (409 UNIQUE_CONFLICT). Anything else is re-raised.
    """
    try:
        yield
    except pw.IntegrityError:
        _raise_if_schemas_vanished(extensions)
        if unique_conflict:
            raise Conflict("a record with the same unique attribute values exists already",
                           error_code="UNIQUE_CONFLICT") from None
        raise


def _raise_if_schemas_vanished(extensions):
    refuse_deleted([extension for extension, _ in extensions], lock=False)


def refuse_deleted(extensions, *, lock=True):
    """Conflict (409 CONCURRENT_CHANGE) unless every registered extension given is still the
    live schema it was loaded from (same ID and registration time, not deleted).

    Called inside the transaction that writes under those schemas, after its first write:
    on SQLite that transaction then holds the write lock, and on MySQL the read locks the
    schema rows (shared), so a delete either commits before, and is seen here, or waits
    until this transaction has committed; values of a deleted schema never land after it.
    """
    registered = {(extension.id, extension.created_ms) for extension in extensions if extension.id is not None}
    if not registered:
        return
    same = functools.reduce(operator.or_, [(ExtensionSchema.id == schema_id) & (ExtensionSchema.created_ms == created)
                                    for schema_id, created in registered])
    query = ExtensionSchema.select(ExtensionSchema.id).where(same & ExtensionSchema.live())
    if lock and not isinstance(database.obj, pw.SqliteDatabase):
        query = query.for_update("LOCK IN SHARE MODE")
    if len(query.tuples()) < len(registered):
        raise Conflict("an extension schema was deleted while the values were being stored; send them again",
                       error_code="CONCURRENT_CHANGE")


def _digest(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def store_values(service_id, owner_no, loaded):
    """Insert every (extension, value) pair for one owner.

    Records without unique keys go in one multi-row statement; a record with keys needs
    its own row ID for them, so it is inserted alone and its keys together afterwards.
    """
    plain_rows, key_rows = [], []
    for extension, value in loaded:
        records = value if extension.multi_valued else [value]
        for position, record in enumerate(records):
            row = _record_row(extension, service_id, owner_no, position, record)
            if not extension.unique:
                plain_rows.append(row)
                continue
            record_id = insert(ExtensionRecord, row)
            key_rows.extend(_key_rows(extension, service_id, owner_no, record_id, record))
    insert_many(ExtensionRecord, plain_rows)
    insert_many(ExtensionUniqueKey, key_rows)
    refuse_deleted([extension for extension, _ in loaded])


def _record_row(extension, service_id, owner_no, position, record):
    return {"schema": extension.id, "name": extension.name, "name_key": extension.name.lower(),
            "service_id": service_id, "owner_no": owner_no, "position": position, "value": dump_json(record)}


def _key_rows(extension, service_id, owner_no, record_id, record):
    return [{"record": record_id, "schema": extension.id, "service_id": service_id, "owner_no": owner_no,
             "constraint_no": number, "digest": _digest(key)}
            for number, key in unique_keys(extension, record)]


def delete_values(extension, service_id, owner_no):
    """Drop every record of one extension on one owner."""
    owned = ((ExtensionRecord.service_id == service_id)
             & (ExtensionRecord.owner_no == owner_no)
             & (ExtensionRecord.name_key == extension.name.lower()))
    if extension.unique:
        (ExtensionUniqueKey
         .delete()
         .where((ExtensionUniqueKey.schema == extension.id)
                & (ExtensionUniqueKey.service_id == service_id)
                & (ExtensionUniqueKey.owner_no == owner_no))
         .execute())
    ExtensionRecord.delete().where(owned).execute()


def replace_values(service_id, owner_no, loaded):
    """Wholesale replacement: each extension sent loses its old records first."""
    for extension, _ in loaded:
        delete_values(extension, service_id, owner_no)
    store_values(service_id, owner_no, loaded)


def _values_query(P, service_count, owner_count, name_count):
    query = (ExtensionRecord
             .select(ExtensionRecord.service_id, ExtensionRecord.owner_no, ExtensionRecord.name_key,
                     ExtensionRecord.schema, ExtensionRecord.value)
             .where(ExtensionRecord.service_id.in_([P] * service_count)
                    & ExtensionRecord.name_key.in_([P] * name_count))
             .order_by(ExtensionRecord.service_id, ExtensionRecord.owner_no, ExtensionRecord.name_key,
                       ExtensionRecord.position))
    if owner_count:
        query = query.where(ExtensionRecord.owner_no.in_([P] * owner_count))
    return query


def read_values(service_ids, owner_nos, extensions):
    """{(service_id, owner_no): {extension name: value}} for the requested extensions.

    Absent values are left out. owner_nos=None reads every owner of those services.
    """
    if not extensions or not service_ids:
        return {}
    by_key = {extension.name.lower(): extension for extension in extensions}
    service_ids, owner_nos = tuple(service_ids), tuple(owner_nos or ())
    params = service_ids + tuple(by_key) + owner_nos
    cursor = execute(_values_query, params, len(service_ids), len(owner_nos), len(by_key))
    values = defaultdict(dict)
    for service_id, owner_no, name_key, schema_id, value in cursor.fetchall():
        extension = by_key[name_key]
        if schema_id != extension.id:
            continue    # left by a deleted schema of that name, until the maintenance run removes it
        owner = values[(service_id, owner_no)]
        if extension.multi_valued:
            owner.setdefault(extension.name, []).append(json.loads(value))
        else:
            owner[extension.name] = json.loads(value)
    return values


def find_by_unique(extension, service_id, owner_no, selector):
    """(record row, stored record) of the record the selector's unique attributes pick.

    The selector fills at least one unique constraint (the caller checks); the first one
    finds the record through its key row, and every other unique attribute sent must equal
    the record's. Raises NotFound when no record matches.
    """
    number, key = unique_keys(extension, selector)[0]
    record = (ExtensionRecord
              .select()
              .join(ExtensionUniqueKey, on=(ExtensionUniqueKey.record == ExtensionRecord.id))
              .where((ExtensionUniqueKey.schema == extension.id)
                     & (ExtensionUniqueKey.service_id == service_id)
                     & (ExtensionUniqueKey.owner_no == owner_no)
                     & (ExtensionUniqueKey.constraint_no == number)
                     & (ExtensionUniqueKey.digest == _digest(key)))
              .first())
    stored = json.loads(record.value) if record is not None else None
    if stored is None or any(_canonical(stored.get(name)) != _canonical(value)
                             for name, value in selector.items() if name in _unique_names(extension)):
        shown = {name: value for name, value in selector.items() if name in _unique_names(extension)}
        raise NotFound(f"no {extension.name} record with {dump_json(shown)}", error_code="RECORD_NOT_FOUND")
    return record, stored


def update_by_unique(extension, service_id, owner_no, partial):
    """Overwrite the non-unique attributes sent on the record the unique ones pick.

    Unique attribute values never change (the vendor's rule), so the record keeps its key rows.
    """
    record, stored = find_by_unique(extension, service_id, owner_no, partial)
    merged = {**stored, **partial}
    grown = stored_bytes(merged) - len(record.value.encode("utf-8"))
    if grown > 0:
        _refuse_growth_past_limit(extension, service_id, owner_no, grown)
    ExtensionRecord.update(value=dump_json(merged)).where(ExtensionRecord.id == record.id).execute()
    refuse_deleted([extension])
    return merged


def _refuse_growth_past_limit(extension, service_id, owner_no, grown):
    """BadRequest (VALUE_TOO_LARGE) when the owner's value, `grown` bytes larger, would pass max_value_bytes."""
    stored = (ExtensionRecord
              .select(ExtensionRecord.value)
              .where((ExtensionRecord.service_id == service_id)
                     & (ExtensionRecord.owner_no == owner_no)
                     & (ExtensionRecord.name_key == extension.name.lower())
                     & (ExtensionRecord.schema == extension.id))
              .tuples())
    budget = ValueBudget(extension.name, extension.limits)
    try:
        budget.add_bytes(grown)
        for (value,) in stored:
            budget.add_bytes(len(value.encode("utf-8")))
    except LimitExceeded as error:
        raise limit_refusal(extension.name, error) from None


def delete_by_unique(extension, service_id, owner_no, selector):
    """Drop the record the unique attributes pick, and its key rows."""
    record, _ = find_by_unique(extension, service_id, owner_no, selector)
    ExtensionUniqueKey.delete().where(ExtensionUniqueKey.record == record.id).execute()
    ExtensionRecord.delete().where(ExtensionRecord.id == record.id).execute()


def _unique_names(extension):
    return {name for names in extension.unique for name in names}


def _canonical(value):
    return json.dumps(value, sort_keys=True)
