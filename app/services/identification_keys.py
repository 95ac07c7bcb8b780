"""Identification keys: create, list, read, delete, and the per-worker cache of them (SPEC §10.4).

Keys ride on the extension registry's generation token: a key change bumps it in the same
transaction, and a worker reloads its keys whenever the token it holds moved, so keys
reach every worker as quickly as extension schemas do.
"""
import dataclasses
import json

import marshmallow as ma
import peewee as pw

from app.errors import Conflict, NotFound, ValidationFailed
from app.services.identification import CORE_SOURCE, Key, index_profile
from models import ExtensionRecord, IdentificationKey, IdentificationValue, Profile, database, now_ms
from models.statements import insert_many
from schemas.profiles import IdentificationKeyDefinitionSchema

_definition_schema = IdentificationKeyDefinitionSchema()
# Profiles indexed per statement batch when a new key is built over existing profiles.
BACKFILL_BATCH = 1000


class IdentificationKeys:
    """The keys of this deployment, in creation order, as this worker last loaded them."""

    def __init__(self, registry, core):
        self.registry = registry
        self.core = core
        self._generation = object()
        self._keys = ()

    def all(self):
        generation = self.registry.generation()
        if generation != self._generation:
            self._keys = tuple(self._key_from_row(row) for row in
                               IdentificationKey.select().order_by(IdentificationKey.id))
            self._generation = generation
        return self._keys

    def get(self, name):
        """The key of that name (any case), or None."""
        return next((key for key in self.all() if key.name.lower() == name.lower()), None)

    def require(self, name):
        key = self.get(name)
        if key is not None:
            return key
        raise NotFound(f"no identification key named {name!r}", error_code="IDENTIFICATION_KEY_NOT_FOUND")

    def using(self, extension):
        """Names of the keys built on that profile extension."""
        return [key.name for key in self.all() if key.source_id == extension.id]

    def _key_from_row(self, row):
        extension = None
        if row.extension_id is not None:
            extension = next((candidate for candidate in self.registry.extensions("profiles").values()
                              if candidate.id == row.extension_id), None)
        return Key(row.id, row.name, extension, tuple(json.loads(row.attributes)), row.unique)

    # --- changes -------------------------------------------------------------------------

    def resolve(self, body):
        """The key a POST body defines, its id None, attributes spelled as its source spells them.

        Raises ValidationFailed for an invalid definition or one naming a source or attributes
        that do not exist; writes nothing.
        """
        try:
            definition = _definition_schema.load(body)
        except ma.ValidationError as error:
            raise ValidationFailed("invalid identification key", fields=error.messages) from None
        extension, attributes = self._source_and_attributes(definition, explicit_source="source" in body)
        return Key(None, definition["name"], extension, tuple(attributes), definition["unique"])

    def register(self, body):
        """Store a new key and index every existing profile under it.

        Raises ValidationFailed for an invalid definition, Conflict IDENTIFICATION_KEY_EXISTS for a
        name taken, and Conflict IDENTIFICATION_CONFLICT when a unique key finds two customers
        holding the same values already.
        """
        wanted = self.resolve(body)
        try:
            with database.atomic():
                row = IdentificationKey.create(
                    name=wanted.name, name_key=wanted.name.lower(), extension=wanted.source_id,
                    attributes=json.dumps(wanted.attributes), unique=wanted.unique, created_ms=now_ms())
                key = dataclasses.replace(wanted, id=row.id)
                _backfill(key, self.core)
                self.registry.metadata_changed()
        except pw.IntegrityError:
            if IdentificationKey.select().where(IdentificationKey.name_key == wanted.name.lower()).exists():
                raise Conflict(f"an identification key named {wanted.name!r} exists already "
                               "(names ignore case)", error_code="IDENTIFICATION_KEY_EXISTS") from None
            raise Conflict(f"two customers hold the same values of {', '.join(wanted.attributes)}: a unique key "
                           "cannot be built over them", error_code="IDENTIFICATION_CONFLICT") from None
        return key

    def _source_and_attributes(self, definition, *, explicit_source):
        """(extension or None, attribute names as the source spells them); 400 for names not in the
        source, for a key that mixes core and extension attributes, or for an unknown source."""
        names = definition["attributes"]
        qualified = [name.partition(".") for name in names]
        sources = {prefix.lower() for prefix, dot, _ in qualified if dot}
        source = definition["source"]
        if not explicit_source and len(sources) == 1 and all(dot for _, dot, _ in qualified):
            source = next(iter(sources))       # every attribute is <extension>.<attribute>
        if sources - {source.lower()} or (sources and not all(dot for _, dot, _ in qualified)):
            raise ValidationFailed("a key cannot mix core attributes and extension attributes, nor two extensions",
                                   fields={"attributes": ["Attributes of one source only."]})
        bare = [attribute for _, _, attribute in qualified] if sources else names
        if source.lower() == CORE_SOURCE:
            known = {attribute.name.lower(): attribute.name for attribute in self.core.attributes}
            extension = None
        else:
            extension = self.registry.get("profiles", source)
            if extension is None:
                raise ValidationFailed(f"no profile extension named {source!r}", error_code="UNKNOWN_EXTENSION",
                                       fields={"source": ["`profile`, or a registered profile extension."]})
            known = {attribute["name"].lower(): attribute["name"]
                     for attribute in extension.definition["attributes"]}
        unknown = [name for name in bare if name.lower() not in known]
        if unknown:
            where = "core profile attributes" if extension is None else f"attributes of {extension.name}"
            raise ValidationFailed(f"not {where}: {', '.join(unknown)}", error_code="UNKNOWN_ATTRIBUTE",
                                   fields={"attributes": [f"Unknown: {name}" for name in unknown]})
        return extension, [known[name.lower()] for name in bare]

    def delete(self, name):
        """Drop the key and its index rows; NotFound when there is none."""
        with database.atomic():
            row = IdentificationKey.select().where(IdentificationKey.name_key == name.lower()).first()
            if row is None:
                raise NotFound(f"no identification key named {name!r}", error_code="IDENTIFICATION_KEY_NOT_FOUND")
            IdentificationValue.delete().where(IdentificationValue.key == row.id).execute()
            row.delete_instance()
            self.registry.metadata_changed()

    def delete_extension(self, name):
        """Delete a profile extension schema and its values (SPEC §6), unless a key is built on it.

        Raises NotFound EXTENSION_NOT_FOUND, and Conflict EXTENSION_IN_USE naming the keys; the
        keys' foreign key to the schema refuses a key created meanwhile by another request.
        """
        extension = self.registry.require("profiles", name)
        self.refuse_if_used(extension)
        try:
            self.registry.delete("profiles", name)
        except pw.IntegrityError:
            self._generation = object()     # a key we have not seen yet holds it
            self.refuse_if_used(extension)
            raise

    def refuse_if_used(self, extension):
        """Conflict EXTENSION_IN_USE when a key is built on that profile extension."""
        used_by = self.using(extension)
        if used_by:
            raise Conflict(f"identification key(s) {', '.join(used_by)} use extension {extension.name}; "
                           "delete them first", error_code="EXTENSION_IN_USE")


