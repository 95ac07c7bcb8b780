"""The application factory: config -> logging -> db -> ids -> errors -> blueprints."""
import logging
from dataclasses import dataclass

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from app.auth import install as install_auth
from app.config import Settings, redact
from app.db import (database_kind, discard_connection, drop_moved_database_file, ensure_tables, init_database,
                    UNAVAILABLE_ERRORS, WriteOutcomeUnknown)
from app.errors import register_error_handlers, DatabaseUnavailable
from app.ids import LAYOUTS, IdUnavailable, LeasedIdSource
from app.metadata import build_metadata
from app.version import server_version
from app.retry import CONNECTION_LOST, RetryCounter, retry_reason, run_with_retries
from app.services.business_attributes import BusinessAttributes
from app.services.extension_registry import ExtensionRegistry
from app.services.identification_keys import IdentificationKeys
from app.services.presenters import Presenter
from app.services.server_mode import ServerMode
from app.stats import RequestStats
from app import metrics, telemetry
from models import WorkerLease
from schemas.events import EventSchemas
from schemas.profiles import CoreProfile

logger = logging.getLogger(__name__)


class CompactJSONProvider(DefaultJSONProvider):
    sort_keys = False       # resources keep the field order of the SPEC
    compact = True
    ensure_ascii = False

    def dumps(self, obj, **kwargs):
        # `compact` reaches jsonify only; answers serialised here first (the lists and reads held
        # to max_response_bytes) must come out the same.
        kwargs.setdefault("separators", (",", ":"))
        return super().dumps(obj, **kwargs)


class ContextServicesApp(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_functions = {}

    def ensure_sync(self, func):
        """Flask's answer, remembered per function: Flask asks inspect whether the view and
        each hook is a coroutine function on every request, a cost paid about ten times per
        request for an answer that never changes."""
        try:
            return self._sync_functions[func]
        except KeyError:
            return self._sync_functions.setdefault(func, super().ensure_sync(func))

    def dispatch_request(self):
        """The view, run again when the database refused its transaction for a deadlock or a
        lock wait (app/retry.py): one place for every route, outside the service functions."""
        runtime = self.extensions["context_services"]
        return run_with_retries(super().dispatch_request, counter=runtime.retries)


@dataclass
class Runtime:
    """What the views need besides the request: settings and the per-process collaborators."""
    settings: Settings
    db: object
    ids: LeasedIdSource
    mode: ServerMode
    stats: RequestStats
    business_attributes: BusinessAttributes
    registry: ExtensionRegistry
    events: EventSchemas
    presenter: Presenter
    retries: RetryCounter
    core: CoreProfile
    keys: IdentificationKeys
    tables_ready: bool = False
    authenticator: object = None        # app.auth.Authenticator with [auth] mode = basic

    @property
    def database_kind(self):
        return database_kind(self.db)


def create_app(settings):
    logging.basicConfig(level=settings["logging"]["level"].upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    # No static folder: /static/<path> would be a route that serves nothing, guarded by no role.
    app = ContextServicesApp(__name__, static_folder=None)
    app.json = CompactJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings["api"]["max_body_bytes"]

    runtime = _build_runtime(settings, init_database(settings))
    app.extensions["context_services"] = runtime

    register_error_handlers(app, database_errors=UNAVAILABLE_ERRORS,
                            discard_connection=_discard_unless_retryable, id_errors=(IdUnavailable,),
                            outcome_unknown_errors=(WriteOutcomeUnknown,))
    runtime.authenticator = install_auth(app, settings)
    _register_request_hooks(app, runtime)
    telemetry.install(app, runtime)

    from app.api import register_blueprints
    register_blueprints(app, settings["api"]["base_path"])
    _log_start(settings, runtime)
    return app


def _build_runtime(settings, db):
    """The per-process collaborators of the views, each built from its part of the settings."""
    observed = settings["metrics"]["enabled"]
    ids = LeasedIdSource(WorkerLease, LAYOUTS[settings["ids"]["layout"]],
                         lease_seconds=settings["ids"]["lease_seconds"],
                         max_clock_skew_ms=settings["ids"]["max_clock_skew_ms"],
                         on_issued=metrics.count_id_issued if observed else None,
                         on_lease=metrics.set_lease_held if observed else None)
    business_attributes = BusinessAttributes.from_settings(settings)
    refresh_seconds = settings["extensions"]["refresh_seconds"]
    core, registry, keys = build_metadata(settings, refresh_seconds=refresh_seconds)
    return Runtime(
        settings=settings, db=db, ids=ids,
        mode=ServerMode(refresh_seconds=refresh_seconds),
        stats=RequestStats(),
        business_attributes=business_attributes,
        registry=registry,
        events=EventSchemas(business_attributes.resolver),
        presenter=Presenter(ids.layout, business_attributes),
        retries=RetryCounter(),
        core=core,
        keys=keys,
        tables_ready=_tables_exist(db),
    )


def _discard_unless_retryable(error):
    # A deadlock or lock wait leaves a healthy connection; dropping it would only cost a
    # reconnect (and, behind a balancer, move this worker to another node).
    if retry_reason(error) in (None, CONNECTION_LOST):
        discard_connection()


def _log_start(settings, runtime):
    """The one line an operator looks for first: what runs, from which file, on which database."""
    url = settings["database"]["url"]
    location = runtime.db.path if hasattr(runtime.db, "path") else redact(url)
    logger.info("context-services %s: config %s, database %s %s, base path %s, auth mode %s, "
                "extension mode %s", server_version(), settings.source, runtime.database_kind, location,
                settings["api"]["base_path"] or "/", settings["auth"]["mode"], settings["extensions"]["mode"])


def _tables_exist(db):
    try:
        with db.connection_context():
            return WorkerLease.table_exists()
    except UNAVAILABLE_ERRORS:
        return False


# Endpoints that answer without the database: the status reports the outage itself, and a
# request that matched no route (endpoint None) gets its 404/405, not a 503.
_ANSWER_WITHOUT_DATABASE = {None, "server.status"}


def _register_request_hooks(app, runtime):
    app.before_request(drop_moved_database_file)

    @app.before_request
    def _tables_after_late_database():
        if runtime.tables_ready:
            return
        try:
            ensure_tables(runtime.db)
        except UNAVAILABLE_ERRORS as error:
            if request.endpoint in _ANSWER_WITHOUT_DATABASE:
                return
            raise DatabaseUnavailable() from error
        runtime.tables_ready = True

    @app.after_request
    def _json_api_headers(response):
        # Browsers must not guess HTML from JSON that echoes a client's text.
        # No view sets it, so plain assignment does: setdefault would look it up first, through
        # a KeyError on every answer.
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code == 200 and request.method == "OPTIONS" and not response.content_length:
            response.status_code = 204      # Flask's automatic OPTIONS answer has no body
        if response.status_code == 204:
            response.headers.pop("Content-Type", None)
        return response
