"""Customer profiles (SPEC §10): the core schema built from the configuration, identification keys.

The core attributes come from `[profile]` in the INI file, so their schema is built per app
by `CoreProfile(attributes)`, as extension value schemas are built from their definitions.
"""
import marshmallow as ma

from schemas.fields import NAME_PATTERN, FlexibleBoolean
from schemas.resources import Resource
from schemas.values import attribute_field

CUSTOMER_ID_LENGTH = 16
# A multi-valued core attribute holds at most this many values.
MAX_VALUES = 100
# An identification key names at most this many attributes.
MAX_KEY_ATTRIBUTES = 5
_name_rule = ma.validate.Regexp(
    NAME_PATTERN, error="Must start with a letter, then letters, digits or _, at most 26 characters.")
_qualified_name_rule = ma.validate.Regexp(
    r"^[A-Za-z][A-Za-z0-9_]{0,25}(\.[A-Za-z][A-Za-z0-9_]{0,25})?\Z",
    error="An attribute name, or <extension>.<attribute>: each starts with a letter, then letters, digits or _.")


def customer_id_field(**kwargs):
    """customer_id as it enters a profile or a service: 1-16 characters, no `/` (it names a path)."""
    return ma.fields.String(validate=[
        ma.validate.Length(min=1, max=CUSTOMER_ID_LENGTH),
        ma.validate.Regexp(r"^[^/]*\Z", error="May not contain /: a customer ID is part of URL paths.")], **kwargs)


class _MultiValue(ma.fields.List):
    """A multi-valued core attribute: an array (first item the primary value); one value alone is
    taken as an array of one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            value = [value]
        return super()._deserialize(value, attr, data, **kwargs)


class _CoreSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    @ma.post_load
    def _drop_empty(self, data, **kwargs):
        """null, and an empty array, leave the attribute unset."""
        return {key: value for key, value in data.items() if value is not None and value != []}


class CoreProfile:
    """The configured core attributes: loading a profile's core, one value of an attribute, the schema.

    `attributes` are objects with name, type, multi and length (app.config.ProfileAttribute).
    """

    def __init__(self, attributes):
        self.attributes = tuple(attributes)
        self._by_key = {attribute.name.lower(): attribute for attribute in self.attributes}
        self._scalar = {attribute.name: attribute_field({"type": attribute.type, "length": attribute.length})
                        for attribute in self.attributes}
        fields = {}
        for attribute in self.attributes:
            definition = {"type": attribute.type, "length": attribute.length}
            # null (or []) leaves an attribute unset; a null among the values of a multi-valued
            # one is no value, and is refused rather than stored.
            fields[attribute.name] = (_MultiValue(attribute_field(definition), allow_none=True,
                                                  validate=ma.validate.Length(max=MAX_VALUES))
                                      if attribute.multi else attribute_field(definition, allow_none=True))
        self.schema = _CoreSchema.from_dict(fields, name="ProfileCore")()

    def attribute(self, name):
        """The configured attribute of that name (any case), or None."""
        return self._by_key.get(name.lower())

    def is_core(self, name):
        return name.lower() in self._by_key

    def load(self, raw):
        """{configured name: value} from core keys of any case; ma.ValidationError naming each fault."""
        spelled, errors = {}, {}
        for key, value in raw.items():
            name = self._by_key[key.lower()].name
            if name in spelled:
                errors[key] = [f"Same attribute as {spelled[name][0]!r}: names ignore case."]
            spelled[name] = (key, value)
        try:
            loaded = self.schema.load({name: value for name, (_, value) in spelled.items()})
        except ma.ValidationError as error:
            errors.update({spelled[name][0]: problems for name, problems in error.messages.items()})
            loaded = None
        if errors:
            raise ma.ValidationError(errors)
        return loaded

    def load_one(self, name, value):
        """One value of the attribute `name` (configured spelling) in stored form; ma.ValidationError."""
        return self._scalar[name].deserialize(value)

    def from_stored(self, stored):
        """A stored core object with the configured spellings, in configured order; attributes no
        longer configured are left out."""
        by_key = {name.lower(): value for name, value in stored.items()}
        return {attribute.name: by_key[attribute.name.lower()] for attribute in self.attributes
                if by_key.get(attribute.name.lower()) is not None}

    def values_of(self, stored, name):
        """The values a stored core object holds for an attribute, as a list (empty when unset)."""
        value = stored.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def present(self):
        """GET /metadata/profiles: the core schema as attribute schemas (SPEC §6 output form)."""
        return [{"name": attribute.name, "type": attribute.type, "length": attribute.length,
                 "mandatory": False, "encrypt": False, "unique": False, "multi": attribute.multi}
                for attribute in self.attributes]


class IdentificationKeyDefinitionSchema(ma.Schema):
    """The body of POST /metadata/identification-keys."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=_name_rule)
    source = ma.fields.String(load_default="profile", metadata={
        "description": "`profile` (core attributes, the default) or the name of a profile extension"})
    attributes = ma.fields.List(ma.fields.String(validate=_qualified_name_rule), required=True,
                                validate=ma.validate.Length(min=1, max=MAX_KEY_ATTRIBUTES), metadata={
                                    "description": "attribute names of the source, in key order: leading "
                                                   "ones identify when later ones are not given"})
    unique = FlexibleBoolean(load_default=False, metadata={
        "description": "at most one customer may hold a given combination of values"})

    @ma.validates("attributes")
    def _distinct(self, value, **kwargs):
        lowered = [name.lower() for name in value]
        if len(set(lowered)) != len(lowered):
            raise ma.ValidationError("An attribute appears twice (names ignore case).")


# --- what the routes answer ----------------------------------------------------------------

class IdentificationKeyResource(Resource):
    name = ma.fields.String(required=True)
    source = ma.fields.String(required=True, metadata={"description": "`profile` or a profile extension"})
    attributes = ma.fields.List(ma.fields.String(), required=True)
    unique = ma.fields.Boolean(required=True)


class ProfileAttributeSchema(Resource):
    """A core attribute as GET /metadata/profiles shows it."""
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    length = ma.fields.Integer(required=True)
    mandatory = ma.fields.Boolean(required=True)
    encrypt = ma.fields.Boolean(required=True)
    unique = ma.fields.Boolean(required=True)
    multi = ma.fields.Boolean(required=True, metadata={"description": "several values, a JSON array"})


class ProfileCreated(Resource):
    customer_id = ma.fields.String(required=True)


class IdentifiedCustomer(Resource):
    customer_id = ma.fields.String(required=True)


def profile_resource_schema(core):
    """The schema of a profile as GET answers it, for this app's core attributes (extension values
    are further keys, which it refuses: the OpenAPI document adds them as additionalProperties)."""
    fields = {"customer_id": ma.fields.String(required=True)}
    for attribute in core.attributes:
        field = attribute_field({"type": attribute.type, "length": attribute.length})
        fields[attribute.name] = ma.fields.List(field) if attribute.multi else field
    return Resource.from_dict(fields, name="ProfileResource")
