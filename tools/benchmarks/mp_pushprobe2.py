import sys, time, json, gc
from common import Clock, mount_flash
from uonep import Client, forward, rpc
from uonep.journal import Journal
import requests
host, port = sys.argv[1], int(sys.argv[2])
url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
res = {"ours": [], "naive": [], "ours_send": [], "naive_post": []}
T = {}
orig = Client.send_recordbatches
def send(self, b):
    t = time.ticks_us()
    try: return orig(self, b)
    finally: T["send"] = time.ticks_diff(time.ticks_us(), t)
Client.send_recordbatches = send
def wrap(obj, name, key):
    o = getattr(obj, name)
    def f(*a, **k):
        t = time.ticks_us()
        try: return o(*a, **k)
        finally: T[key] = T.get(key, 0) + time.ticks_diff(time.ticks_us(), t)
    setattr(obj, name, f)
wrap(forward.Forwarder, "_collect", "collect")
wrap(Journal, "ack", "ack")
wrap(Journal, "_write_state", "state")
wrap(Journal, "_reclaim", "reclaim")
wrap(Journal, "stats", "stats")
for r in range(8):
    mount_flash("/t%d" % r, blocks=256)
    order = ("naive", "ours") if r % 2 else ("ours", "naive")
    for name in order:
        clock = Clock(); clock.unix += (r * 2 + (name == "ours")) * 100000
        if name == "ours":
            j = Journal("/t%d/j" % r, capacity_bytes=65536)
            c = Client("1" * 40, host=host, port=port, https=False, journal=j, clock=clock)
            for step in range(200):
                c.add_value("temp", 20.0 + step / 8); c.commit(); clock.unix += 60
            gc.collect(); time.sleep_ms(20)
            T.clear()
            t = time.ticks_us(); c.push(); res["ours"].append(time.ticks_diff(time.ticks_us(), t)); res["ours_send"].append(T["send"])
            print(dict(T))
        else:
            with open("/t%d/pending.json" % r, "w") as f:
                f.write(json.dumps([[clock.unix + s * 60, 20.0 + s / 8] for s in range(200)]))
            gc.collect(); time.sleep_ms(20)
            t = time.ticks_us()
            with open("/t%d/pending.json" % r) as f: points = json.load(f)
            body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [{"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
            t2 = time.ticks_us()
            resp = requests.post(url, data=body, headers={"Content-Type": "application/json"}); ok = resp.json()[0]["status"] == "ok"; resp.close()
            res["naive_post"].append(time.ticks_diff(time.ticks_us(), t2))
            with open("/t%d/pending.json" % r, "w") as f: f.write("[]")
            res["naive"].append(time.ticks_diff(time.ticks_us(), t))
for k, v in res.items(): v.sort(); print(k, v[len(v)//2], v[0], v)
