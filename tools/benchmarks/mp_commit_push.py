"""Commit SAMPLES samples over DATAPORTS dataports, then push them all.
usage: micropython mp_commit_push.py HOST PORT JOURNAL_DIR SAMPLES DATAPORTS [push]
Prints one JSON line: {"commits", "requests", "sent", "bytes"}."""
import json
import sys

from common import Clock, aliases, value_for

from uonep import Client
from uonep.journal import Journal


def main(host, port, path, samples, dataports, push=True):
    clock = Clock()
    client = Client("1" * 40, host=host, port=port, https=False, timeout=10,
                    journal=Journal(path), clock=clock)
    names = aliases(dataports)
    commits = samples // dataports
    for step in range(commits):
        for name in names:
            client.add_value(name, value_for(name, step))
        client.commit()
        clock.unix += 60
    report = {"commits": commits, "requests": 0, "sent": 0, "bytes": 0}
    if push:
        report.update(client.push())
    print(json.dumps(report))


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
     len(sys.argv) < 7 or sys.argv[6] == "push")
