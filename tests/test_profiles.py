"""Customer profiles through HTTP (SPEC §10.2): create, read, replace, extension values, delete, refusals."""
import pytest

from models import ExtensionRecord, IdentificationValue, Profile, database
from tests.calls import error_of, ok, start_service

ACCOUNT = {"name": "account", "type": "multi-valued", "unique": ["number"],
           "attributes": [{"name": "number", "type": "string", "length": 12, "mandatory": True},
                          {"name": "bank", "type": "string"}]}
VIP = {"name": "vip", "type": "classifier"}
PREFERENCES = {"name": "preferences", "type": "single-valued",
               "attributes": [{"name": "language", "type": "string", "default": "en"},
                              {"name": "callbacks", "type": "integer"}]}


@pytest.fixture
def client(app):
    client = app.test_client()
    for schema in (ACCOUNT, VIP, PREFERENCES):
        ok(client.post("/metadata/profiles/extensions", json=schema), 201)
    return client


def stored_counts():
    with database.connection_context():
        return Profile.select().count(), ExtensionRecord.select().count(), IdentificationValue.select().count()


def test_create_with_a_customer_id_then_read_it_back(client):
    created = client.post("/profiles", json={"customer_id": "c-1", "firstname": "Ann", "LastName": "Lee",
                                             "PhoneNumber": ["+15550100", "+15550101"], "vip": {},
                                             "account": [{"number": "A-1", "bank": "North"}]})
    assert ok(created, 201) == {"customer_id": "c-1"}
    assert created.headers["Location"].endswith("/profiles/c-1")
    assert ok(client.get("/profiles/c-1?extensions=account,vip,preferences")) == {
        "customer_id": "c-1", "FirstName": "Ann", "LastName": "Lee", "PhoneNumber": ["+15550100", "+15550101"],
        "account": [{"number": "A-1", "bank": "North"}], "vip": {}, "preferences": {}}


def test_a_profile_without_customer_id_gets_one_of_at_most_16_characters(client):
    customer_id = ok(client.post("/profiles", json={"EmailAddress": "ann@example.com"}), 201)["customer_id"]
    assert customer_id.isdigit() and len(customer_id) <= 16
    assert ok(client.get(f"/profiles/{customer_id}")) == {"customer_id": customer_id,
                                                          "EmailAddress": ["ann@example.com"]}


def test_the_wide_id_layout_needs_a_customer_id(make_app):
    client = make_app(ids={"layout": "wide"}).test_client()
    assert error_of(client.post("/profiles", json={"FirstName": "Ann"}))["error_code"] == "CUSTOMER_ID_REQUIRED"
    assert ok(client.post("/profiles", json={"customer_id": "c-1"}), 201) == {"customer_id": "c-1"}


def test_an_existing_customer_id_is_a_conflict(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "FirstName": "Ann"}), 201)
    assert error_of(client.post("/profiles", json={"customer_id": "c-1"}), 409)["error_code"] == "PROFILE_EXISTS"
    assert ok(client.get("/profiles/c-1")) == {"customer_id": "c-1", "FirstName": "Ann"}


def test_customer_ids_differing_by_a_trailing_space_are_two_customers(client):
    ok(client.post("/profiles", json={"customer_id": "bob", "FirstName": "Bob"}), 201)
    ok(client.post("/profiles", json={"customer_id": "bob ", "FirstName": "Other"}), 201)
    assert ok(client.get("/profiles/bob"))["FirstName"] == "Bob"
    assert ok(client.get("/profiles/bob%20"))["FirstName"] == "Other"


def test_put_replaces_the_core_and_the_extensions_sent_and_keeps_the_others(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "FirstName": "Ann", "Title": "Dr",
                                      "account": [{"number": "A-1"}], "preferences": {"callbacks": 2}}), 201)
    replaced = ok(client.put("/profiles/c-1", json={"FirstName": "Anne", "account": [{"number": "A-2"}]}))
    assert replaced == {"customer_id": "c-1", "FirstName": "Anne", "account": [{"number": "A-2"}]}
    assert ok(client.get("/profiles/c-1?extensions=account,preferences")) == {
        "customer_id": "c-1", "FirstName": "Anne", "account": [{"number": "A-2"}],
        "preferences": {"language": "en", "callbacks": 2}}


