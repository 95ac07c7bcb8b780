"""Server-wide settings shared by every worker, and the worker-ID leases."""
import peewee as pw

from models.base import BaseModel


class ServerSetting(BaseModel):
    key = pw.CharField(max_length=64, primary_key=True)
    value = pw.CharField(max_length=255)

    @classmethod
    def get_value(cls, key, default=None):
        row = cls.select(cls.value).where(cls.key == key).tuples().first()
        return default if row is None else row[0]

    @classmethod
    def put(cls, key, value):
        cls.insert(key=key, value=value).on_conflict_replace().execute()


DEADLOCK = 1213     # how MySQL and Galera refuse the loser of two conflicting writes
# Enough that processes starting together, each losing races to the others, still find one.
CLAIM_CANDIDATES = 64


def _taken(update):
    """Run a lease-taking UPDATE; True when it took the row, False when it did not match or lost."""
    try:
        return bool(update.execute())
    except pw.OperationalError as error:
        if error.args and error.args[0] == DEADLOCK:
            return False
        raise


class WorkerLease(BaseModel):
    """One row per possible worker ID; a holder owns it until expires_ms."""
    MAX_WORKERS = 1024

    worker_id = pw.IntegerField(primary_key=True)
    holder = pw.CharField(max_length=64, null=True)
    expires_ms = pw.BigIntegerField(default=0)
    # Last millisecond the holder may have used, so a later holder never reuses it.
    last_ms = pw.BigIntegerField(default=0)

    @classmethod
    def after_create(cls):
        if cls.select().count() < cls.MAX_WORKERS:
            (cls
             .insert_many([{"worker_id": n} for n in range(cls.MAX_WORKERS)])
             .on_conflict_ignore()
             .execute())

    @classmethod
    def claim(cls, holder, *, now, expires, worker_count):
        """Take a free or expired worker ID below worker_count; return (worker_id, last_ms) or None.

        Exclusive across processes, hosts and Galera nodes: the UPDATE matches only a lease
        still free, and of two nodes taking one lease at once certification refuses one (1213),
        which here means "taken by another": the next candidate is tried. Never-used and
        longest-expired IDs come first.
        """
        free = (cls.holder.is_null()) | (cls.expires_ms < now)
        candidates = (cls
                      .select(cls.worker_id)
                      .where((cls.worker_id < worker_count) & free)
                      .order_by(cls.expires_ms, cls.worker_id)
                      .limit(CLAIM_CANDIDATES)
                      .tuples())
        for (worker_id,) in list(candidates):
            if _taken(cls.update(holder=holder, expires_ms=expires).where((cls.worker_id == worker_id) & free)):
                last_ms = cls.select(cls.last_ms).where(cls.worker_id == worker_id).scalar()
                return worker_id, last_ms
        return None

    @classmethod
    def renew(cls, worker_id, holder, *, expires, last_ms):
        """Extend our own lease; False when another process has taken it."""
        return bool(cls
                    .update(expires_ms=expires, last_ms=last_ms)
                    .where((cls.worker_id == worker_id) & (cls.holder == holder))
                    .execute())

    @classmethod
    def holders(cls):
        """The holder of every lease held now or before (held or expired), as a list."""
        return [holder for (holder,) in cls.select(cls.holder).where(cls.holder.is_null(False)).tuples()]

    @classmethod
    def release_holders(cls, holders, *, now):
        """Free the leases of these holders, as their processes are known dead; return how many.

        last_ms becomes at least `now`: the dead holder may have issued IDs after its last
        renewal recorded last_ms, but not after its death, which was before now.
        """
        if not holders:
            return 0
        return (cls
                .update(holder=None, expires_ms=0,
                        last_ms=pw.Case(None, [(cls.last_ms < now, now)], cls.last_ms))
                .where(cls.holder.in_(list(holders)))
                .execute())

    @classmethod
    def release(cls, worker_id, holder, *, last_ms):
        (cls
         .update(holder=None, expires_ms=0, last_ms=last_ms)
         .where((cls.worker_id == worker_id) & (cls.holder == holder))
         .execute())


class AuthFailure(BaseModel):
    """Failed credentials per client address and clock minute, counted for every worker (SPEC §11)."""
    address = pw.CharField(max_length=64)
    minute = pw.BigIntegerField()
    failures = pw.IntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("address", "minute")

    @classmethod
    def count(cls, address, minute):
        row = (cls
               .select(cls.failures)
               .where((cls.address == address) & (cls.minute == minute))
               .tuples()
               .first())
        return 0 if row is None else row[0]

    @classmethod
    def record(cls, address, minute):
        """Count one failure of address in minute; forget earlier minutes; return the count now."""
        database = cls._meta.database
        conflict = {"update": {cls.failures: cls.failures + 1}}
        if not isinstance(database.obj, pw.MySQLDatabase):
            conflict["conflict_target"] = [cls.address, cls.minute]
        with database.atomic():
            cls.insert(address=address, minute=minute, failures=1).on_conflict(**conflict).execute()
            cls.delete().where(cls.minute < minute - 1).execute()
            return cls.count(address, minute)
