import sys, time, json
from common import Clock, mount_flash
from uonep import Client, forward, rpc
from uonep.journal import Journal
import requests
host, port = sys.argv[1], int(sys.argv[2])
T = {}
def wrap(obj, name, key):
    orig = getattr(obj, name)
    def f(*a, **k):
        t = time.ticks_us()
        try: return orig(*a, **k)
        finally: T[key] = T.get(key, 0) + time.ticks_diff(time.ticks_us(), t)
    setattr(obj, name, f)
wrap(Client, "send_recordbatches", "send")
wrap(rpc, "encode_recordbatches", "encode")
wrap(rpc, "decode_response", "decode")
wrap(Journal, "ack", "ack")
wrap(Journal, "stats", "stats")
wrap(forward.Forwarder, "_collect", "collect")
import os
for r in range(6):
    mount_flash("/t%d" % r, blocks=256)
    T.clear()
    clock = Clock()
    j = Journal("/t%d/j" % r, capacity_bytes=65536)
    c = Client("1" * 40, host=host, port=port, https=False, journal=j, clock=clock)
    for step in range(200):
        c.add_value("temp", 20.0 + step / 8); c.commit(); clock.unix += 60
    import gc; gc.collect()
    t = time.ticks_us(); rep = c.push(); dt = time.ticks_diff(time.ticks_us(), t)
    url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
    with open("/t%d/pending.json" % r, "w") as f:
        f.write(json.dumps([[clock.unix + 100000 + s * 60, 20.0 + s / 8] for s in range(200)]))
    gc.collect()
    t = time.ticks_us()
    with open("/t%d/pending.json" % r) as f:
        points = json.load(f)
    t1 = time.ticks_us()
    body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [{"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
    t2 = time.ticks_us()
    resp = requests.post(url, data=body, headers={"Content-Type": "application/json"}); ok = resp.json()[0]["status"] == "ok"; resp.close()
    t3 = time.ticks_us()
    with open("/t%d/pending.json" % r, "w") as f: f.write("[]")
    t4 = time.ticks_us()
    print("ours", dt, dict((k, v) for k, v in T.items()), "| naive", time.ticks_diff(t4, t), "load", time.ticks_diff(t1, t), "dumps", time.ticks_diff(t2, t1), "post", time.ticks_diff(t3, t2), "rewrite", time.ticks_diff(t4, t3))