def test_put_with_another_customer_id_in_the_body_is_refused(client):
    ok(client.post("/profiles", json={"customer_id": "c-1"}), 201)
    assert "customer_id" in error_of(client.put("/profiles/c-1", json={"customer_id": "c-2"}))["fields"]
    assert ok(client.put("/profiles/c-1", json={"customer_id": "c-1", "Title": "Mr"}))["Title"] == "Mr"


def test_post_extensions_replaces_each_extension_sent(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "account": [{"number": "A-1"}, {"number": "A-2"}]}), 201)
    answer = ok(client.post("/profiles/c-1/extensions", json={"account": [{"number": "A-3"}],
                                                             "preferences": {"language": "fr"}}))
    assert answer == {"account": [{"number": "A-3"}], "preferences": {"language": "fr"}}
    assert ok(client.get("/profiles/c-1?extensions=account"))["account"] == [{"number": "A-3"}]


def test_records_are_updated_and_deleted_by_their_unique_attributes(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "account": [{"number": "A-1"}, {"number": "A-2"}]}), 201)
    ok(client.put("/profiles/c-1/extensions/account/by/unique", json={"number": "A-2", "bank": "South"}), 204)
    ok(client.put("/profiles/c-1/extensions/ACCOUNT/delete/by/unique", json={"number": "A-1"}), 204)
    assert ok(client.get("/profiles/c-1?extensions=account"))["account"] == [{"number": "A-2", "bank": "South"}]
    missing = client.put("/profiles/c-1/extensions/account/delete/by/unique", json={"number": "A-9"})
    assert error_of(missing, 404)["error_code"] == "RECORD_NOT_FOUND"
    assert error_of(client.put("/profiles/c-1/extensions/vip/by/unique", json={}))["error_code"] == \
        "NO_UNIQUE_ATTRIBUTES"


def test_delete_removes_the_profile_and_its_values_but_not_its_services(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "account": [{"number": "A-1"}], "vip": {}}), 201)
    service_id = start_service(client, customer_id="c-1")
    ok(client.delete("/profiles/c-1"), 204)
    assert error_of(client.get("/profiles/c-1"), 404)["error_code"] == "PROFILE_NOT_FOUND"
    assert error_of(client.delete("/profiles/c-1"), 404)["error_code"] == "PROFILE_NOT_FOUND"
    assert stored_counts() == (0, 0, 0)
    assert [s["service_id"] for s in ok(client.get("/customers/c-1/services"))] == [service_id]


def test_a_classifier_is_a_tag_whose_value_is_an_empty_object(client):
    error = error_of(client.post("/profiles", json={"customer_id": "c-1", "vip": {"level": 1}}))
    assert "vip" in error["fields"]
    schema = ok(client.get("/metadata/profiles/extensions/vip"))
    assert schema == {"name": "vip", "type": "classifier", "attributes": [], "unique": []}
    refused = client.post("/metadata/services/extensions", json=VIP)
    assert "type" in error_of(refused)["fields"]
    assert "attributes" in error_of(client.post("/metadata/profiles/extensions", json={
        "name": "tag2", "type": "classifier", "attributes": [{"name": "x", "type": "string"}]}))["fields"]


def test_a_profile_extension_may_not_take_a_core_attribute_name(client):
    refused = client.post("/metadata/profiles/extensions", json={**VIP, "name": "phonenumber"})
    assert error_of(refused)["error_code"] == "RESERVED_NAME"


