import sys, time
from common import Clock, mount_flash
from uonep import Client, forward
from uonep.journal import Journal
host, port = sys.argv[1], int(sys.argv[2])
mount_flash("/t", blocks=256)
T = {"send": 0, "ack": 0, "collect": 0}
def wrap(obj, name, key):
    orig = getattr(obj, name)
    def f(*a, **k):
        t = time.ticks_us()
        try: return orig(*a, **k)
        finally: T[key] += time.ticks_diff(time.ticks_us(), t)
    setattr(obj, name, f)
wrap(Client, "send_recordbatches", "send")
wrap(Journal, "ack", "ack")
wrap(forward.Forwarder, "_collect", "collect")
import json, requests
for r in range(5):
    for k in T: T[k] = 0
    clock = Clock()
    j = Journal("/t/j%d" % r, capacity_bytes=32768)
    c = Client("1" * 40, host=host, port=port, https=False, journal=j, clock=clock)
    for step in range(200):
        c.add_value("temp", 20.0 + step / 8); c.commit(); clock.unix += 60
    t = time.ticks_us(); rep = c.push(); dt = time.ticks_diff(time.ticks_us(), t)
    points = [[clock.unix + s * 60, 20.0 + s / 8] for s in range(200)]
    t = time.ticks_us()
    body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [{"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
    resp = requests.post("http://%s:%d/onep:v1/rpc/process" % (host, port), data=body, headers={"Content-Type": "application/json"}); resp.json(); resp.close()
    naive = time.ticks_diff(time.ticks_us(), t)
    print("total", dt, T, "naive post", naive)
    j.close()
