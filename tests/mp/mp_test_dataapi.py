# The HTTP Data API under MicroPython against the emulator: a form-encoded
# write is what RPC reads, an RPC write is what data_read returns (as the
# strings the server sent), data_wait wakes on a write made meanwhile (by a
# thread, as another device would) and expires with None, and refusals are
# the documented errors. The core is loaded as .mpy with a 128 KB heap.
import os
import sys
import time

sys.path.insert(0, os.getenv("UONEP_MPY"))

from emulator_control import CIK, url

from uonep import Client
from uonep.errors import AuthError, HTTPError, ValidationError
from uonep.http import HTTP

NEEDS_EMULATOR = True
HEAPSIZE = "128k"
HELPER = "mpycore"


def client(cik=CIK):
    return Client(cik, url(), http=HTTP(False))


def test_a_form_encoded_write_is_what_rpc_reads():
    device = client()
    device.data_write({"temp": 21.5, "count": 42, "status": "on line & 100% = ok \u00fc+"})
    assert device.read("temp")[0][1] == 21.5
    assert device.read("count")[0][1] == 42
    assert device.read("status")[0][1] == "on line & 100% = ok \u00fc+"


def test_an_rpc_write_is_what_data_read_returns():
    device = client()
    device.write("temp", -3.25)
    device.write("status", "a=b&c d")
    assert device.data_read(["temp", "status", "nosuch"]) == {"temp": "-3.25",
                                                                "status": "a=b&c d"}


def test_data_wait_wakes_on_a_write_and_expires():
    import _thread
    device = client()
    writer = client()

    def write_later():
        time.sleep(0.4)
        writer.write("count", 77)

    _thread.start_new_thread(write_later, ())
    started = time.ticks_ms()
    assert device.data_wait("count", 10000) == "77"
    waited = time.ticks_diff(time.ticks_ms(), started)
    assert 300 <= waited < 5000, waited
    started = time.ticks_ms()
    assert device.data_wait("temp", 300) is None
    assert time.ticks_diff(time.ticks_ms(), started) >= 250


def test_refusals():
    device = client()
    try:
        device.data_write({"temp": "hot"})
        raise AssertionError("a value that does not fit was accepted")
    except HTTPError as refused:
        assert refused.status == 400
    try:
        client("9" * 40).data_read(["temp"])
        raise AssertionError("an unknown CIK was accepted")
    except AuthError as refused:
        assert refused.code == 401 and "9" * 40 not in str(refused)
    for bad in (lambda: device.data_write({"temp": float("nan")}),
                lambda: device.data_read("temp"),
                lambda: device.data_wait("temp", 300001)):
        try:
            bad()
            raise AssertionError("bad input was sent")
        except ValidationError:
            pass
