"""Services: start, read, complete, associate and the lists (SPEC §3.1–§3.5)."""
from flask import Blueprint, jsonify

from app.access import default_roles
from app.api import created, load_event, params, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.api.lists import bounded_answer, bounded_list
from app.errors import BadRequest, NotFound, ValidationFailed
from app.services import services
from app.services.presenters import present_services

blueprint = default_roles(Blueprint("services", __name__), read="reader", write="writer")
blueprint.before_request(refuse_in_maintenance)
STATUS_PATH = "<any(active, completed):status>"


def service_id_in_range(service_id):
    """SPEC §2: a path ID out of range is an unknown resource."""
    if not 0 < service_id <= runtime().ids.layout.max_id:
        raise NotFound(f"no service {service_id}", error_code="SERVICE_NOT_FOUND")
    return service_id


@blueprint.post("/services/start")
def start_service():
    app_runtime = runtime()
    event, extensions = load_event(app_runtime.events.service_start, "services", json_body())
    if "customer_id" not in event and "contact_key" not in event:
        raise BadRequest("customer_id or contact_key is required", error_code="MISSING_CONTACT",
                         fields={"customer_id": ["customer_id or contact_key is required."]})
    service_id = services.start_service(app_runtime.ids, event, extensions)
    return created({"service_id": app_runtime.ids.layout.export(service_id)}, ".read_service", service_id=service_id)


@blueprint.get("/services/<id:service_id>")
@params.takes(params.ServiceRead)
def read_service(service_id, query):
    app_runtime = runtime()
    nesting = params.nesting("services", query)
    row = services.get_service(service_id_in_range(service_id))
    return bounded_answer(present_services([row], app_runtime.presenter, nesting)[0])


@blueprint.post("/services/<id:service_id>/end")
@params.takes(params.ServiceRead)
def complete_service(service_id, query):
    app_runtime = runtime()
    service_id_in_range(service_id)
    nesting = params.nesting("services", query)
    event, extensions = load_event(app_runtime.events.service_end, "services", json_body(required=False) or {})
    row = services.complete_service(service_id, event, extensions)
    return jsonify(present_services([row], app_runtime.presenter, nesting)[0])


@blueprint.post("/customers/<text:customer_id>/services/<id:service_id>")
@params.takes(params.ServiceRead)
def associate_service(customer_id, service_id, query):
    app_runtime = runtime()
    service_id_in_range(service_id)
    customer_id = path_text("customer_id", customer_id, 16)
    if "/" in customer_id:
        raise ValidationFailed("customer_id may not contain /", fields={"customer_id": ["May not contain /."]})
    nesting = params.nesting("services", query)
    event, extensions = load_event(app_runtime.events.service_update, "services", json_body(required=False) or {})
    row = services.associate_service(service_id, customer_id, event, extensions)
    return jsonify(present_services([row], app_runtime.presenter, nesting)[0])


@blueprint.get("/customers/<customer_id>/services", defaults={"status": "all"})
@blueprint.get(f"/customers/<customer_id>/services/{STATUS_PATH}")
@params.takes(params.ServiceList)
def list_customer_services(customer_id, status, query):
    return _service_list(status, query, customer_id=path_text("customer_id", customer_id, 16))


@blueprint.get("/services/anonymous/<contact_key>", defaults={"status": "all"})
@blueprint.get(f"/services/anonymous/<contact_key>/{STATUS_PATH}")
@params.takes(params.ServiceList)
def list_anonymous_services(contact_key, status, query):
    return _service_list(status, query, contact_key=path_text("contact_key", contact_key, 64))


def _service_list(status, query, **owner):
    app_runtime = runtime()
    nesting = params.nesting("services", query)
    window = {name: query[name] for name in ("started_from", "started_to", "limit", "offset") if name in query}
    max_list = app_runtime.settings["api"]["max_list"]
    window.setdefault("limit", max_list)
    if window["limit"] > max_list:
        raise BadRequest(f"limit must be at most {max_list}", error_code="INVALID_PARAMETER",
                         fields={"limit": [f"Must be between 0 and {max_list}."]})
    rows = services.list_services(status=status, **owner, **window)
    return bounded_list(rows, lambda chunk: present_services(chunk, app_runtime.presenter, nesting),
                        extensions=nesting.extensions)


def path_text(name, value, max_length):
    """SPEC §2 length limits apply to path segments as to body fields."""
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is longer than {max_length} characters",
                               fields={name: [f"Longer than maximum length {max_length}."]})
    return value
