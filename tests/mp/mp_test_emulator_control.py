"""The emulator's control client (uonep_host.emulator.control.Control, the
one CPython uses) inside MicroPython, over its `requests`: faults, the
clock, points, stats and refusals."""
from check import raises
from emulator_control import CIK, client, control

from uonep.errors import HTTPError
from uonep_host.emulator.control import ControlError

NEEDS_EMULATOR = True
HEAPSIZE = "256k"


def test_arm_list_fire_and_clear():
    orders = control()
    armed = orders.arm("http_status", status=503, count=1, every=None)["armed"]
    assert [(fault["kind"], fault["status"], fault["every"]) for fault in armed] == [
        ("http_status", 503, None)]
    failure = raises(HTTPError, client().read, "temp")
    assert failure.status == 503
    assert orders.faults() == {"armed": [], "fired": ["http_status"]}
    orders.arm("auth", every=2)
    assert len(orders.faults()["armed"]) == 1
    assert orders.clear()["armed"] == []


def test_clock_points_and_stats():
    orders = control()
    before = orders.stats()["rpc_requests"]
    moved = orders.set_clock(now=1800000000)
    assert moved["now"] == 1800000000 and orders.clock()["now"] >= 1800000000
    client().write("count", 41)
    assert orders.points(CIK, "count")[-1][1] == 41
    assert orders.stats()["rpc_requests"] == before + 1
    orders.set_clock(offset=0)


def test_refusals_raise_control_error():
    orders = control()
    unknown = raises(ControlError, orders.arm, "meteor")
    assert unknown.status == 400 and "meteor" in unknown.answer["error"]
    missing = raises(ControlError, orders.points, CIK, "nope")
    assert missing.status == 404
    assert raises(ControlError, orders.set_clock).status == 400
