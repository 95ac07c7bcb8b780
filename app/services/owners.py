"""Owners of extension values: one abstraction for a service, its states and its tasks.

Values are filed in ExtensionRecord rows under (service_id, owner_no): the `service_id`
column holds the owner's key (a service's ID, or its parent service's), and owner_no keeps
owners of one key apart: 0 for the service, +n for its state n, -n for its task n. States
and tasks are numbered independently and one extension name may be registered for both
kinds, so the sign is what keeps state 1's values apart from task 1's.

Declaring a kind: an OwnerKind is declared next to the rows it owns (services.py,
children.py) with the extension-schema kind whose values it holds, `filed`, which gives the
(key, owner_no) of an owner named by (key, number), `file_of`, which gives the same from one
of its rows, and `lock`, which locks the owner for a write and raises NotFound when it does
not exist. Nothing else changes: storing, replacing and reading values, the record-level
writes below and `attach_values` work for every kind. A customer profile, for instance,
would be declared as OwnerKind("profiles", filed=lambda key, _: (key, PROFILE_OWNER),
file_of=lambda row: (row.id, PROFILE_OWNER), lock=lock_profile) with its integer row ID as
the key and a PROFILE_OWNER of -2**31, an owner_no no state or task can have.
"""
from dataclasses import dataclass
from typing import Callable

from app.services import extension_values as values
from models import database


@dataclass(frozen=True)
class OwnerKind:
    """How the owners of one kind of extension values are filed, found and locked."""
    name: str                       # the kind extension schemas are registered for
    filed: Callable                 # (key, number) -> (service_id, owner_no)
    file_of: Callable               # row -> (service_id, owner_no)
    lock: Callable                  # (key, number) -> None; NotFound when the owner is absent


@dataclass(frozen=True)
class Owner:
    """One owner of extension values: a kind, its key and, below the key, its number."""
    kind: OwnerKind
    key: int
    number: int = None

    @property
    def file(self):
        return self.kind.filed(self.key, self.number)


def attach_values(kind, rows, bodies, extensions):
    """Add to each row's body its owner's values of the extensions asked for, in their order.

    Absent values are left out; one query reads the values of every row.
    """
    if not rows or not extensions:
        return bodies
    files = [kind.file_of(row) for row in rows]
    found = values.read_values({key for key, _ in files}, {owner_no for _, owner_no in files}, extensions)
    for file, body in zip(files, bodies):
        own_values = found.get(file, {})
        for extension in extensions:
            if extension.name in own_values:
                body[extension.name] = own_values[extension.name]
    return bodies


def replace_value(owner, extension, loaded):
    """Replace the owner's whole value of one extension; return what is now stored.

    Raises NotFound for an absent owner, Conflict for a unique key another record holds.
    """
    with values.integrity_refusals([(extension, loaded)], unique_conflict=bool(extension.unique)):
        with database.atomic():
            owner.kind.lock(owner.key, owner.number)
            values.replace_values(*owner.file, [(extension, loaded)])
    return loaded


def update_record(owner, extension, selector):
    """Overwrite the non-unique attributes of the record the selector picks; NotFound when none."""
    with database.atomic():
        owner.kind.lock(owner.key, owner.number)
        values.update_by_unique(extension, *owner.file, selector)


def delete_record(owner, extension, selector):
    """Drop the record the selector picks; NotFound when none."""
    with database.atomic():
        owner.kind.lock(owner.key, owner.number)
        values.delete_by_unique(extension, *owner.file, selector)
