"""The vendor's documented Start Service example (SPEC §3.1) and the schemas it needs."""
import copy

EXTENSION_SCHEMAS = [
    {"name": "coupon", "type": "single-valued",
     "attributes": [{"name": "coupon_name", "type": "string"}]},
    {"name": "satisfaction", "type": "single-valued",
     "attributes": [{"name": "score", "type": "integer"}, {"name": "agentID", "type": "integer"}]},
    {"name": "relatedOffers", "type": "multi-valued",
     "attributes": [{"name": "offer_name", "type": "string", "mandatory": "true"},
                    {"name": "type", "type": "integer"},
                    {"name": "comments", "type": "string", "length": "1024"}],
     "unique": ["offer_name"]},
]

START_EXAMPLE = {
    "timestamp": "2009-05-12T12:05:12.145Z",
    "interaction_id": "123ABCAADFJ1259ACF",
    "application_type": 400,
    "application_id": 40,
    "est_duration": 60,
    "contact_key": "42",
    "service_type": 100,
    "media_type": 1,
    "resource_id": 5005,
    "resource_type": 2,
    "disposition": 10,
    "coupon": {"coupon_name": "DISCOUNTCODE15"},
    "satisfaction": {"score": 85, "agentID": 2025},
    "relatedOffers": [
        {"offer_name": "VIP credit card black ed.", "type": 9, "comments": "proposed to all client"},
        {"offer_name": "3 times payment GOLD", "type": 4, "comments": "limited offer"},
        {"offer_name": "life insurance", "type": 3, "comments": "healt check to be done before approval"},
    ],
}

# As the vendor's page prints it: with trailing commas, which JSON does not allow.
START_EXAMPLE_WITH_TRAILING_COMMAS = """{
  "timestamp": "2009-05-12T12:05:12.145Z",
  "contact_key": "42",
  "service_type": 100,
  "coupon": {"coupon_name": "DISCOUNTCODE15",},
}"""


def start_example():
    return copy.deepcopy(START_EXAMPLE)


def register_vendor_extensions(client, prefix=""):
    for schema in EXTENSION_SCHEMAS:
        response = client.post(f"{prefix}/metadata/services/extensions", json=schema)
        assert response.status_code == 201, response.get_json()
