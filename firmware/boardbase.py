"""The contract between the device app (app.py) and a board's glue
(boards/NAME/board.py): the glue's Board subclasses Board here and
overrides what its hardware has. Each default is what a board without that
feature does, so the app calls every method unconditionally.

The glue's module is named board.py and its class Board(profile, log=None);
the app sets `log` to its own (time-stamped) log after building it.
"""

import gc
import time


class Board:
    """A board with nothing but a CPU, a heap and the file system it
    booted from."""

    def __init__(self, profile, log=None):
        self.profile = profile
        self.log = log or print
        self._clock = None

    def clock(self):
        """The board's uonep.clock.Clock (or a simulated one)."""
        if self._clock is None:
            from uonep.clock import Clock
            self._clock = Clock()
        return self._clock

    def sleep(self, mode, seconds):
        """Wait `seconds`: mode "deep" (may reset the board: the app boots
        again from flash), "light" or "none". Default: an ordinary wait."""
        time.sleep(seconds)

    def sync_time(self, host):
        """Set the clock from the NTP server `host`: True when it was set.
        Default: no NTP (the app then asks the One Platform's /timestamp)."""
        return False

    def wifi_connect(self, ssid, password, timeout):
        """Join the network within `timeout` seconds: True when connected.
        Default: a board that is always on the network."""
        return True

    def wifi_connected(self):
        return True

    def http(self, verify=True):
        """The requests-like object the Client sends through (verify as
        uonep.Client's). Default None: the Client makes a uonep.http.HTTP."""
        return None

    def sensor(self, spec):
        """function() -> value for the profile's sensor `spec` (its "kind"
        and options); raise for a kind this board does not have."""
        raise ValueError("no sensor of kind %r on this board" % spec.get("kind"))

    def watchdog(self, timeout):
        """Start a watchdog of `timeout` seconds: an object with feed().
        Default None: no watchdog."""
        return None

    def unique_id(self):
        """The serial number activation sends (hex text)."""
        return "000000000000"

    def mount_storage(self, path):
        """Make the file system that holds the journal available at `path`
        (after the app read the secrets file and the stored CIK, which are
        on the file system the board booted from). Default: it is mounted
        at boot already."""

    def unmount_storage(self, path):
        """Release what mount_storage(path) took (simulated reboots)."""

    def memory(self):
        """(bytes free in the Python heap now, bytes it could still grow by)."""
        return gc.mem_free(), 0
