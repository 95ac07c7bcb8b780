"""PUT extension values of services, states and tasks (SPEC §3.6, §4, §5)."""
import peewee as pw
import pytest

from models import ExtensionRecord, ExtensionUniqueKey, database
from tests.calls import error_of, ok, start_service, start_state, start_task

OFFERS = {"name": "offers", "type": "multi-valued",
          "attributes": [{"name": "offer_name", "type": "string", "mandatory": True},
                         {"name": "type", "type": "integer", "default": 1},
                         {"name": "comments", "type": "string"}],
          "unique": ["offer_name"]}
# Two keys: a single code, and name+year together.
CARS = {"name": "cars", "type": "multi-valued",
        "attributes": [{"name": "code", "type": "string"}, {"name": "model", "type": "string"},
                       {"name": "year", "type": "integer"}, {"name": "price", "type": "currency"}],
        "unique": ["code", ["model", "year"]]}
NOTE = {"name": "note", "type": "single-valued", "attributes": [{"name": "text", "type": "string", "length": 5}]}
PLAIN = {"name": "tags", "type": "multi-valued", "attributes": [{"name": "tag", "type": "string"}]}
THREE_OFFERS = [{"offer_name": "gold", "type": 4, "comments": "limited"},
                {"offer_name": "silver", "type": 2},
                {"offer_name": "bronze"}]


@pytest.fixture(params=["services", "states", "tasks"])
def owner(request, client):
    """(path of one service, state or task carrying THREE_OFFERS in `offers`, its read path)."""
    kind = request.param
    for definition in (OFFERS, CARS, NOTE, PLAIN):
        ok(client.post(f"/metadata/{kind}/extensions", json=definition), 201)
    if kind == "services":
        service_id = start_service(client, offers=THREE_OFFERS)
        path = f"/services/{service_id}"
    elif kind == "states":
        service_id = start_service(client)
        path = f"/services/{service_id}/states/{start_state(client, service_id, offers=THREE_OFFERS)}"
    else:
        service_id = start_service(client)
        path = f"/services/{service_id}/tasks/{start_task(client, service_id, offers=THREE_OFFERS)}"
    return path


def read(client, path, names="offers"):
    return ok(client.get(f"{path}?extensions={names}"))


def stored_offers(client, path):
    return read(client, path).get("offers")


def test_replace_answers_200_with_the_new_value_filled_with_defaults(client, owner):
    body = ok(client.put(f"{owner}/extensions/offers", json=[{"offer_name": "platinum"}]))
    assert body == [{"offer_name": "platinum", "type": 1}]
    assert stored_offers(client, owner) == body


def test_replace_of_a_single_valued_extension_takes_an_object(client, owner):
    assert ok(client.put(f"{owner}/extensions/note", json={"text": "hi"})) == {"text": "hi"}
    assert ok(client.put(f"{owner}/extensions/NOTE", json={"text": "bye"})) == {"text": "bye"}
    assert read(client, owner, "note")["note"] == {"text": "bye"}


def test_replace_with_an_empty_array_removes_the_value(client, owner):
    assert ok(client.put(f"{owner}/extensions/offers", json=[])) == []
    assert "offers" not in read(client, owner)


@pytest.mark.parametrize("value, code", [
    ({"offer_name": "x"}, "VALIDATION_ERROR"),                  # multi-valued takes an array
    ([{"type": 3}], "VALIDATION_ERROR"),                        # mandatory offer_name
    ([{"offer_name": "a"}, {"offer_name": "a"}], "VALIDATION_ERROR"),
    ([{"offer_name": "a", "colour": "red"}], "VALIDATION_ERROR"),
])
def test_an_invalid_replacement_changes_nothing(client, owner, value, code):
    error = error_of(client.put(f"{owner}/extensions/offers", json=value))
    assert error["error_code"] == code and "offers" in error["fields"]
    assert stored_offers(client, owner) == [{"type": 1, **offer} for offer in THREE_OFFERS]


def test_replace_refuses_malformed_or_missing_bodies(client, owner):
    assert error_of(client.put(f"{owner}/extensions/note", data="{", content_type="text/plain"))["error_code"] == \
        "INVALID_JSON"
    assert error_of(client.put(f"{owner}/extensions/note"))["error_code"] == "MISSING_BODY"
    assert error_of(client.put(f"{owner}/extensions/note", json={"text": "too long"}))["fields"]["note"]


def test_an_unknown_extension_is_404(client, owner):
    error = error_of(client.put(f"{owner}/extensions/nosuch", json={}), 404)
    assert error["error_code"] == "EXTENSION_NOT_FOUND"


# --- by unique -------------------------------------------------------------------------

def test_update_by_unique_overwrites_the_attributes_sent_and_keeps_the_rest(client, owner):
    response = client.put(f"{owner}/extensions/offers/by/unique", json={"offer_name": "gold", "type": 9})
    assert response.status_code == 204 and response.data == b""
    assert stored_offers(client, owner) == [
        {"offer_name": "gold", "type": 9, "comments": "limited"},
        {"offer_name": "silver", "type": 2},
        {"offer_name": "bronze", "type": 1}]


def test_update_by_unique_with_no_matching_record_is_404(client, owner):
    error = error_of(client.put(f"{owner}/extensions/offers/by/unique", json={"offer_name": "tin", "type": 9}), 404)
    assert error["error_code"] == "RECORD_NOT_FOUND"
    assert "tin" in error["message"]


def test_update_by_unique_needs_the_unique_attributes(client, owner):
    error = error_of(client.put(f"{owner}/extensions/offers/by/unique", json={"type": 9}))
    assert error["error_code"] == "MISSING_UNIQUE_ATTRIBUTES"
    assert stored_offers(client, owner)[0]["type"] == 4


