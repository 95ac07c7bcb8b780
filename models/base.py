"""The database proxy every model binds to, and idempotent table creation."""
import time

import peewee as pw

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
    """Create missing tables and indexes; safe when several processes start at once.

    SQLite runs DDL inside a write transaction (BEGIN IMMEDIATE serialises the creators);
    MySQL has no transactional DDL, so a named lock serialises them instead.
    """
    if isinstance(db, pw.MySQLDatabase):
        db.execute_sql("SELECT GET_LOCK('context_services_schema', 60)")
        try:
            _create_missing(db)
        finally:
            db.execute_sql("SELECT RELEASE_LOCK('context_services_schema')")
    else:
        with db.atomic():
            _create_missing(db)


# A MySQL table takes the database's default character set unless told otherwise, and a
# latin1 default refuses most of the world's text. The binary collation compares strings as
# SQLite does: exactly, so customer_id "ab" and "AB" stay two customers on both databases.
MYSQL_TABLE_SETTINGS = ("ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_bin")


def _create_missing(db):
    existing = set(db.get_tables())
    missing = [model for model in ALL_TABLES if model._meta.table_name not in existing]
    if missing:
        # Set for every creation, SQLite included: the models are shared by whatever
        # database a process binds them to (tests bind both in turn).
        mysql = isinstance(db, pw.MySQLDatabase)
        for model in missing:
            model._meta.table_settings = (getattr(model._meta, "mysql_table_settings", MYSQL_TABLE_SETTINGS)
                                          if mysql else None)
        db.create_tables(missing, safe=True)
    for model in ALL_TABLES:
        after_create = getattr(model, "after_create", None)
        if after_create is not None:
            after_create()
