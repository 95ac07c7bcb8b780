"""Customer profiles: create, read, replace, their extension values, delete (SPEC §10.2).

A profile is a declared owner kind of extension values (app/services/owners.py): its records
are filed under the profile's row ID (from the same ID generator as service IDs, so the two
never meet) at PROFILE_OWNER, an owner number no state or task can have. Every write of a
profile, its extension values and its identification rows is one transaction that starts
by locking the profile's row.
"""
import json
from contextlib import contextmanager

import peewee as pw

from app.errors import BadRequest, Conflict, NotFound
from app.services import extension_values as values
from app.services import owners
from app.services.identification import conflicting_keys, index_profile, reindex_profile
from models import ExtensionRecord, ExtensionUniqueKey, IdentificationValue, Profile, database, now_ms
from models.statements import execute, insert, insert_many, select_rows

PROFILE_OWNER = -2**31


def _profile_by_customer(P):
    return (Profile
            .select()
            .where(Profile.customer_id == P))


def _profile_by_customer_locked(P):
    return _profile_by_customer(P).for_update()


def _profile_by_id(P):
    return (Profile
            .select(Profile.id)
            .where(Profile.id == P))


def _profile_by_id_locked(P):
    return _profile_by_id(P).for_update()


def _lock_profile(profile_id, _number):
    """Lock the profile's row (MySQL; SQLite's transaction holds the write lock); NotFound when gone."""
    locked = not isinstance(database.obj, pw.SqliteDatabase)
    if not execute(_profile_by_id_locked if locked else _profile_by_id, (profile_id,)).fetchone():
        raise NotFound(f"no profile {profile_id}", error_code="PROFILE_NOT_FOUND")


PROFILES = owners.OwnerKind("profiles", filed=lambda profile_id, _number: (profile_id, PROFILE_OWNER),
                            file_of=lambda row: (row.id, PROFILE_OWNER), lock=_lock_profile)


def get_profile(customer_id, *, for_update=False):
    """The profile row (id, customer_id, core JSON, ...); NotFound PROFILE_NOT_FOUND when none.

    for_update locks the row until the transaction ends on MySQL; SQLite's BEGIN IMMEDIATE
    holds the database's write lock already.
    """
    locked = for_update and not isinstance(database.obj, pw.SqliteDatabase)
    rows = select_rows(Profile, _profile_by_customer_locked if locked else _profile_by_customer, (customer_id,))
    if not rows:
        raise NotFound(f"no profile for customer {customer_id!r}", error_code="PROFILE_NOT_FOUND")
    return rows[0]


def create_profile(ids, keys, core, customer_id, stored_core, extensions):
    """Store a profile, its extension values and its identification rows; return its customer_id.

    customer_id None: the decimal of the profile's ID. Raises Conflict PROFILE_EXISTS or
    IDENTIFICATION_CONFLICT, and BadRequest CUSTOMER_ID_REQUIRED in the wide ID layout (whose
    IDs do not fit the 16 characters of a customer_id).
    """
    if customer_id is None and ids.layout.as_string:
        raise BadRequest("customer_id is required: with [ids] layout = wide the server cannot make one "
                         "of at most 16 characters", error_code="CUSTOMER_ID_REQUIRED",
                         fields={"customer_id": ["Missing data for required field."]})
    profile_id = ids.next_id()
    customer_id = customer_id or str(profile_id)
    now = now_ms()
    sources = _sources(stored_core, extensions)
    _, rows = index_profile(profile_id, keys.all(), core, **sources)
    with _write_refusals(keys, core, profile_id, sources, extensions, customer_id=customer_id):
        with database.atomic():
            insert(Profile, {"id": profile_id, "customer_id": customer_id, "core": values.dump_json(stored_core),
                             "created_ms": now, "updated_ms": now})
            values.store_values(*PROFILES.filed(profile_id, None), extensions)
            insert_many(IdentificationValue, rows)
    return customer_id


def replace_profile(keys, core, customer_id, stored_core, extensions):
    """Replace the core wholesale and the records of each extension sent; return the profile row."""
    return _write(keys, core, customer_id, extensions, stored_core=stored_core)


def replace_extensions(keys, core, customer_id, extensions):
    """Replace the records of each extension sent; return the profile row."""
    return _write(keys, core, customer_id, extensions)


