"""Board glue for the MicroPython unix port: a whole device, simulated.

- storage: LittleFS in a file-backed block device image (blockdev.py),
  mounted where the profile says, made on first use;
- clock: simulated; sleep() moves it forward instead of waiting, so an hour
  of sampling runs in seconds; the RTC starts unset, like a board's;
- WiFi: connected unless an outage is scheduled (profile "simulation":
  "outages": [[start, seconds], ...], in seconds after power-on); HTTP
  fails while WiFi is down, as it would on a board;
- an optional emulator control URL ("simulation": "control") whose clock is
  kept in step with the simulated one, and faults to post at given times
  ("faults": [[at, {...}], ...]);
- sensors: a "simulated" signal (a slow sine plus a little noise).

The interface is the one every board glue has (firmware/boardbase.py).
"""

import math
import os
import vfs

import boardbase
from uonep.manualclock import ManualClock

# blockdev.py sits next to this file (the app puts this folder on sys.path).
import blockdev  # type: ignore[import-not-found]

# Where the simulated world starts when the profile does not say: 2025-01-01.
WORLD_START = 1735689600


class SimClock(ManualClock):
    """The board's clock on simulated time: a ManualClock whose RTC starts
    unset, plus the simulated world's true time (what the server's clock says)."""

    def __init__(self, world_start=WORLD_START):
        super().__init__()
        self.world_start = world_start

    def world(self):
        return self.world_start + self.ticks // 1000


class SimWatchdog:
    """Counts the times it would have reset the board (starved)."""

    def __init__(self, clock, timeout, log):
        self.clock = clock
        self.timeout_ms = int(timeout * 1000)
        self.last = clock.ticks_ms()
        self.starved = 0
        self.log = log

    def feed(self):
        if self.clock.ticks_ms() - self.last > self.timeout_ms:
            self.starved += 1
            self.log("sim: the watchdog would have reset the board")
        self.last = self.clock.ticks_ms()


class SimHTTP:
    """The board's HTTP client (uonep.http, or what `board._requests` is set
    to), failing like a board's while its WiFi is down."""

    def __init__(self, board):
        self.board = board
        self.sent = 0

    def request(self, method, url, **options):
        board = self.board
        if board.fail_after is not None and self.sent >= board.fail_after:
            board.fail_after = None
            board.start_outage(board.fail_outage)
        if not board.wifi_connected():
            raise OSError(113, "EHOSTUNREACH (simulated WiFi down)")
        self.sent += 1
        return board.requests_module().request(method, url, **options)


