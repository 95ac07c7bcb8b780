"""The Snowflake ID generator (SPEC §8) and the database lease of its worker ID."""
import atexit
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass

logger = logging.getLogger(__name__)

EPOCH_MS = 1767225600000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Layout:
    """Bit widths named once; shifts and masks derive from them."""
    name: str
    timestamp_bits: int
    worker_bits: int
    sequence_bits: int
    as_string: bool

    @property
    def max_workers(self):
        return 1 << self.worker_bits

    @property
    def max_sequence(self):
        return (1 << self.sequence_bits) - 1

    @property
    def worker_shift(self):
        return self.sequence_bits

    @property
    def timestamp_shift(self):
        return self.sequence_bits + self.worker_bits

    @property
    def max_id(self):
        return (1 << (self.timestamp_bits + self.worker_bits + self.sequence_bits)) - 1

    def compose(self, timestamp_ms, worker_id, sequence):
        elapsed = timestamp_ms - EPOCH_MS
        if not 0 <= elapsed < (1 << self.timestamp_bits):
            raise ValueError("timestamp outside the layout's range")
        if not 0 <= worker_id < self.max_workers or not 0 <= sequence <= self.max_sequence:
            raise ValueError("worker ID or sequence outside the layout's range")
        return (elapsed << self.timestamp_shift) | (worker_id << self.worker_shift) | sequence

    def decompose(self, snowflake):
        return (
            (snowflake >> self.timestamp_shift) + EPOCH_MS,
            (snowflake >> self.worker_shift) & (self.max_workers - 1),
            snowflake & self.max_sequence,
        )

    def export(self, snowflake):
        """The ID as sent in JSON: a number when it is exact in ECMAScript, else a string."""
        return str(snowflake) if self.as_string else snowflake


LAYOUTS = {
    "default": Layout("default", 41, 6, 6, as_string=False),   # 53 bits: below 2^53
    "wide": Layout("wide", 41, 10, 12, as_string=True),
}


class IdUnavailable(Exception):
    """No ID can be issued now (no lease, or the clock stepped back); maps to 503."""

    def __init__(self, error_code, message):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


class ClockMovedBackwards(IdUnavailable):
    def __init__(self, by_ms):
        super().__init__("CLOCK_MOVED_BACKWARDS",
                         f"the system clock stepped back by {by_ms} ms; IDs are refused until it catches up")


class SnowflakeGenerator:
    """Issues unique, increasing IDs for one worker ID.

    `clock` returns milliseconds since the Unix epoch and `sleep` waits seconds; both are
    injectable so tests can script the clock. The lock makes one instance safe for threads.
    """

    def __init__(self, layout, worker_id, *, max_clock_skew_ms=5, clock=None, sleep=time.sleep,
                 last_ms=0):
        """last_ms: the last millisecond anyone issued IDs under this worker ID (0: none)."""
        if not 0 <= worker_id < layout.max_workers:
            raise ValueError(f"worker ID {worker_id} outside 0..{layout.max_workers - 1}")
        self.layout = layout
        self.worker_id = worker_id
        self.max_clock_skew_ms = max_clock_skew_ms
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)
        self._sleep = sleep
        self._last_ms = last_ms
        # A previous holder of this worker ID may have used every sequence number of
        # last_ms, so a new generator starts in a later millisecond, never in that one.
        self._sequence = layout.max_sequence
        self._lock = threading.Lock()

    @property
    def last_ms(self):
        return self._last_ms

    def next_id(self):
        with self._lock:
            now = self._wait_clock_not_behind(self._clock())
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & self.layout.max_sequence
                if self._sequence == 0:
                    now = self._wait_past(self._last_ms)
            else:
                self._sequence = 0
            self._last_ms = now
            return self.layout.compose(now, self.worker_id, self._sequence)

    def _wait_clock_not_behind(self, now):
        behind = self._last_ms - now
        if behind <= 0:
            return now
        if behind > self.max_clock_skew_ms:
            raise ClockMovedBackwards(behind)
        return self._wait_past(self._last_ms - 1)

    def _wait_past(self, ms):
        """Wait until the clock reads later than ms; refuse if it falls too far behind meanwhile."""
        now = self._clock()
        while now <= ms:
            if ms - now > self.max_clock_skew_ms:
                raise ClockMovedBackwards(ms - now)
            self._sleep((ms - now + 1) / 1000)
            now = self._clock()
        return now


