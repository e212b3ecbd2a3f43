"""uonep_host.OnepV1 end to end against the local One Platform emulator:
what pyonep-style code writes, records and reads comes back, deferred calls
run in one request, and failures have pyonep's shapes."""

import urllib.parse

import pytest

from uonep_host import OnepV1
from uonep_host.emulator import Emulator
from uonep_host.exceptions import JsonRPCRequestException, OnePlatformException

CIK = "d" * 40
WRONG_CIK = "e" * 40
SEED = {"clients": [{"cik": CIK, "name": "device", "dataports": [
    {"alias": "temp", "format": "float", "name": "Temperature"},
    {"alias": "count", "format": "integer", "name": "Counter"},
    {"alias": "status", "format": "string", "name": "Status"},
]}]}
TEMP = {"alias": "temp"}
COUNT = {"alias": "count"}
STATUS = {"alias": "status"}


@pytest.fixture
def emulator():
    running = Emulator(seed=SEED).start()
    yield running
    running.stop()


@pytest.fixture
def onep(emulator):
    address = urllib.parse.urlsplit(emulator.url)
    o = OnepV1(host=address.hostname, port=str(address.port),
               https=address.scheme == "https")
    yield o
    o.close()


def test_write_then_read(onep):
    assert onep.write(CIK, TEMP, 23.5) == (True, "ok")
    ok, points = onep.read(CIK, TEMP, {"limit": 1})
    assert ok is True
    assert len(points) == 1 and points[0][1] == 23.5
    assert isinstance(points[0][0], int)


def test_recordbatch_then_read_in_order(onep):
    entries = [[1400000000, 1], [1400000060, 2], [1400000120, 3]]
    assert onep.recordbatch(CIK, COUNT, entries) == (True, "ok")
    assert onep.read(CIK, COUNT, {"starttime": 1400000000, "endtime": 1400000120,
                                  "sort": "asc", "limit": 10}) == (True, entries)


def test_record_and_writegroup(onep):
    assert onep.record(CIK, STATUS, [[1400000000, "idle"]]) == (True, "ok")
    assert onep.writegroup(CIK, [[TEMP, 20.5], [STATUS, "busy"]]) == (True, "ok")
    ok, points = onep.read(CIK, STATUS, {"sort": "asc", "limit": 10})
    assert ok and [value for timestamp, value in points] == ["idle", "busy"]
    assert onep.read(CIK, TEMP, {})[1][0][1] == 20.5


def test_recordbatch_reports_the_points_it_refused(onep):
    ok, refused = onep.recordbatch(CIK, COUNT, [[1400000000, 1], [1400000001, "x"]])
    assert (ok, refused) == (False, [[1400000001, "invalid"]])
    assert onep.read(CIK, COUNT, {"limit": 10})[1] == [[1400000000, 1]]


def test_value_of_the_wrong_format_is_refused_per_call(onep):
    ok, status = onep.write(CIK, COUNT, "not a number")
    assert ok is False and status != "ok"


def test_deferred_calls_run_in_one_request(onep):
    onep.write(CIK, TEMP, 1.5, defer=True)
    onep.write(CIK, STATUS, "on", defer=True)
    onep.read(CIK, STATUS, {"limit": 1}, defer=True)
    results = onep.send_deferred(CIK)
    assert [call["procedure"] for call, ok, result in results] == ["write", "write", "read"]
    assert [ok for call, ok, result in results] == [True, True, True]
    assert results[2][2][0][1] == "on"
    assert onep.has_deferred(CIK) is False


def test_resources_lookup_listing_and_drop(onep):
    ok, rid = onep.lookup(CIK, "alias", "temp")
    assert ok and len(rid) == 40
    ok, listing = onep.listing(CIK, ["dataport"], {}, {"alias": ""})
    assert ok and rid in listing["dataport"] and len(listing["dataport"]) == 3
    ok, new = onep.createDataport(CIK, {"format": "string", "name": "Note",
                                        "retention": {"count": "infinity",
                                                      "duration": "infinity"}})
    assert ok and len(new) == 40
    assert onep.map(CIK, new, "note") == (True, "ok")
    assert onep.write(CIK, {"alias": "note"}, "hello") == (True, "ok")
    assert onep.read(CIK, new, {})[1][0][1] == "hello"
    assert onep.drop(CIK, new) == (True, "ok")
    assert onep.lookup(CIK, "alias", "note")[0] is False


