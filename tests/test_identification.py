"""Identification keys and Identify Customer (SPEC §10.4, §10.5): 8.1's key inference, matching, refusals."""
import peewee as pw
import pytest

from app.services.identification import identify_query
from models import IdentificationValue, Profile, database
from tests.calls import error_of, ok

ACCOUNT = {"name": "account", "type": "multi-valued", "unique": ["number"],
           "attributes": [{"name": "number", "type": "string", "mandatory": True},
                          {"name": "branch", "type": "integer"}]}


@pytest.fixture
def client(app):
    client = app.test_client()
    ok(client.post("/metadata/profiles/extensions", json=ACCOUNT), 201)
    return client


def key(client, name, attributes, **more):
    response = client.post("/metadata/identification-keys", json={"name": name, "attributes": attributes, **more})
    assert ok(response, 201) == {"name": name}
    assert response.headers["Location"].endswith(f"/metadata/identification-keys/{name}")


def profile(client, customer_id, **attributes):
    ok(client.post("/profiles", json={"customer_id": customer_id, **attributes}), 201)


def identify(client, query):
    return [match["customer_id"] for match in ok(client.get(f"/profiles?{query}"))]


# --- keys --------------------------------------------------------------------------------

def test_keys_are_listed_in_creation_order_and_read_and_deleted_by_name(client):
    key(client, "phone", ["phonenumber"], unique=True)
    key(client, "acct", ["account.number"])
    key(client, "name", ["LastName", "FirstName"], source="profile")
    assert ok(client.get("/metadata/identification-keys")) == [
        {"name": "phone", "source": "profile", "attributes": ["PhoneNumber"], "unique": True},
        {"name": "acct", "source": "account", "attributes": ["number"], "unique": False},
        {"name": "name", "source": "profile", "attributes": ["LastName", "FirstName"], "unique": False}]
    assert ok(client.get("/metadata/identification-keys/ACCT"))["source"] == "account"
    ok(client.delete("/metadata/identification-keys/acct"), 204)
    assert error_of(client.get("/metadata/identification-keys/acct"), 404)["error_code"] == \
        "IDENTIFICATION_KEY_NOT_FOUND"
    assert error_of(client.delete("/metadata/identification-keys/acct"), 404)


def test_a_key_name_is_taken_once_whatever_its_case(client):
    key(client, "phone", ["PhoneNumber"])
    assert error_of(client.post("/metadata/identification-keys", json={
        "name": "PHONE", "attributes": ["EmailAddress"]}), 409)["error_code"] == "IDENTIFICATION_KEY_EXISTS"


@pytest.mark.parametrize("body, code", [
    ({"name": "k", "attributes": ["Nickname"]}, "UNKNOWN_ATTRIBUTE"),
    ({"name": "k", "attributes": ["number"], "source": "account"}, None),
    ({"name": "k", "attributes": ["nosuch"], "source": "account"}, "UNKNOWN_ATTRIBUTE"),
    ({"name": "k", "attributes": ["number"], "source": "nosuch"}, "UNKNOWN_EXTENSION"),
    ({"name": "k", "attributes": ["account.number", "LastName"]}, "VALIDATION_ERROR"),
    ({"name": "k", "attributes": ["LastName", "account.number"]}, "VALIDATION_ERROR"),
    ({"name": "k", "attributes": ["account.number"], "source": "profile"}, "VALIDATION_ERROR"),
    ({"name": "k", "attributes": []}, "VALIDATION_ERROR"),
    ({"name": "k", "attributes": ["LastName", "lastname"]}, "VALIDATION_ERROR"),
    ({"name": "9k", "attributes": ["LastName"]}, "VALIDATION_ERROR"),
    ({"name": "k", "attributes": ["LastName"], "unique": "maybe"}, "VALIDATION_ERROR"),
])
def test_bad_keys_are_refused(client, body, code):
    response = client.post("/metadata/identification-keys", json=body)
    if code is None:
        assert ok(response, 201)
        return
    assert error_of(response)["error_code"] == code
    assert ok(client.get("/metadata/identification-keys")) == []


def test_an_extension_a_key_uses_cannot_be_deleted(client):
    key(client, "acct", ["account.number"])
    error = error_of(client.delete("/metadata/profiles/extensions/account"), 409)
    assert error["error_code"] == "EXTENSION_IN_USE" and "acct" in error["message"]
    ok(client.delete("/metadata/identification-keys/acct"), 204)
    ok(client.delete("/metadata/profiles/extensions/account"), 204)


