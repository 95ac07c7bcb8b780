"""Registered extension schemas: create, list, read, delete, and the per-worker cache of them.

Every change writes a new random generation token in the same transaction; each worker
compares the token at most every `refresh_seconds` and reloads the definitions when it
moved, so a schema registered or deleted through any worker is honoured by all of them
within that time. Value schemas are built once per definition and reused by requests;
a worker keeps only those of the definitions that are live, so registering and deleting
schemas in a loop costs no memory.

Limits (SPEC §12, `[extensions]` options): how many schemas of a kind, and how large a
definition and a value may be; a value over a limit is refused before anything is stored.
"""
import gc
import hashlib
import json
import time
import uuid
from dataclasses import dataclass

import marshmallow as ma
import peewee as pw

from app.errors import BadRequest, Conflict, NotFound, ValidationFailed
from models import ExtensionSchema, ServerSetting, database, now_ms
from models.extensions import TOMBSTONE_PREFIX
from schemas.events import CORE_FIELDS
from schemas.extension_definitions import ExtensionDefinitionSchema, present_definition
from schemas.values import (ExtensionLimits, LimitExceeded, ValueBudget, build_record_schema,
                            refuse_too_many_records)

GENERATION_KEY = "extensions_generation"
# An error message names this many offending keys at most; `fields` holds the rest.
_NAMES_IN_MESSAGE = 5
KINDS = ("services", "states", "tasks", "profiles")


@dataclass(frozen=True)
class Extension:
    """A registered extension and the schema its values load through."""
    id: int
    kind: str
    name: str
    multi_valued: bool
    definition: dict
    record_schema: ma.Schema
    limits: ExtensionLimits = ExtensionLimits()
    created_ms: int = 0     # with id, names this registration: SQLite may give a freed ID again

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
    limits: ExtensionLimits = ExtensionLimits()
    id = None
    multi_valued = False
    unique = ()


