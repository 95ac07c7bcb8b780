"""Registered extension schemas: create, list, read, delete, and the per-worker cache of them.

Every change writes a new random generation token in the same transaction; each worker
compares the token at most every `refresh_seconds` and reloads the definitions when it
moved, so a schema registered or deleted through any worker is honoured by all of them
within that time. Value schemas are built once per definition and reused by requests.
"""
import json
import time
import uuid
from dataclasses import dataclass

import marshmallow as ma
import peewee as pw

from app.errors import BadRequest, Conflict, NotFound, ValidationFailed
from models import ExtensionRecord, ExtensionSchema, ExtensionUniqueKey, ServerSetting, database, now_ms
from schemas.events import CORE_FIELDS
from schemas.extension_definitions import ExtensionDefinitionSchema, present_definition
from schemas.values import build_record_schema

GENERATION_KEY = "extensions_generation"
_definition_schema = ExtensionDefinitionSchema()


@dataclass(frozen=True)
class Extension:
    """A registered extension and the schema its values load through."""
    id: int
    kind: str
    name: str
    multi_valued: bool
    definition: dict
    record_schema: ma.Schema

    @property
    def unique(self):
        return self.definition["unique"]

    def present(self):
        return present_definition(self.name, self.definition)


@dataclass(frozen=True)
class FreeExtension:
    """A schema-less value name accepted in free mode."""
    name: str
    kind: str
    id = None
    multi_valued = False
    unique = ()