# --- matching ----------------------------------------------------------------------------

def test_a_multi_valued_attribute_is_found_by_any_of_its_values(client):
    key(client, "phone", ["PhoneNumber"])
    profile(client, "c-1", PhoneNumber=["+15550100", "+15550101"])
    profile(client, "c-2", PhoneNumber=["+15550101"])
    assert identify(client, "PhoneNumber=%2B15550100") == ["c-1"]
    assert identify(client, "phonenumber=%2B15550101") == ["c-1", "c-2"]
    assert identify(client, "PhoneNumber=%2B1555010") == []


def test_values_match_exactly(client):
    key(client, "name", ["LastName"])
    profile(client, "c-1", LastName="Lee")
    assert identify(client, "LastName=Lee") == ["c-1"]
    assert identify(client, "LastName=lee") == [] and identify(client, "LastName=Lee%20") == []


def test_an_extension_key_finds_customers_by_a_record_attribute(client):
    key(client, "acct", ["account.number", "account.branch"])
    profile(client, "c-1", account=[{"number": "A-1", "branch": 7}, {"number": "A-2"}])
    assert identify(client, "account.number=A-2") == ["c-1"]
    assert identify(client, "account.number=A-1&account.branch=7") == ["c-1"]
    assert identify(client, "account.number=A-1&account.branch=8") == []
    assert "account.branch" in error_of(client.get("/profiles?account.number=A-1&account.branch=x"))["fields"]


def test_writes_keep_the_index_current(client):
    key(client, "phone", ["PhoneNumber"])
    key(client, "acct", ["account.number"])
    profile(client, "c-1", PhoneNumber="+1", account=[{"number": "A-1"}])
    ok(client.put("/profiles/c-1", json={"PhoneNumber": "+2"}))
    assert identify(client, "PhoneNumber=%2B1") == [] and identify(client, "PhoneNumber=%2B2") == ["c-1"]
    assert identify(client, "account.number=A-1") == ["c-1"]          # an extension not sent is kept
    ok(client.post("/profiles/c-1/extensions", json={"account": [{"number": "A-2"}]}))
    assert identify(client, "account.number=A-1") == [] and identify(client, "account.number=A-2") == ["c-1"]
    ok(client.put("/profiles/c-1/extensions/account/delete/by/unique", json={"number": "A-2"}), 204)
    assert identify(client, "account.number=A-2") == []
    ok(client.delete("/profiles/c-1"), 204)
    assert identify(client, "PhoneNumber=%2B2") == []


def test_a_key_registered_later_finds_the_profiles_stored_before(client):
    profile(client, "c-1", LastName="Lee", account=[{"number": "A-1"}])
    key(client, "name", ["LastName"])
    key(client, "acct", ["account.number"], unique=True)
    assert identify(client, "LastName=Lee") == ["c-1"]
    assert identify(client, "account.number=A-1") == ["c-1"]


def test_include_profile_and_extensions_shape_the_answer(client):
    key(client, "name", ["LastName"])
    profile(client, "c-1", LastName="Lee", FirstName="Ann", account=[{"number": "A-1"}])
    profile(client, "c-2", LastName="Lee")
    assert ok(client.get("/profiles?LastName=Lee&include_profile=yes&extensions=account")) == [
        {"customer_id": "c-1", "FirstName": "Ann", "LastName": "Lee", "account": [{"number": "A-1"}]},
        {"customer_id": "c-2", "LastName": "Lee", "account": []}]
    assert ok(client.get("/profiles?LastName=Lee&include_profile=YES&extensions=account&include_extensions=unique")) \
        == [{"customer_id": "c-1", "FirstName": "Ann", "LastName": "Lee"}, {"customer_id": "c-2", "LastName": "Lee"}]
    assert ok(client.get("/profiles?LastName=Lee&extensions=account")) == [
        {"customer_id": "c-1", "account": [{"number": "A-1"}]}, {"customer_id": "c-2", "account": []}]
    key(client, "first", ["FirstName"])
    assert ok(client.get("/profiles?FirstName=Ann&include_extensions=unique&extensions=account")) == [
        {"customer_id": "c-1", "account": [{"number": "A-1"}]}]


