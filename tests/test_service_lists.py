"""Customer and anonymous service lists (SPEC §3.5), and the indexes that serve them."""
import peewee as pw
import pytest

from app.services.services import services_query
from models import Service, database
from tests.calls import error_of, ok, start_service

T0 = "2026-03-01T10:00:00"


def at(second):
    return f"{T0[:-2]}{second:02d}Z"


def ids(response):
    return [service["service_id"] for service in ok(response)]


@pytest.fixture
def history(client):
    """c1's services started at seconds 0..4 (the ones at 1 and 3 completed), plus others' services."""
    started = [start_service(client, customer_id="c1", timestamp=at(second)) for second in range(5)]
    for second in (1, 3):
        ok(client.post(f"/services/{started[second]}/end", json={"timestamp": at(second + 30)}))
    start_service(client, customer_id="c2", timestamp=at(2))
    start_service(client, contact_key="c1", timestamp=at(2))     # a contact key is not a customer
    return started


def test_a_customers_list_is_newest_first_and_only_theirs(client, history):
    assert ids(client.get("/customers/c1/services")) == history[::-1]


def test_active_and_completed_lists_split_the_customers_services(client, history):
    assert ids(client.get("/customers/c1/services/active")) == [history[4], history[2], history[0]]
    assert ids(client.get("/customers/c1/services/completed")) == [history[3], history[1]]


def test_services_started_at_the_same_time_come_newest_id_first(client):
    first = start_service(client, customer_id="c1", timestamp=at(0))
    second = start_service(client, customer_id="c1", timestamp=at(0))
    assert second > first
    assert ids(client.get("/customers/c1/services")) == [second, first]


def test_started_from_is_inclusive_and_started_to_exclusive(client, history):
    response = client.get(f"/customers/c1/services?started_from={at(1)}&started_to={at(3)}")
    assert ids(response) == [history[2], history[1]]
    assert ids(client.get(f"/customers/c1/services/completed?started_from={at(3)}")) == [history[3]]
    assert ids(client.get(f"/customers/c1/services?started_to={at(1)}")) == [history[0]]


def test_time_window_accepts_offsets_and_an_empty_window_is_an_empty_list(client, history):
    assert ids(client.get("/customers/c1/services?started_from=2026-03-01T12:00:04%2B02:00")) == [history[4]]
    assert ok(client.get(f"/customers/c1/services?started_from={at(4)}&started_to={at(1)}")) == []


def test_limit_and_offset_page_through_the_list(client, history):
    pages = [ids(client.get(f"/customers/c1/services?limit=2&offset={offset}")) for offset in (0, 2, 4, 6)]
    assert pages == [history[4:2:-1], history[2:0:-1], history[:1], []]
    assert ok(client.get("/customers/c1/services?limit=0")) == []


def test_max_list_is_the_default_limit_and_more_is_refused(make_app):
    client = make_app(api={"max_list": 3}).test_client()
    for second in range(4):
        start_service(client, customer_id="c1", timestamp=at(second))
    assert len(ok(client.get("/customers/c1/services"))) == 3
    assert len(ok(client.get("/customers/c1/services?limit=3&offset=3"))) == 1
    error = error_of(client.get("/customers/c1/services?limit=4"))
    assert error["error_code"] == "INVALID_PARAMETER" and "limit" in error["fields"]
    assert "3" in error["message"]


@pytest.mark.parametrize("query, field", [
    ("limit=-1", "limit"), ("limit=ten", "limit"), ("limit=1.5", "limit"),
    ("offset=-1", "offset"), ("offset=99999999999", "offset"),
    ("started_from=yesterday", "started_from"), ("started_to=2026-13-01T00:00:00Z", "started_to"),
])
def test_bad_list_parameters_are_refused_naming_them(client, query, field):
    error = error_of(client.get(f"/customers/c1/services?{query}"))
    assert error["error_code"] == "INVALID_PARAMETER"
    assert field in error["fields"]


@pytest.mark.parametrize("query", ["active_states=maybe", "extensions=nosuch"])
def test_bad_nesting_parameters_are_refused(client, query):
    assert error_of(client.get(f"/services/anonymous/k?{query}"))["error_code"] in ("INVALID_PARAMETER",
                                                                                    "UNKNOWN_EXTENSION")


def test_nothing_listed_is_an_empty_array(client):
    assert ok(client.get("/customers/nobody/services/active")) == []
    assert ok(client.get("/services/anonymous/nobody/completed")) == []


