"""What the OpenAPI document says of the customer-profile routes (SPEC §10), and their components.

The core attributes come from the configuration, so the profile body and resource schemas
are built per app, from the same CoreProfile the views load bodies with.
"""
import marshmallow as ma

from app.openapi.operations import Answer, Operation
from schemas.profiles import (IdentificationKeyDefinitionSchema, IdentificationKeyResource, IdentifiedCustomer,
                              ProfileAttributeSchema, ProfileCreated, customer_id_field, profile_resource_schema)

STATIC_SCHEMAS = (IdentificationKeyDefinitionSchema, IdentificationKeyResource, IdentifiedCustomer,
                  ProfileAttributeSchema, ProfileCreated)
COMPONENT_NAMES = {IdentificationKeyDefinitionSchema: "IdentificationKeyDefinition"}

_CUSTOMER = {"customer_id": "The customer's ID (at most 16 characters)."}
_EXTENSION = {**_CUSTOMER, "name": "The profile extension's name (case-insensitive)."}
_BODY_ERRORS = ("VALIDATION_ERROR", "UNKNOWN_EXTENSION")
_KEY = {"name": "The identification key's name (case-insensitive)."}

def profile_schemas(core):
    """(body schema, resource schema) of profiles for this app's core attributes."""
    body_fields = {"customer_id": customer_id_field(metadata={
        "description": "At most 16 characters, no `/`. Absent: the server makes one (the decimal of an ID)."})}
    for name, field in core.schema.fields.items():
        body_fields[name] = field
    body = ma.Schema.from_dict(body_fields, name="ProfileBody")
    return body, profile_resource_schema(core)


