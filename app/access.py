"""The role each route needs (SPEC §11), declared where the views are and resolved once per app.

A blueprint declares its default with `default_roles(blueprint, read=..., write=...)` (GET,
HEAD and OPTIONS take `read`, every other method `write`); a view that differs says so with
`@requires(role)`. A route with neither has no role: tests/test_access.py walks the URL map
and fails on it, and at run time it is treated as `admin` (closed, never open).
"""
from app.config import ROLES

PUBLIC = "public"           # answers without credentials (GET /healthz)
DOCS = "docs"               # public with [auth] open_docs = true, else reader
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DECLARABLE = (*ROLES, PUBLIC, DOCS)


def _checked(role):
    if role not in _DECLARABLE:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(_DECLARABLE)}")
    return role


def default_roles(blueprint, *, read, write):
    """Give every route of blueprint the role read (GET, HEAD, OPTIONS) or write (other methods)."""
    blueprint.required_roles = {"read": _checked(read), "write": _checked(write)}
    return blueprint


def requires(role):
    """View decorator: this view needs role, whatever its blueprint's default."""
    _checked(role)

    def mark(view):
        view.required_role = role
        return view
    return mark


def declared_role(app, endpoint, method):
    """The role declared for endpoint and method, or None when nothing declares one."""
    view = app.view_functions.get(endpoint)
    role = getattr(view, "required_role", None)
    if role is None:
        blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
        defaults = getattr(blueprint, "required_roles", None)
        if defaults is not None:
            role = defaults["read" if method in READ_METHODS else "write"]
    return role


def role_table(app, *, open_docs):
    """{(endpoint, method): role} of every route, DOCS resolved; undeclared routes need admin."""
    table = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods:
            role = declared_role(app, rule.endpoint, method) or "admin"
            if role == DOCS:
                role = PUBLIC if open_docs else "reader"
            table[(rule.endpoint, method)] = role
    return table


def has_role(user_role, needed):
    return ROLES.index(user_role) >= ROLES.index(needed)
