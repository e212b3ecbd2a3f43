"""Anchor of the heap probes: the least a board can do to send 100 points,
json.dumps of one recordbatch and MicroPython's requests.post, with no
journal, no retry and no checks. usage: micropython -X heapsize=N
mp_anchor_post.py URL. Prints "pushed 100" when the server took them."""
import json
import sys

import requests

points = [[1790000000 + 60 * step, 20.0 + step / 8] for step in range(100)]
body = json.dumps({"auth": {"cik": "1" * 40}, "calls": [
    {"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "temp"}, points]}]})
points = None
response = requests.post(sys.argv[1] + "/onep:v1/rpc/process", data=body,
                         headers={"Content-Type": "application/json"})
answer = response.json()
response.close()
assert answer[0]["status"] == "ok", answer
print("pushed 100")
