"""Identity is exact on both databases (SPEC §12): "bob" and "bob " are two customers, two contact keys."""
from urllib.parse import quote


def _start(client, **fields):
    response = client.post("/services/start", json={"service_type": 1, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["service_id"]


def _listed(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return sorted(service["service_id"] for service in response.get_json())


def test_customer_ids_that_differ_only_by_trailing_spaces_are_two_customers(client):
    bob, bob_space = _start(client, customer_id="bob"), _start(client, customer_id="bob ")
    assert _listed(client, "/customers/bob/services") == [bob]
    assert _listed(client, f"/customers/{quote('bob ')}/services") == [bob_space]
    assert _listed(client, f"/customers/{quote('bob  ')}/services/active") == []


def test_contact_keys_that_differ_only_by_trailing_spaces_are_two_contact_keys(client):
    key, key_space = _start(client, contact_key="42"), _start(client, contact_key="42 ")
    assert _listed(client, "/services/anonymous/42") == [key]
    assert _listed(client, f"/services/anonymous/{quote('42 ')}") == [key_space]


def test_associating_with_a_customer_id_keeps_its_trailing_space(client):
    anonymous = _start(client, contact_key="k")
    associated = client.post(f"/customers/{quote('bob ')}/services/{anonymous}")
    assert associated.status_code in (200, 204), associated.get_json()
    assert client.get(f"/services/{anonymous}").get_json()["customer_id"] == "bob "
    assert _listed(client, "/customers/bob/services") == []
