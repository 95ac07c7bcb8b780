"""Extension schemas and identification keys as one JSON document, for export and import.

The document: {"format": FORMAT, "extension_schemas": {"services": [...], "states": [...],
"tasks": [...], "profiles": [...]}, "identification_keys": [...]}. Schemas are in the form POST
/metadata/<kind>/extensions takes, keys in the form POST /metadata/identification-keys takes,
each list in creation order, so an export imports unchanged into an empty deployment.
"""
import json

import marshmallow as ma

from app.errors import APIError
from app.services.extension_registry import KINDS
from models import database
from schemas.extension_definitions import ExtensionDefinitionSchema

FORMAT = "context-services/schemas-1"


class TransferError(Exception):
    """The document cannot be imported; nothing was written. The message says why."""


def export_document(registry, keys):
    """Every registered extension schema by kind, then every identification key, in creation order."""
    return {
        "format": FORMAT,
        "extension_schemas": {kind: [_portable(extension.present())
                                     for extension in registry.extensions(kind).values()]
                              for kind in KINDS},
        "identification_keys": [key.present() for key in keys.all()],
    }


def _portable(presented):
    # The top-level "unique" list is the whole truth; the per-attribute flags that GET adds
    # would turn each member of a composite key into a key of its own when loaded again.
    return {**presented, "attributes": [{key: value for key, value in attribute.items() if key != "unique"}
                                        for attribute in presented["attributes"]]}


def import_document(registry, keys, document):
    """Register the schemas, then the keys, that the document holds and the database does not.

    One transaction: a key may use a profile extension the same file creates. Returns
    {"created": [(what, name)], "unchanged": [(what, name)]}, `what` being e.g. "profiles
    extension" or "identification key". Raises TransferError, having written nothing, when the
    document is malformed, a definition is invalid, a name appears twice, or a name is taken
    already by another definition.
    """
    schemas, key_bodies = _contents_of(document)
    planned = _plan_schemas(registry, schemas)
    report = {"created": [], "unchanged": []}
    try:
        with database.atomic():
            _register_schemas(registry, planned, report)
            _import_keys(keys, key_bodies, report)
    finally:
        # After a rollback this process may hold schemas and keys that were undone.
        registry.forget_cached()
    return report


def _contents_of(document):
    """([(kind, schema body)], [key body]) of a document of the right shape; TransferError if not."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f'not a schemas file: expected an object with "format": "{FORMAT}"')
    unknown = sorted(set(document) - {"format", "extension_schemas", "identification_keys"})
    if unknown:
        raise TransferError(f"unknown keys: {', '.join(unknown)}")
    by_kind = document.get("extension_schemas", {})
    if not isinstance(by_kind, dict) or set(by_kind) - set(KINDS) or \
            not all(isinstance(items, list) for items in by_kind.values()):
        raise TransferError(f"extension_schemas must map {', '.join(KINDS)} to lists of schemas")
    key_bodies = document.get("identification_keys", [])
    if not isinstance(key_bodies, list):
        raise TransferError("identification_keys must be a list of keys")
    return [(kind, body) for kind in KINDS for body in by_kind.get(kind, [])], key_bodies


def _plan_schemas(registry, definitions):
    """[(kind, name, body to register or None when registered already)]; raises TransferError."""
    definition_schema = ExtensionDefinitionSchema(limits=registry.limits)
    planned, seen = [], set()
    for kind, body in definitions:
        try:
            loaded = definition_schema.load(body)
        except ma.ValidationError as error:
            raise TransferError(f"{kind} extension {_name_in(body)!r}: invalid: {error.messages}") from None
        name = loaded.pop("name")
        if (kind, name.lower()) in seen:
            raise TransferError(f"{kind} extension {name!r} appears twice (names ignore case)")
        seen.add((kind, name.lower()))
        existing = registry.get(kind, name)
        if existing is None:
            planned.append((kind, name, body))
        elif existing.definition == json.loads(json.dumps(loaded)) and existing.name == name:
            planned.append((kind, name, None))
        else:
            raise TransferError(f"{kind} extension {name!r} is registered already with another definition; "
                                "delete it first or rename it in the file")
    return planned


def _register_schemas(registry, planned, report):
    """Inside the import's transaction: register the planned schemas, noting each in report."""
    for kind, name, body in planned:
        if body is None:
            report["unchanged"].append((f"{kind} extension", name))
            continue
        try:
            registry.register(kind, body)
        except APIError as error:       # a reserved name, a limit, or a schema registered meanwhile
            raise TransferError(f"{kind} extension {name!r}: {_described(error)}") from None
        report["created"].append((f"{kind} extension", name))


def _import_keys(keys, bodies, report):
    """Inside the import's transaction, once its schemas are registered: register the keys not
    there yet, noting each in report; TransferError for an invalid key, a duplicate or a conflict."""
    seen = set()
    for body in bodies:
        try:
            wanted = keys.resolve(body)
        except APIError as error:
            raise TransferError(f"identification key {_name_in(body)!r}: {_described(error)}") from None
        if wanted.name.lower() in seen:
            raise TransferError(f"identification key {wanted.name!r} appears twice (names ignore case)")
        seen.add(wanted.name.lower())
        existing = keys.get(wanted.name)
        if existing is None:
            try:
                keys.register(body)
            except APIError as error:       # a unique key over values two customers share
                raise TransferError(f"identification key {wanted.name!r}: {_described(error)}") from None
            report["created"].append(("identification key", wanted.name))
        elif _definition_of(existing) == _definition_of(wanted):
            report["unchanged"].append(("identification key", wanted.name))
        else:
            raise TransferError(f"identification key {wanted.name!r} exists already with another definition "
                                f"({json.dumps(existing.present())}); delete it first or rename it in the file")


def _definition_of(key):
    # The source by its ID: a name alone could stand for a different extension of that name.
    return key.name, key.source_id, key.attributes, key.unique


def _name_in(body):
    return body.get("name") if isinstance(body, dict) else None


def _described(error):
    """An APIError's message, with the field messages that say what exactly is wrong."""
    return f"{error.message}: {error.fields}" if error.fields else error.message
