"""ManualClock: the clock contract (uonep.clock.Clock) on time that moves
only when told, for tests, tools and the simulated unix board. Not loaded on
a device."""

from .clock import Clock

# A board's RTC after power-on: 2000-01-01, "not set".
UNSET = 946684800


class ManualClock(Clock):
    """now() is the wall clock (UNSET, so not valid, until set_unix_time()
    or a `now` given here); ticks_ms() counts ms from 0; advance(seconds)
    moves both, as time passing on a board would."""

    def __init__(self, now=UNSET):
        self.ticks = 0
        self.offset = int(now)

    def advance(self, seconds):
        self.ticks += int(seconds * 1000)

    def now(self):
        return self.offset + self.ticks // 1000

    def set_unix_time(self, seconds):
        self.offset = int(seconds) - self.ticks // 1000
        return True

    def ticks_ms(self):
        return self.ticks

    def ticks_diff(self, later, earlier):
        return later - earlier

    def ticks_add(self, ticks, delta):
        return ticks + delta
