"""Business attributes (SPEC §7): value names and DB IDs of the "long or string" fields."""
import re

from schemas.fields import INT64

_DECIMAL = re.compile(r"\s*[+-]?[0-9]{1,20}\s*")


class BusinessAttributes:
    """Resolves names to DB IDs on input and, with map_names, IDs to names on output."""

    def __init__(self, attributes, field_attributes, *, map_names=False):
        self.attributes = attributes                  # name -> [AttributeValue]
        self.field_attributes = field_attributes      # "Service.type" -> attribute name
        self.map_names = map_names
        self._by_name = {name: {value.name.lower(): value.id for value in values}
                         for name, values in attributes.items()}
        self._by_id = {name: {value.id: value.name for value in values} for name, values in attributes.items()}

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.attributes, settings.field_attributes,
                   map_names=settings["business-attributes"]["map_names"])

    def resolver(self, field_key):
        """A function value -> DB ID for the field "Resource.field"; raises ValueError."""
        attribute = self.field_attributes.get(field_key)
        if attribute is None:
            return _any_integer
        by_name, by_id = self._by_name[attribute], self._by_id[attribute]

        def resolve(value):
            if isinstance(value, bool):
                raise ValueError(_unknown(attribute, value, self.attributes[attribute]))
            if isinstance(value, int) and value in by_id:
                return value
            if isinstance(value, str):
                if value.strip().lower() in by_name:
                    return by_name[value.strip().lower()]
                if _DECIMAL.fullmatch(value) and int(value) in by_id:
                    return int(value)
            raise ValueError(_unknown(attribute, value, self.attributes[attribute]))
        return resolve

    def output(self, field_key):
        """A function DB ID -> what reads return: the name with map_names, else the ID."""
        attribute = self.field_attributes.get(field_key)
        if not self.map_names or attribute is None:
            return None
        by_id = self._by_id[attribute]
        return lambda value: by_id.get(value, value)

    def describe(self, name=None, *, field_key=None):
        """The metadata reads: every attribute, one by name, or the one backing a field."""
        if field_key is not None:
            name = self._field_attribute(field_key)
        if name is None:
            return [self._describe_one(attribute) for attribute in self.attributes]
        known = {attribute.lower(): attribute for attribute in self.attributes}
        if name.lower() not in known:
            raise KeyError(name)
        return self._describe_one(known[name.lower()])

    def _field_attribute(self, field_key):
        for key, attribute in self.field_attributes.items():
            if key.lower() == field_key.lower():
                return attribute
        raise KeyError(field_key)

    def _describe_one(self, name):
        return {
            "name": name,
            "fields": sorted(key for key, attribute in self.field_attributes.items() if attribute == name),
            "values": [{"name": value.name, "id": value.id, "display_name": value.display_name}
                       for value in self.attributes[name]],
        }


def _any_integer(value):
    if isinstance(value, bool) or not (
            isinstance(value, int)
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and _DECIMAL.fullmatch(value))):
        raise ValueError("Not a valid integer: this field has no business attribute with named values.")
    number = int(value)
    if not INT64[0] <= number <= INT64[1]:
        raise ValueError("Must be a 64-bit integer.")
    return number


def _unknown(attribute, value, values):
    names = ", ".join(f"{v.name} ({v.id})" for v in values)
    return f"Unknown value {value!r} of business attribute {attribute}; valid values: {names}."
