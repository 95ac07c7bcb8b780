"""Real request/answer pairs for docs/API.md, recorded through the Flask test client, and its generated tables.

    python -m tests.api_examples            # exit 1 when docs/API.md is not what a run gives now
    python -m tests.api_examples --write    # rewrite the generated parts of docs/API.md

docs/API.md holds `<!-- example: KEY -->` ... `<!-- /example -->` blocks and
`<!-- generated: NAME -->` ... `<!-- /generated -->` tables; everything else in it is prose
that this module leaves alone. Service IDs and the figures of /server/status differ from run
to run; `normalise` sets them aside when a test compares the file with a new run.
"""
import http
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from app import create_app
from app.config import SCHEMA, build_settings, read_sections, render_value
from schemas.errors import ERROR_CODES
from tests.vendor import EXTENSION_SCHEMAS, START_EXAMPLE_WITH_TRAILING_COMMAS, start_example

API_MD = Path(__file__).resolve().parent.parent / "docs" / "API.md"
SHOWN_HEADERS = ("Location", "Allow", "Retry-After")
# The configuration the examples run under: the file docs/API.md tells readers to start with.
EXAMPLE_CONFIG = API_MD.parent / "examples" / "config.ini"
CONFIG = read_sections(EXAMPLE_CONFIG)
CHECKPOINTS = {"name": "checkpoints", "type": "multi-valued", "unique": ["code"],
               "attributes": [{"name": "code", "type": "string", "length": "8", "mandatory": "true"},
                              {"name": "passed", "type": "boolean", "default": "false"}]}
T = "2026-03-02T10:{:02d}:{:02d}.000Z"
JOURNEY = "/services/{journey_id}"
# Options that change what the API answers, for the generated table.
API_OPTIONS = (("api", "base_path"), ("api", "max_body_bytes"), ("api", "max_list"), ("extensions", "mode"),
               ("extensions", "refresh_seconds"), ("extensions", "max_schemas"), ("extensions", "max_attributes"),
               ("extensions", "max_string_length"), ("extensions", "max_records"),
               ("extensions", "max_value_bytes"), ("ids", "layout"), ("ids", "max_clock_skew_ms"),
               ("business-attributes", "map_names"), ("auth", "mode"), ("auth", "open_docs"),
               ("auth", "cache_seconds"), ("auth", "max_failures_per_minute"), ("auth", "trusted_proxies"))


@dataclass(frozen=True)
class Step:
    key: str                        # the example's name in docs/API.md; None: a step not shown
    method: str
    url: str                        # may name values saved by earlier steps: {service_id}
    body: object = None             # dict: sent as JSON; str: sent as is, as text/plain
    save: dict = field(default_factory=dict)    # saved name -> key of the answer
    answer_shown: bool = True       # False: status and headers only (large or non-JSON answers)


