"""Storing and reading extension values of services, states and tasks.

Every function runs inside the caller's transaction. A record of an extension with unique
constraints gets one ExtensionUniqueKey row per constraint it fills; the unique index on
those rows refuses a second record with the same key on the same owner, whatever the
concurrency.
"""
import hashlib
import json
from collections import defaultdict

from app.services.extension_registry import unique_keys
from models import ExtensionRecord, ExtensionUniqueKey

SERVICE_OWNER = 0


def dump_json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _digest(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def store_values(service_id, owner_no, loaded):
    """Insert every (extension, value) pair for one owner."""
    for extension, value in loaded:
        records = value if extension.multi_valued else [value]
        insert_records(extension, service_id, owner_no, records, first_position=0)


def insert_records(extension, service_id, owner_no, records, *, first_position):
    rows = [{
        "schema": extension.id, "name": extension.name, "name_key": extension.name.lower(),
        "service_id": service_id, "owner_no": owner_no, "position": first_position + index,
        "value": dump_json(record),
    } for index, record in enumerate(records)]
    if not rows:
        return
    if not extension.unique:
        ExtensionRecord.insert_many(rows).execute()
        return
    for row, record in zip(rows, records):
        record_id = ExtensionRecord.insert(**row).execute()
        keys = unique_keys(extension, record)
        if keys:
            ExtensionUniqueKey.insert_many([{
                "record": record_id, "schema": extension.id, "service_id": service_id,
                "owner_no": owner_no, "constraint_no": number, "digest": _digest(key),
            } for number, key in keys]).execute()


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


def read_values(service_ids, owner_nos, extensions):
    """{(service_id, owner_no): {extension name: value}} for the requested extensions.

    Absent values are left out. owner_nos=None reads every owner of those services.
    """
    if not extensions or not service_ids:
        return {}
    by_key = {extension.name.lower(): extension for extension in extensions}
    where = ((ExtensionRecord.service_id.in_(list(service_ids)))
             & (ExtensionRecord.name_key.in_(list(by_key))))
    if owner_nos is not None:
        where &= ExtensionRecord.owner_no.in_(list(owner_nos))
    rows = (ExtensionRecord
            .select(ExtensionRecord.service_id, ExtensionRecord.owner_no, ExtensionRecord.name_key,
                    ExtensionRecord.value)
            .where(where)
            .order_by(ExtensionRecord.service_id, ExtensionRecord.owner_no, ExtensionRecord.name_key,
                      ExtensionRecord.position)
            .tuples())
    values = defaultdict(dict)
    for service_id, owner_no, name_key, value in rows:
        extension = by_key[name_key]
        owner = values[(service_id, owner_no)]
        if extension.multi_valued:
            owner.setdefault(extension.name, []).append(json.loads(value))
        else:
            owner[extension.name] = json.loads(value)
    return values
