"""Board glue for the MicroPython unix port: a whole device on the host.

- storage: LittleFS in a file-backed block device image (blockdev.py),
  mounted where the profile says, made on first use;
- clock: a ManualClock; sleep() moves it forward instead of waiting, so an
  hour of sampling runs in seconds; the RTC starts unset, like a board's;
- WiFi: always up; HTTP through uonep.http;
- sensors: a "simulated" signal (a slow sine plus a little noise);
- the simulated world (simulation.py, beside this file): WiFi outages,
  emulator faults, the emulator's clock kept in step, watchdogs that count.
  Loaded only when the profile's "simulation" schedules any of it
  ("outages", "faults", "control") or simulate() is called, so a board
  that does not use it does not carry its code in its heap.

The interface is the one every board glue has (firmware/boardbase.py).
"""

import math
import os
import sys
import vfs

import appconfig
import boardbase
from uonep.manualclock import ManualClock

# blockdev.py sits next to this file (the app puts this folder on sys.path
# while it imports this module).
import blockdev  # type: ignore[import-not-found]


class Board(boardbase.Board):
    """The unix port as a board; see the module docstring."""

    def __init__(self, profile, log=None):
        super().__init__(profile, log)
        self._clock = ManualClock()
        self.mounted = {}
        self.devices = {}
        # The simulation.World once loaded; None: WiFi always up, no watchdog.
        self.world = None
        # The uonep.http.HTTP that http() made, and its verify.
        self.own_http = None
        self.verify = True
        simulation = profile["simulation"]
        if simulation.get("control") or simulation.get("outages") or simulation.get("faults"):
            self.simulate()

    def simulate(self):
        """The simulated world (simulation.World), loaded on first call. Its
        module is found in the folder this module came from: that folder is
        on sys.path only while the app imports board.py."""
        if self.world is None:
            sys.path.insert(0, appconfig.parent(__file__))
            try:
                from simulation import World  # type: ignore[import-not-found]
            finally:
                sys.path.pop(0)
            self.world = World(self)
        return self.world

    def sleep(self, mode, seconds):
        """Fast-forward: time moves, nothing waits. Deep sleep returns too:
        the App then boots again, as a board would."""
        self._clock.advance(seconds)
        if self.world is not None:
            self.world.follow()

    def wifi_connect(self, ssid, password, timeout):
        return self.world is None or self.world.connect(timeout)

    def wifi_connected(self):
        return self.world is None or self.world.connected()

    def http(self, verify=True):
        """uonep.http.HTTP with `verify`, made now, at boot, as on a board
        (the module loads before the journal and the samples break the heap
        up); behind the simulated WiFi when the world is loaded."""
        if verify != self.verify or self.own_http is None:
            if self.own_http is not None:
                self.own_http.close()
            from uonep.http import HTTP
            self.verify = verify
            self.own_http = HTTP(verify)
        return self.own_http if self.world is None else self.world

    def sensor(self, spec):
        if spec["kind"] != "simulated":
            raise ValueError("the unix board has no sensor of kind %r" % spec["kind"])
        middle = spec.get("middle", 21.0)
        amplitude = spec.get("amplitude", 3.0)
        period = spec.get("period", 3600)
        clock = self._clock

        def read():
            noise = (os.urandom(1)[0] - 128) / 1280
            return round(middle + amplitude * math.sin(2 * math.pi * clock.ticks / 1000 / period) +
                         noise, 2)
        return read

    def watchdog(self, timeout):
        return None if self.world is None else self.world.watchdog(timeout)

    def unique_id(self):
        return self.profile["simulation"].get("unique_id", "a4cf12b3c4d5")

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