@dataclass(frozen=True)
class Example:
    step: Step
    url: str
    status: int
    headers: dict
    answer: object
    error_code: str = None

    def render(self):
        lines = ["```http", f"{self.step.method} {self.url}"]
        if isinstance(self.step.body, str):
            lines += ["Content-Type: text/plain", "", self.step.body]
        elif self.step.body is not None:
            lines += ["Content-Type: application/json", "", json.dumps(self.step.body, indent=2, ensure_ascii=False)]
        lines += ["```", "", "```http", f"HTTP/1.1 {self.status} {http.HTTPStatus(self.status).phrase}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.answer is not None:
            lines += ["", self.answer if isinstance(self.answer, str) else
                      json.dumps(self.answer, indent=2, ensure_ascii=False)]
        lines.append("```")
        return "\n".join(lines)


def scenario():
    """The steps, in order; each later one may use what earlier ones saved."""
    coupon, satisfaction, related_offers = EXTENSION_SCHEMAS
    return [
        # Extension schemas
        Step("create_extension", "POST", "/metadata/services/extensions", coupon),
        Step("create_extension-satisfaction", "POST", "/metadata/services/extensions", satisfaction),
        Step("create_extension-multi", "POST", "/metadata/services/extensions", related_offers),
        Step("create_extension-exists", "POST", "/metadata/services/extensions",
             {**coupon, "name": "COUPON"}),
        Step("create_extension-invalid", "POST", "/metadata/services/extensions",
             {"name": "9lives", "type": "single-valued", "attributes": [{"name": "x", "type": "text"}]}),
        Step("list_extensions", "GET", "/metadata/services/extensions"),
        Step("read_extension", "GET", "/metadata/services/extensions/relatedoffers"),
        # Services
        Step("start_service", "POST", "/services/start", start_example(), save={"service_id": "service_id"}),
        Step("start_service-anonymous", "POST", "/services/start",
             {"contact_key": "+33123456789", "service_type": "Support", "timestamp": "2026-03-02T09:15:00+01:00",
              "session_id": "S-2201"}, save={"anonymous_id": "service_id"}),
        Step("start_service-missing-contact", "POST", "/services/start", {"service_type": 100}),
        Step("start_service-invalid", "POST", "/services/start",
             {"customer_id": "c-1", "service_type": "Billing", "est_duration": -5,
              "coupon": {"coupon_name": 15}}),
        Step("start_service-trailing-commas", "POST", "/services/start", START_EXAMPLE_WITH_TRAILING_COMMAS),
        Step("read_service", "GET", "/services/{service_id}?extensions=coupon,satisfaction,relatedOffers"),
        Step("read_service-flags", "GET",
             "/services/{anonymous_id}?active_states=true&completed_states=true"),
        Step("read_service-unknown", "GET", "/services/1"),
        # Complete, associate, lists
        Step("complete_service", "POST", "/services/{service_id}/end?extensions=satisfaction",
             {"timestamp": "2009-05-12T12:09:40.020Z", "disposition": "Resolved", "disposition_desc": "offer accepted",
              "satisfaction": {"score": 92, "agentID": 2025}}),
        Step("complete_service-again", "POST", "/services/{service_id}/end", {}),
        Step("associate_service", "POST", "/customers/c-1001/services/{anonymous_id}",
             {"interaction_id": "CALL-77", "service_type": "Sales"}),
        Step(None, "POST", "/services/start",
             {"contact_key": "+33123456789", "service_type": 200, "timestamp": "2026-03-03T18:00:00Z"}),
        Step("list_anonymous_services", "GET", "/services/anonymous/+33123456789"),
        Step("list_anonymous_services-active", "GET", "/services/anonymous/42/active"),
        Step("list_anonymous_services-completed", "GET",
             "/services/anonymous/42/completed?started_from=2009-01-01T00:00:00Z&limit=10"),
        # States and tasks of one call
        Step("create_extension-states", "POST", "/metadata/states/extensions", CHECKPOINTS),
        Step(None, "POST", "/services/start",
             {"customer_id": "c-1001", "service_type": "Support", "interaction_id": "CALL-78",
              "timestamp": T.format(0, 0)}, save={"journey_id": "service_id"}),
        Step("start_state", "POST", JOURNEY + "/states/start",
             {"state_type": "Greeting", "timestamp": T.format(0, 1), "media_type": 1,
              "checkpoints": [{"code": "WELCOME", "passed": True}]}),
        Step("start_task", "POST", JOURNEY + "/tasks/start",
             {"task_type": 7, "state_id": 1, "est_duration": 20, "timestamp": T.format(0, 2)}),
        Step("start_task-unknown-state", "POST", JOURNEY + "/tasks/start",
             {"task_type": 7, "state_id": 9, "timestamp": T.format(0, 2)}),
        Step("read_task", "GET", JOURNEY + "/tasks/1"),
        Step("transition", "POST", JOURNEY + "/states/transition",
             {"from": {"state_id": 1, "disposition": "Resolved"}, "to": {"state_type": "Identify", "est_duration": 60},
              "timestamp": T.format(0, 30), "interaction_id": "CALL-78"}),
        Step("read_state", "GET", JOURNEY + "/states/1?completed_tasks=true&extensions=checkpoints"),
        Step("list_states", "GET", JOURNEY + "/states"),
        Step("list_states-active", "GET", JOURNEY + "/states/active?state_types=identify"),
        Step("list_states-completed", "GET", JOURNEY + "/states/completed"),
        Step(None, "POST", JOURNEY + "/tasks/start", {"task_type": 8, "state_id": 2, "timestamp": T.format(0, 31)}),
        Step("end_task", "POST", JOURNEY + "/tasks/2/end", {"disposition": "Resolved", "timestamp": T.format(0, 50)}),
        Step(None, "POST", JOURNEY + "/tasks/start", {"task_type": 9, "timestamp": T.format(0, 51)}),
        Step("list_tasks", "GET", JOURNEY + "/tasks?state_id=2"),
        Step("list_tasks-active", "GET", JOURNEY + "/tasks/active"),
        Step("list_tasks-completed", "GET", JOURNEY + "/tasks/completed?task_types=7,8"),
        Step("end_state", "POST", JOURNEY + "/states/2/end?active_tasks=true&completed_tasks=true",
             {"disposition": 10, "timestamp": T.format(1, 0)}),
        Step("end_task-too-early", "POST", JOURNEY + "/tasks/3/end", {"timestamp": T.format(0, 40)}),
        # Extension values
        Step("replace_value", "PUT", "/services/{service_id}/extensions/coupon", {"coupon_name": "DISCOUNTCODE20"}),
        Step("replace_value-state", "PUT", JOURNEY + "/states/2/extensions/checkpoints",
             [{"code": "PIN"}, {"code": "DOB", "passed": True}]),
        Step("update_record", "PUT", JOURNEY + "/states/2/extensions/checkpoints/by/unique",
             {"code": "PIN", "passed": True}),
        Step("update_record-not-found", "PUT", "/services/{service_id}/extensions/relatedOffers/by/unique",
             {"offer_name": "no such offer", "type": 1}),
        Step("delete_record", "PUT", "/services/{service_id}/extensions/relatedOffers/delete/by/unique",
             {"offer_name": "3 times payment GOLD"}),
        Step("read_service-values", "GET", "/services/{service_id}?extensions=coupon,relatedOffers"),
        Step("complete_service-cascade", "POST", JOURNEY + "/end?active_tasks=true&completed_tasks=true",
             {"timestamp": T.format(2, 0)}),
        Step("list_customer_services", "GET", "/customers/c-1001/services"),
        Step("list_customer_services-active", "GET", "/customers/c-1001/services/active"),
        Step("list_customer_services-completed", "GET", "/customers/c-1001/services/completed?limit=1"),
        # Business attributes
        Step("list_business_attributes", "GET", "/metadata/business-attributes"),
        Step("list_business_attributes-cv", "GET", "/metadata/business-attributes?cv-attribute=State.disposition"),
        Step("read_business_attribute", "GET", "/metadata/business-attributes/servicetype"),
        # Server
        Step("root", "GET", "/"),
        Step("healthz", "GET", "/healthz"),
        Step("status", "GET", "/server/status"),
        Step("metrics", "GET", "/metrics", answer_shown=False),
        Step("set_mode", "POST", "/server/mode", {"mode": "maintenance"}),
        Step("set_mode-refused", "POST", "/services/start", {"customer_id": "c-1", "service_type": 100}),
        Step(None, "POST", "/server/mode", {"mode": "production"}),
        Step("wrong_method", "PATCH", "/services/{service_id}"),
        # Data lifecycle
        Step(None, "POST", "/services/start", {"customer_id": "c-2002", "contact_key": "+33600000001",
                                               "service_type": "Sales"}, save={"doomed_id": "service_id"}),
        Step("delete_service", "DELETE", "/services/{doomed_id}"),
        Step("delete_service-again", "DELETE", "/services/{doomed_id}"),
        Step(None, "POST", "/services/start", {"customer_id": "c-2002", "service_type": "Support"}),
        Step(None, "POST", "/services/start", {"contact_key": "+33600000002", "service_type": "Support"}),
        Step("erase_customer", "DELETE", "/customers/c-2002?contact_keys=%2B33600000002,%2B33600000003"),
        Step("purge-dry-run", "POST", "/maintenance/purge?dry_run=true"),
        Step("purge-operation", "POST", "/maintenance/purge?max=1000",
             {"limit": "2010-01-01T00:00:00Z", "operation": "purge.service.completed"}),
        Step("purge-invalid", "POST", "/maintenance/purge",
             {"limit": "2010-01-01T00:00:00Z", "operation": "purge.everything"}),
        # Last, as it removes what the reads above show.
        Step("delete_extension", "DELETE", "/metadata/services/extensions/coupon"),
        # This document and its page
        Step("openapi", "GET", "/openapi.json", answer_shown=False),
        Step("page", "GET", "/docs", answer_shown=False),
        Step("page_with_slash", "GET", "/docs/", answer_shown=False),
        Step("asset", "GET", "/docs/swagger-ui.css", answer_shown=False),
    ]


def record(client):
    """[Example] of every step, run in order through `client`."""
    saved, examples = {}, []
    for step in scenario():
        url = step.url.format(**saved)
        kwargs = {"data": step.body, "content_type": "text/plain"} if isinstance(step.body, str) \
            else {"json": step.body} if step.body is not None else {}
        response = client.open(url, method=step.method, **kwargs)
        answer = response.get_json(silent=True) if response.mimetype == "application/json" else None
        for name, key in step.save.items():
            saved[name] = answer[key]
        error_code = answer["error"]["error_code"] if isinstance(answer, dict) and "error" in answer else None
        headers = {name: response.headers[name] for name in SHOWN_HEADERS if name in response.headers}
        if "Allow" in headers:      # Werkzeug lists a set: its order changes from process to process
            headers["Allow"] = ", ".join(sorted(item.strip() for item in headers["Allow"].split(",")))
        if not step.answer_shown:
            headers["Content-Type"] = response.headers["Content-Type"]
        examples.append(Example(step, url, response.status_code, headers,
                                answer if step.answer_shown else None, error_code))
    return examples


def example_client(database_path):
    raw = {**CONFIG, "database": {"url": f"sqlite:///{database_path}"}}
    return create_app(build_settings(raw, source="<examples>")).test_client()


# --- the generated tables ---------------------------------------------------------------

def routes_table(document):
    rows = ["| Method | Path | Operation | Role |", "|---|---|---|---|"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            rows.append(f"| {method.upper()} | `{path}` | {operation['summary']} | {operation['x-role']} |")
    return "\n".join(rows)


def error_codes_table():
    rows = ["| error_code | HTTP | When |", "|---|---|---|"]
    for code, (status, meaning) in sorted(ERROR_CODES.items(), key=lambda item: (item[1][0], item[0])):
        rows.append(f"| `{code}` | {status} | {meaning} |")
    return "\n".join(rows)


def options_table():
    rows = ["| Option | Default | Effect |", "|---|---|---|"]
    for section, name in API_OPTIONS:
        option = SCHEMA[section][name]
        default = render_value(option.default)
        rows.append(f"| `[{section}] {name}` | {f'`{default}`' if default else '(empty)'} | {option.help} |")
    return "\n".join(rows)


# --- docs/API.md ------------------------------------------------------------------------

_EXAMPLE = re.compile(r"(<!-- example: ([\w-]+) -->\n).*?(<!-- /example -->)", re.S)
_GENERATED = re.compile(r"(<!-- generated: ([\w-]+) -->\n).*?(<!-- /generated -->)", re.S)


def rewrite(text, examples, document):
    """text with every example block and generated table filled from this run."""
    by_key = {example.step.key: example for example in examples if example.step.key}
    tables = {"routes": routes_table(document), "error-codes": error_codes_table(), "options": options_table()}

    def example_block(match):
        return f"{match[1]}{by_key[match[2]].render()}\n{match[3]}"

    def generated_block(match):
        return f"{match[1]}{tables[match[2]]}\n{match[3]}"

    return _GENERATED.sub(generated_block, _EXAMPLE.sub(example_block, text))


def example_keys(text):
    """The KEY of every example block of text, in order."""
    return [key for _, key, _ in _EXAMPLE.findall(text)]


_VOLATILE = [
    (re.compile(r'"(rss_bytes|vms_bytes|peak_rss_bytes|pid)": \d+'), r'"\1": <n>'),
    (re.compile(r'"(started|system_time|last_request)": "[^"]*"'), r'"\1": "<time>"'),
]


def normalise(text):
    """text with what differs between runs replaced: service IDs (numbered by first appearance) and status figures."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    ids = {}
    return re.sub(r"\b[0-9]{10,20}\b", lambda match: ids.setdefault(match[0], f"<id{len(ids) + 1}>"), text)


def main(argv):
    with tempfile.TemporaryDirectory() as directory:
        client = example_client(Path(directory) / "examples.db")
        examples = record(client)
        document = client.get("/openapi.json").get_json()
    current = API_MD.read_text()
    fresh = rewrite(current, examples, document)
    current_enough = normalise(fresh) == normalise(current)
    if "--write" in argv:
        if not current_enough:      # else keep the IDs of the last run, so that diffs show changes only
            API_MD.write_text(fresh)
        return 0
    if not current_enough:
        print(f"{API_MD} is out of date: run python -m tests.api_examples --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
