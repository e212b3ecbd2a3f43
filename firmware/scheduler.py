"""When each part of the device loop is due: named deadlines on the
clock's wrapping millisecond counter."""


class Scheduler:
    """deadline(name) -> ticks; at(name, ticks), after(name, seconds) set
    one; due(name) once it has passed; wait() the ms until a deadline."""

    def __init__(self, clock):
        self.clock = clock
        self.deadlines = {}

    def now(self):
        return self.clock.ticks_ms()

    def since(self, ticks):
        """ms from ticks to now (negative: ticks is still ahead)."""
        return self.clock.ticks_diff(self.clock.ticks_ms(), ticks)

    def at(self, name, ticks):
        self.deadlines[name] = ticks

    def after(self, name, seconds, start=None):
        """Due `seconds` after start (default now); counters wrap on a board."""
        start = self.clock.ticks_ms() if start is None else start
        self.deadlines[name] = self.clock.ticks_add(start, int(seconds * 1000))

    def deadline(self, name):
        return self.deadlines[name]

    def due(self, name):
        return self.since(self.deadlines[name]) >= 0

    def wait(self, name):
        """ms until name is due (negative: overdue)."""
        return -self.since(self.deadlines[name])
