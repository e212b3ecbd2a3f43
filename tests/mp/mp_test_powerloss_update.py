# Power loss at every program and erase of an app update on LittleFS over the
# simulated NOR flash (tests/flashsim.py): a device runs version 1 from slot
# a, with a journal of pending commits beside it; version 2 is published to
# the emulator. Two workloads: update.stage (download, unpack into slot b,
# switch), then either two boots through boot_select.select (the first
# counts the trial, the second, with no healthy push in between and
# boots=1, rolls back) or one boot and update.confirm (its healthy push).
# For each cut point: a fresh flash, the workload runs until power
# goes, power comes back (on a copy of the flash), LittleFS remounts, and:
#   - the state names a slot holding its version's files whole: a bootable
#     device (an unbootable one is "corrupt delivered");
#   - the journal reopens with every commit, byte for byte ("lost" else);
#   - the workload, run again from what the flash kept, ends as the uncut
#     run did (rolled back to version 1, or version 2 confirmed), nothing
#     else left under the root.
import gc
import hashlib
import os
import sys

import boot_select
import campaign
import update
from content_support import DEVICE_CIK, MANAGE, activate, send
from emulator_control import url
from flashsim import FlashSim, mount, unmount

from uonep import Client
from uonep.journal import Journal
from uonep.provision import form_quote

NEEDS_EMULATOR = True
HEAPSIZE = "2m"

BLOCKS = 40
MOUNT = "/upd"
ROOT = MOUNT + "/update"
JOURNAL = MOUNT + "/journal"
COMMITS = [b"commit %d " % number * (1 + number % 5) for number in range(12)]


def files_of(version):
    """{name: bytes} of an app set: sizes across LittleFS's inline limit."""
    return {"app.mpy": b"M%d app " % version * 300, "appconfig.mpy": b"c%d" % version * 40,
            "profilecheck.mpy": b"p%d " % version * 700}


def package(version):
    out = bytearray(update.MAGIC + b"\n")
    for name, data in sorted(files_of(version).items()):
        out += b"%s %d\n" % (name.encode(), len(data))
        out += data
    return bytes(out)


def publish(version):
    blob = package(version)
    digest = "".join("%02x" % byte for byte in hashlib.sha256(blob).digest())
    send("POST", MANAGE, b"delete=true&id=app")
    status, _ = send("POST", MANAGE, ("id=app&meta=%s" % form_quote(
        "version=%d sha256=%s" % (version, digest))).encode())
    assert status == 205, status
    status, _ = send("POST", MANAGE + "app", blob, {"Content-Type": "application/octet-stream"})
    assert status == 205, status


def client():
    return Client(DEVICE_CIK, url())


def template():
    """The flash before the update: version 1 confirmed in slot a, a journal."""
    device = FlashSim(BLOCKS, seed=3)
    os.VfsLfs2.mkfs(device)
    mount(device, MOUNT)
    update._makedirs(ROOT + "/a")
    for name, data in files_of(1).items():
        with open(ROOT + "/a/" + name, "wb") as file:
            file.write(data)
    boot_select.write(ROOT, {"current": "a", "version": "1"})
    journal = Journal(JOURNAL, capacity_bytes=16384)
    for payload in COMMITS:
        journal.commit(payload)
    journal.close()
    unmount(MOUNT)
    return device.snapshot()


def boot():
    """What main.py does before the app: count a trial, or roll back."""
    # Each boot puts its slot first on sys.path: the campaign's stays clean.
    if boot_select.select(ROOT) is not None:
        sys.path.pop(0)


def rolled_back():
    """Version 2 never pushes: fetched, one boot on trial, rolled back."""
    update.stage(client(), "acme", "m1", "app", ROOT, boots=1)
    boot()
    boot()


def confirmed():
    """Version 2 pushes: fetched, booted on trial, confirmed."""
    update.stage(client(), "acme", "m1", "app", ROOT, boots=3)
    boot()
    update.confirm(ROOT)


ROLLED_BACK = {"current": "a", "version": "1", "failed": "2"}
CONFIRMED = {"current": "b", "version": "2", "prior": "1", "previous": "a", "boots": 3}


def bootable():
    """Whether the state names a slot holding its version whole."""
    state = boot_select.read(ROOT)
    slot = state.get("current")
    if slot not in ("a", "b"):
        return False
    expected = files_of(int(state.get("version", "0")))
    try:
        names = os.listdir(ROOT + "/" + slot)
    except OSError:
        return False
    if sorted(names) != sorted(expected):
        return False
    for name, data in expected.items():
        with open(ROOT + "/" + slot + "/" + name, "rb") as file:
            if file.read() != data:
                return False
    return True


def journal_intact():
    journal = Journal(JOURNAL, capacity_bytes=16384)
    try:
        return [payload for _, payload in journal.pending()] == COMMITS
    finally:
        journal.close()


def cut_everywhere(workload, final):
    activate()
    publish(2)
    image = template()
    device = FlashSim(BLOCKS, data=image)
    mount(device, MOUNT)
    device.reset_counters()
    workload()
    assert boot_select.read(ROOT) == final
    assert bootable() and journal_intact()
    unmount(MOUNT)
    total = device.ops
    counts = {"cuts": 0, "lost": 0, "corrupt": 0}
    index, shards = campaign.shard()
    for cut in range(1, total + 1):
        if cut % shards != index:
            continue
        device = None
        gc.collect()
        device = FlashSim(BLOCKS, data=image, seed=cut)
        mount(device, MOUNT)
        device.cut_after(cut)
        try:
            workload()
        except Exception:
            pass
        else:
            raise AssertionError("power cut %d of %d did not stop the update" % (cut, total))
        unmount(MOUNT)
        device = FlashSim(BLOCKS, data=device.data)
        mount(device, MOUNT)
        if not bootable():
            counts["corrupt"] += 1
            print("cut %d: not bootable: %s" % (cut, boot_select.read(ROOT)))
        if not journal_intact():
            counts["lost"] += 1
            print("cut %d: the journal changed" % cut)
        workload()
        assert boot_select.read(ROOT) == final, (cut, boot_select.read(ROOT))
        assert bootable(), cut
        # state.tmp stays when the cut came before its rename and no state was written since.
        left = [name for name in os.listdir(ROOT) if name != "state.tmp"]
        assert sorted(left) == ["a", "b", "state"], (cut, left)
        unmount(MOUNT)
        counts["cuts"] += 1
    print("update power-loss (%s): %d cut points, %d lost, %d corrupt delivered" % (
        workload.__name__, counts["cuts"], counts["lost"], counts["corrupt"]))
    campaign.report("power-loss", cut_points=counts["cuts"], lost=counts["lost"],
                    corrupt_delivered=counts["corrupt"])
    assert counts["cuts"] > 10 and counts["lost"] == 0 and counts["corrupt"] == 0, counts


def test_powerloss_at_every_flash_write_of_an_update_rolled_back():
    cut_everywhere(rolled_back, ROLLED_BACK)


def test_powerloss_at_every_flash_write_of_an_update_confirmed():
    cut_everywhere(confirmed, CONFIRMED)
