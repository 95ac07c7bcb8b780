"""HTTP Basic authentication of [user:NAME] users, the role check, and the limit on failed attempts (SPEC §11).

The KDF is slow on purpose, so a verified credential is remembered by the worker for
[auth] cache_seconds under an HMAC of user and password with a key made at start: the
password itself is never kept, and the key dies with the process.
"""
import hmac
import ipaddress
import logging
import math
import secrets
import time

from flask import current_app, g, request

from app.access import PUBLIC, has_role, role_table
from app.errors import APIError
from app.passwords import decoy_hash, method_of, verify
from app.telemetry import USER_ENVIRON_KEY
from models import AuthFailure

logger = logging.getLogger(__name__)
REALM = 'Basic realm="context-services"'


class Unauthorized(APIError):
    status = 401
    error_code = "UNAUTHORIZED"

    def __init__(self, message="valid credentials are required (HTTP Basic)"):
        super().__init__(message, headers={"WWW-Authenticate": REALM})


class Forbidden(APIError):
    status = 403
    error_code = "FORBIDDEN"


class TooManyFailures(APIError):
    status = 429
    error_code = "TOO_MANY_FAILURES"


class CredentialCache:
    """Users whose credentials were verified lately, keyed by an HMAC of the Authorization header
    (which holds user and password): a request with a known header costs one HMAC."""

    def __init__(self, seconds, *, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._entries = {}

    def key(self, header):
        return hmac.digest(self._key, header.encode("utf-8", "surrogateescape"), "sha256")

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, key, user):
        if self.seconds <= 0:
            return
        now = self.clock()
        if len(self._entries) > 1000:       # wrong guesses are never stored; stale ones go here
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
        self._entries[key] = (user, now + self.seconds)


class FailureLimit:
    """At most max_per_minute failed credentials per client address and clock minute, counted
    in the database so that every worker (and host) of the server shares the count."""

    def __init__(self, max_per_minute, *, clock=time.time):
        self.max_per_minute = max_per_minute
        self.clock = clock
        self._blocked = {}          # address -> minute, known to this worker

    def _minute(self):
        now = self.clock()
        return int(now // 60), math.ceil(60 - now % 60)

    def any_blocked(self):
        """True when this worker knows of an address over the limit in this minute."""
        if not self._blocked:
            return False
        if self._minute()[0] not in self._blocked.values():
            self._blocked.clear()           # only earlier minutes: over
            return False
        return True

    def refuse_if_blocked(self, address, *, ask_database):
        """Raise TooManyFailures while address is over the limit in this minute.

        The worker's own memory is checked first; the database only with ask_database, which
        the caller sets when a KDF is about to run (never on a cached credential)."""
        minute, retry_after = self._minute()
        blocked = self._blocked.get(address) == minute
        if not blocked and ask_database:
            blocked = AuthFailure.count(address, minute) >= self.max_per_minute
        if blocked:
            self._blocked[address] = minute
            raise TooManyFailures(f"too many failed attempts from {address}; try again in {retry_after} s",
                                  headers={"Retry-After": str(retry_after)})

    def record(self, address):
        minute, _ = self._minute()
        if AuthFailure.record(address, minute) >= self.max_per_minute:
            self._blocked = {a: m for a, m in self._blocked.items() if m == minute}
            self._blocked[address] = minute


class Authenticator:
    """Verifies Basic credentials against the configured users; see the module docstring."""

    def __init__(self, users, *, cache_seconds):
        self.users = users
        self.cache = CredentialCache(cache_seconds)
        self.password_checks = 0
        self.cached_hits = 0
        first = next(iter(users.values()), None)
        # An unknown user is checked against this, so that it costs what a wrong password costs.
        self._decoy = decoy_hash(method_of(first.password_hash)) if first else None

    def cached(self, header):
        """The user when this Authorization header was verified lately, else None."""
        user = self.cache.get(self.cache.key(header))
        if user is not None:
            self.cached_hits += 1
        return user

    def verify(self, username, password, header):
        """The User these credentials belong to, or None; runs the KDF once either way."""
        user = self.users.get(username)
        self.password_checks += 1
        matches = verify(user.password_hash if user else self._decoy, password)
        if not (matches and user):
            return None
        self.cache.put(self.cache.key(header), user)
        return user


def client_address(trusted_proxies):
    """The peer, or the last address of X-Forwarded-For that a trusted proxy added."""
    peer = request.remote_addr or "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    for candidate in reversed(forwarded):
        if candidate in trusted_proxies:
            continue
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
    return peer


def install(app, settings):
    """Guard every request of app as [auth] says; return the Authenticator (None in mode none,
    after a WARNING that nothing is guarded)."""
    options = settings["auth"]
    if options["mode"] == "none":
        logger.warning("[auth] mode = none: every caller may do everything, including deleting extension "
                       "schemas and switching maintenance mode; set mode = basic")
        app.before_request(_anonymous)
        return None
    authenticator = Authenticator(settings.users, cache_seconds=options["cache_seconds"])
    guard = _Guard(authenticator, FailureLimit(options["max_failures_per_minute"]),
                   frozenset(options["trusted_proxies"]), open_docs=options["open_docs"])
    app.before_request(guard.check)
    return authenticator


def _anonymous():
    g.user = None


class _Guard:
    def __init__(self, authenticator, limit, trusted_proxies, *, open_docs):
        self.authenticator = authenticator
        self.limit = limit
        self.trusted_proxies = trusted_proxies
        self.open_docs = open_docs
        self._roles = None          # built on the first request: blueprints come after install()

    def check(self):
        """before_request: set g.user, or raise 401, 403 or 429."""
        g.user = None
        if self._roles is None:
            self._roles = role_table(current_app, open_docs=self.open_docs)
        # A path that matches no route still needs credentials: no probing for routes.
        needed = self._roles.get((request.endpoint, request.method), "reader")
        if needed == PUBLIC:
            return
        header = request.headers.get("Authorization")
        if header is None:
            raise Unauthorized()
        # A blocked address is refused before the cache: a guess must not learn from a hit.
        if self.limit.any_blocked():
            self.limit.refuse_if_blocked(client_address(self.trusted_proxies), ask_database=False)
        user = self.authenticator.cached(header) or self._verify(header)
        g.user = user.name
        request.environ[USER_ENVIRON_KEY] = user.name     # the access log's user field
        if not has_role(user.role, needed):
            raise Forbidden(f"this operation needs the role {needed}; user {user.name} has {user.role}")

    def _verify(self, header):
        """The slow path: the KDF, once the address is known not to be over the limit."""
        address = client_address(self.trusted_proxies)
        credentials = request.authorization
        if credentials is None or credentials.type != "basic" or credentials.username is None:
            self._failed(address, None)
        self.limit.refuse_if_blocked(address, ask_database=True)
        user = self.authenticator.verify(credentials.username, credentials.password or "", header)
        if user is None:
            self._failed(address, credentials.username)
        return user

    def _failed(self, address, username):
        logger.warning("authentication failed for user %r from %s", username, address)
        self.limit.record(address)
        raise Unauthorized("unknown user or wrong password")