def _write(keys, core, customer_id, extensions, *, stored_core=None):
    profile = get_profile(customer_id)
    sources = _sources(stored_core, extensions)
    with _write_refusals(keys, core, profile.id, sources, extensions):
        with database.atomic():
            profile = get_profile(customer_id, for_update=True)
            if stored_core is not None:
                (Profile
                 .update(core=values.dump_json(stored_core), updated_ms=now_ms())
                 .where(Profile.id == profile.id)
                 .execute())
            values.replace_values(*PROFILES.filed(profile.id, None), extensions)
            reindex_profile(profile.id, keys.all(), core, **sources)
    return get_profile(customer_id)


def _sources(stored_core, extensions):
    """What index_profile needs to know of a write: the core (when written) and each extension sent."""
    sources = {"extension_values": {extension.name.lower(): value for extension, value in extensions}}
    if stored_core is not None:
        sources["stored_core"] = stored_core
    return sources


@contextmanager
def _write_refusals(keys, core, profile_id, sources, extensions, *, customer_id=None):
    """Around a profile write: the database's refusals that are the client's conflicts, as 409s."""
    try:
        with values.integrity_refusals(extensions):     # a schema deleted meanwhile: CONCURRENT_CHANGE
            yield
    except pw.IntegrityError:
        if customer_id is not None and Profile.select().where(Profile.customer_id == customer_id).exists():
            raise Conflict(f"a profile for customer {customer_id!r} exists already",
                           error_code="PROFILE_EXISTS") from None
        _, rows = index_profile(profile_id, keys.all(), core, **sources)
        clashes = conflicting_keys(keys.all(), rows, profile_id)
        if clashes:
            raise Conflict(f"another customer holds these values of identification key(s) {', '.join(clashes)}",
                           error_code="IDENTIFICATION_CONFLICT") from None
        raise


def update_record(keys, core, customer_id, extension, selector):
    """Overwrite the record the selector's unique attributes pick (SPEC §3.6); NotFound when none."""
    _edit_record(keys, core, customer_id, extension, lambda owner: owners.update_record(owner, extension, selector))


def delete_record(keys, core, customer_id, extension, selector):
    """Drop the record the selector's unique attributes pick; NotFound when none."""
    _edit_record(keys, core, customer_id, extension, lambda owner: owners.delete_record(owner, extension, selector))


def _edit_record(keys, core, customer_id, extension, edit):
    """edit(owner) and the identification rows of the keys on that extension, in one transaction."""
    owner = owners.Owner(PROFILES, get_profile(customer_id).id)
    try:
        with database.atomic():
            edit(owner)
            stored = values.read_values(*([part] for part in owner.file), [extension]).get(owner.file, {})
            reindex_profile(owner.key, keys.all(), core,
                            extension_values={extension.name.lower(): stored.get(extension.name, [])})
    except pw.IntegrityError:
        unique = [key.name for key in keys.all() if key.unique and key.source_id == extension.id]
        if not unique:
            raise
        raise Conflict(f"another customer holds these values of identification key(s) {', '.join(unique)}",
                       error_code="IDENTIFICATION_CONFLICT") from None


def delete_profile(customer_id):
    """Remove the profile, its extension values and identification rows; its services stay."""
    with database.atomic():
        profile = get_profile(customer_id, for_update=True)
        IdentificationValue.delete().where(IdentificationValue.profile == profile.id).execute()
        ExtensionUniqueKey.delete().where(ExtensionUniqueKey.service_id == profile.id).execute()
        ExtensionRecord.delete().where(ExtensionRecord.service_id == profile.id).execute()
        Profile.delete().where(Profile.id == profile.id).execute()


def present_profiles(rows, core, extensions, *, with_core=True):
    """Profiles as GET answers them: customer_id, each core attribute that holds a value (with_core),
    then each requested extension ({} or [] when the customer has none). rows have id,
    customer_id and core (JSON)."""
    bodies = [{"customer_id": row.customer_id, **(core.from_stored(json.loads(row.core)) if with_core else {})}
              for row in rows]
    owners.attach_values(PROFILES, rows, bodies, extensions)
    for body in bodies:
        for extension in extensions:
            body.setdefault(extension.name, [] if extension.multi_valued else {})
    return bodies