class ExtensionRegistry:
    def __init__(self, *, mode="strict", refresh_seconds=0.5, base_path="", limits=ExtensionLimits(),
                 clock=time.monotonic, reserved_names=None):
        """reserved_names: {kind: names} an extension of that kind may not take, beside CORE_FIELDS."""
        self.free = mode == "free"
        self.reserved = {kind: frozenset(CORE_FIELDS.get(kind, ())) | frozenset(
            name.lower() for name in (reserved_names or {}).get(kind, ())) for kind in KINDS}
        self.refresh_seconds = refresh_seconds
        self.base_path = base_path
        self.limits = limits
        self._definition_schema = ExtensionDefinitionSchema(limits=limits)
        self._clock = clock
        self._generation = None
        self._checked_at = float("-inf")
        self._by_kind = {}          # kind -> {name_key: Extension}
        self._built = {}            # (id, definition digest) -> (definition, record schema), live ones only

    @property
    def built_count(self):
        """How many value schemas this worker holds built (the live definitions, once loaded)."""
        return len(self._built)

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
                        loaded.append((FreeExtension(key, kind, self.limits), self._load_free(key, value)))
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
            except LimitExceeded as error:
                raise limit_refusal(key, error) from None
        if errors:
            if len(unknown) == len(errors):
                raise ValidationFailed(f"unknown {kind} extension(s): {_some(unknown)}; register with "
                                       f"POST {self.base_path}/metadata/{kind}/extensions",
                                       error_code="UNKNOWN_EXTENSION", fields=errors)
            raise ValidationFailed("invalid extension value(s): " + _some(errors), fields=errors)
        return loaded

    def value_extension(self, kind, name):
        """The extension a PUT .../extensions/<name> writes: registered, or schema-less in free mode."""
        extension = self.get(kind, name)
        if extension is None and self.free and _is_name(name):
            return FreeExtension(name, kind, self.limits)
        if extension is None:
            raise NotFound(f"no {kind} extension named {name!r}", error_code="EXTENSION_NOT_FOUND")
        return extension

    def load_value(self, extension, value):
        """A whole value (object, or array for multi-valued) loaded for storing; ValidationFailed if invalid."""
        if isinstance(extension, FreeExtension):
            return self._load_free(extension.name, value)
        try:
            return self._load_one(extension, value)
        except ma.ValidationError as error:
            raise ValidationFailed(f"invalid value of extension {extension.name}",
                                   fields={extension.name: error.messages}) from None
        except LimitExceeded as error:
            raise limit_refusal(extension.name, error) from None

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

    def _load_free(self, name, value):
        try:
            ValueBudget(name, self.limits).add(value)
        except LimitExceeded as error:
            raise limit_refusal(name, error) from None
        return value

    def _load_one(self, extension, value):
        """The loaded value; ma.ValidationError when invalid, LimitExceeded when over a limit.

        Records are counted before any is loaded and measured as each is, so a value made
        large by its defaults stops at the first record past the limit.
        """
        budget = ValueBudget(extension.name, self.limits)
        if not extension.multi_valued:
            if not isinstance(value, dict):
                raise ma.ValidationError(["A single-valued extension takes an object."])
            record = extension.record_schema.load(value)
            budget.add(record)
            return record
        if not isinstance(value, list):
            raise ma.ValidationError(["A multi-valued extension takes an array of objects."])
        refuse_too_many_records(extension.name, len(value), self.limits)
        records, errors = [], {}
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                errors[index] = ["Each record is an object."]
                continue
            try:
                records.append(extension.record_schema.load(item))
            except ma.ValidationError as error:
                errors[index] = error.messages
                continue
            budget.add(records[-1])
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
            definition = self._definition_schema.load(body)
        except ma.ValidationError as error:
            raise ValidationFailed("invalid extension schema", fields=error.messages) from None
        name = definition.pop("name")
        if definition.get("classifier") and kind != "profiles":
            raise ValidationFailed("classifier extensions are for profiles only",
                                   fields={"type": ["Must be single-valued or multi-valued."]})
        if name.lower() in self.reserved[kind]:
            raise BadRequest(f"{name!r} is a core field of {kind}; choose another extension name",
                             error_code="RESERVED_NAME", fields={"name": ["Reserved: a core field name."]})
        try:
            with database.atomic():
                # First: the generation row's lock makes registrations take turns, so the
                # count below sees every schema registered before this one.
                self._bump_generation()
                self._refuse_too_many_schemas(kind)
                row = ExtensionSchema.create(kind=kind, name=name, name_key=name.lower(),
                                             multi_valued=definition["multi_valued"],
                                             definition=json.dumps(definition), created_ms=now_ms())
        except pw.IntegrityError:
            raise Conflict(f"a {kind} extension named {name!r} exists already (names ignore case)",
                           error_code="EXTENSION_EXISTS") from None
        self._checked_at = float("-inf")
        return self._extension_from_row(row)

    def delete(self, kind, name):
        """Make the schema and its values unreachable at once, whatever their number.

        The row is marked deleted and its name freed (a new schema may take it at once);
        the maintenance run removes the values in batches, then the row. Writes that carry
        the schema check it is live in their own transaction (extension_values.refuse_deleted).
        Raises NotFound for an unknown name.
        """
        with database.atomic():
            # First, as in register: changes of schemas take turns on the generation row, so
            # a delete and a registration of the same name never wait for each other's rows.
            self._bump_generation()
            row = (ExtensionSchema
                   .select()
                   .where((ExtensionSchema.kind == kind) & (ExtensionSchema.name_key == name.lower())
                          & ExtensionSchema.live())
                   .first())
            if row is None:
                raise NotFound(f"no {kind} extension named {name!r}", error_code="EXTENSION_NOT_FOUND")
            (ExtensionSchema
             .update(deleted_ms=now_ms(), name_key=f"{TOMBSTONE_PREFIX}{row.id}")
             .where(ExtensionSchema.id == row.id)
             .execute())
        # Now, not at the next reload: a worker that only registers and deletes never reloads.
        self._forget_built(lambda key: key[0] != row.id)
        self._checked_at = float("-inf")

    def _refuse_too_many_schemas(self, kind):
        count = ExtensionSchema.select().where((ExtensionSchema.kind == kind) & ExtensionSchema.live()).count()
        if count >= self.limits.max_schemas:
            limit = self.limits.max_schemas
            raise BadRequest(f"{kind} have {count} extension schemas already; the limit is [extensions] "
                             f"max_schemas = {limit}", error_code="TOO_MANY_SCHEMAS")

    # --- the cache ---------------------------------------------------------------------

    def generation(self):
        """The token of the schemas this worker holds now (refreshed when due): what other
        caches of metadata (identification keys) compare to know when to reload."""
        self._refresh_if_due()
        return self._generation

    def metadata_changed(self):
        """Inside the transaction of a change to metadata that workers cache: every worker
        reloads within refresh_seconds, this one at its next read."""
        self._bump_generation()
        self._checked_at = float("-inf")

    def forget_cached(self):
        """After a rolled-back transaction that changed metadata: the next read reloads from the
        database, as this worker may hold what the rollback undid."""
        self._generation = None
        self._checked_at = float("-inf")

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
        """Take the live definitions; forget the schemas built for any other."""
        by_kind, live = {}, set()
        for row in ExtensionSchema.select().where(ExtensionSchema.live()).order_by(ExtensionSchema.id):
            by_kind.setdefault(row.kind, {})[row.name_key] = self._extension_from_row(row)
            live.add(_built_key(row))
        self._by_kind = by_kind
        self._forget_built(lambda key: key in live)

    def _forget_built(self, keep):
        """Drop the built schemas whose key `keep` refuses, and free their memory now.

        A schema class refers to itself (its __mro__), so only the cycle collector frees it,
        and a worker might not run a full collection for a long time; a schema may hold
        megabytes of defaults.
        """
        kept = {key: built for key, built in self._built.items() if keep(key)}
        if len(kept) < len(self._built):
            self._built = kept
            gc.collect()

    def _extension_from_row(self, row):
        key = _built_key(row)
        if key not in self._built:
            definition = json.loads(row.definition)
            self._built[key] = (definition, build_record_schema(row.name, definition))
        definition, record_schema = self._built[key]
        return Extension(row.id, row.kind, row.name, row.multi_valued, definition, record_schema, self.limits,
                         row.created_ms)


def _built_key(row):
    # The ID alone is not enough: SQLite may give a deleted schema's ID to the next one.
    # A digest, because the definition text may be a megabyte.
    return row.id, hashlib.sha256(row.definition.encode("utf-8")).digest()


def limit_refusal(name, error):
    """The 400 for a value of extension `name` over a limit (schemas.values.LimitExceeded)."""
    return BadRequest(error.message, error_code=error.error_code, fields={name: [error.message]})


def _some(names):
    """'a, b, c' for a message; past a handful, how many more (the fields map names them)."""
    names = list(names)
    shown = ", ".join(str(name) for name in names[:_NAMES_IN_MESSAGE])
    more = len(names) - _NAMES_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")


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
