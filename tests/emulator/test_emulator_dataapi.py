"""The HTTP Data API and GET /ip on the wire, through each front door
(`door`: in process, then real HTTP): form-encoded writes and reads with
X-Exosite-CIK, the hybrid write-then-read, the long polls (Request-Timeout
and waitalias), record, and that a form-encoded write goes through the same
ingest path as JSON-RPC writes (numbers, preprocess, subscribers)."""

import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl

import pytest
import requests

from emulator_helpers import CIK, T0

ALIAS = "/onep:v1/stack/alias"
WAIT = "/onep:v1/stack/waitalias"
RECORD = "/onep:v1/stack/record"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
AUTH = {"X-Exosite-CIK": CIK}


def write(door, body, cik=CIK, query=""):
    return door.post(ALIAS + query, data=body, headers={"X-Exosite-CIK": cik,
                                                        "Content-Type": FORM})


def read(door, *aliases, cik=CIK, headers=None):
    return door.get(ALIAS + "?" + "&".join(aliases),
                    headers=dict({"X-Exosite-CIK": cik, "Accept": FORM}, **(headers or {})))


def points(emu, alias):
    return emu.points(CIK, alias)


def test_a_form_write_is_stored_at_server_time_and_read_by_rpc(door, emu):
    answer = write(door, "temp=21.5&count=42&status=on%20line")
    assert (answer.status_code, answer.content) == (204, b"")
    assert "Content-Type" not in answer.headers
    rpc = door.rpc()
    assert rpc.ok("read", {"alias": "count"}, {}) == [[T0, 42]]       # a number, not "42"
    assert rpc.ok("read", {"alias": "temp"}, {}) == [[T0, 21.5]]
    assert rpc.ok("read", {"alias": "status"}, {}) == [[T0, "on line"]]


def test_an_rpc_write_is_read_by_a_form_read_newest_value_reverse_order(door, emu):
    rpc = door.rpc()
    rpc.ok("write", {"alias": "count"}, 7)
    emu.set_clock(advance=5)
    rpc.ok("write", {"alias": "count"}, 8)
    rpc.ok("write", {"alias": "status"}, "a&b=c d/é")
    answer = read(door, "status", "count", "temp")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == FORM
    # the platform answers in the reverse order of the query; temp has no value
    assert parse_qsl(answer.text) == [("count", "8"), ("status", "a&b=c d/é")]
    assert answer.text == "count=8&status=a%26b%3Dc+d%2F%C3%A9"


def test_read_answers_204_when_no_alias_has_a_value_or_exists(door):
    for aliases in (("temp",), ("nosuch",), ("temp", "nosuch")):
        answer = read(door, *aliases)
        assert (answer.status_code, answer.content) == (204, b"")


def test_unknown_aliases_are_skipped_not_refused(door, emu):
    assert write(door, "nosuch=1&temp=3").status_code == 204
    assert points(emu, "temp") == [[T0, 3.0]]
    write(door, "count=5")
    assert parse_qsl(read(door, "nosuch", "count").text) == [("count", "5")]


def test_a_bad_value_answers_400_and_stores_nothing(door, emu):
    answer = write(door, "count=9&temp=hot")
    assert answer.status_code == 400 and "'hot' is not a float" in answer.text
    assert points(emu, "count") == [] and points(emu, "temp") == []
    assert write(door, "count=1.5").status_code == 400
    assert write(door, "count").status_code == 400               # no value at all


def test_bad_or_missing_cik_answers_401(door, emu):
    for headers in ({}, {"X-Exosite-CIK": "2" * 40}, {"X-Exosite-CIK": CIK + "a"},
                    {"X-Exosite-CIK": "not a cik"}):
        assert door.post(ALIAS, data="temp=1", headers=headers).status_code == 401
        assert door.get(ALIAS + "?temp", headers=headers).status_code == 401
    assert points(emu, "temp") == []
    # a CIK its owner expired stops working here too
    rpc = door.rpc()
    child = rpc.ok("create", "client", {})
    key = rpc.ok("info", child, {"key": True})["key"]
    rpc.ok("deactivate", "client", key)
    assert write(door, "x=1", cik=key).status_code == 401


def test_hybrid_writes_first_then_reads(door, emu):
    door.rpc().ok("write", {"alias": "status"}, "before")
    answer = write(door, "status=after&count=616", query="?count&status")
    assert answer.status_code == 200
    assert parse_qsl(answer.text) == [("status", "after"), ("count", "616")]
    refused = write(door, "count=x", query="?status")
    assert refused.status_code == 400
    assert points(emu, "status") == [[T0, "after"]]


def test_form_writes_run_preprocess_and_reach_subscribers(door, emu):
    rpc = door.rpc()
    scaled = rpc.ok("create", "dataport", {"format": "float",
                                           "preprocess": [["add", 4.4], ["mul", 2]]})
    rpc.ok("map", "alias", scaled, "scaled")
    copy = rpc.ok("create", "dataport", {"format": "float", "subscribe": scaled,
                                         "preprocess": [["sub", 0.8]]})
    rpc.ok("map", "alias", copy, "copy")
    assert write(door, "scaled=10").status_code == 204
    assert rpc.ok("read", {"alias": "scaled"}, {}) == [[T0, 28.8]]
    assert rpc.ok("read", {"alias": "copy"}, {}) == [[T0, 28.0]]
    assert parse_qsl(read(door, "copy", "scaled").text) == [("scaled", "28.8"), ("copy", "28.0")]


