"""Unix time on every port, and whether the clock can be trusted yet.

MicroPython ports count from 1970 or from 2000; this module always answers
in Unix seconds. A board's RTC starts at an arbitrary date after power-on, so
a time before VALID_AFTER means "not set yet (no NTP or /timestamp so far)".
"""

import time

# 2024-01-01T00:00:00Z: no reading from a device running this code is older.
VALID_AFTER = 1704067200
_EPOCH_2000 = 946684800


def epoch_offset():
    """Seconds to add to time.time() to get Unix time on this port."""
    return _EPOCH_2000 if time.gmtime(0)[0] == 2000 else 0


def unix_time():
    """The current Unix time in whole seconds, valid or not."""
    return int(time.time()) + epoch_offset()


def is_valid(now=None):
    """True once the wall clock has been set (NTP or the server's /timestamp)."""
    return (unix_time() if now is None else now) >= VALID_AFTER


def ticks_ms():
    """A millisecond counter for measuring intervals across a clock change."""
    ticks = getattr(time, "ticks_ms", None)
    if ticks is not None:
        return ticks()
    return int(time.time() * 1000)


def ticks_diff(later, earlier):
    """later - earlier in ms, across the counter's wrap-around on a board."""
    difference = getattr(time, "ticks_diff", None)
    if difference is not None:
        return difference(later, earlier)
    return later - earlier


def ticks_add(ticks, delta):
    """ticks moved by delta ms, wrapping as the board's counter does."""
    add = getattr(time, "ticks_add", None)
    return ticks + delta if add is None else add(ticks, delta)


def set_unix_time(seconds):
    """Set the board's RTC to a Unix time (after NTP or /timestamp). Returns
    False where the port has no settable RTC (the unix port, CPython)."""
    try:
        import machine
        rtc = machine.RTC()
    except (ImportError, AttributeError):
        return False
    fields = time.gmtime(seconds - epoch_offset())
    # RTC.datetime takes (year, month, day, weekday, hours, minutes, seconds, subseconds).
    rtc.datetime((fields[0], fields[1], fields[2], fields[6], fields[3], fields[4], fields[5], 0))
    return True


class Clock:
    """The clock contract (uonep.forward.Uplink, the app): Unix seconds,
    whether they can be trusted, a wrapping ms counter, and setting the
    time. This one is the board's; ManualClock is one that tests, tools
    and the unix board move by hand."""

    def now(self):
        return unix_time()

    def valid(self):
        return is_valid(self.now())

    def ticks_ms(self):
        return ticks_ms()

    def ticks_diff(self, later, earlier):
        return ticks_diff(later, earlier)

    def ticks_add(self, ticks, delta):
        return ticks_add(ticks, delta)

    def set_unix_time(self, seconds):
        """Set the wall clock (from NTP or /timestamp); False where it cannot be set."""
        return set_unix_time(seconds)
