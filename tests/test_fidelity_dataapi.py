"""The HTTP Data API and JSON-RPC see one store: what a device writes
form-encoded is what an RPC client reads, and the other way round, through
uonep_host.OnepV1 (pyonep's interface, over HTTP) and uonep_host.Client (in
process). The wire details of the Data API are in
tests/emulator/test_emulator_dataapi.py."""

import urllib.parse

import pytest

from uonep_host import Client, OnepV1
from uonep_host.emulator import Emulator

CIK = "e" * 40
SEED = {"clients": [{"cik": CIK, "name": "device", "dataports": [
    {"alias": "temp", "format": "float"},
    {"alias": "count", "format": "integer"},
    {"alias": "status", "format": "string"},
]}]}
ALIAS = "/onep:v1/stack/alias"
HEADERS = {"X-Exosite-CIK": CIK, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class ThroughOnepV1:
    """RPC reads and writes through OnepV1 over HTTP; form requests over HTTP."""

    def __init__(self, emulator):
        import requests
        address = urllib.parse.urlsplit(emulator.start().url)
        self.onep = OnepV1(host=address.hostname, port=str(address.port), https=False)
        self.http, self.url = requests.Session(), emulator.url

    def write(self, alias, value):
        assert self.onep.write(CIK, {"alias": alias}, value) == (True, "ok")

    def read(self, alias):
        success, points = self.onep.read(CIK, {"alias": alias}, {"limit": 1})
        assert success is True
        return points[0][1] if points else None


class ThroughClient:
    """RPC reads and writes through uonep_host.Client; form requests, both in process."""

    def __init__(self, emulator):
        self.http, self.url = emulator.session(), ""
        self.client = Client(CIK, host="emulator", https=False, http=self.http)

    def write(self, alias, value):
        self.client.write(alias, value)

    def read(self, alias):
        points = self.client.read(alias)
        return points[0][1] if points else None


@pytest.fixture(params=[ThroughOnepV1, ThroughClient], ids=["OnepV1", "Client"])
def side(request):
    emulator = Emulator(seed=SEED)
    yield request.param(emulator)
    emulator.stop()


def form_write(side, body, query=""):
    return side.http.post(side.url + ALIAS + query, data=body, headers=HEADERS)


def form_read(side, *aliases):
    answer = side.http.get(side.url + ALIAS + "?" + "&".join(aliases), headers=HEADERS)
    return answer.status_code, dict(urllib.parse.parse_qsl(answer.text))


def test_a_form_encoded_write_is_read_by_rpc(side):
    assert form_write(side, "temp=0.987654321&count=42&status=ok+%26+running").status_code == 204
    assert side.read("temp") == 0.987654321
    assert side.read("count") == 42                       # the numeric string is a number
    assert side.read("status") == "ok & running"


def test_an_rpc_write_is_read_form_encoded(side):
    assert form_read(side, "temp", "count") == (204, {})
    side.write("temp", 21.25)
    side.write("count", "7")
    side.write("status", "caf\u00e9 = open")
    assert form_read(side, "temp", "count", "status") == (200, {
        "temp": "21.25", "count": "7", "status": "caf\u00e9 = open"})


def test_hybrid_write_then_read_agrees_with_rpc(side):
    side.write("status", "old")
    answer = form_write(side, "status=new&count=3", query="?status&count")
    assert answer.status_code == 200
    assert dict(urllib.parse.parse_qsl(answer.text)) == {"status": "new", "count": "3"}
    assert (side.read("status"), side.read("count")) == ("new", 3)


def test_a_refused_form_write_leaves_rpc_reads_unchanged(side):
    side.write("count", 1)
    assert form_write(side, "count=2&temp=warm").status_code == 400
    assert (side.read("count"), side.read("temp")) == (1, None)