PROFILE_OPERATIONS = {
    "metadata.read_core_profile": Operation(
        tag="Profile schemas", summary="Read the core profile schema",
        description="The core attributes of a customer profile, as configured in `[profile]`: attribute "
                    "schemas with `multi` (several values, a JSON array whose first item is the primary one).",
        answers=(Answer(200, "The core attributes, in configured order.", "ProfileAttribute", many=True),),
    ),
    "metadata.create_identification_key": Operation(
        tag="Profile schemas", summary="Register an identification key",
        description="`source` is `profile` (core attributes, the default) or a profile extension; attributes may "
                    "also be written `<extension>.<attribute>`. A key's attributes come from one source. With "
                    "`unique`, at most one customer may hold a given combination of values: existing profiles "
                    "are indexed at once, and a write that would give two customers the same values is 409.",
        body="IdentificationKeyDefinition",
        answers=(Answer(201, "Registered.", "ExtensionCreated", headers=("Location",)),),
        errors={400: ("VALIDATION_ERROR", "UNKNOWN_EXTENSION", "UNKNOWN_ATTRIBUTE"),
                409: ("IDENTIFICATION_KEY_EXISTS", "IDENTIFICATION_CONFLICT")},
    ),
    "metadata.list_identification_keys": Operation(
        tag="Profile schemas", summary="List the identification keys",
        answers=(Answer(200, "Every key, in creation order (the order key inference walks).",
                        "IdentificationKeyResource", many=True),),
    ),
    "metadata.read_identification_key": Operation(
        tag="Profile schemas", summary="Read an identification key",
        answers=(Answer(200, "The key.", "IdentificationKeyResource"),),
        errors={404: ("IDENTIFICATION_KEY_NOT_FOUND",)}, path_help=_KEY,
    ),
    "metadata.delete_identification_key": Operation(
        tag="Profile schemas", summary="Delete an identification key",
        answers=(Answer(204, "Deleted."),),
        errors={404: ("IDENTIFICATION_KEY_NOT_FOUND",)}, path_help=_KEY,
    ),
    "profiles.create_profile": Operation(
        tag="Profiles", summary="Create a customer profile",
        description="Core attributes are top-level keys (names in any case; optional); any other key is a "
                    "profile extension value. Profile, extension records and identification rows are stored "
                    "in one transaction.",
        body="ProfileBody",
        answers=(Answer(201, "Created.", "ProfileCreated", headers=("Location",)),),
        errors={400: (*_BODY_ERRORS, "CUSTOMER_ID_REQUIRED"),
                409: ("PROFILE_EXISTS", "IDENTIFICATION_CONFLICT", "CONCURRENT_CHANGE"),
                503: ("NO_WORKER_ID", "CLOCK_MOVED_BACKWARDS")},
    ),
    "profiles.identify_customer": Operation(
        tag="Profiles", summary="Identify a customer",
        description="Finds the customers whose values match, through an identification key: `id_key`, or "
                    "inferred as 8.1 did: in creation order, the first key whose attributes are all given wins; "
                    "else the key with the most leading attributes given, ties to the earliest. At most "
                    "`[api] max_list` matches, oldest profile first; `[]` when nobody matches.",
        answers=(Answer(200, "The matching customers: `{\"customer_id\"}` each, or whole profiles with "
                             "`include_profile=yes`.", "ProfileResource", many=True),),
        errors={400: ("VALIDATION_ERROR", "INVALID_PARAMETER", "UNKNOWN_EXTENSION", "UNKNOWN_ATTRIBUTE",
                      "NO_IDENTIFICATION_KEY", "RESPONSE_TOO_LARGE")},
    ),
    "profiles.read_profile": Operation(
        tag="Profiles", summary="Read a customer profile",
        answers=(Answer(200, "`customer_id`, every core attribute that holds a value, and each extension "
                             "asked for (`{}` or `[]` when the customer has none).", "ProfileResource"),),
        errors={400: ("UNKNOWN_EXTENSION", "VALIDATION_ERROR", "RESPONSE_TOO_LARGE"), 404: ("PROFILE_NOT_FOUND",)},
        path_help=_CUSTOMER,
    ),
    "profiles.replace_profile": Operation(
        tag="Profiles", summary="Update a customer profile",
        description="Replaces the core attributes wholesale (one left out is cleared); each extension sent "
                    "replaces that extension's records, extensions not sent are kept. A `customer_id` in the "
                    "body must equal the path's.",
        body="ProfileBody",
        answers=(Answer(200, "The profile, with the extensions sent.", "ProfileResource"),),
        errors={400: _BODY_ERRORS, 404: ("PROFILE_NOT_FOUND",),
                409: ("IDENTIFICATION_CONFLICT", "CONCURRENT_CHANGE")}, path_help=_CUSTOMER,
    ),
    "profiles.delete_profile": Operation(
        tag="Profiles", summary="Delete a customer profile",
        description="Removes the profile, its extension values and identification rows; the customer's "
                    "services stay.",
        answers=(Answer(204, "Deleted."),),
        errors={400: ("VALIDATION_ERROR",), 404: ("PROFILE_NOT_FOUND",)}, path_help=_CUSTOMER,
    ),
    "profiles.replace_extensions": Operation(
        tag="Profiles", summary="Replace extension values of a customer profile",
        description="Body: `{\"<extension>\": value, ...}`; each replaces that extension's records.",
        body="ExtensionValues",
        answers=(Answer(200, "The new values of the extensions sent.", "ExtensionValues"),),
        errors={400: _BODY_ERRORS, 404: ("PROFILE_NOT_FOUND",),
                409: ("IDENTIFICATION_CONFLICT", "CONCURRENT_CHANGE")}, path_help=_CUSTOMER,
    ),
    "profiles.update_record": Operation(
        tag="Profiles", summary="Update one record of a profile extension value, picked by its unique attributes",
        description="As for services: the unique attributes sent pick the record, the other attributes sent "
                    "overwrite its own.",
        body="ExtensionRecord",
        answers=(Answer(204, "Updated."),),
        errors={400: ("VALIDATION_ERROR", "NO_UNIQUE_ATTRIBUTES", "MISSING_UNIQUE_ATTRIBUTES"),
                404: ("PROFILE_NOT_FOUND", "EXTENSION_NOT_FOUND", "RECORD_NOT_FOUND"),
                409: ("IDENTIFICATION_CONFLICT",)}, path_help=_EXTENSION,
    ),
    "profiles.delete_record": Operation(
        tag="Profiles", summary="Delete one record of a profile extension value, picked by its unique attributes",
        body="ExtensionRecord",
        answers=(Answer(204, "Deleted."),),
        errors={400: ("VALIDATION_ERROR", "NO_UNIQUE_ATTRIBUTES", "MISSING_UNIQUE_ATTRIBUTES"),
                404: ("PROFILE_NOT_FOUND", "EXTENSION_NOT_FOUND", "RECORD_NOT_FOUND")}, path_help=_EXTENSION,
    ),
}


def add_profile_components(spec, core):
    """Register the profile schemas; call before the paths are added."""
    for schema in STATIC_SCHEMAS:
        spec.components.schema(COMPONENT_NAMES.get(schema, schema.__name__.removesuffix("Schema")), schema=schema)
    body, resource = profile_schemas(core)
    spec.components.schema("ProfileBody", schema=body)
    spec.components.schema("ProfileResource", schema=resource)
    spec.components.schema("ExtensionValues", {
        "type": "object", "additionalProperties": {"$ref": "#/components/schemas/ExtensionValue"},
        "description": "Profile extension values by extension name."})


def finish_profile_components(schemas):
    """Extension values sit beside the core attributes of profile bodies and resources."""
    for name in ("ProfileBody", "ProfileResource"):
        schemas[name]["additionalProperties"] = {"$ref": "#/components/schemas/ExtensionValue"}
