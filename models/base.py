"""The database proxy every model binds to, and idempotent table creation."""
import contextlib
import time

import peewee as pw

from models.schema_lease import schema_lease

database = pw.DatabaseProxy()

# Filled by the model modules as they are imported, in dependency order.
ALL_TABLES = []


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):   # _Name: shared columns, not a table
            ALL_TABLES.append(cls)


class LongTextField(pw.TextField):
    """Text without MySQL's 64 KiB TEXT limit (LONGTEXT); SQLite reads the type as TEXT.

    For JSON whose size only the request body limit bounds: a value over 64 KiB in a TEXT
    column is refused by MySQL in strict mode and cut short without it.
    """
    field_type = "LONGTEXT"


def now_ms():
    return int(time.time() * 1000)


def create_all_tables(db):
    """Create missing tables and bring an older database up to date; safe when several
    processes start at once.

    SQLite runs DDL inside a write transaction (BEGIN IMMEDIATE serialises the creators);
    MySQL has no transactional DDL, so a named lock and a cluster-wide lease
    (models/schema_lease.py) serialise them instead.
    Raises pw.OperationalError when the lock cannot be had within SCHEMA_LOCK_TIMEOUT_S.
    """
    from models.migrations import upgrade      # migrations import this module
    if isinstance(db, pw.MySQLDatabase):
        # GET_LOCK queues the processes of one server; the lease (a row) also holds across
        # the nodes of a Galera cluster, where GET_LOCK locks a single node.
        with (schema_lock(db),
              schema_lease(db, timeout_s=SCHEMA_LOCK_TIMEOUT_S, table_settings=mysql_table_settings(db))):
            upgrade(db, _create_missing)
    else:
        with db.atomic():
            upgrade(db, _create_missing)


SCHEMA_LOCK = "context_services_schema"
# A stuck holder turns into an error (and a retry at the next request) rather than a hang.
SCHEMA_LOCK_TIMEOUT_S = 60


@contextlib.contextmanager
def schema_lock(db):
    """Hold MySQL's named schema lock; pw.OperationalError when another holds it too long."""
    taken = db.execute_sql("SELECT GET_LOCK(%s, %s)", (SCHEMA_LOCK, SCHEMA_LOCK_TIMEOUT_S)).fetchone()[0]
    if taken != 1:
        raise pw.OperationalError(f"the schema lock was not free within {SCHEMA_LOCK_TIMEOUT_S} s")
    try:
        yield
    finally:
        db.execute_sql("SELECT RELEASE_LOCK(%s)", (SCHEMA_LOCK,))


def exact_collation(db):
    """The binary NO PAD collation of utf8mb4 that this MySQL or MariaDB server has.

    Identity must compare exactly, as on SQLite: "bob" and "bob " are two customers. The
    binary collations compare bytes but PAD SPACE ignores trailing spaces; MariaDB's
    utf8mb4_nopad_bin and MySQL 8's utf8mb4_0900_bin do not.
    """
    for name in ("utf8mb4_nopad_bin", "utf8mb4_0900_bin"):
        if db.execute_sql("SHOW COLLATION LIKE %s", (name,)).fetchone():
            return name
    raise pw.OperationalError("the MySQL server has no NO PAD binary collation for utf8mb4 "
                              "(MariaDB >= 10.2 or MySQL >= 8.0 is needed)")


def mysql_table_settings(db):
    # A MySQL table takes the database's default character set unless told otherwise, and a
    # latin1 default refuses most of the world's text.
    return ("ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", f"COLLATE={exact_collation(db)}")


def _create_missing(db):
    """Create the tables of ALL_TABLES that the database lacks, at their latest definition;
    return the names of those created."""
    existing = set(db.get_tables())
    missing = [model for model in ALL_TABLES if model._meta.table_name not in existing]
    if missing:
        # Set for every creation, SQLite included: the models are shared by whatever
        # database a process binds them to (tests bind both in turn).
        settings = mysql_table_settings(db) if isinstance(db, pw.MySQLDatabase) else None
        for model in missing:
            model._meta.table_settings = settings
        db.create_tables(missing, safe=True)
    for model in ALL_TABLES:
        after_create = getattr(model, "after_create", None)
        if after_create is not None:
            after_create()
    return [model._meta.table_name for model in missing]
