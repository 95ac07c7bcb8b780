"""What is measured: the request bodies, the extension schemas they need, and the list of cases."""
import copy
from dataclasses import dataclass, field

# SPEC §3.1: the vendor's documented example, trailing commas removed.
VENDOR_EXAMPLE = {
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
EXTENSION_NAMES = ("coupon", "satisfaction", "relatedOffers")
# One service's records under the three extensions: coupon 1, satisfaction 1, relatedOffers 3.
EXTENSION_RECORDS_PER_START = 5

# SPEC §3.1 describes these three; registered through POST /metadata/services/extensions.
EXTENSION_SCHEMAS = [
    {"name": "coupon", "type": "single-valued",
     "attributes": [{"name": "coupon_name", "type": "string"}]},
    {"name": "satisfaction", "type": "single-valued",
     "attributes": [{"name": "score", "type": "integer"}, {"name": "agentID", "type": "integer"}]},
    {"name": "relatedOffers", "type": "multi-valued",
     "attributes": [{"name": "offer_name", "type": "string", "mandatory": True},
                    {"name": "type", "type": "integer"},
                    {"name": "comments", "type": "string", "length": 1024}],
     "unique": ["offer_name"]},
]


def start_body(*, with_extensions):
    """The vendor example, with or without its three extension values."""
    body = copy.deepcopy(VENDOR_EXAMPLE)
    if not with_extensions:
        for name in EXTENSION_NAMES:
            del body[name]
    return body


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    script: str                 # under bench/lua/
    baseline: str               # key of the baseline measurement it is compared with
    # Table -> kind of 2xx answer that writes one row of it (see the Lua scripts' kinds).
    writes: dict = field(default_factory=dict)


# Baseline measurements: the same scripts and bodies against bench/baseline.py.
BASELINES = {
    "get": "GET (fixed small JSON)",
    "post": "POST start body, no extensions",
    "post_ext": "POST start body with extensions",
    "journey": "IVR journey mix",
}

CASES = [
    Case("healthz", "GET /healthz (app + database ping)", "get.lua", "get"),
    Case("start", "a. POST /services/start", "post.lua", "post", writes={"service": "write"}),
    Case("start_ext", "b. POST /services/start + 3 extensions", "post.lua", "post_ext",
         writes={"service": "write"}),
    Case("read", "c. GET /services/<id>?extensions=...", "get.lua", "get"),
    Case("journey", "e. IVR journey (start, 2 states, 3 tasks, end)", "journey.lua", "journey",
         writes={"service": "service", "state": "state", "task": "task"}),
    Case("anonymous_active", "d. GET /services/anonymous/<key>/active (1M)", "get.lua", "get"),
    Case("customer_services", "d. GET /customers/<id>/services (1M)", "get.lua", "get"),
]
CASE_KEYS = [case.key for case in CASES]
