"""Business attributes (SPEC §7): names and DB IDs on input, map_names on output, metadata reads."""
import pytest

ATTRIBUTES = {
    "business-attributes": {"Service.type": "ServiceType", "Service.media_type": "MediaType",
                            "*.disposition": "Disposition", "State.type": "StateType"},
    "attribute:ServiceType": {"Sales": "100, Sales inquiry", "Support": "200, Technical support"},
    "attribute:MediaType": {"voice": "1, Voice", "chat": "2, Chat"},
    "attribute:Disposition": {"resolved": "10, Resolved", "abandoned": "11"},
    "attribute:StateType": {"identification": "1, Caller identification"},
}


@pytest.fixture
def client(make_app):
    return make_app(**ATTRIBUTES).test_client()


def start(client, **fields):
    return client.post("/services/start", json={"contact_key": "k", **fields})


@pytest.mark.parametrize("sent", [100, "100", "Sales", "sales", "SALES"])
def test_names_any_case_and_ids_resolve_to_the_id(client, sent):
    response = start(client, service_type=sent, media_type="Voice", disposition="abandoned")
    assert response.status_code == 201, response.get_json()
    body = client.get(response.headers["Location"]).get_json()
    assert (body["service_type"], body["started"]["media_type"], body["disposition"]) == (100, 1, 11)


@pytest.mark.parametrize("field,value", [("service_type", "Marketing"), ("service_type", 300),
                                         ("media_type", "email"), ("disposition", 99), ("service_type", True)])
def test_unknown_values_are_refused_listing_the_valid_names(client, field, value):
    response = start(client, **{"service_type": 100, field: value})
    assert response.status_code == 400
    message = response.get_json()["error"]["fields"][field][0]
    assert "valid values" in message
    expected = {"service_type": ["Sales", "Support"], "media_type": ["voice", "chat"],
                "disposition": ["resolved", "abandoned"]}[field]
    assert all(name in message for name in expected)


def test_unmapped_fields_take_any_integer(client):
    response = start(client, service_type=100, application_type=12345, resource_type="77")
    started = client.get(response.headers["Location"]).get_json()["started"]
    assert (started["application_type"], started["resource_type"]) == (12345, 77)
    assert start(client, service_type=100, resource_type="seventy").status_code == 400


def test_map_names_returns_names_on_reads(make_app):
    client = make_app(**{**ATTRIBUTES, "business-attributes": {**ATTRIBUTES["business-attributes"],
                                                               "map_names": "true"}}).test_client()
    response = start(client, service_type=200, media_type=2, disposition=10, application_type=5)
    body = client.get(response.headers["Location"]).get_json()
    assert body["service_type"] == "Support"
    assert body["started"]["media_type"] == "chat"
    assert body["disposition"] == "resolved"
    assert body["started"]["application_type"] == 5          # unmapped stays an ID


def test_metadata_lists_every_attribute(client):
    body = client.get("/metadata/business-attributes").get_json()
    assert [attribute["name"] for attribute in body] == ["ServiceType", "MediaType", "Disposition", "StateType"]
    service_type = body[0]
    assert service_type == {"name": "ServiceType", "fields": ["Service.type"], "values": [
        {"name": "Sales", "id": 100, "display_name": "Sales inquiry"},
        {"name": "Support", "id": 200, "display_name": "Technical support"}]}
    assert body[2]["fields"] == ["Service.disposition", "State.disposition", "Task.disposition"]
    assert body[2]["values"][1] == {"name": "abandoned", "id": 11, "display_name": "abandoned"}


def test_metadata_reads_one_by_name_or_by_field(client):
    assert client.get("/metadata/business-attributes/mediatype").get_json()["name"] == "MediaType"
    assert client.get("/metadata/business-attributes?cv-attribute=State.type").get_json()["name"] == "StateType"
    for response in (client.get("/metadata/business-attributes/Nothing"),
                     client.get("/metadata/business-attributes?cv-attribute=Task.type")):
        assert response.status_code == 404
        assert response.get_json()["error"]["error_code"] == "ATTRIBUTE_NOT_FOUND"


def test_without_configuration_there_are_no_attributes(make_app):
    client = make_app().test_client()
    assert client.get("/metadata/business-attributes").get_json() == []
