"""Customer profiles, identification keys, and the index rows that make identification a seek.

A profile's core attributes are one JSON object in its row: which attributes exist comes
from the configuration and may change without a migration. Identification goes through
IdentificationValue: one row per value combination (and per leading part of it) that a
profile gives a key, looked up by the digest of those values. For a `unique` key the full
combination's row takes slot 0, so the unique index (key, digest, slot) refuses a second
customer with the same values whatever the concurrency; every other row takes the
profile's ID as its slot and never collides.
"""
import peewee as pw

from models.base import BaseModel, LongTextField
from models.extensions import ExtensionSchema



class Profile(BaseModel):
    id = pw.BigIntegerField(primary_key=True)       # from the ID generator, like a service_id
    customer_id = pw.CharField(max_length=16, unique=True)
    core = LongTextField(default="{}")              # JSON: configured attribute name -> value(s)
    created_ms = pw.BigIntegerField()
    updated_ms = pw.BigIntegerField()


class IdentificationKey(BaseModel):
    name = pw.CharField(max_length=26)
    name_key = pw.CharField(max_length=26, unique=True)   # lower-cased: names ignore case
    # Null for a key on core attributes; RESTRICT: an extension a key uses cannot go.
    extension = pw.ForeignKeyField(ExtensionSchema, column_name="extension_id", null=True,
                                   on_delete="RESTRICT")
    attributes = pw.TextField()                     # JSON list of attribute names, in key order
    unique = pw.BooleanField(default=False)
    created_ms = pw.BigIntegerField()


class IdentificationValue(BaseModel):
    # No index of their own: each foreign key leads one of the two indexes below, which serve
    # its lookups and cascades, and every index more is written by every Create Customer.
    key = pw.ForeignKeyField(IdentificationKey, column_name="key_id", on_delete="CASCADE", index=False)
    digest = pw.CharField(max_length=64)            # sha256 of the canonical JSON of the values
    slot = pw.BigIntegerField()                     # 0: the one holder of a unique key; else profile.id
    profile = pw.ForeignKeyField(Profile, column_name="profile_id", on_delete="CASCADE", index=False)

    class Meta:
        indexes = (
            (("key", "digest", "slot"), True),
            (("profile", "key"), False),
        )
