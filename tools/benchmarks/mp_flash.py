"""Flash cost of COMMITS commits of one float, then a full drain, on
simulated LittleFS: uonep's journal vs rewriting a JSON file of pending
entries on every commit. Prints one JSON line with both counters."""
import json
import os
import sys

from common import Clock, mount_flash

from uonep import Client
from uonep.journal import Journal

COMMITS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def journal_cost():
    device = mount_flash("/bench_journal")
    clock = Clock()
    client = Client("1" * 40, host="127.0.0.1", journal=Journal("/bench_journal/j",
                    capacity_bytes=256 * 1024), clock=clock)
    device.reset_counters()
    for step in range(COMMITS):
        client.add_value("temp", 20.0 + step / 8)
        client.commit()
        clock.unix += 60
    last = None
    for position, _ in client.journal.pending():  # the drain: what push reads and acks
        last = position
    client.journal.ack(last)
    os.umount("/bench_journal")
    return device.counters()


def json_file_cost():
    device = mount_flash("/bench_json")
    device.reset_counters()
    pending = []
    clock = Clock()
    for step in range(COMMITS):
        pending.append([clock.unix, 20.0 + step / 8])
        clock.unix += 60
        with open("/bench_json/pending.json", "w") as f:
            f.write(json.dumps(pending))
    with open("/bench_json/pending.json", "w") as f:
        f.write("[]")
    os.umount("/bench_json")
    return device.counters()


print(json.dumps({"commits": COMMITS, "journal": journal_cost(), "json_file": json_file_cost()}))
