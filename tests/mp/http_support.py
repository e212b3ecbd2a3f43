"""For the uonep.http tests under MicroPython (HELPER = "hostile"): the core
as .mpy first on the path, where the helper's servers listen, a clock, and
an open-descriptor count."""
import json
import os
import sys
import time

# The core as a board loads it: .mpy files, ahead of firmware/ on the path.
if os.getenv("UONEP_MPY"):
    sys.path.insert(0, os.getenv("UONEP_MPY"))

CIK = "1" * 40
SERVERS = json.loads(os.getenv("UONEP_HOSTILE") or "{}")
CA = SERVERS.get("emulator_ca")
BASE = 1790000000


def manual_clock():
    """A valid clock at BASE, moved on by the test."""
    from uonep.manualclock import ManualClock
    return ManualClock(BASE)


def descriptors():
    """Open file descriptors (after a collection: a socket a test dropped
    unclosed is closed by its finaliser at a collection, so count after it)."""
    import gc
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def scratch(name):
    return os.getenv("UONEP_TMP") + "/" + name


def tls_client(**options):
    """A Client of the TLS emulator, its CA pinned unless verify= says otherwise."""
    from uonep import Client
    options.setdefault("verify", CA)
    return Client(CIK, "https://127.0.0.1:%d" % SERVERS["emulator_tls"], timeout=10, **options)


def values_since(client, alias, start):
    """The values of alias stored at or after `start`, oldest first."""
    values = []
    while True:
        page = client.read(alias, starttime=start, sort="asc", limit=200)
        values += [value for _, value in page]
        if len(page) < 200:
            return values
        start = page[-1][0] + 1