def test_at_most_max_list_customers_are_answered(make_app):
    client = make_app(api={"max_list": 2}).test_client()
    key(client, "name", ["LastName"])
    for number in range(3):
        profile(client, f"c-{number}", LastName="Lee")
    assert identify(client, "LastName=Lee") == ["c-0", "c-1"]


# --- unique keys -------------------------------------------------------------------------

def test_a_unique_key_refuses_a_second_customer_with_the_same_values(client):
    key(client, "phone", ["PhoneNumber"], unique=True)
    key(client, "acct", ["account.number"], unique=True)
    profile(client, "c-1", PhoneNumber=["+1", "+2"], account=[{"number": "A-1"}])
    for body in ({"customer_id": "c-2", "PhoneNumber": "+2"}, {"customer_id": "c-2", "account": [{"number": "A-1"}]}):
        error = error_of(client.post("/profiles", json=body), 409)
        assert error["error_code"] == "IDENTIFICATION_CONFLICT"
    assert error_of(client.get("/profiles/c-2"), 404)
    profile(client, "c-2", PhoneNumber="+3")
    assert error_of(client.put("/profiles/c-2", json={"PhoneNumber": ["+3", "+1"]}), 409)["error_code"] == \
        "IDENTIFICATION_CONFLICT"
    assert ok(client.get("/profiles/c-2"))["PhoneNumber"] == ["+3"]
    ok(client.put("/profiles/c-1", json={"PhoneNumber": "+1"}))      # c-1 gives +2 up
    ok(client.put("/profiles/c-2", json={"PhoneNumber": ["+3", "+2"]}))
    assert identify(client, "PhoneNumber=%2B2") == ["c-2"]


def test_a_unique_key_over_profiles_that_share_values_is_refused(client):
    profile(client, "c-1", LastName="Lee")
    profile(client, "c-2", LastName="Lee")
    refused = client.post("/metadata/identification-keys", json={"name": "k", "attributes": ["LastName"],
                                                                  "unique": True})
    assert error_of(refused, 409)["error_code"] == "IDENTIFICATION_CONFLICT"
    assert ok(client.get("/metadata/identification-keys")) == []
    with database.connection_context():
        assert IdentificationValue.select().count() == 0


# --- key inference (8.1) -----------------------------------------------------------------

@pytest.fixture
def keyed(client):
    """Keys in creation order: last+first, phone, last+first+title, email+last."""
    key(client, "full_name", ["LastName", "FirstName"])
    key(client, "phone", ["PhoneNumber"])
    key(client, "name_title", ["LastName", "FirstName", "Title"])
    key(client, "email_last", ["EmailAddress", "LastName"])
    profile(client, "ann", LastName="Lee", FirstName="Ann", Title="Dr", PhoneNumber="+1",
            EmailAddress="ann@example.com")
    profile(client, "bob", LastName="Lee", FirstName="Bob", Title="Mr", PhoneNumber="+2",
            EmailAddress="bob@example.com")
    return client


def test_the_first_key_whose_attributes_are_all_given_wins(keyed):
    # phone is complete and comes before name_title; full_name is complete and comes first.
    assert identify(keyed, "Title=Dr&FirstName=Bob&LastName=Lee&PhoneNumber=%2B1") == ["bob"]
    assert identify(keyed, "PhoneNumber=%2B1&EmailAddress=bob@example.com&LastName=Lee") == ["ann"]


def test_a_full_match_beats_a_longer_partial_one(keyed):
    # name_title would match 2 leading attributes, but phone is complete.
    assert identify(keyed, "LastName=Lee&Title=Mr&PhoneNumber=%2B1") == ["ann"]


def test_without_a_full_match_the_most_leading_attributes_win(keyed):
    # email_last: 1 leading attribute (EmailAddress); full_name / name_title: LastName only (1) ->
    # tie, the earliest (full_name) wins over email_last, which comes later.
    assert identify(keyed, "LastName=Lee&EmailAddress=ann@example.com") == ["ann"]
    assert identify(keyed, "LastName=Lee&Title=Dr") == ["ann", "bob"]


def test_leading_attributes_count_from_the_first_one(keyed):
    # FirstName without LastName leads no key: its keys all start with LastName.
    assert error_of(keyed.get("/profiles?FirstName=Ann"))["error_code"] == "NO_IDENTIFICATION_KEY"
    assert identify(keyed, "EmailAddress=bob@example.com&FirstName=Ann") == ["bob"]


