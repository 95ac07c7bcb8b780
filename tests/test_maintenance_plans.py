"""The maintenance run finds its services by an index range scan, not by reading the table."""
import peewee as pw
import pytest

from app.services import maintenance
from models import Service, database

NOW = 1_800_000_000_000
DAY_MS = maintenance.DAY_MS


@pytest.fixture
def many_services(app):
    """5,000 services over 500 days, a tenth of them active."""
    rows = [{"id": n + 1, "customer_id": f"c{n % 200}", "service_type": n % 3, "started_ms": NOW - n * DAY_MS // 10,
             "start_context": "{}", "last_activity_ms": NOW - n * DAY_MS // 10,
             "completed_ms": None if n % 10 == 0 else NOW - n * DAY_MS // 10 + 5}
            for n in range(5000)]
    with database.connection_context():
        with database.atomic():
            for start in range(0, len(rows), 500):
                Service.insert_many(rows[start:start + 500]).execute()
        database.execute_sql("ANALYZE TABLE service" if isinstance(database.obj, pw.MySQLDatabase) else "ANALYZE")
    return app


JOBS = {
    "auto-complete": maintenance.AutoComplete(3600),
    "retention": maintenance.Purge("purged", maintenance.retention_conditions(
        maintenance.Policy(completed_days=30))[0]),
    "retention of one type": maintenance.Purge("purged", maintenance.retention_conditions(
        maintenance.Policy(completed_days=30, retention_by_type={1: 60}))[0]),
}


@pytest.mark.parametrize("name", list(JOBS))
def test_a_batch_selects_its_services_by_a_range_of_the_maintenance_index(many_services, name):
    query = Service.select(Service.id).where(JOBS[name].condition(NOW)).limit(1000)
    with database.connection_context():
        sql, params = query.sql()
        if isinstance(database.obj, pw.MySQLDatabase):
            cursor = database.execute_sql("EXPLAIN " + sql, params)
            plan = [dict(zip([column[0].lower() for column in cursor.description], row)) for row in cursor]
            assert plan[0]["key"] == "service_completed_ms_last_activity_ms", plan
            assert plan[0]["type"] == "range", plan
        else:
            details = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            assert any("USING COVERING INDEX service_completed_ms_last_activity_ms (" in detail
                       or "USING INDEX service_completed_ms_last_activity_ms (" in detail for detail in details), details
