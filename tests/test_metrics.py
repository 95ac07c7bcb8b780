"""SPEC §14 in one process (Flask test client): /metrics, request IDs, the root page, /docs/."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.version import server_version

START = {"contact_key": "k", "service_type": 1}


def scrape(client):
    """{(sample name, frozenset(labels)): value} of GET /metrics, read by Prometheus' own parser."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_by_route_template_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.post("/services/start", json=START).status_code == 201
    client.get("/services/999999")
    client.get("/no/such/thing")
    after = scrape(client)
    started = ("cs_http_requests_total", {"route": "/services/start", "method": "POST", "status": "201"})
    assert value(after, started[0], **started[1]) - value(before, started[0], **started[1]) == 3
    read = {"route": "/services/<id:service_id>", "method": "GET", "status": "404"}
    assert value(after, "cs_http_requests_total", **read) - value(before, "cs_http_requests_total", **read) == 1
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(after, "cs_http_requests_total", **unmatched) \
        - value(before, "cs_http_requests_total", **unmatched) == 1
    assert value(after, "cs_ids_issued_total") - value(before, "cs_ids_issued_total") == 3
    count = ("cs_http_request_duration_seconds_count", {"route": "/services/start"})
    assert value(after, count[0], **count[1]) - value(before, count[0], **count[1]) == 3
    assert value(after, "cs_worker_leases_held") == 1


def test_unusual_methods_share_one_series(client):
    before = scrape(client)
    client.open("/services/start", method="BREW")
    after = scrape(client)
    labels = {"route": "<unmatched>", "method": "OTHER", "status": "405"}
    other = {"route": "/services/start", "method": "OTHER", "status": "405"}
    grown = [value(after, "cs_http_requests_total", **series) - value(before, "cs_http_requests_total", **series)
             for series in (labels, other)]
    assert sum(grown) == 1
    assert not any(("BREW" in dict(key[1]).values()) for key in after)


def test_metrics_can_be_switched_off(make_app):
    client = make_app(metrics={"enabled": False}).test_client()
    before = scrape(client)
    client.post("/services/start", json=START)
    after = scrape(client)
    assert value(after, "cs_ids_issued_total") == value(before, "cs_ids_issued_total")
    assert client.get("/server/status").get_json()["request_today"] == 3     # still counted


@pytest.mark.parametrize("sent", ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "A.b_c:d/e+f=g@h"])
def test_a_sane_request_id_is_returned_as_sent(client, sent):
    for response in (client.get("/healthz", headers={"X-Request-ID": sent}),
                     client.get("/no/such/thing", headers={"X-Request-ID": sent}),
                     client.post("/services/start", data=b"{", headers={"X-Request-ID": sent})):
        assert response.headers["X-Request-ID"] == sent


def test_a_request_id_is_made_when_none_is_sent(client):
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert len(first) == 32 and int(first, 16) >= 0 and first != second


@pytest.mark.parametrize("hostile", ["x" * 10240, "a\r\nSet-Cookie: stolen=1", "two words", '"quoted"',
                                     "-starts-with-dash", "tab\there", "é"])
def test_a_hostile_request_id_is_replaced_not_echoed(client, hostile):
    response = client.get("/no/such/thing", environ_base={"HTTP_X_REQUEST_ID": hostile})
    made = response.headers["X-Request-ID"]
    assert made != hostile and len(made) == 32 and int(made, 16) >= 0
    assert "stolen" not in str(response.headers) and hostile not in response.get_data(as_text=True)


def test_a_500_carries_the_request_id_in_its_answer_and_its_log_line(app, caplog):
    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("a bug")

    response = app.test_client().get("/test-only/boom", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-500"
    assert response.get_json()["error"]["error_code"] == "INTERNAL_ERROR"
    assert any("trace-500" in record.getMessage() for record in caplog.records if record.levelname == "ERROR")


def test_the_root_names_the_server_and_links_its_pages(client):
    body = client.get("/").get_json()
    assert body == {"name": "Context Services", "version": server_version(),
                    "links": {"docs": "/docs", "openapi": "/openapi.json", "healthz": "/healthz",
                              "status": "/server/status", "metrics": "/metrics"}}
    for path in body["links"].values():
        assert client.get(path).status_code == 200


def test_the_root_and_links_follow_the_base_path(make_app):
    client = make_app(api={"base_path": "/genesys/1/cs"}).test_client()
    body = client.get("/genesys/1/cs/").get_json()
    assert body["links"]["docs"] == "/genesys/1/cs/docs"
    assert body["links"]["metrics"] == "/genesys/1/cs/metrics"
    assert client.get("/").status_code == 404


def test_docs_with_a_slash_redirects_to_docs(client):
    response = client.get("/docs/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/docs"
    assert client.get("/docs/", follow_redirects=True).mimetype == "text/html"


def test_start_up_logs_one_line_naming_what_runs(make_app, caplog, backend):
    caplog.set_level("INFO", logger="app")
    make_app(api={"base_path": "/cs"}, extensions={"mode": "free"})
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("context-services ")]
    assert len(lines) == 1, lines
    assert f"context-services {server_version()}: config <test>, database {backend} " in lines[0]
    assert "base path /cs, auth mode none, extension mode free" in lines[0]
