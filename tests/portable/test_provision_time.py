"""uonep.provision.read_time, the reading of a /timestamp answer that the
device app falls back on when its own int() of the body fails (bringup.py):
the same answers on CPython and inside MicroPython."""

from check import raises

from uonep.errors import HTTPError, ProtocolError
from uonep.provision import read_time


def test_a_number_with_whitespace_is_the_time():
    assert read_time(200, b" 1714560000\r\n") == 1714560000


def test_an_error_status_is_an_http_error():
    failure = raises(HTTPError, read_time, 503, b"1714560000")
    assert failure.status == 503 and failure.retryable


def test_what_is_no_number_is_a_protocol_error():
    for body in (b"soon", b"", None, b"17.5", b"\xff"):
        failure = raises(ProtocolError, read_time, 200, body)
        assert "not a number" in str(failure)
