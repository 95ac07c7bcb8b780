"""The server mode (production or maintenance), held in the database so every worker agrees."""
import time

from models import ServerSetting

MODES = ("production", "maintenance")


class ServerMode:
    """Reads the mode at most once per `refresh_seconds`; a change made here is seen at once."""

    def __init__(self, *, refresh_seconds=0.5, clock=time.monotonic):
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._mode = None
        self._read_at = 0.0

    def current(self):
        now = self._clock()
        if self._mode is None or now - self._read_at >= self.refresh_seconds:
            self._mode = ServerSetting.get_value("mode", "production")
            self._read_at = now
        return self._mode

    def set(self, mode):
        if mode not in MODES:
            raise ValueError(mode)
        ServerSetting.put("mode", mode)
        self._mode = mode
        self._read_at = self._clock()