def _backfill(key, core):
    """Index every existing profile under a new key, a batch of profiles per statement round."""
    last_id = 0
    while True:
        batch = _next_batch(key, last_id)
        if not batch:
            return
        rows = []
        for profile_id, source in batch:
            sources = ({"stored_core": core.from_stored(source)} if key.extension is None
                       else {"extension_values": {key.extension.name.lower(): source}})
            rows.extend(index_profile(profile_id, [key], core, **sources)[1])
        insert_many(IdentificationValue, rows)
        last_id = batch[-1][0]


def _next_batch(key, after_id):
    """[(profile id, core dict or extension value)] of the next profiles after after_id."""
    if key.extension is None:
        rows = (Profile
                .select(Profile.id, Profile.core)
                .where(Profile.id > after_id)
                .order_by(Profile.id)
                .limit(BACKFILL_BATCH)
                .tuples())
        return [(profile_id, json.loads(core)) for profile_id, core in rows]
    owners = [owner for (owner,) in (ExtensionRecord
                                     .select(ExtensionRecord.service_id)
                                     .where((ExtensionRecord.schema == key.extension.id)
                                            & (ExtensionRecord.service_id > after_id))
                                     .group_by(ExtensionRecord.service_id)
                                     .order_by(ExtensionRecord.service_id)
                                     .limit(BACKFILL_BATCH)
                                     .tuples())]
    records = {}
    for owner, value in (ExtensionRecord
                         .select(ExtensionRecord.service_id, ExtensionRecord.value)
                         .where((ExtensionRecord.schema == key.extension.id)
                                & ExtensionRecord.service_id.in_(owners))
                         .order_by(ExtensionRecord.service_id, ExtensionRecord.position)
                         .tuples()):
        records.setdefault(owner, []).append(json.loads(value))
    return [(owner, records[owner] if key.extension.multi_valued else records[owner][0]) for owner in owners]
