"""The server's notion of now, which tests and the demo can move."""

import threading
import time


class Clock:
    """Unix time in whole seconds: `base()` (time.time by default) plus an
    offset that the control API or tests can set, so time can be fast-forwarded
    without waiting."""

    def __init__(self, base=None):
        self.base = base or time.time
        self.offset = 0
        self._lock = threading.Lock()

    def now(self):
        """The current server time, an int."""
        with self._lock:
            offset = self.offset
        return int(self.base()) + offset

    def set_now(self, timestamp):
        """Make now() return `timestamp` at this instant (time keeps running)."""
        with self._lock:
            self.offset = int(timestamp) - int(self.base())

    def set_offset(self, seconds):
        """Run `seconds` ahead of (or behind, if negative) the base clock."""
        with self._lock:
            self.offset = int(seconds)

    def advance(self, seconds):
        """Jump forward by `seconds` from wherever the clock is."""
        with self._lock:
            self.offset += int(seconds)

    def state(self):
        """{"now": ..., "offset": ...} for the control API."""
        return {"now": self.now(), "offset": self.offset}
