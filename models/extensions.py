"""Registered extension schemas and the values stored under them.

A value belongs to an owner, filed under (service_id, owner_no): a service at owner_no 0,
its state n at +n, its task n at -n (app/services/owners.py declares these kinds). Each
unique constraint of a multi-valued extension gives every record one ExtensionUniqueKey
row, and the unique index on those rows is what stops two writers from storing the same
key twice.
"""
import peewee as pw

from models.base import BaseModel, LongTextField

class ExtensionSchema(BaseModel):
    kind = pw.CharField(max_length=8)
    name = pw.CharField(max_length=26)
    name_key = pw.CharField(max_length=26)      # lower-cased name: lookups ignore case
    multi_valued = pw.BooleanField()
    definition = LongTextField()                # JSON: {"attributes": [...], "unique": [[...], ...]}
    created_ms = pw.BigIntegerField()
    # Set by a delete, which also renames name_key to TOMBSTONE_PREFIX + id so the name is
    # free at once; the row stays until the maintenance run has removed its values, so no
    # new schema can take its ID (SQLite reuses the highest freed rowid) while they exist.
    deleted_ms = pw.BigIntegerField(null=True)

    class Meta:
        indexes = ((("kind", "name_key"), True),)

    @classmethod
    def live(cls):
        """The condition of a schema not deleted."""
        return cls.deleted_ms.is_null()


# A name never starts with it, so a tombstone's name_key never meets a live one.
TOMBSTONE_PREFIX = "#"


class ExtensionRecord(BaseModel):
    # Null for schema-less values accepted in `[extensions] mode = free`.
    schema = pw.ForeignKeyField(ExtensionSchema, column_name="schema_id", null=True, on_delete="CASCADE")
    name = pw.CharField(max_length=26)          # spelling to return for schema-less values
    name_key = pw.CharField(max_length=26)      # lower-cased name, as ExtensionSchema.name_key
    service_id = pw.BigIntegerField()
    owner_no = pw.IntegerField(default=0)
    position = pw.IntegerField(default=0)
    value = LongTextField()                     # JSON of one record (any JSON when schema-less)

    class Meta:
        indexes = ((("service_id", "owner_no", "name_key", "position"), False),)


class ExtensionUniqueKey(BaseModel):
    record = pw.ForeignKeyField(ExtensionRecord, column_name="record_id", on_delete="CASCADE")
    schema = pw.ForeignKeyField(ExtensionSchema, column_name="schema_id", on_delete="CASCADE")
    service_id = pw.BigIntegerField()
    owner_no = pw.IntegerField()
    constraint_no = pw.IntegerField()
    digest = pw.CharField(max_length=64)        # sha256 of the canonical JSON of the key's values

    class Meta:
        indexes = ((("schema", "service_id", "owner_no", "constraint_no", "digest"), True),)
