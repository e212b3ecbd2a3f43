"""Fault injection from Python (emulator.faults) and over the loopback
control API, including the faults CLI. The faults run through both front
doors (`door`): over HTTP they act on the socket, in process the session
raises what requests would."""

import json
import subprocess
import sys
import time

import pytest
import requests

from emulator_helpers import CIK, RPC, T0, Door, over_http
from uonep_host.emulator.control import ControlError
from uonep_host.emulator.core import Request

BODY = json.dumps({"auth": {"cik": CIK}, "calls": [
    {"id": 1, "procedure": "write", "arguments": [{"alias": "count"}, 1]}]})


def post(door, timeout=5):
    """One RPC request."""
    return door.post(RPC, data=BODY, timeout=timeout,
                     headers={"Content-Type": "application/json; charset=utf-8"})


def stored(emu):
    return len(emu.points(CIK, "count"))


def test_drop_before_body_runs_nothing(emu, door):
    emu.faults.arm("drop_before_body")
    with pytest.raises(requests.ConnectionError):
        post(door)
    assert stored(emu) == 0
    assert post(door).json() == [{"id": 1, "status": "ok"}]    # count 1: next is normal
    assert stored(emu) == 1
    assert emu.faults.fired == ["drop_before_body"]


def test_drop_after_body_runs_the_calls(emu, door):
    emu.faults.arm("drop_after_body")
    with pytest.raises(requests.ConnectionError):
        post(door)
    assert emu.points(CIK, "count") == [[T0, 1]]     # the lost acknowledgement


def test_stall_then_answer(emu, door):
    emu.faults.arm("stall", seconds=0.3)
    started = time.monotonic()
    assert post(door).json() == [{"id": 1, "status": "ok"}]
    assert time.monotonic() - started >= 0.3


def test_stall_past_the_client_timeout_still_runs_the_calls(emu, door):
    emu.faults.arm("stall", seconds=0.5)
    with pytest.raises(requests.Timeout):
        post(door, timeout=0.15)
    assert stored(emu) == 1


def test_stall_then_close(emu, door):
    emu.faults.arm("stall", seconds=0.1, then="close")
    with pytest.raises(requests.ConnectionError):
        post(door)
    assert stored(emu) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_status_with_html_runs_nothing(emu, door, status):
    emu.faults.arm("http_status", status=status)
    answer = post(door)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in answer.content
    assert stored(emu) == 0


