"""Extension schema metadata routes (SPEC §6)."""
import pytest

from tests.vendor import EXTENSION_SCHEMAS, register_vendor_extensions, start_example

KINDS = ["services", "states", "tasks"]


def create(client, kind, body):
    return client.post(f"/metadata/{kind}/extensions", json=body)


def simple(name, **extra):
    return {"name": name, "type": "single-valued", "attributes": [{"name": "a", "type": "string"}], **extra}


@pytest.mark.parametrize("kind", KINDS)
def test_create_answers_201_with_location_and_name(client, kind):
    response = create(client, kind, simple("Feedback"))
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/metadata/{kind}/extensions/Feedback")
    assert response.get_json() == {"name": "Feedback"}


def test_read_back_gives_every_attribute_field(client):
    register_vendor_extensions(client)
    body = client.get("/metadata/services/extensions/relatedOffers").get_json()
    assert body == {
        "name": "relatedOffers", "type": "multi-valued",
        "attributes": [
            {"name": "offer_name", "type": "string", "length": 255, "mandatory": True, "encrypt": False,
             "unique": True},
            {"name": "type", "type": "integer", "length": 255, "mandatory": False, "encrypt": False,
             "unique": False},
            {"name": "comments", "type": "string", "length": 1024, "mandatory": False, "encrypt": False,
             "unique": False},
        ],
        "unique": ["offer_name"],
    }


def test_list_gives_every_schema_of_the_kind_only(client):
    register_vendor_extensions(client)
    create(client, "states", simple("stateOnly"))
    names = [schema["name"] for schema in client.get("/metadata/services/extensions").get_json()]
    assert names == [schema["name"] for schema in EXTENSION_SCHEMAS]
    assert [s["name"] for s in client.get("/metadata/states/extensions").get_json()] == ["stateOnly"]
    assert client.get("/metadata/tasks/extensions").get_json() == []


def test_names_ignore_case_and_keep_the_first_spelling(client):
    assert create(client, "services", simple("MyExt")).status_code == 201
    again = create(client, "services", simple("myext"))
    assert again.status_code == 409
    assert again.get_json()["error"]["error_code"] == "EXTENSION_EXISTS"
    assert client.get("/metadata/services/extensions/MYEXT").get_json()["name"] == "MyExt"
    # the same name is free for another kind
    assert create(client, "tasks", simple("myext")).status_code == 201


@pytest.mark.parametrize("name", ["", "1abc", "_abc", "a-b", "a b", "é", "a" * 27, 5, None])
def test_invalid_names_are_refused(client, name):
    response = create(client, "services", simple(name))
    assert response.status_code == 400
    assert "name" in response.get_json()["error"]["fields"]
    assert client.get("/metadata/services/extensions").get_json() == []


def test_a_26_character_name_is_accepted(client):
    assert create(client, "services", simple("a" * 26)).status_code == 201


@pytest.mark.parametrize("kind,name", [("services", "service_type"), ("services", "Contact_Key"),
                                       ("states", "state_id"), ("tasks", "task_type"),
                                       ("services", "started"), ("tasks", "interaction_id")])