def test_info_of_the_calling_client(onep):
    ok, info = onep.info(CIK, {"alias": ""}, {"basic": True, "description": True})
    assert ok and info["description"]["name"] == "device"


def test_flush_removes_points(onep):
    onep.recordbatch(CIK, COUNT, [[1400000000, 1], [1400000060, 2]])
    assert onep.flush(CIK, COUNT) == (True, "ok")
    assert onep.read(CIK, COUNT, {"limit": 10}) == (True, [])


def test_wait_expires_when_nothing_arrives(onep):
    assert onep.wait(CIK, TEMP, {"timeout": 200}) == (False, "expire")


def test_connect_as_reaches_a_child_client(onep):
    ok, child = onep.create(CIK, "client", {"name": "child"})
    assert ok
    onep.connect_as(child)
    ok, port = onep.create(CIK, "dataport", {"format": "integer", "retention": {
        "count": "infinity", "duration": "infinity"}})
    assert ok
    assert onep.write(CIK, port, 7) == (True, "ok")
    assert onep.read(CIK, port, {})[1][0][1] == 7
    ok, listing = onep.listing(CIK, ["dataport"], {}, {"alias": ""})
    assert listing["dataport"] == [port]


def test_wrong_cik_raises_oneplatformexception(onep):
    with pytest.raises(OnePlatformException) as raised:
        onep.read(WRONG_CIK, TEMP, {})
    assert raised.value.error["code"] == 401


def test_grant_token_reads_and_writes(onep):
    ok, rid = onep.lookup(CIK, "alias", "status")
    ok, token = onep.grant(CIK, {"alias": ""}, {rid: ["read", "write"]}, ttl=60)
    assert ok, token
    assert onep.write({"token": token}, rid, "via token") == (True, "ok")
    assert onep.read({"token": token}, rid, {})[1][0][1] == "via token"


def test_kept_connection_survives_the_server_closing_it_after_100_requests(emulator):
    address = urllib.parse.urlsplit(emulator.url)
    o = OnepV1(host=address.hostname, port=str(address.port), https=False,
               reuseconnection=True)
    try:
        for value in range(105):
            assert o.write(CIK, COUNT, value) == (True, "ok")
    finally:
        o.close()
    assert emulator.points(CIK, "count")[-1][1] == 104


def test_ids_on_the_wire_follow_startid(emulator):
    address = urllib.parse.urlsplit(emulator.url)
    o = OnepV1(host=address.hostname, port=str(address.port), https=False, startid=40)
    o.write(CIK, TEMP, 1.0)
    o.read(CIK, TEMP, {}, defer=True)
    o.read(CIK, COUNT, {}, defer=True)
    o.send_deferred(CIK)
    ids = [[call["id"] for call in entry["body"]["calls"]] for entry in emulator.requests]
    assert ids == [[40], [41, 42]]


@pytest.mark.parametrize("kind, options, raised", [
    ("drop_before_body", {}, JsonRPCRequestException),
    ("drop_after_body", {}, JsonRPCRequestException),
    ("http_status", {"status": 502}, OnePlatformException),
    ("truncate", {}, OnePlatformException),
    ("auth", {}, OnePlatformException),
])
def test_request_faults_raise_pyonep_exceptions(emulator, onep, kind, options, raised):
    emulator.faults.arm(kind, **options)
    with pytest.raises(raised):
        onep.write(CIK, TEMP, 1.0)
    assert onep.write(CIK, TEMP, 2.0) == (True, "ok")


def test_call_fault_is_a_per_call_failure(emulator, onep):
    emulator.faults.arm("call_status", procedure="write", call_status="fail")
    assert onep.write(CIK, TEMP, 1.0) == (False, "fail")
