"""Components of the document: marshmallow schemas to JSON Schema, with the project's own fields and wording."""
import marshmallow as ma
from apispec.ext.marshmallow import resolver as default_resolver

from app.api.params import Flag, NameList
from app.openapi.operations import PROPERTY_DESCRIPTIONS
from schemas import errors, extension_definitions, maintenance, resources, server
from schemas.fields import INT64, BusinessAttribute, FlexibleBoolean, FlexibleInteger
from schemas.timestamps import Timestamp

DECIMAL_PATTERN = r"^\s*[+-]?[0-9]{1,20}\s*$"
_BOOLEAN_PATTERN = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\s*$"
# What a Flag reads: true/false, 1/0, yes/no in any case, or nothing (false). Typed boolean
# alone, the document would call ?active_states= invalid, which the server accepts.
_FLAG_PATTERN = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0|[Yy][Ee][Ss]|[Nn][Oo])?\s*$"
# Business-attribute fields whose mapping key is "<Resource>.type".
_TYPE_FIELDS = {"service_type", "state_type", "task_type"}
_RESOURCES = ("Service", "State", "Task")

# Component names where the class name would say less than the API's own words.
_COMPONENT_NAMES = {
    extension_definitions.ExtensionDefinitionSchema: "ExtensionSchemaDefinition",
    extension_definitions.AttributeDefinitionSchema: "AttributeSchemaDefinition",
    extension_definitions.ExtensionOutputSchema: "ExtensionSchema",
    extension_definitions.AttributeOutputSchema: "AttributeSchema",
}

_STATIC_SCHEMAS = (
    resources.ServiceResource, resources.StateResource, resources.TaskResource, resources.ContextBlock,
    resources.ServiceCreated, resources.StateCreated, resources.TaskCreated, resources.ExtensionCreated,
    resources.BusinessAttributeDescription,
    extension_definitions.ExtensionDefinitionSchema, extension_definitions.ExtensionOutputSchema,
    server.ServerModeSchema, server.ServerModeAnswer, server.ServerStatus, server.Health,
    maintenance.PurgeBody, maintenance.PurgeOutcome, maintenance.ErasureOutcome,
    errors.ErrorResponse,
)


def component_name(schema):
    """The component name of a schema (class or instance): its class name less "Schema", or ours."""
    cls = schema if isinstance(schema, type) else type(schema)
    return _COMPONENT_NAMES.get(cls) or default_resolver(schema)


def schemas_of(events):
    """Every schema to register: the static ones, then each event schema of this app's EventSchemas."""
    built = [value for _, value in sorted(vars(events).items()) if isinstance(value, ma.Schema)]
    return [*_STATIC_SCHEMAS, *built]


def extension_value_schema(free):
    """ExtensionValue: what a key of an event or resource that is not one of its fields holds."""
    if free:
        return {"description": "An extension value. `[extensions] mode = free`: a key with a registered "
                               "schema takes an object (single-valued) or an array of objects "
                               "(multi-valued) that satisfies it; any other key is schema-less attached "
                               "data of any JSON type."}
    return {
        "description": "An extension value (`[extensions] mode = strict`): the key must be a registered "
                       "extension of this resource; a single-valued one takes an object, a multi-valued "
                       "one an array of objects, each checked against the registered attribute schemas.",
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
    }


# --- custom fields ------------------------------------------------------------------------