def holder_prefix(pid, *, host=None):
    """The start of every lease holder name of process pid on this host: 'host:pid:'."""
    return f"{(host or os.uname().nodename)[:30]}:{pid}:"


def parse_holder(holder):
    """(host, pid) of a lease holder name, or None for a name of another form."""
    host, _, rest = holder.rpartition(":")[0].rpartition(":")
    return (host, int(rest)) if rest.isdigit() else None


class LeasedIdSource:
    """Holds a worker-ID lease for this process and issues IDs under it.

    The lease is claimed lazily on the first ID a process needs, so a gunicorn worker claims
    its own after fork (a new PID means a new claim). It is renewed once a third of its
    lifetime has passed, and released at exit. An expired lease that nobody else took is
    simply renewed; one that another process took makes this process claim a fresh one.
    """

    def __init__(self, lease_model, layout, *, lease_seconds=60, max_clock_skew_ms=5,
                 clock=None, sleep=time.sleep):
        self.lease_model = lease_model
        self.layout = layout
        self.lease_ms = lease_seconds * 1000
        self.max_clock_skew_ms = max_clock_skew_ms
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pid = None
        self._holder = None
        self._generator = None
        self._renew_at = 0
        self._release_at_exit = False
        # True while this process's last attempt to claim a lease found none free.
        self.lease_refused = False

    @property
    def worker_id(self):
        return None if self._generator is None or self._pid != os.getpid() else self._generator.worker_id

    def next_id(self):
        generator = self._current_generator()
        return generator.next_id()

    def can_issue(self):
        """False when this process holds no lease and claiming one now fails (NO_WORKER_ID).

        A process that has not needed an ID yet is not made to claim one here. Raises the
        database's errors when the claim cannot reach it.
        """
        if not self.lease_refused:
            return True
        try:
            self._current_generator()
        except IdUnavailable:
            return False
        return True

    def _current_generator(self):
        now = self._clock()
        if self._pid == os.getpid() and now < self._renew_at:
            return self._generator
        with self._lock:
            if self._pid != os.getpid():
                self._claim(now)
            elif now >= self._renew_at:
                self._renew(now)
            return self._generator

    def _claim(self, now):
        holder = holder_prefix(os.getpid()) + uuid.uuid4().hex[:12]
        claimed = self.lease_model.claim(holder, now=now, expires=now + self.lease_ms,
                                         worker_count=self.layout.max_workers)
        self.lease_refused = claimed is None
        if claimed is None:
            raise IdUnavailable("NO_WORKER_ID", "every worker ID is leased by another process")
        worker_id, previous_last_ms = claimed
        self._generator = SnowflakeGenerator(self.layout, worker_id, max_clock_skew_ms=self.max_clock_skew_ms,
                                             clock=self._clock, sleep=self._sleep,
                                             last_ms=previous_last_ms)
        self._holder = holder
        self._pid = os.getpid()
        self._renew_at = now + self.lease_ms // 3
        if not self._release_at_exit:
            atexit.register(self.release)
            self._release_at_exit = True
        logger.info("worker ID %d leased by %s", worker_id, holder)

    def _renew(self, now):
        renewed = self.lease_model.renew(self._generator.worker_id, self._holder,
                                         expires=now + self.lease_ms, last_ms=self._generator.last_ms)
        if renewed:
            self._renew_at = now + self.lease_ms // 3
        else:
            logger.warning("worker ID %d was taken over; claiming another", self._generator.worker_id)
            self._pid = None
            self._claim(now)

    def release(self):
        """Give the lease back (clean exit); harmless when nothing is held."""
        with self._lock:
            if self._pid != os.getpid() or self._generator is None:
                return
            try:
                self.lease_model.release(self._generator.worker_id, self._holder,
                                         last_ms=self._generator.last_ms)
            except Exception:  # noqa: BLE001 - at exit the database may already be gone
                logger.warning("could not release worker ID %d", self._generator.worker_id, exc_info=True)
            self._pid = None
            self._generator = None
