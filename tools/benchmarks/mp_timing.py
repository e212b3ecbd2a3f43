"""Medians of commit and push time per sample under MicroPython, each with a
json.dumps + file-write baseline from the same run, on the same simulated
flash and against the same emulator.
usage: micropython mp_timing.py HOST PORT"""
import json
import sys
import time

import requests

from common import Clock, mount_flash

from uonep import Client
from uonep.journal import Journal

REPEATS = 7
SAMPLES = 200


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def timed(function):
    start = time.ticks_us()
    function()
    return time.ticks_diff(time.ticks_us(), start)


def run(host, port):
    url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
    mount_flash("/timing", blocks=512)
    commit, push, commit_base, push_base = [], [], [], []
    for repeat in range(REPEATS):
        clock = Clock()
        client = Client("1" * 40, host=host, port=port, https=False, timeout=10,
                        journal=Journal("/timing/j%d" % repeat, capacity_bytes=256 * 1024),
                        clock=clock)

        def commits():
            for step in range(SAMPLES):
                client.add_value("temp", 20.0 + step / 8)
                client.commit()
                clock.unix += 60

        def baseline_commits():
            for step in range(SAMPLES):
                with open("/timing/base.json", "a") as f:
                    f.write(json.dumps([clock.unix + step * 60, 20.0 + step / 8]) + "\n")

        with open("/timing/pending.json", "w") as f:
            f.write(json.dumps([[clock.unix + step * 60, 20.0 + step / 8]
                                for step in range(SAMPLES)]))

        def baseline_push():
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

        commit.append(timed(commits) / SAMPLES)
        commit_base.append(timed(baseline_commits) / SAMPLES)
        push.append(timed(client.push) / SAMPLES)
        push_base.append(timed(baseline_push) / SAMPLES)
    print(json.dumps({"commit_us": median(commit), "commit_baseline_us": median(commit_base),
                      "push_us": median(push), "push_baseline_us": median(push_base),
                      "repeats": REPEATS, "samples": SAMPLES}))


run(sys.argv[1], int(sys.argv[2]))
