"""GET /services/<id> (SPEC §3.2): flags, extensions, path IDs."""
import pytest

from tests.vendor import register_vendor_extensions, start_example


def started(client, body=None):
    response = client.post("/services/start", json=body or {"customer_id": "c1", "service_type": 1})
    assert response.status_code == 201
    return response.get_json()["service_id"]


def test_flags_add_empty_lists_until_states_and_tasks_exist(client):
    service_id = started(client)
    body = client.get(f"/services/{service_id}?active_states=true&completed_states=true"
                      "&active_tasks=true&completed_tasks=false").get_json()
    assert body["active_states"] == [] and body["completed_states"] == [] and body["active_tasks"] == []
    assert "completed_tasks" not in body


def test_without_flags_no_lists_are_sent(client):
    body = client.get(f"/services/{started(client)}").get_json()
    assert not {"active_states", "completed_states", "active_tasks", "completed_tasks"} & set(body)


def test_invalid_flag_value_is_400(client):
    response = client.get(f"/services/{started(client)}?active_states=maybe")
    assert response.status_code == 400
    assert response.get_json()["error"]["error_code"] == "INVALID_PARAMETER"


def test_extensions_come_in_the_order_asked_and_only_when_asked(client):
    register_vendor_extensions(client)
    service_id = started(client, start_example())
    body = client.get(f"/services/{service_id}?extensions=satisfaction,coupon").get_json()
    assert list(body)[-2:] == ["satisfaction", "coupon"]
    assert "relatedOffers" not in body
    assert "coupon" not in client.get(f"/services/{service_id}").get_json()


def test_an_extension_without_a_value_is_left_out(client):
    register_vendor_extensions(client)
    body = client.get(f"/services/{started(client)}?extensions=coupon,relatedOffers").get_json()
    assert "coupon" not in body and "relatedOffers" not in body


def test_unknown_extension_in_a_read_is_400(client):
    response = client.get(f"/services/{started(client)}?extensions=nothing")
    assert response.status_code == 400
    assert response.get_json()["error"]["error_code"] == "UNKNOWN_EXTENSION"


def test_string_and_number_ids_reach_the_same_service(client):
    service_id = started(client)
    assert client.get(f"/services/{service_id}").get_json()["service_id"] == service_id


@pytest.mark.parametrize("path", ["/services/0", "/services/999999", "/services/-5", "/services/abc",
                                  "/services/1.5", "/services/18446744073709551616",
                                  "/services/99999999999999999999", "/services/%00", "/services/1e5"])
def test_unknown_or_malformed_ids_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["http_code"] == 404


def test_read_refuses_other_methods_with_allow(client):
    response = client.patch(f"/services/{started(client)}")
    assert response.status_code == 405
    assert {"GET", "DELETE"} <= {method.strip() for method in response.headers["Allow"].split(",")}
    assert response.get_json()["error"]["error_code"] == "METHOD_NOT_ALLOWED"
