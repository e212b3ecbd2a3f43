"""Commit SAMPLES samples over DATAPORTS dataports, then push them all.
usage: micropython mp_commit_push.py HOST PORT JOURNAL_DIR SAMPLES DATAPORTS [push]
Prints one JSON line: {"commits", "requests", "sent", "bytes"}."""
import json
import sys

from common import START, aliases, value_for

from uonep import Client
from uonep.forward import Uplink
from uonep.manualclock import ManualClock
from uonep.journal import Journal


def main(host, port, path, samples, dataports, push=True):
    clock = ManualClock(START)
    client = Uplink(Client("1" * 40, "http://%s:%d" % (host, port), timeout=10), Journal(path),
                    clock)
    names = aliases(dataports)
    commits = samples // dataports
    for step in range(commits):
        for name in names:
            client.add_value(name, value_for(name, step))
        client.commit()
        clock.advance(60)
    report = {"commits": commits, "requests": 0, "sent": 0, "bytes": 0}
    if push:
        report.update(client.push())
    print(json.dumps(report))


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
     len(sys.argv) < 7 or sys.argv[6] == "push")
