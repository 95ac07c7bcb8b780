"""Versioned migrations: a database made by an earlier build is brought up to date at start-up.

How it works
- The table `schema_version` holds one row per migration applied (its version and when).
- A new database gets every table at its latest definition, and every version is recorded
  as applied without running it.
- A database that has our tables but no `schema_version` was made by the first build,
  before migrations existed: it is at version 0.
- At every start-up, under the schema lock (BEGIN IMMEDIATE on SQLite, a named lock on
  MySQL: `models.base.create_all_tables`), missing tables are created, then each migration
  above the database's version runs, in order, and is recorded as it finishes. Several
  workers starting at once wait for each other; the first runs the migrations, the others
  find them recorded. On MySQL DDL commits by itself, so a migration cut short (a killed
  process) runs again at the next start: write it so that running it twice is harmless.

Adding a migration (a table change in models/ needs one; a new table needs none)
1. Change the model, so that new databases get the new definition.
2. Write `def _name(db, migrator)`: bring a table of the previous definition to the new
   one, with playhouse.migrate's `migrate(migrator.add_column(...))` or plain SQL. Make it
   a no-op on a table that already has the new definition (`has_column` helps): a table
   created new by this start-up is created at its latest definition before migrations run.
3. Append `Migration(<next number>, "what it does", _name)` to MIGRATIONS. Never renumber
   or remove one that has shipped.
4. tests/test_migrations.py upgrades a database of the first build through every
   migration; extend its checks with what yours must keep or change.

Example:
    def _service_last_activity(db, migrator):
        if not has_column(db, "service", "last_activity_ms"):
            migrate(migrator.add_column("service", "last_activity_ms", pw.BigIntegerField(default=0)))
"""
import logging
import time
from dataclasses import dataclass
from typing import Callable

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate  # noqa: F401 - migrate is for migrations

from models.base import ALL_TABLES, database, exact_collation, mysql_table_settings, now_ms

logger = logging.getLogger(__name__)


class SchemaVersion(pw.Model):
    """One row per migration applied. Not in ALL_TABLES: emptying the tables of a database
    (as tests do) must not make it look older than it is."""
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_ms = pw.BigIntegerField()

    class Meta:
        database = database
        table_name = "schema_version"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable          # apply(db, migrator)


def has_column(db, table, column):
    return any(existing.name == column for existing in db.get_columns(table))


def _exact_identity(db, migrator):
    """MySQL/MariaDB: every text column compares exactly (binary, NO PAD), as on SQLite."""
    if not isinstance(db, pw.MySQLDatabase):
        return          # SQLite's default BINARY collation is exact already
    collation = exact_collation(db)
    for table in _tables_with_other_collations(db, collation):
        db.execute_sql(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}")


def _tables_with_other_collations(db, collation):
    rows = db.execute_sql(
        "SELECT DISTINCT table_name FROM information_schema.columns"
        " WHERE table_schema = DATABASE() AND collation_name IS NOT NULL AND collation_name <> %s",
        (collation,)).fetchall()
    ours = {model._meta.table_name for model in ALL_TABLES}
    return sorted(name for (name,) in rows if name in ours)


def _service_last_activity(db, migrator):
    """service.last_activity_ms and its index, filled from what the rows tell of past writes.

    A completed service's last activity is its completion; an active one's is the latest
    start or end of itself, its states and its tasks (writes of extension values left no
    time behind, so an active service may look idle a little earlier than it was).
    """
    if not has_column(db, "service", "last_activity_ms"):
        migrate(migrator.add_column("service", "last_activity_ms", pw.BigIntegerField(null=True)))
    db.execute_sql("UPDATE service SET last_activity_ms = completed_ms"
                   " WHERE last_activity_ms IS NULL AND completed_ms IS NOT NULL")
    db.execute_sql("UPDATE service SET last_activity_ms = started_ms WHERE last_activity_ms IS NULL")
    for table in ("state", "task"):
        for column in ("started_ms", "completed_ms"):
            latest = f"(SELECT MAX(child.{column}) FROM {table} child WHERE child.service_id = service.id)"
            db.execute_sql(f"UPDATE service SET last_activity_ms = {latest}"
                           f" WHERE completed_ms IS NULL AND {latest} > last_activity_ms")
    if "service_completed_ms_last_activity_ms" not in {index.name for index in db.get_indexes("service")}:
        migrate(migrator.add_index("service", ("completed_ms", "last_activity_ms"), False))


def _schema_tombstones(db, migrator):
    """extension_schema.deleted_ms: a deleted schema is marked, its rows removed later in batches."""
    if not has_column(db, "extension_schema", "deleted_ms"):
        migrate(migrator.add_column("extension_schema", "deleted_ms", pw.BigIntegerField(null=True)))


# The first build with profiles indexed identification_value's two foreign keys on their own;
# each key already leads one of the table's composite indexes, which serve it as well.
_REDUNDANT_IDENTIFICATION_INDEXES = ("identification_value_key_id", "identification_value_profile_id")


def _lean_identification_indexes(db, migrator):
    """identification_value loses its single-column indexes on key_id and profile_id."""
    if "identification_value" not in db.get_tables():
        return
    present = {index.name for index in db.get_indexes("identification_value")}
    for name in _REDUNDANT_IDENTIFICATION_INDEXES:
        if name in present:
            migrate(migrator.drop_index("identification_value", name))


MIGRATIONS = [
    Migration(1, "exact (binary, NO PAD) comparison of text on MySQL/MariaDB", _exact_identity),
    Migration(2, "service.last_activity_ms for idle auto-complete, with its index", _service_last_activity),
    Migration(3, "extension_schema.deleted_ms: a schema delete marks the row, maintenance removes it",
              _schema_tombstones),
    Migration(4, "identification_value without the indexes its composite indexes make redundant",
              _lean_identification_indexes),
]
LATEST_VERSION = MIGRATIONS[-1].version


def upgrade(db, create_missing):
    """Create missing tables and apply pending migrations; the caller holds the schema lock.

    create_missing(db) creates the tables of ALL_TABLES the database lacks. A database
    without any of our tables is new: it is recorded at LATEST_VERSION. Returns the
    versions applied by this call. Database errors propagate (nothing is recorded for a
    migration that failed).
    """
    existing = set(db.get_tables())
    is_new = not existing & {model._meta.table_name for model in ALL_TABLES}
    if SchemaVersion._meta.table_name not in existing:
        SchemaVersion._meta.table_settings = mysql_table_settings(db) if isinstance(db, pw.MySQLDatabase) else None
        db.create_tables([SchemaVersion], safe=True)
    create_missing(db)
    applied = {version for (version,) in SchemaVersion.select(SchemaVersion.version).tuples()}
    if is_new and not applied:
        _record(MIGRATIONS)
        return []
    pending = [migration for migration in MIGRATIONS if migration.version not in applied]
    for migration in pending:
        _apply(db, migration)
    return [migration.version for migration in pending]


def _apply(db, migration):
    began = time.monotonic()
    logger.info("schema migration %d (%s) starting", migration.version, migration.name)
    migration.apply(db, SchemaMigrator.from_database(db))
    _record([migration])
    logger.info("schema migration %d applied in %.1f s", migration.version, time.monotonic() - began)


def _record(migrations):
    SchemaVersion.insert_many([{"version": migration.version, "name": migration.name, "applied_ms": now_ms()}
                               for migration in migrations]).execute()


def current_version():
    """The highest version recorded in the bound database (0: none)."""
    return SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar() or 0
