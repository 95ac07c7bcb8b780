"""Answers stop at `[api] max_response_bytes` (SPEC §12, finding 2 of issue 13): lists, and reads of one
resource whose nested lists and extension values grow with what is stored.

A small configured limit shows the mechanism on every list route, to the byte; the stress
version is the attack of the finding at full size through gunicorn.
"""
import pytest
import requests

from tests.calls import error_of, ok, start_service, start_state, start_task
from tests.support import running_gunicorn

NOTE = {"name": "note", "type": "single-valued", "attributes": [{"name": "text", "type": "string", "length": 65535}]}
TEXT = "x" * 1000


def register(client):
    for kind in ("services", "states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=NOTE), 201)


def fill(client, services=5):
    """`services` services of customer c1 under contact key k1, the first with 5 states and 5 tasks;
    every one of them carries a 1 KB note."""
    ids = [start_service(client, customer_id="c1", contact_key="k1", note={"text": TEXT}) for _ in range(services)]
    for _ in range(services):
        start_state(client, ids[0], note={"text": TEXT})
        start_task(client, ids[0], note={"text": TEXT})
    return ids


def lists(service_id):
    return ["/customers/c1/services?extensions=note", f"/services/{service_id}/states?extensions=note",
            f"/services/{service_id}/tasks?extensions=note"]


def answer_size(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return len(response.data)


def test_each_list_stops_at_max_response_bytes_to_the_byte(make_app):
    client = make_app().test_client()
    register(client)
    service_id = fill(client)[0]
    sizes = {url: answer_size(client, url) for url in lists(service_id)}
    assert all(size > 5 * len(TEXT) for size in sizes.values())

    for url, size in sizes.items():
        at_limit = make_app(api={"max_response_bytes": size}).test_client()
        assert at_limit.get(url).status_code == 200
        over = make_app(api={"max_response_bytes": size - 1}).test_client()
        error = error_of(over.get(url))
        assert error["error_code"] == "RESPONSE_TOO_LARGE" and "max_response_bytes" in error["message"]


def test_the_anonymous_list_stops_too_and_limit_gets_the_answer_through(make_app):
    app = make_app(api={"max_response_bytes": 3000})
    client = app.test_client()
    register(client)
    for _ in range(5):
        start_service(client, contact_key="anon", note={"text": TEXT})

    assert error_of(client.get("/services/anonymous/anon?extensions=note"))["error_code"] == "RESPONSE_TOO_LARGE"
    assert len(ok(client.get("/services/anonymous/anon?extensions=note&limit=2"))) == 2
    assert len(ok(client.get("/services/anonymous/anon"))) == 5      # without the values it fits


def test_single_reads_stop_at_max_response_bytes_to_the_byte(make_app):
    client = make_app().test_client()
    register(client)
    ok(client.post("/metadata/profiles/extensions", json=NOTE), 201)
    ok(client.post("/metadata/identification-keys", json={"name": "phone", "attributes": ["PhoneNumber"]}), 201)
    service_id = fill(client, services=1)[0]
    for number in range(3):
        ok(client.post("/profiles", json={"customer_id": f"p{number}", "PhoneNumber": ["5550100"],
                                          "note": {"text": TEXT}}), 201)
    reads = [f"/services/{service_id}?active_states=true&active_tasks=true&extensions=note",
             f"/services/{service_id}/states/1?active_tasks=true&extensions=note",
             "/profiles/p0?extensions=note",
             "/profiles?PhoneNumber=5550100&extensions=note&include_extensions=always"]
    sizes = {url: answer_size(client, url) for url in reads}
    assert all(size > len(TEXT) for size in sizes.values())

    for url, size in sizes.items():
        at_limit = make_app(api={"max_response_bytes": size}).test_client()
        assert at_limit.get(url).status_code == 200, url
        over = make_app(api={"max_response_bytes": size - 1}).test_client()
        error = error_of(over.get(url))
        assert error["error_code"] == "RESPONSE_TOO_LARGE" and "max_response_bytes" in error["message"], url


def _rss(base_url):
    return requests.get(f"{base_url}/server/status", timeout=30).json()["memory"]["rss_bytes"]


@pytest.mark.stress
def test_finding_2_at_full_size_through_gunicorn(tmp_path):
    """300 services of one customer, each with a maximum-size value: about 19 MB of answer."""
    text = "x" * 65_000
    with running_gunicorn({}, workers=1, tmp_path=tmp_path) as url, requests.Session() as http:
        assert http.post(f"{url}/metadata/services/extensions", json=NOTE, timeout=60).status_code == 201
        for _ in range(300):
            started = http.post(f"{url}/services/start", json={"customer_id": "victim", "service_type": 1,
                                                               "note": {"text": text}}, timeout=60)
            assert started.status_code == 201, started.text
        response = http.get(f"{url}/customers/victim/services?extensions=note", timeout=60)
        assert response.status_code == 400 and response.json()["error"]["error_code"] == "RESPONSE_TOO_LARGE"
        fitted = http.get(f"{url}/customers/victim/services?extensions=note&limit=200", timeout=60)
        assert fitted.status_code == 200 and len(fitted.json()) == 200
        rss = _rss(url)
        print(f"worker RSS after the lists of finding 2: {rss / 2**20:.0f} MiB")
        assert rss < 150 * 1024 * 1024