def test_id_key_picks_the_key(keyed):
    assert identify(keyed, "id_key=email_last&LastName=Lee&FirstName=Ann&EmailAddress=bob@example.com") == ["bob"]
    assert identify(keyed, "id_key=NAME_TITLE&LastName=Lee&FirstName=Ann") == ["ann"]
    assert error_of(keyed.get("/profiles?id_key=nosuch&LastName=Lee"))["error_code"] == "NO_IDENTIFICATION_KEY"
    assert error_of(keyed.get("/profiles?id_key=phone&LastName=Lee"))["error_code"] == "NO_IDENTIFICATION_KEY"


@pytest.mark.parametrize("query, code", [
    ("", "NO_IDENTIFICATION_KEY"),
    ("include_profile=yes", "NO_IDENTIFICATION_KEY"),
    ("Nickname=x", "UNKNOWN_ATTRIBUTE"),
    ("account.nosuch=x", "UNKNOWN_ATTRIBUTE"),
    ("nosuch.number=x", "UNKNOWN_ATTRIBUTE"),
    ("LastName=a&LastName=b", "UNKNOWN_ATTRIBUTE"),
    ("LastName=a&lastname=b", "UNKNOWN_ATTRIBUTE"),
    ("LastName=Lee&include_profile=maybe", "INVALID_PARAMETER"),
    ("LastName=Lee&include_extensions=never", "INVALID_PARAMETER"),
    ("LastName=Lee&attribute_values=x", "INVALID_PARAMETER"),
    ("LastName=Lee&extensions=nosuch", "UNKNOWN_EXTENSION"),
    ("Title=Dr", "NO_IDENTIFICATION_KEY"),
])
def test_bad_identification_queries_are_refused(keyed, query, code):
    assert error_of(keyed.get(f"/profiles?{query}"))["error_code"] == code


def test_no_keys_at_all_is_no_identification_key(client):
    assert error_of(client.get("/profiles?PhoneNumber=1"))["error_code"] == "NO_IDENTIFICATION_KEY"


# --- the index ---------------------------------------------------------------------------

@pytest.fixture
def many_profiles(app, client):
    """3,000 profiles, two phone numbers each, under a unique key and a two-attribute key."""
    key(client, "phone", ["PhoneNumber"], unique=True)
    key(client, "name", ["LastName", "FirstName"])
    keys = app.extensions["context_services"].keys
    with database.connection_context():
        phone, name = keys.require("phone").id, keys.require("name").id
        with database.atomic():
            Profile.insert_many([{"id": n, "customer_id": f"c{n}", "core": "{}", "created_ms": 0, "updated_ms": 0}
                                 for n in range(1, 3001)]).execute()
            rows = [{"key": phone, "digest": f"{n:064x}", "slot": 0, "profile": n} for n in range(1, 3001)]
            rows += [{"key": name, "digest": f"{n % 300:064x}", "slot": n, "profile": n} for n in range(1, 3001)]
            for start in range(0, len(rows), 500):
                IdentificationValue.insert_many(rows[start:start + 500]).execute()
        database.execute_sql("ANALYZE TABLE identification_value, profile"
                             if isinstance(database.obj, pw.MySQLDatabase) else "ANALYZE")
    return client


@pytest.mark.parametrize("key_name", ["phone", "name"])
@pytest.mark.parametrize("with_core", [False, True])
def test_identification_is_an_index_seek(app, many_profiles, key_name, with_core):
    chosen = app.extensions["context_services"].keys.require(key_name)
    with database.connection_context():
        sql, params = identify_query(chosen, ["+15550100"], limit=1000, with_core=with_core)
        if isinstance(database.obj, pw.MySQLDatabase):
            cursor = database.execute_sql("EXPLAIN " + sql, params)
            plan = [dict(zip([column[0].lower() for column in cursor.description], row)) for row in cursor]
            assert sorted(row["key"] for row in plan) == ["PRIMARY", "identification_value_key_id_digest_slot"], plan
            assert all("filesort" not in (row["extra"] or "").lower() for row in plan), plan
        else:
            details = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            assert any("USING INDEX identification_value_key_id_digest_slot (key_id=? AND digest=?)" in detail
                       for detail in details), details
            assert any("USING INTEGER PRIMARY KEY" in detail or "USING PRIMARY KEY" in detail
                       for detail in details), details
            assert not any("SCAN" in detail or "TEMP B-TREE" in detail for detail in details), details
