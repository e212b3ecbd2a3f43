"""Unix time on every port, and whether the clock can be trusted yet.

MicroPython ports count from 1970 or from 2000; this module always answers
in Unix seconds. A board's RTC starts at an arbitrary date after power-on, so
a time before VALID_AFTER means "not set yet (no NTP or /timestamp so far)".
"""

import time

# 2024-01-01T00:00:00Z: no reading from a device running this code is older.
VALID_AFTER = 1704067200

try:
    # A millisecond counter for measuring intervals across a clock change,
    # the difference of two readings and a reading moved by some ms, all
    # wrapping as the board's counter does.
    from time import ticks_add, ticks_diff, ticks_ms
except ImportError:         # CPython: uonep.hostclock's, which never wrap
    from .hostclock import ticks_add, ticks_diff, ticks_ms  # type: ignore[no-redef]


def epoch_offset():
    """Seconds to add to time.time() to get Unix time on this port."""
    return 946684800 if time.gmtime(0)[0] == 2000 else 0


def unix_time():
    """The current Unix time in whole seconds, valid or not."""
    return int(time.time()) + epoch_offset()


def is_valid(now=None):
    """True once the wall clock has been set (NTP or the server's /timestamp)."""
    return (unix_time() if now is None else now) >= VALID_AFTER


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
    """The clock contract (uonep.forward.Uplink, the app), this one the
    board's; ManualClock is one that tests, tools and the unix board move
    by hand. now(): Unix seconds. valid(): whether they can be trusted.
    ticks_ms(), ticks_diff(later, earlier), ticks_add(ticks, delta): a
    wrapping ms counter. set_unix_time(seconds): set the wall clock (from
    NTP or /timestamp); False where it cannot be set."""

    now = staticmethod(unix_time)
    ticks_ms = staticmethod(ticks_ms)
    ticks_diff = staticmethod(ticks_diff)
    ticks_add = staticmethod(ticks_add)
    set_unix_time = staticmethod(set_unix_time)

    def valid(self):
        return is_valid(self.now())
