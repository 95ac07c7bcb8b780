"""Deleting a service, and erasing a customer (SPEC §13)."""
import marshmallow as ma
from flask import Blueprint, jsonify, request

from app.api import refuse_in_maintenance, summarise
from app.api.services import path_text, service_id_in_range
from app.errors import BadRequest
from app.services import removal
from schemas.maintenance import ErasureQuery

blueprint = Blueprint("removal", __name__)
blueprint.before_request(refuse_in_maintenance)
_erasure_query = ErasureQuery()


@blueprint.delete("/services/<id:service_id>")
def delete_service(service_id):
    removal.delete_service(service_id_in_range(service_id))
    return "", 204


@blueprint.delete("/customers/<customer_id>")
def erase_customer(customer_id):
    customer_id = path_text("customer_id", customer_id, 16)
    try:
        query = _erasure_query.load(request.args.to_dict())
    except ma.ValidationError as error:
        raise BadRequest(summarise(error.messages), error_code="INVALID_PARAMETER", fields=error.messages) from None
    erasure = removal.erase_customer(customer_id, query["contact_keys"])
    return jsonify({"customer_id": erasure.customer_id, "contact_keys": erasure.contact_keys, **erasure.counts})
