"""Shared by the MicroPython halves of `make bench`."""
import os

from flashsim import FlashSim, mount

START = 1790000000


def mount_flash(point, blocks=256):
    """A fresh simulated NOR flash with LittleFS at the ESP32 port's stock
    settings, mounted at `point`; returns the device (for its counters)."""
    device = FlashSim(blocks=blocks)
    os.VfsLfs2.mkfs(device)
    mount(device, point)
    return device


def aliases(count):
    return ["temp", "count", "status", "hum", "volt"][:count]


def value_for(alias, step):
    if alias == "count":
        return step
    if alias == "status":
        return "s%d" % (step % 10)
    return 20.0 + (step % 100) / 8