def test_core_field_names_are_reserved(client, kind, name):
    response = create(client, kind, simple(name))
    assert response.status_code == 400
    assert response.get_json()["error"]["error_code"] == "RESERVED_NAME"


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "type": "single-valued"}, "attributes"),
    ({"name": "x", "type": "triple-valued", "attributes": []}, "type"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "blob"}]}, "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a"}]}, "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "1a", "type": "string"}]}, "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "string", "length": "ten"}]},
     "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "string", "length": 0}]},
     "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "string", "mandatory": "yes"}]},
     "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "integer", "default": "x"}]},
     "attributes"),
    ({"name": "x", "type": "single-valued", "attributes": [{"name": "a", "type": "string", "color": "red"}]},
     "attributes"),
    ({"name": "x", "type": "single-valued",
      "attributes": [{"name": "a", "type": "string"}, {"name": "A", "type": "integer"}]}, "attributes"),
    ({"name": "x", "type": "multi-valued", "attributes": [{"name": "a", "type": "string"}], "unique": ["b"]},
     "unique"),
    ({"name": "x", "type": "multi-valued", "attributes": [{"name": "a", "type": "string"}], "unique": [["a", 3]]},
     "unique"),
    ({"name": "x", "type": "single-valued", "attributes": [], "extra": 1}, "extra"),
])
def test_invalid_definitions_are_refused_with_the_field_named(client, body, field):
    response = create(client, "services", body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert field in error["fields"]
    assert client.get("/metadata/services/extensions").get_json() == []


def test_type_names_ignore_case_and_string_forms_are_accepted(client):
    body = {"name": "x", "type": "single-valued", "attributes": [
        {"name": "a", "type": "STRING", "length": "10", "mandatory": "true", "encrypt": "TRUE"},
        {"name": "b", "type": "Integer", "default": "7"},
    ]}
    assert create(client, "services", body).status_code == 201
    attributes = client.get("/metadata/services/extensions/x").get_json()["attributes"]
    assert attributes[0] == {"name": "a", "type": "string", "length": 10, "mandatory": True, "encrypt": True,
                             "unique": False}
    assert attributes[1]["default"] == 7


def test_composite_and_attribute_level_unique_keys(client):
    body = {"name": "contact", "type": "multi-valued", "attributes": [
        {"name": "phone", "type": "string"}, {"name": "ext", "type": "string"},
        {"name": "label", "type": "string", "unique": True}],
        "unique": [["phone", "ext"]]}
    assert create(client, "services", body).status_code == 201
    read = client.get("/metadata/services/extensions/contact").get_json()
    assert read["unique"] == [["phone", "ext"], "label"]
    assert [a["unique"] for a in read["attributes"]] == [True, True, True]


def test_reading_or_deleting_a_missing_schema_is_404(client):
    for response in (client.get("/metadata/services/extensions/nothing"),
                     client.delete("/metadata/services/extensions/nothing")):
        assert response.status_code == 404
        assert response.get_json()["error"]["error_code"] == "EXTENSION_NOT_FOUND"


def test_unknown_kind_is_404(client):
    assert client.post("/metadata/profiles/extensions", json=simple("x")).status_code == 404


def test_delete_drops_the_schema_and_its_values(client):
    register_vendor_extensions(client)
    service_id = client.post("/services/start", json=start_example()).get_json()["service_id"]
    assert client.delete("/metadata/services/extensions/RelatedOffers").status_code == 204
    assert client.get("/metadata/services/extensions/relatedOffers").status_code == 404
    # a read that names it is refused; the other values are still there
    response = client.get(f"/services/{service_id}?extensions=relatedOffers")
    assert response.status_code == 400
    assert response.get_json()["error"]["error_code"] == "UNKNOWN_EXTENSION"
    assert client.get(f"/services/{service_id}?extensions=coupon").get_json()["coupon"] == {
        "coupon_name": "DISCOUNTCODE15"}
    # registered anew, it starts empty: the old records went with the old schema
    create(client, "services", EXTENSION_SCHEMAS[2])
    assert "relatedOffers" not in client.get(f"/services/{service_id}?extensions=relatedOffers").get_json()
    starting_again = start_example()
    del starting_again["coupon"], starting_again["satisfaction"]
    assert client.post("/services/start", json=starting_again).status_code == 201


def test_a_deleted_schema_is_refused_on_start(client):
    register_vendor_extensions(client)
    client.delete("/metadata/services/extensions/coupon")
    response = client.post("/services/start", json=start_example())
    assert response.status_code == 400
    assert response.get_json()["error"]["error_code"] == "UNKNOWN_EXTENSION"
    assert "coupon" in response.get_json()["error"]["fields"]


def test_deleted_schemas_leave_no_built_schema_behind(app):
    """The registry keeps the value schemas it built across reloads; a deleted schema's must go."""
    client = app.test_client()
    registry = app.extensions["context_services"].registry
    create(client, "services", simple("Kept"))
    for round_no in range(20):
        assert create(client, "services", simple(f"Churn{round_no}")).status_code == 201
        started = client.post("/services/start", json={"contact_key": "k", "service_type": 1,
                                                       f"Churn{round_no}": {"a": "x"}, "Kept": {"a": "y"}})
        assert started.status_code == 201
        assert client.delete(f"/metadata/services/extensions/Churn{round_no}").status_code == 204
    assert client.get("/metadata/services/extensions").status_code == 200     # the last reload
    assert registry.built_schema_count() == 1