def test_update_by_unique_checks_the_attributes_it_writes(client, owner):
    error = error_of(client.put(f"{owner}/extensions/offers/by/unique", json={"offer_name": "gold", "type": "x"}))
    assert error["error_code"] == "VALIDATION_ERROR" and "type" in error["fields"]
    assert stored_offers(client, owner)[0]["type"] == 4


@pytest.mark.parametrize("name, body", [("note", {"text": "a"}), ("tags", {"tag": "a"})])
def test_by_unique_forms_refuse_extensions_without_unique_attributes(client, owner, name, body):
    for suffix in ("by/unique", "delete/by/unique"):
        error = error_of(client.put(f"{owner}/extensions/{name}/{suffix}", json=body))
        assert error["error_code"] == "NO_UNIQUE_ATTRIBUTES"


def test_delete_by_unique_drops_only_that_record(client, owner):
    response = client.put(f"{owner}/extensions/offers/delete/by/unique", json={"offer_name": "silver"})
    assert response.status_code == 204
    assert [offer["offer_name"] for offer in stored_offers(client, owner)] == ["gold", "bronze"]
    assert error_of(client.put(f"{owner}/extensions/offers/delete/by/unique", json={"offer_name": "silver"}),
                    404)["error_code"] == "RECORD_NOT_FOUND"
    # the key is free again
    ok(client.put(f"{owner}/extensions/offers", json=[{"offer_name": "silver"}, {"offer_name": "gold"}]))


def test_delete_by_unique_takes_only_unique_attributes(client, owner):
    error = error_of(client.put(f"{owner}/extensions/offers/delete/by/unique",
                                json={"offer_name": "gold", "type": 4}))
    assert error["fields"] == {"type": ["Not a unique attribute."]}
    assert len(stored_offers(client, owner)) == 3


def test_composite_and_second_keys_select_records(client, owner):
    ok(client.put(f"{owner}/extensions/cars", json=[
        {"code": "A1", "model": "roadster", "year": 2020, "price": 100},
        {"code": "B2", "model": "roadster", "year": 2021, "price": 200}]))
    put = lambda suffix, body: client.put(f"{owner}/extensions/cars/{suffix}", json=body)
    assert put("by/unique", {"model": "roadster", "year": 2021, "price": "250.50"}).status_code == 204
    assert put("by/unique", {"code": "A1", "price": 120}).status_code == 204
    # a unique attribute sent must match the record the key picks
    assert error_of(put("by/unique", {"code": "A1", "year": 2021, "price": 1}), 404)["error_code"] == \
        "RECORD_NOT_FOUND"
    # half a composite key picks nothing
    assert error_of(put("by/unique", {"model": "roadster", "price": 1}))["error_code"] == \
        "MISSING_UNIQUE_ATTRIBUTES"
    assert put("delete/by/unique", {"model": "roadster", "year": 2020}).status_code == 204
    assert read(client, owner, "cars")["cars"] == [{"code": "B2", "model": "roadster", "year": 2021,
                                                     "price": 250.5}]


@pytest.mark.parametrize("suffix, body", [("", [{"offer_name": "x"}]), ("/by/unique", {"offer_name": "gold"}),
                                          ("/delete/by/unique", {"offer_name": "gold"})])
def test_unknown_or_out_of_range_owners_are_404(client, suffix, body):
    for kind in ("services", "states", "tasks"):
        ok(client.post(f"/metadata/{kind}/extensions", json=OFFERS), 201)
    service = f"/services/{start_service(client)}"
    missing = {"/services/98765": "SERVICE_NOT_FOUND", f"/services/{2**53}": "SERVICE_NOT_FOUND",
               f"{service}/states/1": "STATE_NOT_FOUND", f"{service}/states/0": "STATE_NOT_FOUND",
               f"{service}/tasks/1": "TASK_NOT_FOUND", f"{service}/tasks/{2**31}": "TASK_NOT_FOUND"}
    for path, code in missing.items():
        assert error_of(client.put(f"{path}/extensions/offers{suffix}", json=body), 404)["error_code"] == code


def test_values_can_be_written_after_completion(client, owner):
    ok(client.post(f"{owner}/end"))
    assert ok(client.put(f"{owner}/extensions/note", json={"text": "late"})) == {"text": "late"}


def test_free_mode_puts_any_json_under_a_new_name(make_app):
    client = make_app(extensions={"mode": "free"}).test_client()
    service_id = start_service(client)
    assert ok(client.put(f"/services/{service_id}/extensions/anything", json=[1, "two", {"3": None}])) == \
        [1, "two", {"3": None}]
    assert ok(client.get(f"/services/{service_id}?extensions=anything"))["anything"] == [1, "two", {"3": None}]
    error = error_of(client.put(f"/services/{service_id}/extensions/anything/by/unique", json={"a": 1}))
    assert error["error_code"] == "NO_UNIQUE_ATTRIBUTES"
    assert error_of(client.put(f"/services/{service_id}/extensions/9bad", json={}), 404)["error_code"] == \
        "EXTENSION_NOT_FOUND"


def test_the_database_refuses_a_second_record_with_the_same_key(client, owner):
    """The unique index, not only the checks before it, keeps keys unique (SPEC §6)."""
    with database.connection_context():
        key = ExtensionUniqueKey.select().first()
        duplicate = {"record": key.record_id, "schema": key.schema_id, "service_id": key.service_id,
                     "owner_no": key.owner_no, "constraint_no": key.constraint_no, "digest": key.digest}
        with pytest.raises(pw.IntegrityError):
            with database.atomic():
                ExtensionUniqueKey.insert(duplicate).execute()
        assert ExtensionRecord.select().count() == 3