def test_truncate_runs_the_calls_and_cuts_the_json(emu, door):
    emu.faults.arm("truncate")
    answer = post(door)
    full = b'[{"id":1,"status":"ok"}]'
    assert answer.status_code == 200 and answer.content == full[:len(full) // 2]
    assert answer.headers["Content-Length"] == str(len(full) // 2)
    with pytest.raises(ValueError):
        answer.json()
    assert stored(emu) == 1


def test_auth_fault_answers_401_without_running(emu, door):
    emu.faults.arm("auth")
    assert post(door).json() == {"error": {"code": 401, "message": "Invalid", "context": "auth"}}
    assert stored(emu) == 0


def test_call_status_fails_one_procedure(rpc, emu):
    emu.faults.arm("call_status", procedure="recordbatch", call_status="fail")
    answer = rpc.send([
        {"id": 1, "procedure": "recordbatch", "arguments": [{"alias": "count"}, [[T0, 1]]]},
        {"id": 2, "procedure": "write", "arguments": [{"alias": "temp"}, 1]}])
    assert answer == [{"id": 1, "status": "fail"}, {"id": 2, "status": "ok"}]
    assert stored(emu) == 0
    rpc.ok("recordbatch", {"alias": "count"}, [[T0, 1]])     # used up
    emu.faults.arm("call_status", call_status="restricted")  # any procedure
    assert rpc.status("read", {"alias": "count"}, {}) == "restricted"


def test_count_and_every(emu, door):
    emu.faults.arm("http_status", status=500, count=2)
    assert [post(door).status_code for _ in range(3)] == [500, 500, 200]
    emu.faults.arm("http_status", status=502, every=3)
    assert [post(door).status_code for _ in range(6)] == [200, 200, 502, 200, 200, 502]
    assert emu.faults.armed()[0]["every"] == 3
    emu.reset_faults()
    assert emu.faults.armed() == [] and post(door).status_code == 200


def test_faults_apply_to_rpc_only_unless_a_path_is_given(emu, door):
    emu.faults.arm("http_status", status=503)
    assert door.get("/timestamp").status_code == 200
    assert post(door).status_code == 503
    emu.faults.arm("http_status", status=502, path="/timestamp")
    assert post(door).status_code == 200
    assert door.get("/timestamp").status_code == 502


def test_activation_lost_acknowledgement(emu, door):
    emu.faults.arm("drop_after_body", path="/provision/activate")
    form = {"vendor": "acme", "model": "m1", "sn": "0001"}
    with pytest.raises(requests.ConnectionError):
        door.post("/provision/activate", data=form)
    # it did activate: a retry is refused
    assert door.post("/provision/activate", data=form).status_code == 409


def test_control_api_arms_lists_and_clears(door):
    control = "/_emulator/faults"
    answer = door.post(control, json={"kind": "drop_after_body", "count": 2})
    assert answer.status_code == 200
    armed = door.get(control).json()["armed"]
    assert [(fault["kind"], fault["remaining"]) for fault in armed] == [("drop_after_body", 2)]
    # the control API itself is never faulted
    assert door.get(control).status_code == 200
    door.post(control, json={"kind": "clear"})
    assert door.get(control).json()["armed"] == []
    assert door.post(control, json={"kind": "meteor"}).status_code == 400
    assert door.post(control, json={"kind": "stall", "colour": 1}).status_code == 400
    assert door.post(control, data=b"{oops").status_code == 400


def test_control_api_moves_the_clock(door):
    clock = "/_emulator/clock"
    assert door.post(clock, json={"advance": 3600}).json()["now"] == T0 + 3600
    assert door.get("/timestamp").text == str(T0 + 3600)
    assert door.post(clock, json={"now": T0 - 5}).json()["now"] == T0 - 5
    assert door.post(clock, json={"offset": 0}).json() == {"now": T0, "offset": 0}
    assert door.get(clock).json() == {"now": T0, "offset": 0}
    assert door.post(clock, json={}).status_code == 400


def test_control_api_points_and_stats(door):
    door.rpc().ok("write", {"alias": "temp"}, 2.5)
    answer = door.post("/_emulator/points", json={"cik": CIK, "alias": "temp"})
    assert answer.json() == {"points": [[T0, 2.5]]}
    assert door.post("/_emulator/points", json={"cik": CIK, "alias": "nope"}).status_code == 404
    assert door.get("/_emulator/stats").json() == {"rpc_requests": 1}


def test_control_client(emu, door):
    control = door.control()
    armed = control.arm("http_status", status=503, count=2, every=None)["armed"]
    assert [(fault["kind"], fault["status"], fault["every"]) for fault in armed] == [
        ("http_status", 503, None)]
    assert control.faults()["armed"][0]["remaining"] == 2
    assert post(door).status_code == 503
    assert control.faults()["fired"] == ["http_status"]
    assert control.clear() == {"armed": [], "fired": ["http_status"]}
    assert control.set_clock(advance=60) == {"now": T0 + 60, "offset": 60}
    assert control.clock() == {"now": T0 + 60, "offset": 60} and emu.clock.now() == T0 + 60
    assert post(door).status_code == 200
    assert control.points(CIK, "count") == [[T0 + 60, 1]]
    assert control.stats() == {"rpc_requests": 2}


def test_control_client_raises_the_refusals(door):
    control = door.control()
    with pytest.raises(ControlError) as unknown:
        control.arm("meteor")
    assert unknown.value.status == 400 and "meteor" in unknown.value.answer["error"]
    with pytest.raises(ControlError) as missing:
        control.points(CIK, "nope")
    assert missing.value.status == 404 and "nope" in str(missing.value)
    with pytest.raises(ControlError):
        control.set_clock()


def test_control_api_is_loopback_only(emu):
    refused = emu.handle(Request("GET", "/_emulator/faults", local=False))
    assert refused.status == 403 and emu.faults.armed() == []
    assert emu.handle(Request("POST", "/_emulator/faults", body=b'{"kind": "auth"}',
                              local=False)).status == 403
    assert emu.faults.armed() == []
    assert emu.handle(Request("GET", "/_emulator/faults")).status == 200


def test_faults_cli(served):
    command = [sys.executable, "-m", "uonep_host.emulator.faults", "--url", served.url]
    door = Door("http", requests, served.url)
    done = subprocess.run(command + ["http_status", "--status", "502", "--count", "2"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["armed"][0]["status"] == 502
    listed = subprocess.run(command + ["list"], capture_output=True, text=True, timeout=30)
    assert json.loads(listed.stdout)["armed"][0]["remaining"] == 2
    assert post(door).status_code == 502
    cleared = subprocess.run(command + ["clear"], capture_output=True, text=True, timeout=30)
    assert cleared.returncode == 0 and post(door).status_code == 200
    moved = subprocess.run(command + ["clock", "--advance", "60"], capture_output=True,
                           text=True, timeout=30)
    assert json.loads(moved.stdout)["now"] == T0 + 60


def test_python_handle_refuses_bad_faults(emu):
    with pytest.raises(ValueError):
        emu.faults.arm("meteor")
    with pytest.raises(ValueError):
        emu.faults.arm("http_status", status=9000)
    with pytest.raises(ValueError):
        emu.faults.arm("stall", path="/elsewhere")


def test_keep_alive_client_recovers_after_a_drop(served):
    served.faults.arm("drop_after_body")
    session = over_http(served.url).http
    with pytest.raises(requests.ConnectionError):
        session.post(served.url + RPC, data=BODY)
    assert session.post(served.url + RPC, data=BODY).status_code == 200
