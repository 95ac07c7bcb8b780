"""HTTP calls the lifecycle tests make over and over, each asserting its success code."""


def start_service(client, **fields):
    body = {"service_type": 1, **fields}
    if "customer_id" not in body and "contact_key" not in body:
        body["contact_key"] = "+15550100"
    response = client.post("/services/start", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["service_id"]


def start_state(client, service_id, **fields):
    response = client.post(f"/services/{service_id}/states/start", json={"state_type": 1, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["state_id"]


def start_task(client, service_id, **fields):
    response = client.post(f"/services/{service_id}/tasks/start", json={"task_type": 1, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["task_id"]


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def error_of(response, status=400):
    """The SPEC §2 error object of a refusal, after checking its status and shape."""
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["http_code"] == status
    assert set(error) - {"fields"} == {"http_method", "uri", "http_code", "error_code", "message"}
    return error