def custom_field_function(runtime):
    """An apispec attribute function for this app's custom fields (the ID type depends on the layout)."""
    layout = runtime.ids.layout

    def custom_fields(self, field, ret, **kwargs):
        """OpenAPI types of the project's own fields; apispec knows only marshmallow's."""
        if isinstance(field, FlexibleInteger):
            out = {"type": ["integer", "string"], "pattern": DECIMAL_PATTERN}
            if field.minimum != INT64[0]:
                out["minimum"] = field.minimum
            if field.maximum != INT64[1]:
                out["maximum"] = field.maximum
        elif isinstance(field, Flag):
            out = {"type": ["boolean", "string"], "pattern": _FLAG_PATTERN}
        elif isinstance(field, NameList):
            out = {"type": "array", "items": {"type": "string"}}
        elif isinstance(field, FlexibleBoolean):
            out = {"type": ["boolean", "string"], "pattern": _BOOLEAN_PATTERN}
        elif isinstance(field, BusinessAttribute):
            out = {"type": ["integer", "string"]}
        elif isinstance(field, Timestamp):
            out = {"type": "string", "format": "date-time"}
        elif isinstance(field, resources.ServiceId):
            out = ({"type": "string", "pattern": r"^[1-9][0-9]{0,19}$"} if layout.as_string
                   else {"type": "integer", "minimum": 1, "maximum": layout.max_id})
        elif isinstance(field, resources.BusinessAttributeValue):
            out = {"type": ["integer", "string"]}
        elif isinstance(field, resources.UtcTimestamp):
            out = {"format": "date-time"}
        else:
            return {}
        if field.allow_none and "type" in out:
            out["type"] = [*(out["type"] if isinstance(out["type"], list) else [out["type"]]), "null"]
        return out

    return custom_fields


def query_parameter_function(self, field, **kwargs):
    """A NameList is sent as one comma-separated value (form style, not exploded)."""
    return {"style": "form", "explode": False} if isinstance(field, NameList) else {}


# --- components, after apispec ------------------------------------------------------------

def finish_components(schemas, refs, runtime):
    """What apispec cannot know: extension keys, business-attribute values, shared field wording."""
    business = runtime.business_attributes
    by_name = {name: schema_key[0] for schema_key, name in refs.items()}
    for name, component in schemas.items():
        resource = next((r for r in _RESOURCES if name.startswith(r)), None)
        kind = _kind_of(name, by_name.get(name))
        if kind is not None:
            component["additionalProperties"] = {"$ref": "#/components/schemas/ExtensionValue"}
        output = by_name.get(name) is not None and issubclass(by_name[name], resources.Resource)
        fields = by_name[name]().fields if name in by_name else {}
        for property_name, prop in component.get("properties", {}).items():
            field = fields.get(property_name)
            if isinstance(field, (BusinessAttribute, resources.BusinessAttributeValue)):
                _describe_business_attribute(prop, business, resource, property_name, output=output)
            if "description" not in prop:
                wording = PROPERTY_DESCRIPTIONS.get((property_name, "output" if output else "input")) \
                    or PROPERTY_DESCRIPTIONS.get(property_name)
                if wording:
                    prop["description"] = wording


def _kind_of(name, cls):
    """The resource kind whose extension values a component carries as further keys, or None."""
    if cls in resources.EXTENSIBLE:
        return resources.EXTENSIBLE[cls]
    # Top-level events: each is built from a dict named "<Resource>...Event".
    if name.endswith("Event"):
        for resource in _RESOURCES:
            if name.startswith(resource):
                return resource.lower() + "s"
    return None


def _describe_business_attribute(prop, business, resource, property_name, *, output):
    name = "type" if property_name in _TYPE_FIELDS else property_name
    keys = [f"{resource}.{name}"] if resource else [f"{r}.{name}" for r in _RESOURCES]
    mapped = {key: business.field_attributes[key] for key in keys if key in business.field_attributes}
    if output:
        if business.map_names and mapped:
            prop["description"] = ("The value's name (`map_names = true`; the DB ID when the stored ID has "
                                   "no name); attribute: " + _list_attributes(mapped, business) + ".")
        else:
            prop["type"] = "integer"
            prop["description"] = "The business-attribute DB ID" + (
                " (" + _list_attributes(mapped, business) + ")." if mapped else ".")
        return
    if mapped:
        prop["description"] = ("A business-attribute value: its DB ID, or its name (case-insensitive); "
                               + _list_attributes(mapped, business) + ". Anything else gives 400.")
    else:
        prop["description"] = (f"No business attribute backs {' / '.join(keys)} in this configuration: "
                               "any integer (or decimal string) is stored as given; names are refused.")
        prop["pattern"] = DECIMAL_PATTERN


def _list_attributes(mapped, business):
    parts = []
    for attribute in dict.fromkeys(mapped.values()):
        values = ", ".join(f"`{value.name}` = {value.id}" for value in business.attributes[attribute])
        parts.append(f"attribute {attribute}: {values}")
    return "; ".join(parts)