class Board(boardbase.Board):
    """The unix port as a board; see the module docstring."""

    def __init__(self, profile, log=None):
        super().__init__(profile, log)
        self.simulation = profile.get("simulation") or {}
        self.sim_clock = SimClock(self.simulation.get("world_start", WORLD_START))
        self.outages = [list(item) for item in self.simulation.get("outages", [])]
        self.faults = [list(item) for item in self.simulation.get("faults", [])]
        self.control = self.simulation.get("control")
        self.connected = False
        self.in_outage = False
        self.fail_after = None
        self.fail_outage = 0
        self.mounted = {}
        self.devices = {}
        self._http = None
        self._requests = None
        self._made = None
        self.verify = True
        self.watchdogs = []
        self._synced = None

    # -- time --------------------------------------------------------------

    def clock(self):
        return self.sim_clock

    def sleep(self, mode, seconds):
        """Fast-forward: time moves, nothing waits. Deep sleep returns too:
        the App then boots again, as a board would."""
        self.sim_clock.advance(seconds)
        self._follow_schedule()

    def sync_time(self, host):
        """No NTP on the simulated network: the App falls back to /timestamp."""
        return False

    # -- WiFi ----------------------------------------------------------------

    def wifi_connect(self, ssid, password, timeout):
        self._follow_schedule()
        if self.in_outage:
            # A failed association takes the whole timeout on a board.
            self.sim_clock.advance(timeout)
            self._follow_schedule()
            return False
        self.connected = True
        return True

    def wifi_connected(self):
        self._follow_schedule()
        return self.connected and not self.in_outage

    def start_outage(self, seconds):
        """Take WiFi down now for `seconds` of simulated time."""
        start = self.sim_clock.ticks // 1000
        self.outages.append([start, seconds])
        self._follow_schedule()

    def drop_wifi_after(self, requests, seconds=600):
        """Let `requests` more HTTP requests through, then lose WiFi for
        `seconds` (WiFi lost in the middle of a push)."""
        self.fail_after = self.http(self.verify).sent + requests
        self.fail_outage = seconds

    def http(self, verify=True):
        if verify != self.verify or self._made is None:
            if self._made is not None:
                self._made.close()
            # Made now, at boot, as on a board: the module loads before the
            # journal and the samples break the heap up.
            from uonep.http import HTTP
            # A test's own object in _requests stays.
            mine = self._requests is None or self._requests is self._made
            self.verify = verify
            self._made = HTTP(verify)
            if mine:
                self._requests = self._made
        if self._http is None:
            self._http = SimHTTP(self)
        return self._http

    def requests_module(self):
        """What SimHTTP sends through: uonep.http with the board's verify
        (tests may put another requests-like object in `_requests`)."""
        return self._requests

    # -- the rest of the board -------------------------------------------------

    def sensor(self, spec):
        kind = spec["kind"]
        if kind == "simulated":
            return self._signal(spec)
        raise ValueError("the unix board has no sensor of kind %r" % kind)

    def _signal(self, spec):
        middle = spec.get("middle", 21.0)
        amplitude = spec.get("amplitude", 3.0)
        period = spec.get("period", 3600)

        def read():
            seconds = self.sim_clock.ticks / 1000
            noise = (int.from_bytes(os.urandom(1), "little") - 128) / 1280
            return round(middle + amplitude * math.sin(2 * math.pi * seconds / period) +
                         noise, 2)
        return read

    def watchdog(self, timeout):
        dog = SimWatchdog(self.sim_clock, timeout, self.log)
        self.watchdogs.append(dog)
        return dog

    def unique_id(self):
        return self.simulation.get("unique_id", "a4cf12b3c4d5")

    def mount_storage(self, path):
        """Mount LittleFS from the image file at `path`, formatting it on first use."""
        if path in self.mounted:
            return
        storage = self.profile["storage"]
        device = self.devices.get(path)
        if device is None:
            device = blockdev.FileBlockDevice(storage.get("image", "flash.img"),
                                              storage.get("blocks", 64))
            self.devices[path] = device
        # (The ESP32 stub wrongly declares VfsLfs2 an abstract block device.)
        try:
            filesystem = vfs.VfsLfs2(device)  # type: ignore[abstract]
        except OSError:
            vfs.VfsLfs2.mkfs(device)
            filesystem = vfs.VfsLfs2(device)  # type: ignore[abstract]
        vfs.mount(filesystem, path)
        self.mounted[path] = filesystem

    def unmount_storage(self, path):
        if self.mounted.pop(path, None) is not None:
            vfs.umount(path)

    # -- the simulated world -----------------------------------------------------

    def _follow_schedule(self):
        now = self.sim_clock.ticks // 1000
        inside = False
        for start, length in self.outages:
            if start <= now < start + length:
                inside = True
                if not self.in_outage:
                    self.log("sim: WiFi outage begins, down for %d s" % length)
        if self.in_outage and not inside:
            self.log("sim: outage over, WiFi back")
            self.connected = False
            if self._made is not None:
                # A board's kept connection does not survive the outage.
                self._made.close()
        self.in_outage = inside
        self._post_faults(now)
        self._sync_emulator()

    def _post_faults(self, now):
        while self.faults and self.faults[0][0] <= now and self.control:
            fault = self.faults.pop(0)[1]
            self.log("sim: emulator fault %s" % fault.get("kind"))
            self._control("/_emulator/faults", fault)

    def _sync_emulator(self):
        world = self.sim_clock.world()
        if self.control and world != self._synced:
            self._synced = world
            self._control("/_emulator/clock", {"now": world})

    def _control(self, path, document):
        import requests
        response = requests.post(self.control + path, json=document)
        response.close()
