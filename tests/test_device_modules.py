"""What a sampling device loads: the push's request through a Client
loads client, rpc, http, clock and errors of the core and nothing else (a Client is
its own Transport: uonep.transport stays unloaded);
everything else of the public API is still there, loaded on first use.
Each check runs in a fresh interpreter (MicroPython's unix port and
CPython), since what a process has loaded is the point."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = str(Path(sys.executable).parent / "micropython")

PUSH = """
import sys
import uonep
loaded = sorted(name for name in sys.modules if name.startswith("uonep"))
assert loaded == ["uonep", "uonep.errors"], loaded

class Answer:
    status_code = 200
    content = b'[{"id":1,"status":"ok"},{"id":2,"status":"invalid"}]'
    def close(self):
        pass

class Server:
    def request(self, method, url, data=None, headers=None, timeout=None):
        self.body = bytes(data)
        return Answer()

server = Server()
from uonep import Client
client = Client("1" * 40, "http://127.0.0.1:9", http=server)
outcomes, size = client.send_recordbatches([("temp", b"[1,2.5]"), ("count", b"[1,3]")])
assert outcomes[0] is None and outcomes[1].status == "invalid", outcomes
assert size == len(server.body) and b'"procedure":"recordbatch"' in server.body
loaded = sorted(name for name in sys.modules if name.startswith("uonep"))
# CPython's JSON string writer is in uonep.builders (see uonep.rpc);
# uonep.http (and its clock), which a device sends through, tells whether
# the body may go as its parts.
# CPython's millisecond counter is uonep.hostclock's.
mp = sys.implementation.name == "micropython"
assert loaded == ["uonep"] + ([] if mp else ["uonep.builders"]) + [
    "uonep.client", "uonep.clock", "uonep.errors"] + ([] if mp else ["uonep.hostclock"]) + [
    "uonep.http", "uonep.rpc"], loaded

# What else a device meets is read without the builders too: a partial
# recordbatch, a revoked CIK, a server failure, a gateway's error page.
from uonep.errors import AuthError, HTTPError, RecordBatchError, ServerError
Answer.content = b'[{"id":1,"status":[[1,"invalid"]]}]'
outcomes, size = client.send_recordbatches([("temp", b"[1,2.5]")])
assert isinstance(outcomes[0], RecordBatchError) and outcomes[0].rejected == [[1, "invalid"]]
for status, page, kind in ((200, b'{"error":{"code":401,"message":"Invalid"}}', AuthError),
                           (200, b'{"error":{"code":500,"message":"Internal"}}', ServerError),
                           (503, b"<html>busy</html>", HTTPError), (401, b"", AuthError)):
    Answer.status_code, Answer.content = status, page
    try:
        client.send_recordbatches([("temp", b"[1,2.5]")])
    except kind:
        pass
    else:
        raise AssertionError("no %s for %r" % (kind.__name__, page))
assert loaded == sorted(name for name in sys.modules if name.startswith("uonep")), loaded
print("device ok")

# The rest of the API, loaded on first use.
from uonep import Batch, CallError, ContentError, Journal, OnepError, Uplink
from uonep.client import Batch as Same
from uonep.transport import reason, server_url
assert Same is Batch and issubclass(CallError, OnepError) and issubclass(ContentError, OnepError)
assert server_url("h", 8080, False) == "http://h:8080"
batch = client.batch()
assert isinstance(batch, Batch) and batch.write("temp", 1) == 0 and batch.info() == 1
assert repr(Client("2" * 40, host="h", port=81, https=False)) == "<uonep.Client http://h:81>"
for name in ("content_list", "data_write", "send", "read", "create_dataport"):
    assert callable(getattr(client, name)), name
try:
    client.no_such_procedure
except AttributeError:
    pass
else:
    raise AssertionError("an unknown method was found")
print("api ok")
"""


@pytest.mark.parametrize("interpreter", ["micropython", "cpython"])
def test_the_push_loads_only_the_device_modules_and_the_rest_comes_on_first_use(interpreter):
    binary = MICROPYTHON if interpreter == "micropython" else sys.executable
    environment = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"),
                       PYTHONPATH=str(ROOT / "firmware"))
    done = subprocess.run([binary, "-c", PUSH], capture_output=True, text=True, timeout=60,
                          env=environment, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr
    assert "device ok" in done.stdout
    assert "api ok" in done.stdout
