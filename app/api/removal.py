"""Deleting a service, and erasing a customer (SPEC §13)."""
from flask import Blueprint, jsonify

from app.access import default_roles, requires
from app.api import params, refuse_in_maintenance
from app.api.services import path_text, service_id_in_range
from app.services import removal

# Deleting a service is a runtime write; erasing a customer is an administrator's act.
blueprint = default_roles(Blueprint("removal", __name__), read="reader", write="writer")
blueprint.before_request(refuse_in_maintenance)


@blueprint.delete("/services/<id:service_id>")
def delete_service(service_id):
    removal.delete_service(service_id_in_range(service_id))
    return "", 204


@blueprint.delete("/customers/<customer_id>")
@requires("admin")     # a right-to-erasure request: it removes everything of a customer
@params.takes(params.Erasure)
def erase_customer(customer_id, query):
    customer_id = path_text("customer_id", customer_id, 16)
    erasure = removal.erase_customer(customer_id, query["contact_keys"])
    return jsonify({"customer_id": erasure.customer_id, "contact_keys": erasure.contact_keys, **erasure.counts})
