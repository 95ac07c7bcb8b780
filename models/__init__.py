"""Peewee tables of the server; bound to a database at start-up through `database`."""
from models.base import database, BaseModel, now_ms, create_all_tables, ALL_TABLES
from models.server import AuthFailure, ServerSetting, WorkerLease
from models.context import Service, State, Task
from models.extensions import ExtensionSchema, ExtensionRecord, ExtensionUniqueKey
from models.profiles import Profile, IdentificationKey, IdentificationValue

__all__ = [
    "database", "BaseModel", "now_ms", "create_all_tables", "ALL_TABLES",
    "AuthFailure", "ServerSetting", "WorkerLease", "Service", "State", "Task",
    "ExtensionSchema", "ExtensionRecord", "ExtensionUniqueKey",
    "Profile", "IdentificationKey", "IdentificationValue",
]
