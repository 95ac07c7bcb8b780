"""Extension schemas and business attributes: the /metadata routes (SPEC §6, §7)."""
from flask import Blueprint, jsonify

from app.api import created, params, runtime
from app.api.body import json_body
from app.errors import NotFound

blueprint = Blueprint("metadata", __name__)
KIND_PATH = "<any(services, states, tasks):kind>"


@blueprint.post(f"/metadata/{KIND_PATH}/extensions")
def create_extension(kind):
    extension = runtime().registry.register(kind, json_body())
    return created({"name": extension.name}, ".read_extension", kind=kind, name=extension.name)


@blueprint.get(f"/metadata/{KIND_PATH}/extensions")
def list_extensions(kind):
    return jsonify([extension.present() for extension in runtime().registry.extensions(kind).values()])


@blueprint.get(f"/metadata/{KIND_PATH}/extensions/<name>")
def read_extension(kind, name):
    return jsonify(runtime().registry.require(kind, name).present())


@blueprint.delete(f"/metadata/{KIND_PATH}/extensions/<name>")
def delete_extension(kind, name):
    runtime().registry.delete(kind, name)
    return "", 204


@blueprint.get("/metadata/business-attributes")
@params.takes(params.AttributeQuery)
def list_business_attributes(query):
    attributes = runtime().business_attributes
    field_key = query.get("field_key")
    if field_key is None:
        return jsonify(attributes.describe())
    try:
        return jsonify(attributes.describe(field_key=field_key))
    except KeyError:
        raise NotFound(f"no business attribute backs {field_key!r}", error_code="ATTRIBUTE_NOT_FOUND") from None


@blueprint.get("/metadata/business-attributes/<name>")
def read_business_attribute(name):
    try:
        return jsonify(runtime().business_attributes.describe(name))
    except KeyError:
        raise NotFound(f"no business attribute named {name!r}", error_code="ATTRIBUTE_NOT_FOUND") from None
