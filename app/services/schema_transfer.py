"""Extension schemas (and, once profiles exist, identification keys) as one JSON document.

The document is an object with one key per kind of thing, so that later kinds join without a
new format: {"format": FORMAT, "extension_schemas": {"services": [...], "states": [...],
"tasks": [...]}, "identification_keys": []}. Definitions are in the form POST
/metadata/<kind>/extensions takes.
"""
import json

import marshmallow as ma

from app.errors import APIError
from models import database
from schemas.events import CORE_FIELDS
from schemas.extension_definitions import ExtensionDefinitionSchema

FORMAT = "context-services/schemas-1"
# Every kind of resource that has extension schemas, in the order a file lists them.
KINDS = tuple(CORE_FIELDS)
_definition_schema = ExtensionDefinitionSchema()


class TransferError(Exception):
    """The document cannot be imported; nothing was written. The message says why."""


def export_document(registry):
    """Every registered extension schema, by kind, in registration order."""
    return {
        "format": FORMAT,
        "extension_schemas": {kind: [_portable(extension.present())
                                     for extension in registry.extensions(kind).values()]
                              for kind in KINDS},
        "identification_keys": [],
    }


def _portable(presented):
    # The top-level "unique" list is the whole truth; the per-attribute flags that GET adds
    # would turn each member of a composite key into a key of its own when loaded again.
    return {**presented, "attributes": [{key: value for key, value in attribute.items() if key != "unique"}
                                        for attribute in presented["attributes"]]}


def import_document(registry, document):
    """Register what the document holds and is not yet registered; idempotent.

    Returns {"created": [(kind, name)], "unchanged": [(kind, name)]}. Raises TransferError,
    having written nothing, when the document is malformed, a definition is invalid, or a name
    is registered already with another definition.
    """
    planned = _plan(registry, _definitions_of(document))
    created = [(kind, name) for kind, name, body in planned if body is not None]
    try:
        with database.atomic():
            for kind, _, body in planned:
                if body is not None:
                    registry.register(kind, body)
    except APIError as error:       # a reserved name, or a schema registered meanwhile
        raise TransferError(error.message) from None
    return {"created": created,
            "unchanged": [(kind, name) for kind, name, body in planned if body is None]}


def _definitions_of(document):
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f'not a schemas file: expected an object with "format": "{FORMAT}"')
    unknown = sorted(set(document) - {"format", "extension_schemas", "identification_keys"})
    if unknown:
        raise TransferError(f"unknown keys: {', '.join(unknown)}")
    if document.get("identification_keys"):
        raise TransferError("this version has no customer profiles: identification_keys must be empty")
    by_kind = document.get("extension_schemas", {})
    if not isinstance(by_kind, dict) or set(by_kind) - set(KINDS) or \
            not all(isinstance(items, list) for items in by_kind.values()):
        raise TransferError("extension_schemas must map services, states and tasks to lists of schemas")
    return [(kind, body) for kind in KINDS for body in by_kind.get(kind, [])]


def _plan(registry, definitions):
    """[(kind, name, body to register or None when registered already)]; raises TransferError."""
    planned, seen = [], set()
    for kind, body in definitions:
        try:
            loaded = _definition_schema.load(body)
        except ma.ValidationError as error:
            name = body.get("name") if isinstance(body, dict) else None
            raise TransferError(f"{kind} extension {name!r}: invalid: {error.messages}") from None
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
