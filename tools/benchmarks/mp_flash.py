"""The journal on simulated NOR flash under LittleFS at the ESP32 port's
settings (4096-byte blocks, read/prog 32, cache 128): what a commit costs
the flash, how many fit in a megabyte, what each board profile's journal
holds. uonep's journal beside uonep 0.1's (journal_v1.py, the ring of slot
files) and a naive JSON file, measured in the same run. Prints one JSON line.

- cost: bytes programmed and blocks erased per durable commit of one value
  (the app's record), a push and acknowledgement every 10 and every 50 (and
  an offline backlog pushed every 500), the reclaim included, after a
  warm-up of the same length (so metadata compaction is in its steady state);
- density: one-value commits a full journal holds, per megabyte of flash it
  occupies: filled (policy "refuse") until it refuses, then the flash it
  occupies measured as the 4 KB files that no longer fit beside it;
- profiles: each board profile's journal ("auto") on its filesystem, filled
  with the app's own records (temp and count): commits, hours at a sample
  a minute, flash occupied.
usage: micropython mp_flash.py [commits]"""
import json
import os
import sys

import forward_v1
import journal_v1
from flashsim import FlashSim

from uonep import forward
from uonep.errors import JournalFullError
from uonep.journal import OVERHEAD, Journal

COMMITS = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
MOUNT = "/bench_flash"
START = 1790000000
# Each profile's filesystem, in 4 KB blocks: the unix board's image, the
# "vfs" partition of MicroPython's ESP32 builds (4 MiB flash: 2 MiB; the
# ESP32-S3 generic build's 8 MiB flash: 0x4F0000 bytes).
PROFILES = (("unix", 64), ("esp32", 512), ("esp32c3", 512), ("esp32s3", 1264))


def one_value(step, old=False):
    """The app's record of one sample of one value, a minute apart."""
    encode = forward_v1.encode_commit if old else forward.encode_commit
    return encode(START + 60 * step, 7, step * 60000, [["temp", 20.0 + step % 80 / 8]])


def app_record(step):
    """The unix app's record: temp and count (status only when it changes)."""
    return forward.encode_commit(START + 60 * step, 7, step * 60000,
                                 [["temp", round(21 + step % 97 / 13, 2)], ["count", step + 1]])


def mounted(blocks):
    device = FlashSim(blocks)
    os.VfsLfs2.mkfs(device)
    os.mount(os.VfsLfs2(device), MOUNT)
    return device


class JsonFile:
    """The naive store: the pending entries rewritten as one JSON file at
    every commit, emptied when a push went through."""

    def __init__(self, path, capacity_bytes=None):
        self.path = path
        self.entries = []

    def commit(self, payload):
        self.entries.append([START + len(self.entries), 20.5])
        with open(self.path, "w") as f:
            f.write(json.dumps(self.entries))

    def drain(self):
        with open(self.path) as f:
            json.load(f)
        with open(self.path, "w") as f:
            f.write("[]")
        self.entries = []


def drain(store):
    if isinstance(store, JsonFile):
        store.drain()
        return
    last = None
    for position, _ in store.pending():
        last = position
    if last is not None:
        store.ack(last)


def cost(kind, every):
    device = mounted(256)
    try:
        if kind == "json_file":
            store = JsonFile(MOUNT + "/pending.json")
        else:
            module = journal_v1 if kind == "v1" else sys.modules["uonep.journal"]
            store = module.Journal(MOUNT + "/j", capacity_bytes=512 * 1024 if kind == "ours"
                                   else 65536)
        step = 0
        for phase in range(2):          # warm-up, then measured
            device.reset_counters()
            for _ in range(COMMITS):
                store.commit(one_value(step, kind == "v1"))
                step += 1
                if step % every == 0:
                    drain(store)
        return {"bytes_programmed": round(device.bytes_programmed / COMMITS, 1),
                "erases_per_1000": round(device.erases * 1000 / COMMITS, 1)}
    finally:
        os.umount(MOUNT)


def room():
    """4 KB files that fit on the mounted filesystem now (then removed)."""
    count = 0
    try:
        while True:
            with open("%s/fill%d" % (MOUNT, count), "wb") as f:
                f.write(b"f" * 4096)
            count += 1
    except OSError:
        pass
    for number in range(count + 1):
        try:
            os.remove("%s/fill%d" % (MOUNT, number))
        except OSError:
            pass
    return count


def fill(journal, record):
    step = 0
    try:
        while True:
            journal.commit(record(step))
            step += 1
    except JournalFullError:
        pass
    journal.close()
    return step


def density(kind, blocks, capacity):
    mounted(blocks)
    try:
        empty = room()
        module = journal_v1 if kind == "v1" else sys.modules["uonep.journal"]
        journal = module.Journal(MOUNT + "/j", capacity_bytes=capacity, policy="refuse")
        commits = fill(journal, lambda step: one_value(step, kind == "v1"))
        used = empty - room()
        return {"commits": commits, "blocks": used,
                "commits_per_mb": round(commits * 1048576 / (used * 4096))}
    finally:
        os.umount(MOUNT)


def profile(blocks, measure):
    """A profile's journal on an otherwise empty filesystem of `blocks`:
    filled with the app's records when measure, else its capacity only
    (and the commits a full one holds, from what a segment holds)."""
    mounted(blocks)
    try:
        empty = room()
        journal = Journal(MOUNT + "/journal", capacity_bytes="auto", policy="refuse")
        capacity = journal.capacity
        result = {"filesystem_kb": blocks * 4, "capacity": capacity}
        if measure:
            result["commits"] = fill(journal, app_record)
            result["flash_kb"] = (empty - room()) * 4
        else:
            journal.close()
        return result
    finally:
        os.umount(MOUNT)


def main():
    results = {"commits": COMMITS, "cost": {}, "density": {}, "profiles": {}}
    # The profiles first (the biggest filesystem needs 5 MB of heap in one
    # piece): the unix board's journal is filled, the others' capacity is
    # measured and the commits they hold taken from what a block holds on
    # the unix board.
    for name, blocks in sorted(PROFILES, key=lambda item: -item[1]):
        results["profiles"][name] = profile(blocks, name == "unix")
    unix = results["profiles"]["unix"]
    per_block = unix["commits"] / (unix["capacity"] // 4096)
    for entry in results["profiles"].values():
        if "commits" not in entry:
            entry["commits"] = int(per_block * entry["capacity"] // 4096)
            entry["flash_kb"] = (entry["capacity"] + OVERHEAD) // 1024
            entry["estimated"] = True
        entry["hours_at_one_a_minute"] = round(entry["commits"] / 60, 1)
    for kind in ("ours", "v1", "json_file"):
        results["cost"][kind] = dict((str(every), cost(kind, every)) for every in (10, 50))
    results["cost"]["ours"]["500"] = cost("ours", 500)
    results["density"]["ours"] = density("ours", 256, 96 * 4096)
    results["density"]["ours_unix"] = density("ours", 64, "auto")
    results["density"]["v1"] = density("v1", 256, 65536)
    print(json.dumps(results))


main()
