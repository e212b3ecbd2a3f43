import sys, time, json
import requests
from uonep import rpc, Client
from uonep.transport import Transport
host, port = sys.argv[1], int(sys.argv[2])
url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
base = [1800000000]
def naive():
    base[0] += 20000
    points = [[base[0] + s * 60, 20.0 + s / 8] for s in range(200)]
    body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [{"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
    t = time.ticks_us()
    r = requests.post(url, data=body, headers={"Content-Type": "application/json"}); r.json(); r.close()
    return time.ticks_diff(time.ticks_us(), t)
def ours_raw():
    base[0] += 20000
    enc = bytearray(b",".join(b"[%d,%s]" % (base[0] + s * 60, repr(20.0 + s / 8).encode()) for s in range(200)))
    body = rpc.encode_recordbatches({"cik": "1" * 40}, [["temp", enc]])
    t = time.ticks_us()
    r = requests.request("POST", url, data=body, headers={"User-Agent": "uonep/0.1", "Content-Type": rpc.CONTENT_TYPE}, timeout=10); c = r.content; r.close()
    return time.ticks_diff(time.ticks_us(), t)
client = Client("1" * 40, host=host, port=port, https=False)
def ours_client():
    base[0] += 20000
    enc = bytearray(b",".join(b"[%d,%s]" % (base[0] + s * 60, repr(20.0 + s / 8).encode()) for s in range(200)))
    t = time.ticks_us()
    client.send_recordbatches([["temp", enc]])
    return time.ticks_diff(time.ticks_us(), t)
res = {}
for r in range(20):
    for f in (naive, ours_raw, ours_client):
        res.setdefault(f.__name__, []).append(f())
for k, v in res.items(): v.sort(); print(k, v[len(v)//2], v[0])