def test_writing_a_datarule_alias_is_refused(door):
    rpc = door.rpc()
    rule = rpc.ok("create", "datarule", {"format": "float", "rule": {"simple": {
        "comparison": "gt", "constant": 1, "repeat": True}}})
    rpc.ok("map", "alias", rule, "rule")
    answer = write(door, "rule=2")
    assert answer.status_code == 400 and "datarule" in answer.text


def _write_later(door, body, delay=0.15):
    """Write `body` from another thread after `delay` seconds."""
    # each thread gets its own door to the same emulator (a Session is not shared)
    writer = threading.Timer(delay, lambda: write(door.fresh(), body))
    writer.start()
    return writer


@pytest.fixture
def fresh(door):
    """`door` with fresh(): another connection to the same emulator."""
    def fresh_door():
        if door.name == "in_process":
            return door
        return type(door)(door.name, requests.Session(), door.url)
    door.fresh = fresh_door
    return door


def test_long_poll_answers_the_next_point_with_last_modified(fresh, emu):
    writer = _write_later(fresh, "count=77")
    started = time.monotonic()
    answer = read(fresh, "count", headers={"Request-Timeout": "5000"})
    writer.join()
    assert time.monotonic() - started < 4
    assert (answer.status_code, answer.text) == (200, "count=77")
    assert parsedate_to_datetime(answer.headers["Last-Modified"]).timestamp() == T0


def test_long_poll_times_out_with_304(door):
    answer = read(door, "count", headers={"Request-Timeout": "100"})
    assert (answer.status_code, answer.content) == (304, b"")


def test_long_poll_since_answers_a_newer_point_at_once(door, emu):
    door.rpc().ok("recordbatch", {"alias": "count"}, [[T0 - 10, 1], [T0 - 5, 2]])
    for since in (str(T0 - 7), formatdate(T0 - 7, usegmt=True)):
        answer = read(door, "count", headers={"Request-Timeout": "5000",
                                              "If-Modified-Since": since})
        assert (answer.status_code, answer.text) == (200, "count=2")
    late = read(door, "count", headers={"Request-Timeout": "50",
                                        "If-Modified-Since": str(T0 - 5)})
    assert late.status_code == 304


def test_long_poll_refusals(door):
    assert read(door, "count", "temp", headers={"Request-Timeout": "100"}).status_code == 400
    assert read(door, "count", headers={"Request-Timeout": "soon"}).status_code == 400
    assert read(door, "count", headers={"Request-Timeout": "100",
                                        "If-Modified-Since": "yesterday"}).status_code == 400
    assert read(door, "nosuch", headers={"Request-Timeout": "100"}).status_code == 204


def test_waitalias_answers_the_value_or_expire(fresh, emu):
    headers = dict(AUTH, **{"Content-Type": FORM})
    expired = fresh.post(WAIT + "?count", data="timeout=100", headers=headers)
    assert (expired.status_code, expired.text) == (200, "count=expire%3A" + str(T0))
    assert parse_qsl(expired.text) == [("count", "expire:%d" % T0)]
    writer = _write_later(fresh, "count=5")
    answer = fresh.post(WAIT + "?count", data="timeout=5000", headers=headers)
    writer.join()
    assert (answer.status_code, answer.text) == (200, "count=5")
    assert fresh.post(WAIT, data="timeout=10", headers=headers).status_code == 400
    assert fresh.post(WAIT + "?count", data="timeout=x", headers=headers).status_code == 400
    assert fresh.post(WAIT + "?count", data="timeout=10").status_code == 401


def test_record_stores_given_timestamps_and_refuses_clashes(door, emu):
    body = "alias=count&%d=1&%d=2&alias=status&-30=old&alias=nosuch&5=9" % (T0 - 100, T0 - 50)
    answer = door.post(RECORD, data=body, headers=dict(AUTH, **{"Content-Type": FORM}))
    assert answer.status_code == 204
    assert points(emu, "count") == [[T0 - 100, 1], [T0 - 50, 2]]
    assert points(emu, "status") == [[T0 - 30, "old"]]
    clash = door.post(RECORD, data="alias=temp&10=1&10=2&alias=count&20=1&21=2&20=3",
                      headers=AUTH)
    assert clash.status_code == 409
    assert parse_qsl(clash.text) == [("temp", "10"), ("count", "20")]
    assert points(emu, "temp") == []
    assert door.post(RECORD, data="10=1", headers=AUTH).status_code == 400
    assert door.post(RECORD, data="alias=temp&x=1", headers=AUTH).status_code == 400
    assert door.post(RECORD, data="alias=temp&10=hot", headers=AUTH).status_code == 400


def test_ip_names_the_server_address_and_port(door, emu):
    answer = door.get("/ip")
    assert answer.status_code == 200
    numbers = [int(part) for part in answer.text.split(",")]
    assert len(numbers) == 6 and numbers[:4] == [127, 0, 0, 1]
    port = numbers[4] * 256 + numbers[5]
    assert port == (emu.port if door.name == "http" else 80)


def test_faults_apply_to_the_data_api(door, emu):
    emu.faults.arm("drop_after_body", path=ALIAS)
    with pytest.raises(requests.ConnectionError):
        write(door, "count=3")
    assert points(emu, "count") == [[T0, 3]]          # the write ran, its answer was lost
    emu.faults.arm("http_status", status=503, path=ALIAS)
    assert read(door, "count").status_code == 503
    assert read(door, "count").text == "count=3"