def test_anonymous_lists_hold_only_services_without_a_customer(client):
    anonymous = start_service(client, contact_key="+15550199", timestamp=at(0))
    identified = start_service(client, contact_key="+15550199", timestamp=at(1))
    start_service(client, customer_id="c1", contact_key="+15550199", timestamp=at(2))
    ok(client.post(f"/customers/c7/services/{identified}"))
    assert ids(client.get("/services/anonymous/+15550199")) == [anonymous]
    assert ids(client.get("/services/anonymous/+15550199/active")) == [anonymous]
    assert ok(client.get("/services/anonymous/+15550199/completed")) == []
    assert ids(client.get("/customers/c7/services")) == [identified]


def test_anonymous_lists_filter_status_time_and_page_like_customer_lists(client):
    started = [start_service(client, contact_key="k", timestamp=at(second)) for second in range(4)]
    ok(client.post(f"/services/{started[2]}/end"))
    assert ids(client.get("/services/anonymous/k/completed")) == [started[2]]
    assert ids(client.get("/services/anonymous/k/active")) == [started[3], started[1], started[0]]
    assert ids(client.get(f"/services/anonymous/k?started_from={at(1)}&limit=2&offset=1")) == [started[2],
                                                                                              started[1]]


def test_lists_nest_lists_and_extension_values_as_a_read_does(client):
    client.post("/metadata/services/extensions", json={
        "name": "note", "type": "single-valued", "attributes": [{"name": "text", "type": "string"}]})
    service_id = start_service(client, contact_key="k", note={"text": "hello"})
    query = "active_states=true&completed_tasks=true&extensions=note"
    listed = ok(client.get(f"/services/anonymous/k?{query}"))
    assert listed == [ok(client.get(f"/services/{service_id}?{query}"))]
    assert listed[0]["note"] == {"text": "hello"}
    assert listed[0]["active_states"] == [] and listed[0]["completed_tasks"] == []


def test_a_contact_key_longer_than_64_characters_is_refused(client):
    error = error_of(client.get(f"/services/anonymous/{'k' * 65}"))
    assert "contact_key" in error["fields"]


def test_a_customer_id_longer_than_16_characters_is_refused_in_lists(client):
    assert "customer_id" in error_of(client.get(f"/customers/{'c' * 17}/services/active"))["fields"]


# --- the indexes -----------------------------------------------------------------------

LISTS = {
    "customer all": ({"customer_id": "c42"}, "service_customer_id_started_ms"),
    "customer active": ({"customer_id": "c42", "status": "active"}, "service_customer_id_completed_ms_started_ms"),
    "customer completed": ({"customer_id": "c42", "status": "completed"}, "service_customer_id_started_ms"),
    "customer window": ({"customer_id": "c42", "started_from": 1, "started_to": 2**40},
                        "service_customer_id_started_ms"),
    "anonymous all": ({"contact_key": "k42"}, "service_contact_key_customer_id_started_ms"),
    "anonymous active": ({"contact_key": "k42", "status": "active"},
                         "service_contact_key_customer_id_completed_ms_started_ms"),
    "anonymous completed": ({"contact_key": "k42", "status": "completed"},
                            "service_contact_key_customer_id_started_ms"),
}


@pytest.fixture
def many_services(app):
    """4,000 services over 200 customers and 400 contact keys, a tenth of them active."""
    rows = [{"id": n + 1, "customer_id": None if n % 3 == 0 else f"c{n % 200}", "contact_key": f"k{n % 400}",
             "service_type": 1, "started_ms": 1767225600000 + n * 1000, "start_context": "{}",
             "completed_ms": None if n % 10 == 0 else 1767225600000 + n * 1000 + 5}
            for n in range(4000)]
    with database.connection_context():
        with database.atomic():
            for start in range(0, len(rows), 500):
                Service.insert_many(rows[start:start + 500]).execute()
        database.execute_sql("ANALYZE TABLE service" if isinstance(database.obj, pw.MySQLDatabase) else "ANALYZE")
    return app


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_reads_its_index_in_list_order_without_sorting(many_services, name):
    criteria, index = LISTS[name]
    with database.connection_context():
        sql, params = services_query(limit=1000, **criteria)
        if isinstance(database.obj, pw.MySQLDatabase):
            cursor = database.execute_sql("EXPLAIN " + sql, params)
            plan = [dict(zip([column[0].lower() for column in cursor.description], row)) for row in cursor]
            assert len(plan) == 1
            assert plan[0]["key"] == index, plan
            assert "filesort" not in (plan[0]["extra"] or "").lower(), plan
        else:
            details = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            assert any(f"USING INDEX {index} " in detail for detail in details), details
            assert not any("TEMP B-TREE" in detail for detail in details), details
