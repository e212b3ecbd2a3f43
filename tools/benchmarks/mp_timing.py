"""Medians of commit and push time per sample under MicroPython, on the same
simulated flash and against the same emulator, for:
  - uonep's journal (format 2) and push;
  - uonep 0.1's journal and push (journal_v1.py, forward_v1.py: JSON
    records in a ring of slot files), measured in the same run;
  - the naive baseline: json.dumps + a file append per sample; push loads
    the pending JSON file, sends it in one request, rewrites the file.
usage: micropython mp_timing.py HOST PORT"""
import gc
import json
import os
import sys
import time

import forward_v1
import journal_v1
import requests
from common import START, mount_flash

from uonep import Client, forward
from uonep.forward import Uplink
from uonep.manualclock import ManualClock
from uonep.journal import Journal

REPEATS = 15
SAMPLES = 200


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def timed(function):
    # Each timed step starts with a collected heap, so no step pays for
    # the garbage of the one before.
    gc.collect()
    start = time.ticks_us()
    function()
    return time.ticks_diff(time.ticks_us(), start)


def uonep_run(host, port, path, old, start):
    """(commit, push) microseconds per sample of one repeat."""
    clock = ManualClock(start)
    journal = (journal_v1 if old else sys.modules["uonep.journal"]).Journal(
        path, capacity_bytes=65536)
    client = Client("1" * 40, "http://%s:%d" % (host, port), timeout=10)
    uplink = Uplink(client, journal, clock)
    pusher = uplink
    if old:
        # uonep 0.1's path: JSON records, its Forwarder.
        pusher = forward_v1.Forwarder(client, journal, uplink.boot, clock)
    encode = forward.encode_commit
    forward.encode_commit = forward_v1.encode_commit if old else encode

    def commits():
        for step in range(SAMPLES):
            uplink.add_value("temp", 20.0 + step / 8)
            uplink.commit()
            clock.advance(60)
    try:
        commit = timed(commits) / SAMPLES
    finally:
        forward.encode_commit = encode
    push = timed(pusher.push) / SAMPLES
    assert journal.stats()["pending"] == 0
    journal.close()
    return commit, push


def naive_run(url, start):
    clock = ManualClock(start)

    def commits():
        for step in range(SAMPLES):
            with open("/timing/base.json", "a") as f:
                f.write(json.dumps([clock.now() + step * 60, 20.0 + step / 8]) + "\n")

    with open("/timing/pending.json", "w") as f:
        f.write(json.dumps([[clock.now() + step * 60, 20.0 + step / 8]
                            for step in range(SAMPLES)]))

    def push():
        # Simple store and forward: load the pending file, send it in
        # one request, empty the file once the server said ok.
        with open("/timing/pending.json") as f:
            points = json.load(f)
        body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [
            {"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
        response = requests.post(url, data=body,
                                 headers={"Content-Type": "application/json"})
        ok = response.json()[0]["status"] == "ok"
        response.close()
        if ok:
            with open("/timing/pending.json", "w") as f:
                f.write("[]")
    return timed(commits) / SAMPLES, timed(push) / SAMPLES


def run(host, port):
    url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
    results = {"ours": ([], []), "v1": ([], []), "naive": ([], [])}
    runs = (("ours", lambda path, start: uonep_run(host, port, path, False, start)),
            ("v1", lambda path, start: uonep_run(host, port, path, True, start)),
            ("naive", lambda path, start: naive_run(url, start)))
    window = 0
    for repeat in range(REPEATS):
        if repeat:
            os.umount("/timing")
        mount_flash("/timing", blocks=512)
        # Interleaved, each first in turn, so neither a busy moment of the
        # machine nor going first favours one; each in a time window of
        # its own, so the server stores new points for all three alike.
        for turn in range(3):
            name, measure = runs[(repeat + turn) % 3]
            window += 1
            commit, push = measure("/timing/%s%d" % (name, repeat), START + window * SAMPLES * 60)
            results[name][0].append(commit)
            results[name][1].append(push)
    out = {"repeats": REPEATS, "samples": SAMPLES}
    for name, (commit, push) in results.items():
        prefix = "" if name == "ours" else name + "_"
        out[prefix + "commit_us"] = median(commit)
        out[prefix + "push_us"] = median(push)
    print(json.dumps(out))


run(sys.argv[1], int(sys.argv[2]))
