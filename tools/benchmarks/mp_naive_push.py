"""Baseline of the heap probe: a backlog kept as one JSON file of pending
points, loaded whole and sent in one recordbatch, as simple store-and-forward
code does. usage: micropython -X heapsize=N mp_naive_push.py HOST PORT FILE"""
import json
import sys

import requests

with open(sys.argv[3]) as f:
    pending = json.load(f)
body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [
    {"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, pending]}]})
response = requests.post("http://%s:%s/onep:v1/rpc/process" % (sys.argv[1], sys.argv[2]),
                         data=body, headers={"Content-Type": "application/json"})
answer = response.json()
response.close()
assert answer[0]["status"] == "ok", answer
print("pushed %d" % len(pending))