@pytest.mark.parametrize("body, field", [
    ({"Nickname": "x"}, "Nickname"),                                   # unknown key
    ({"FirstName": 42}, "FirstName"),                                  # wrong type
    ({"FirstName": "x" * 256}, "FirstName"),                           # over-long value
    ({"PhoneNumber": ["+1"] * 101}, "PhoneNumber"),                    # too many values
    ({"PhoneNumber": ["+1", None]}, "PhoneNumber"),                    # a null among the values
    ({"customer_id": "c" * 17}, "customer_id"),                        # customer_id over 16 characters
    ({"customer_id": "a/b"}, "customer_id"),                           # customer_id with /
    ({"customer_id": ""}, "customer_id"),
    ({"account": {"number": "A-1"}}, "account"),                       # extension type mismatch
    ({"account": [{"number": "A-1" * 5}]}, "account"),                 # over-long extension value
    ({"preferences": {"callbacks": "many"}}, "preferences"),
    ({"FirstName": "Ann", "firstname": "Anne"}, "firstname"),          # one attribute twice
])
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(client, body, field):
    error = error_of(client.post("/profiles", json=body))
    assert field in error["fields"], error
    assert stored_counts() == (0, 0, 0)


def test_bad_input_to_put_changes_nothing(client):
    ok(client.post("/profiles", json={"customer_id": "c-1", "FirstName": "Ann"}), 201)
    error_of(client.put("/profiles/c-1", json={"FirstName": "Anne", "account": [{"bank": "no number"}]}))
    assert ok(client.get("/profiles/c-1")) == {"customer_id": "c-1", "FirstName": "Ann"}


@pytest.mark.parametrize("customer_id, status, code", [("c" * 17, 400, "VALIDATION_ERROR"),
                                                       ("nobody", 404, "PROFILE_NOT_FOUND")])
def test_unknown_or_over_long_customer_ids_in_paths_are_refused(client, customer_id, status, code):
    for method in ("GET", "PUT", "DELETE"):
        error = error_of(client.open(f"/profiles/{customer_id}", method=method, json={}), status)
        assert error["error_code"] == code


def test_a_customer_id_with_a_slash_is_refused_by_start_and_associate(client):
    assert "customer_id" in error_of(client.post("/services/start", json={"customer_id": "a/b",
                                                                         "service_type": 1}))["fields"]
    service_id = start_service(client, contact_key="k")
    assert "customer_id" in error_of(client.post(f"/customers/a%2Fb/services/{service_id}"))["fields"]
    assert "customer_id" in error_of(client.post(f"/customers/a/b/services/{service_id}"))["fields"]


def test_core_schema_is_read_from_the_configuration(make_app):
    client = make_app(profile={"AccountNumber": "string, length=12", "Birthday": "date",
                               "Phone": "string, multi", "Vip": "boolean"}).test_client()
    assert ok(client.get("/metadata/profiles")) == [
        {"name": "AccountNumber", "type": "string", "length": 12, "mandatory": False, "encrypt": False,
         "unique": False, "multi": False},
        {"name": "Birthday", "type": "date", "length": 255, "mandatory": False, "encrypt": False, "unique": False,
         "multi": False},
        {"name": "Phone", "type": "string", "length": 255, "mandatory": False, "encrypt": False, "unique": False,
         "multi": True},
        {"name": "Vip", "type": "boolean", "length": 255, "mandatory": False, "encrypt": False, "unique": False,
         "multi": False}]
    ok(client.post("/profiles", json={"customer_id": "c", "birthday": "1990-02-03", "vip": "true"}), 201)
    assert ok(client.get("/profiles/c")) == {"customer_id": "c", "Birthday": "1990-02-03", "Vip": True}
    assert "Birthday" in error_of(client.post("/profiles", json={"Birthday": "03/02/1990"}))["fields"]


def test_the_built_in_core_schema(client):
    assert [(a["name"], a["multi"]) for a in ok(client.get("/metadata/profiles"))] == [
        ("FirstName", False), ("LastName", False), ("Title", False), ("PhoneNumber", True), ("EmailAddress", True)]


def test_profiles_are_refused_in_maintenance_and_their_metadata_is_not(client):
    ok(client.post("/server/mode", json={"mode": "maintenance"}))
    assert error_of(client.post("/profiles", json={}), 503)["error_code"] == "MAINTENANCE"
    ok(client.get("/metadata/profiles"))
    ok(client.get("/metadata/identification-keys"))
