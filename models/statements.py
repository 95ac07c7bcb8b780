"""Hot statements with their SQL text made once and reused.

Building a statement through peewee's query objects costs more than executing it on
SQLite, and every request runs a few. The text depends only on the query's shape (table,
columns, row or parameter count) and the database's quoting, so it is compiled once per
shape and executed with new parameters. Queries are still written with peewee: a builder
takes `P`, the database's parameter mark, and uses it wherever a value goes.
"""
from collections import namedtuple
from functools import lru_cache

import peewee as pw

from models.base import database


@lru_cache(maxsize=512)
def _insert_sql(model, columns, row_count, quote, param):
    table = f"{quote[0]}{model._meta.table_name}{quote[1]}"
    names = ", ".join(f"{quote[0]}{model._meta.fields[name].column_name}{quote[1]}" for name in columns)
    values = "(" + ", ".join([param] * len(columns)) + ")"
    return f"INSERT INTO {table} ({names}) VALUES " + ", ".join([values] * row_count)


def insert(model, row):
    """Insert one row (field name -> value, already in database form); return its row ID."""
    db = database.obj
    sql = _insert_sql(model, tuple(row), 1, db.quote, db.param)
    return database.execute_sql(sql, tuple(row.values())).lastrowid


# SQLite refuses a statement with more parameters than its SQLITE_MAX_VARIABLE_NUMBER: 999
# before 3.32, 32766 after, more in some builds. Statements stay under the smallest, so a
# value with many records is stored instead of failing (as "database unavailable").
MAX_PARAMETERS = 999


def insert_many(model, rows):
    """Insert rows that all name the same fields: one statement, or several for many rows."""
    if not rows:
        return
    db = database.obj
    columns = tuple(rows[0])
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    for first in range(0, len(rows), per_statement):
        chunk = rows[first:first + per_statement]
        sql = _insert_sql(model, columns, len(chunk), db.quote, db.param)
        database.execute_sql(sql, tuple(value for row in chunk for value in row.values()))


@lru_cache(maxsize=512)
def _compiled(builder, shape, db_class, param):
    mark = pw.SQL(param)
    query = builder(mark, *shape)
    sql, params = query.sql()
    if params:
        raise ValueError(f"{builder.__name__} binds literal values; use the parameter mark instead")
    return sql


def compiled_sql(builder, *shape):
    """The SQL text of the query builder(P, *shape) returns, for the bound database."""
    db = database.obj
    return _compiled(builder, shape, type(db), db.param)


def execute(builder, params, *shape):
    """Run the query builder(P, *shape) returns, with params in the order the marks appear."""
    return database.execute_sql(compiled_sql(builder, *shape), params)


@lru_cache(maxsize=64)
def row_type(model):
    """A light row class with one attribute per column, in the order model.select() reads them."""
    return namedtuple(f"{model.__name__}Row", [field.column_name for field in model._meta.sorted_fields])


def select_rows(model, builder, params, *shape):
    """Rows of model.select()-shaped queries as row_type(model) tuples."""
    make = row_type(model)._make
    return [make(values) for values in execute(builder, params, *shape).fetchall()]
