"""What is measured: the request bodies, the extension schemas they need, and the list of cases."""
import copy
from dataclasses import dataclass, field

from tests.vendor import EXTENSION_SCHEMAS, START_EXAMPLE

# SPEC §3.1: the vendor's example and its three extension schemas, as the tests use them.
VENDOR_EXAMPLE = START_EXAMPLE
EXTENSION_NAMES = tuple(schema["name"] for schema in EXTENSION_SCHEMAS)
# One service's records under the three extensions: coupon 1, satisfaction 1, relatedOffers 3.
EXTENSION_RECORDS_PER_START = 5


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
    # Run on a second server with [auth] mode = basic, compared with this case of the same run.
    with_auth_of: str = None


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
    # Same run, same database: Start Service on the server as configured (metrics and access
    # log on) and on a twin with both off, alternately; its ratio is on / off, not to the baseline.
    Case("observability", "a. start: metrics+access log on / off", "post.lua", "post"),
    Case("start_basic", "a. POST /services/start, [auth] mode = basic", "post.lua", "post",
         writes={"service": "write"}, with_auth_of="start"),
    Case("start_ext", "b. POST /services/start + 3 extensions", "post.lua", "post_ext",
         writes={"service": "write"}),
    Case("read", "c. GET /services/<id>?extensions=...", "get.lua", "get"),
    Case("journey", "e. IVR journey (start, 2 states, 3 tasks, end)", "journey.lua", "journey",
         writes={"service": "service", "state": "state", "task": "task"}),
    Case("anonymous_active", "d. GET /services/anonymous/<key>/active (1M)", "get.lua", "get"),
    Case("customer_services", "d. GET /customers/<id>/services (1M)", "get.lua", "get"),
    Case("create_profile", "f. POST /profiles (Create Customer)", "post.lua", "post", writes={"profile": "write"}),
    Case("identify", "g. GET /profiles?PhoneNumber= (1M profiles)", "get.lua", "get"),
    Case("identify_profile", "g. GET /profiles?PhoneNumber=&include_profile=yes (1M)", "get.lua", "get"),
]
CASE_KEYS = [case.key for case in CASES]
