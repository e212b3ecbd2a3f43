# Power loss at every program and erase of a content download on LittleFS
# over the simulated NOR flash (tests/flashsim.py), a previous version of
# the file already at its path. For each cut point: a fresh flash, the
# download runs until power goes, power comes back (on a copy of the
# flash), LittleFS remounts, and then:
#   - `path` holds the previous version or the whole new content, nothing
#     else (a part at `path` would be "corrupt delivered");
#   - the part file keeps every chunk flushed before the cut: those whose
#     next Range request had gone out (fewer is "lost");
#   - the download, called again, asks only for the bytes after the part
#     file's and ends with the content byte for byte, nothing else left.
import gc
import os

import campaign
from content_support import DEVICE_CIK, activate, blob, leftovers, publish, same
from emulator_control import url
from flashsim import FlashSim, mount, unmount

from uonep import Client
from uonep.errors import ContentError

NEEDS_EMULATOR = True
HEAPSIZE = "2m"

BLOCKS = 32
MOUNT = "/content"
PATH = MOUNT + "/fw"
SIZE = 6000
CHUNK = 1024
VARIANT = 12
PREVIOUS = b"the previous version"


class Counting:
    """uonep.http.HTTP counting the Range requests and noting the first."""

    def __init__(self):
        from uonep.http import HTTP
        self.http = HTTP(False)
        self.ranges = 0
        self.first = None

    def request(self, method, url, data=None, headers=None, timeout=10):
        if "Range" in headers:
            self.ranges += 1
            if self.first is None:
                self.first = int(headers["Range"][6:].split("-")[0])
        return self.http.request(method, url, data=data, headers=headers, timeout=timeout)


def download():
    wire = Counting()
    client = Client(DEVICE_CIK, url(), http=wire)
    return wire, client.content_download("acme", "m1", "fw", PATH, chunk=CHUNK)


def at_path():
    try:
        with open(PATH, "rb") as file:
            return file.read()
    except OSError:
        return None


def size_of(name):
    try:
        return os.stat(name)[6]
    except OSError:
        return None


def test_powerloss_at_every_flash_write_of_a_download():
    activate()
    publish("fw", SIZE, VARIANT)
    whole = blob(VARIANT, 0, SIZE)
    device = FlashSim(BLOCKS, seed=VARIANT)
    os.VfsLfs2.mkfs(device)
    mount(device, MOUNT)
    with open(PATH, "wb") as file:
        file.write(PREVIOUS)
    unmount(MOUNT)
    template = device.snapshot()
    # A clean run counts the program and erase operations: the cut points.
    device.reset_counters()
    mount(device, MOUNT)
    wire, written = download()
    assert written == SIZE and wire.ranges == (SIZE + CHUNK - 1) // CHUNK
    assert same(PATH, SIZE, VARIANT) and leftovers(PATH) == ["fw"]
    unmount(MOUNT)
    total = device.ops
    counts = {"cuts": 0, "lost": 0, "corrupt": 0}
    for cut in range(1, total + 1):
        device = None
        gc.collect()
        device = FlashSim(BLOCKS, data=template, seed=VARIANT + cut)
        mount(device, MOUNT)
        device.cut_after(cut)
        wire = Counting()
        client = Client(DEVICE_CIK, url(), http=wire)
        try:
            client.content_download("acme", "m1", "fw", PATH, chunk=CHUNK)
        except (OSError, ContentError):
            pass
        else:
            raise AssertionError("power cut %d of %d did not stop the download" % (cut, total))
        unmount(MOUNT)
        device = FlashSim(BLOCKS, data=device.data)
        mount(device, MOUNT)
        found = at_path()
        if found not in (PREVIOUS, whole):
            counts["corrupt"] += 1
            print("cut %d: %r bytes at the path" % (cut, None if found is None else len(found)))
        part = size_of(PATH + ".part")
        if found == PREVIOUS and wire.ranges > 1 and (part or 0) < (wire.ranges - 1) * CHUNK:
            counts["lost"] += 1
            print("cut %d: %s bytes kept after %d Range requests" % (cut, part, wire.ranges))
        again, written = download()
        assert written == SIZE and same(PATH, SIZE, VARIANT), cut
        assert leftovers(PATH) == ["fw"], (cut, leftovers(PATH))
        if found == PREVIOUS and part is not None and part < SIZE:
            # Resumed from what the flash kept (0 when the state file was cut).
            assert again.first in (part, 0), (cut, again.first, part)
            if wire.ranges > 1:
                assert again.first == part, (cut, again.first, part)
        unmount(MOUNT)
        counts["cuts"] += 1
    print("content power-loss: %d cut points, %d lost, %d corrupt delivered" % (
        counts["cuts"], counts["lost"], counts["corrupt"]))
    campaign.report("power-loss", cut_points=counts["cuts"], lost=counts["lost"],
                    corrupt_delivered=counts["corrupt"])
    assert counts["cuts"] == total > 10 and counts["lost"] == 0 and counts["corrupt"] == 0, counts
