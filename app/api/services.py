"""Start Service and service reads (SPEC §3.1, §3.2)."""
from flask import Blueprint, jsonify, request, url_for

from app.api import flag, load_event, name_list, refuse_in_maintenance, runtime
from app.api.body import json_body
from app.errors import BadRequest, NotFound
from app.services import services

blueprint = Blueprint("services", __name__)
blueprint.before_request(refuse_in_maintenance)


def service_id_in_range(service_id):
    """SPEC §2: a path ID out of range is an unknown resource."""
    if not 0 < service_id <= runtime().ids.layout.max_id:
        raise NotFound(f"no service {service_id}", error_code="SERVICE_NOT_FOUND")
    return service_id


def nesting_from(args, *, kind="services"):
    state = runtime()
    return services.Nesting(
        active_states=flag(args, "active_states"), completed_states=flag(args, "completed_states"),
        active_tasks=flag(args, "active_tasks"), completed_tasks=flag(args, "completed_tasks"),
        extensions=state.registry.resolve_names(kind, name_list(args, "extensions")),
    )


@blueprint.post("/services/start")
def start_service():
    state = runtime()
    event, extensions = load_event(state.events.service_start, "services", json_body())
    if "customer_id" not in event and "contact_key" not in event:
        raise BadRequest("customer_id or contact_key is required", error_code="MISSING_CONTACT",
                         fields={"customer_id": ["customer_id or contact_key is required."]})
    service_id = services.start_service(state.ids, event, extensions)
    response = jsonify({"service_id": state.ids.layout.export(service_id)})
    response.status_code = 201
    response.headers["Location"] = url_for(".read_service", service_id=service_id)
    return response


@blueprint.get("/services/<id:service_id>")
def read_service(service_id):
    state = runtime()
    nesting = nesting_from(request.args)
    row = services.get_service(service_id_in_range(service_id))
    return jsonify(services.present_services([row], state.presenter, nesting)[0])
