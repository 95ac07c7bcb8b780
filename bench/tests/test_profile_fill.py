"""The 1M-profile pre-fill: rows the server identifies exactly as it would its own, indexes rebuilt."""
from app import create_app
from app.config import build_settings
from app.ids import LAYOUTS
from bench.profiles import PHONE_KEY, fill_profiles, generate_profiles, phone_number
from models import IdentificationValue, Profile, database

LAYOUT = LAYOUTS["default"]


def test_profile_ids_are_snowflakes_of_the_fill_worker_and_customer_ids_fit():
    rows = list(generate_profiles(2000, layout=LAYOUT, worker_id=63, now_ms=1_790_000_000_000, key_id=1))
    ids = [profile[0] for profile, _ in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[-1] < 2 ** 53
    assert all(LAYOUT.decompose(profile_id)[1:] == (63, 0) for profile_id in ids)
    assert all(len(profile[1]) <= 16 for profile, _ in rows)


def test_the_server_identifies_every_filled_profile_by_its_phone(tmp_path):
    app = create_app(build_settings({"database": {"url": f"sqlite:///{tmp_path}/cs.db"}}))
    client = app.test_client()
    try:
        assert client.post("/metadata/identification-keys", json=PHONE_KEY).status_code == 201
        key_id = app.extensions["context_services"].keys.require("phone").id
        with database.connection_context():
            report = fill_profiles(database.obj, 3000, layout=LAYOUT, key_id=key_id, batch_size=700, sample_size=20)
            assert Profile.select().count() == IdentificationValue.select().count() == 3000
            indexes = {index.name for index in database.obj.get_indexes(IdentificationValue._meta.table_name)}
            assert {index._name for index in IdentificationValue._meta.fields_to_index()} <= indexes
        for phone in report.phones:
            assert len(client.get(f"/profiles?PhoneNumber={phone.replace('+', '%2B')}").get_json()) == 1
        found = client.get("/profiles?PhoneNumber=%2B33600000007&include_profile=yes").get_json()
        assert found == [{"customer_id": "P00000007", "FirstName": "First7", "LastName": "Last7",
                          "PhoneNumber": [phone_number(7)]}]
    finally:
        app.extensions["context_services"].ids.release()
        if not database.is_closed():
            database.close()