class ExtensionRegistry:
    def __init__(self, *, mode="strict", refresh_seconds=0.5, base_path="", clock=time.monotonic):
        self.free = mode == "free"
        self.refresh_seconds = refresh_seconds
        self.base_path = base_path
        self._clock = clock
        self._generation = None
        self._checked_at = float("-inf")
        self._by_kind = {}          # kind -> {name_key: Extension}
        self._built = {}            # (id, definition text) -> record schema, across reloads

    # --- reads -------------------------------------------------------------------------

    def extensions(self, kind):
        self._refresh_if_due()
        return self._by_kind.get(kind, {})

    def get(self, kind, name):
        return self.extensions(kind).get(name.lower())

    def require(self, kind, name):
        extension = self.get(kind, name)
        if extension is None:
            raise NotFound(f"no {kind} extension named {name!r}", error_code="EXTENSION_NOT_FOUND")
        return extension

    def resolve_names(self, kind, names):
        """Extensions for an `extensions=a,b` read; unknown names give 400."""
        resolved, unknown = [], []
        for name in names:
            extension = self.get(kind, name)
            if extension is not None:
                resolved.append(extension)
            elif self.free and _is_name(name):
                resolved.append(FreeExtension(name, kind))
            else:
                unknown.append(name)
        if unknown:
            raise BadRequest(f"unknown {kind} extension(s): {', '.join(unknown)}",
                             error_code="UNKNOWN_EXTENSION", fields={"extensions": [f"Unknown: {n}" for n in unknown]})
        return resolved

    def load_values(self, kind, raw_values):
        """Validate the extension keys of an event: [(extension, loaded value)] or ValidationFailed.

        A single-valued extension takes an object, a multi-valued one an array of objects
        whose unique attribute values differ.
        """
        loaded, errors, unknown = [], {}, []
        seen = {}
        for key, value in raw_values.items():
            if key.lower() in seen:
                errors[key] = [f"Same extension as {seen[key.lower()]!r}: names ignore case."]
                continue
            seen[key.lower()] = key
            extension = self.get(kind, key)
            if extension is None:
                if self.free:
                    if _is_name(key):
                        loaded.append((FreeExtension(key, kind), value))
                    else:
                        errors[key] = ["Extension names start with a letter, then letters, digits or _, "
                                       "at most 26 characters."]
                    continue
                errors[key] = [f"Unknown extension: register it first with POST "
                               f"{self.base_path}/metadata/{kind}/extensions."]
                unknown.append(key)
                continue
            try:
                loaded.append((extension, self._load_one(extension, value)))
            except ma.ValidationError as error:
                errors[key] = error.messages
        if errors:
            if len(unknown) == len(errors):
                raise ValidationFailed(f"unknown {kind} extension(s): {', '.join(unknown)}; register with "
                                       f"POST {self.base_path}/metadata/{kind}/extensions",
                                       error_code="UNKNOWN_EXTENSION", fields=errors)
            raise ValidationFailed("invalid extension value(s): " + ", ".join(errors), fields=errors)
        return loaded

    def value_extension(self, kind, name):
        """The extension a PUT .../extensions/<name> writes: registered, or schema-less in free mode."""
        extension = self.get(kind, name)
        if extension is None and self.free and _is_name(name):
            return FreeExtension(name, kind)
        if extension is None:
            raise NotFound(f"no {kind} extension named {name!r}", error_code="EXTENSION_NOT_FOUND")
        return extension

    def load_value(self, extension, value):
        """A whole value (object, or array for multi-valued) loaded for storing; ValidationFailed if invalid."""
        if isinstance(extension, FreeExtension):
            return value
        try:
            return self._load_one(extension, value)
        except ma.ValidationError as error:
            raise ValidationFailed(f"invalid value of extension {extension.name}",
                                   fields={extension.name: error.messages}) from None

    def load_selector(self, extension, body, *, unique_only):
        """One record's attributes for the by-unique forms, checked but without defaults filled.

        The body must fill a unique constraint; with unique_only (delete) it may hold nothing else.
        """
        if not extension.multi_valued or not extension.unique:
            raise BadRequest(f"extension {extension.name} is not multi-valued with unique attributes; "
                             "the by-unique forms do not apply", error_code="NO_UNIQUE_ATTRIBUTES")
        try:
            selector = extension.record_schema.load(body, partial=True)
        except ma.ValidationError as error:
            raise ValidationFailed(f"invalid record of extension {extension.name}", fields=error.messages) from None
        unique_names = {name for names in extension.unique for name in names}
        if unique_only:
            others = sorted(set(selector) - unique_names)
            if others:
                raise ValidationFailed("only unique attributes pick the record to delete",
                                       fields={name: ["Not a unique attribute."] for name in others})
        if not unique_keys(extension, selector):
            wanted = " or ".join("+".join(names) for names in extension.unique)
            raise BadRequest(f"the body must hold the unique attributes {wanted}",
                             error_code="MISSING_UNIQUE_ATTRIBUTES",
                             fields={"_schema": [f"Send {wanted}."]})
        return selector

    def _load_one(self, extension, value):
        if not extension.multi_valued:
            if not isinstance(value, dict):
                raise ma.ValidationError(["A single-valued extension takes an object."])
            return extension.record_schema.load(value)
        if not isinstance(value, list):
            raise ma.ValidationError(["A multi-valued extension takes an array of objects."])
        records, errors = [], {}
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                errors[index] = ["Each record is an object."]
                continue
            try:
                records.append(extension.record_schema.load(item))
            except ma.ValidationError as error:
                errors[index] = error.messages
        if errors:
            raise ma.ValidationError(errors)
        duplicate = first_duplicate_key(extension, records)
        if duplicate:
            raise ma.ValidationError([f"Two records share unique values {duplicate}."])
        return records

    # --- changes -----------------------------------------------------------------------

    def register(self, kind, body):
        """Store a new definition; 400 for an invalid one, 409 when the name is taken."""
        try:
            definition = _definition_schema.load(body)
        except ma.ValidationError as error:
            raise ValidationFailed("invalid extension schema", fields=error.messages) from None
        name = definition.pop("name")
        if name.lower() in CORE_FIELDS[kind]:
            raise BadRequest(f"{name!r} is a core field of {kind}; choose another extension name",
                             error_code="RESERVED_NAME", fields={"name": ["Reserved: a core field name."]})
        try:
            with database.atomic():
                row = ExtensionSchema.create(kind=kind, name=name, name_key=name.lower(),
                                             multi_valued=definition["multi_valued"],
                                             definition=json.dumps(definition), created_ms=now_ms())
                self._bump_generation()
        except pw.IntegrityError:
            raise Conflict(f"a {kind} extension named {name!r} exists already (names ignore case)",
                           error_code="EXTENSION_EXISTS") from None
        self._checked_at = float("-inf")
        return self._extension_from_row(row)

    def delete(self, kind, name):
        """Drop the schema and every value stored under it, in one transaction."""
        with database.atomic():
            row = (ExtensionSchema
                   .select()
                   .where((ExtensionSchema.kind == kind) & (ExtensionSchema.name_key == name.lower()))
                   .first())
            if row is None:
                raise NotFound(f"no {kind} extension named {name!r}", error_code="EXTENSION_NOT_FOUND")
            ExtensionUniqueKey.delete().where(ExtensionUniqueKey.schema == row.id).execute()
            ExtensionRecord.delete().where(ExtensionRecord.schema == row.id).execute()
            row.delete_instance()
            self._bump_generation()
        self._checked_at = float("-inf")

    # --- the cache ---------------------------------------------------------------------

    def _bump_generation(self):
        ServerSetting.put(GENERATION_KEY, uuid.uuid4().hex)

    def _refresh_if_due(self):
        now = self._clock()
        if now - self._checked_at < self.refresh_seconds:
            return
        generation = ServerSetting.get_value(GENERATION_KEY, "")
        if generation != self._generation:
            self._reload()
            self._generation = generation
        self._checked_at = now

    def _reload(self):
        """Read every schema again; the built value schemas of those still registered are
        reused, those of deleted ones dropped (so the cache never outgrows the table)."""
        by_kind, built = {}, {}
        for row in ExtensionSchema.select().order_by(ExtensionSchema.id):
            by_kind.setdefault(row.kind, {})[row.name_key] = self._extension_from_row(row, built)
        self._by_kind, self._built = by_kind, built

    def _extension_from_row(self, row, built=None):
        """The Extension of a row, its value schema built once; noted in built (a reload's new cache)."""
        key = (row.id, row.definition)
        if key not in self._built:
            definition = json.loads(row.definition)
            self._built[key] = (definition, build_record_schema(row.name, definition))
        if built is not None:
            built[key] = self._built[key]
        definition, record_schema = self._built[key]
        return Extension(row.id, row.kind, row.name, row.multi_valued, definition, record_schema)

    def built_schema_count(self):
        """How many built value schemas the registry keeps: one per registered schema at most."""
        return len(self._built)


def unique_keys(extension, record):
    """(constraint number, canonical JSON of the key's values) for each constraint the record fills."""
    keys = []
    for number, names in enumerate(extension.unique):
        if all(name in record for name in names):
            keys.append((number, json.dumps([record[name] for name in names], sort_keys=True)))
    return keys


def first_duplicate_key(extension, records):
    seen = set()
    for record in records:
        for number, key in unique_keys(extension, record):
            if (number, key) in seen:
                return dict(zip(extension.unique[number], json.loads(key)))
            seen.add((number, key))
    return None


def _is_name(name):
    return len(name) <= 26 and name[:1].isascii() and name[:1].isalpha() and all(
        c.isascii() and (c.isalnum() or c == "_") for c in name)
