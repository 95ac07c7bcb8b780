"""The Composer Context Services flow end to end through gunicorn, and unique keys under concurrency.

Identify Customer -> Start Service -> Identify (account) -> Associate Service -> Query Customer ->
Update Customer, as an IVR built with Composer's blocks runs it (SPEC §10), against a real
multi-worker server on the test's database.
"""
import concurrent.futures

import pytest
import requests

from models import ExtensionRecord, IdentificationValue, Profile, database
from tests.support import running_gunicorn

ANI = "+15550123"
ACCOUNT = {"name": "account", "type": "multi-valued", "unique": ["number"],
           "attributes": [{"name": "number", "type": "string", "mandatory": True},
                          {"name": "kind", "type": "string"}]}
VIP = {"name": "vip", "type": "classifier"}
THREADS = 8
PER_THREAD = 6


@pytest.fixture
def shared_database(make_app, database_url):
    """The test's database, emptied, for the gunicorn workers to share."""
    make_app()
    return database_url


def checked(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_identify_start_identify_associate_query_update(shared_database, tmp_path):
    with running_gunicorn({"database": {"url": shared_database}}, workers=2, tmp_path=tmp_path) as base, \
            requests.Session() as http:
        # Set-up by an administrator: a profile extension and the keys the IVR identifies by.
        for schema in (ACCOUNT, VIP):
            checked(http.post(f"{base}/metadata/profiles/extensions", json=schema), 201)
        checked(http.post(f"{base}/metadata/identification-keys",
                          json={"name": "phone", "attributes": ["PhoneNumber"]}), 201)
        checked(http.post(f"{base}/metadata/identification-keys",
                          json={"name": "account", "attributes": ["account.number"], "unique": True}), 201)
        checked(http.post(f"{base}/profiles", json={
            "customer_id": "CUST-42", "FirstName": "Ann", "LastName": "Lee", "PhoneNumber": ["+15550999"],
            "account": [{"number": "ACC-1001", "kind": "checking"}]}), 201)

        # Identify Customer by ANI: nobody.
        assert checked(http.get(f"{base}/profiles", params={"PhoneNumber": ANI})) == []
        # Start Service, anonymous, keyed by the ANI.
        started = checked(http.post(f"{base}/services/start", json={"contact_key": ANI, "service_type": 100}), 201)
        service_id = started["service_id"]
        # The caller keys in an account number: identify by the extension key.
        found = checked(http.get(f"{base}/profiles", params={"account.number": "ACC-1001"}))
        assert found == [{"customer_id": "CUST-42"}]
        customer_id = found[0]["customer_id"]
        # Associate Service.
        associated = checked(http.post(f"{base}/customers/{customer_id}/services/{service_id}"))
        assert associated["customer_id"] == customer_id and associated["contact_key"] == ANI
        listed = checked(http.get(f"{base}/customers/{customer_id}/services"))
        assert [service["service_id"] for service in listed] == [service_id]
        assert checked(http.get(f"{base}/services/anonymous/{ANI}")) == []
        # Query Customer with extensions.
        profile = checked(http.get(f"{base}/profiles/{customer_id}", params={"extensions": "account,vip"}))
        assert profile == {"customer_id": "CUST-42", "FirstName": "Ann", "LastName": "Lee",
                           "PhoneNumber": ["+15550999"], "account": [{"number": "ACC-1001", "kind": "checking"}],
                           "vip": {}}
        # Update Customer: the caller's number is added, and a tag.
        updated = checked(http.put(f"{base}/profiles/{customer_id}", json={
            "FirstName": "Ann", "LastName": "Lee", "PhoneNumber": ["+15550999", ANI], "vip": {}}))
        assert updated == {"customer_id": "CUST-42", "FirstName": "Ann", "LastName": "Lee",
                           "PhoneNumber": ["+15550999", ANI], "vip": {}}
        # The next call from this number is identified at once.
        assert checked(http.get(f"{base}/profiles", params={"PhoneNumber": ANI, "include_profile": "yes",
                                                            "extensions": "account,vip"})) == [
            {**updated, "account": [{"number": "ACC-1001", "kind": "checking"}]}]


def _create_colliding(base, thread):
    """One client thread: profiles whose account numbers every other thread also sends."""
    answers = []
    with requests.Session() as http:
        for number in range(PER_THREAD):
            response = http.post(f"{base}/profiles", timeout=60, json={
                "customer_id": f"t{thread}-{number}", "PhoneNumber": [f"+1555{number:04d}"],
                "account": [{"number": f"ACC-{number}"}, {"number": f"OWN-{thread}-{number}"}]})
            assert response.status_code in (201, 409), response.text
            if response.status_code == 409:
                assert response.json()["error"]["error_code"] == "IDENTIFICATION_CONFLICT", response.text
            answers.append((number, thread, response.status_code))
    return answers


def test_one_customer_wins_each_unique_value_and_the_rest_store_nothing(shared_database, tmp_path):
    with running_gunicorn({"database": {"url": shared_database}}, workers=4, tmp_path=tmp_path) as base:
        checked(requests.post(f"{base}/metadata/profiles/extensions", json=ACCOUNT), 201)
        checked(requests.post(f"{base}/metadata/identification-keys",
                              json={"name": "account", "attributes": ["account.number"], "unique": True}), 201)
        checked(requests.post(f"{base}/metadata/identification-keys",
                              json={"name": "phone", "attributes": ["PhoneNumber"], "unique": True}), 201)
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            answers = [answer for answers in pool.map(lambda t: _create_colliding(base, t), range(THREADS))
                       for answer in answers]
        winners = {number: [thread for n, thread, status in answers if n == number and status == 201]
                   for number in range(PER_THREAD)}
        assert all(len(threads) == 1 for threads in winners.values()), winners
        for number, (thread,) in winners.items():
            found = checked(requests.get(f"{base}/profiles", params={"account.number": f"ACC-{number}"}))
            assert found == [{"customer_id": f"t{thread}-{number}"}]
    with database.connection_context():
        # Nothing half-written: only the winners' rows exist, two records and their index rows each.
        assert Profile.select().count() == PER_THREAD
        assert ExtensionRecord.select().count() == 2 * PER_THREAD
        # each winner: two account numbers and one phone number
        assert IdentificationValue.select().count() == 3 * PER_THREAD
