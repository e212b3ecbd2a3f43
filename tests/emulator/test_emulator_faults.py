"""Fault injection from Python (emulator.faults) and over the loopback
control API, including the faults CLI."""

import json
import subprocess
import sys
import time

import pytest
import requests

from emulator_helpers import CIK, RPC, T0, Rpc

BODY = json.dumps({"auth": {"cik": CIK}, "calls": [
    {"id": 1, "procedure": "write", "arguments": [{"alias": "count"}, 1]}]})


def post(emu, timeout=5):
    """One RPC request on a fresh connection."""
    return requests.post(emu.url + RPC, data=BODY, timeout=timeout,
                         headers={"Content-Type": "application/json; charset=utf-8"})


def stored(emu):
    return len(emu.points(CIK, "count"))


def test_drop_before_body_runs_nothing(emu):
    emu.faults.arm("drop_before_body")
    with pytest.raises(requests.ConnectionError):
        post(emu)
    assert stored(emu) == 0
    assert post(emu).json() == [{"id": 1, "status": "ok"}]    # count 1: next is normal
    assert stored(emu) == 1
    assert emu.faults.fired == ["drop_before_body"]


def test_drop_after_body_runs_the_calls(emu):
    emu.faults.arm("drop_after_body")
    with pytest.raises(requests.ConnectionError):
        post(emu)
    assert emu.points(CIK, "count") == [[T0, 1]]     # the lost acknowledgement


def test_stall_then_answer(emu):
    emu.faults.arm("stall", seconds=0.3)
    started = time.monotonic()
    assert post(emu).json() == [{"id": 1, "status": "ok"}]
    assert time.monotonic() - started >= 0.3


def test_stall_past_the_client_timeout_still_runs_the_calls(emu):
    emu.faults.arm("stall", seconds=0.5)
    with pytest.raises(requests.Timeout):
        post(emu, timeout=0.15)
    assert stored(emu) == 1


def test_stall_then_close(emu):
    emu.faults.arm("stall", seconds=0.1, then="close")
    with pytest.raises(requests.ConnectionError):
        post(emu)
    assert stored(emu) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_status_with_html_runs_nothing(emu, status):
    emu.faults.arm("http_status", status=status)
    answer = post(emu)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in answer.content
    assert stored(emu) == 0


def test_truncate_runs_the_calls_and_cuts_the_json(emu):
    emu.faults.arm("truncate")
    answer = post(emu)
    full = b'[{"id":1,"status":"ok"}]'
    assert answer.status_code == 200 and answer.content == full[:len(full) // 2]
    with pytest.raises(ValueError):
        answer.json()
    assert stored(emu) == 1


def test_auth_fault_answers_401_without_running(emu):
    emu.faults.arm("auth")
    assert post(emu).json() == {"error": {"code": 401, "message": "Invalid", "context": "auth"}}
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


def test_count_and_every(emu):
    emu.faults.arm("http_status", status=500, count=2)
    assert [post(emu).status_code for _ in range(3)] == [500, 500, 200]
    emu.faults.arm("http_status", status=502, every=3)
    assert [post(emu).status_code for _ in range(6)] == [200, 200, 502, 200, 200, 502]
    assert emu.faults.armed()[0]["every"] == 3
    emu.reset_faults()
    assert emu.faults.armed() == [] and post(emu).status_code == 200


def test_faults_apply_to_rpc_only_unless_a_path_is_given(emu):
    emu.faults.arm("http_status", status=503)
    assert requests.get(emu.url + "/timestamp").status_code == 200
    assert post(emu).status_code == 503
    emu.faults.arm("http_status", status=502, path="/timestamp")
    assert post(emu).status_code == 200
    assert requests.get(emu.url + "/timestamp").status_code == 502


def test_activation_lost_acknowledgement(emu):
    emu.faults.arm("drop_after_body", path="/provision/activate")
    form = {"vendor": "acme", "model": "m1", "sn": "0001"}
    with pytest.raises(requests.ConnectionError):
        requests.post(emu.url + "/provision/activate", data=form)
    # it did activate: a retry is refused
    assert requests.post(emu.url + "/provision/activate", data=form).status_code == 409


def test_control_api_arms_lists_and_clears(emu):
    control = emu.url + "/_emulator/faults"
    answer = requests.post(control, json={"kind": "drop_after_body", "count": 2})
    assert answer.status_code == 200
    armed = requests.get(control).json()["armed"]
    assert [(fault["kind"], fault["remaining"]) for fault in armed] == [("drop_after_body", 2)]
    # the control API itself is never faulted
    assert requests.get(control).status_code == 200
    requests.post(control, json={"kind": "clear"})
    assert requests.get(control).json()["armed"] == []
    assert requests.post(control, json={"kind": "meteor"}).status_code == 400
    assert requests.post(control, json={"kind": "stall", "colour": 1}).status_code == 400
    assert requests.post(control, data=b"{oops").status_code == 400


def test_control_api_moves_the_clock(emu):
    clock = emu.url + "/_emulator/clock"
    assert requests.post(clock, json={"advance": 3600}).json()["now"] == T0 + 3600
    assert requests.get(emu.url + "/timestamp").text == str(T0 + 3600)
    assert requests.post(clock, json={"now": T0 - 5}).json()["now"] == T0 - 5
    assert requests.post(clock, json={"offset": 0}).json() == {"now": T0, "offset": 0}
    assert requests.post(clock, json={}).status_code == 400


def test_control_api_points_and_stats(rpc, emu):
    rpc.ok("write", {"alias": "temp"}, 2.5)
    answer = requests.post(emu.url + "/_emulator/points", json={"cik": CIK, "alias": "temp"})
    assert answer.json() == {"points": [[T0, 2.5]]}
    assert requests.post(emu.url + "/_emulator/points",
                         json={"cik": CIK, "alias": "nope"}).status_code == 404
    assert requests.get(emu.url + "/_emulator/stats").json() == {"rpc_requests": 1}


def test_faults_cli(emu):
    command = [sys.executable, "-m", "uonep_host.emulator.faults", "--url", emu.url]
    done = subprocess.run(command + ["http_status", "--status", "502", "--count", "2"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["armed"][0]["status"] == 502
    listed = subprocess.run(command + ["list"], capture_output=True, text=True, timeout=30)
    assert json.loads(listed.stdout)["armed"][0]["remaining"] == 2
    assert post(emu).status_code == 502
    cleared = subprocess.run(command + ["clear"], capture_output=True, text=True, timeout=30)
    assert cleared.returncode == 0 and post(emu).status_code == 200
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


def test_keep_alive_client_recovers_after_a_drop(emu):
    emu.faults.arm("drop_after_body")
    session = Rpc(emu.url).session
    with pytest.raises(requests.ConnectionError):
        session.post(emu.url + RPC, data=BODY)
    assert session.post(emu.url + RPC, data=BODY).status_code == 200
