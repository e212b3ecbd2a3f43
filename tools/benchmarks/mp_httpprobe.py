import sys, time, json
import requests
host, port = sys.argv[1], int(sys.argv[2])
url = "http://%s:%d/onep:v1/rpc/process" % (host, port)
points = [[1790000000 + s * 60, 20.0 + s / 8] for s in range(200)]
body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [{"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
variants = {
 "post": lambda: requests.post(url, data=body, headers={"Content-Type": "application/json"}),
 "req": lambda: requests.request("POST", url, data=body, headers={"Content-Type": "application/json"}),
 "req+timeout": lambda: requests.request("POST", url, data=body, headers={"Content-Type": "application/json"}, timeout=10),
 "req+ua": lambda: requests.request("POST", url, data=body, headers={"Content-Type": "application/json", "User-Agent": "uonep/0.1"}),
 "req+bytearray": lambda: requests.request("POST", url, data=bytearray(body.encode()), headers={"Content-Type": "application/json"}),
}
best = {}
for r in range(25):
    for name, f in variants.items():
        t = time.ticks_us(); resp = f(); c = resp.content; resp.close(); d = time.ticks_diff(time.ticks_us(), t)
        best.setdefault(name, []).append(d)
for name, v in best.items(): print(name, sorted(v)[len(v)//2], min(v))
