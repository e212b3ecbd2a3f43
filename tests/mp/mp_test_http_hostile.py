# The board's own HTTP client (uonep.http) under MicroPython, the core loaded
# as .mpy in a 128 KB heap, against every hostile answer of tests/hostile.py:
# a redirect to a silent host, drips in the headers and the body, a stall,
# an endless chunked body, a 5 MB body, a 10 MB string, a 2 MB header line,
# 100,000 header lines, deeply nested JSON, a garbled status line, a header
# without a colon, a body shorter than its Content-Length, a lost
# acknowledgement. Each push ends within its deadline in a documented
# OnepError, leaves no descriptor open and keeps the journal whole; the same
# journal pushed to a good server then delivers every value exactly once.
import time

from http_support import BASE, CIK, SERVERS, descriptors, manual_clock, scratch, tls_client, values_since

from uonep import Client, HTTPError, OnepError, ProtocolError, TransportError
from uonep.forward import Uplink
from uonep.journal import Journal

HELPER = "hostile"
HEAPSIZE = "128k"

DEADLINE = 1          # seconds per request

# What each hostile answer must raise on the board.
EXPECTED = {
    "redirect": HTTPError, "stall": TransportError, "drip_headers": TransportError,
    "drip_body": TransportError, "chunked_endless": ProtocolError,
    "big_body": ProtocolError, "big_string": ProtocolError, "long_header": ProtocolError,
    "many_headers": ProtocolError, "deep_json": ProtocolError,
    "deep_json_small": ProtocolError, "garbled_status": ProtocolError,
    "no_colon": ProtocolError, "short_body": TransportError, "lost_ack": TransportError,
}
# Answers whose HTTP is sound (what is wrong is the status or the JSON).
SOUND = ("redirect", "deep_json_small")
# These end at the deadline; the others long before it.
SLOW = ("stall", "drip_headers", "drip_body")


def test_hostile_answers_end_in_time_in_documented_errors_and_lose_nothing():
    clock = manual_clock()
    journal = Journal(scratch("hostile"))
    values = list(range(100, 120))
    staging = Uplink(Client(CIK), journal, clock)
    for value in values:
        staging.add_value("count", value)
        staging.commit()
        clock.advance(60)
    before = descriptors()
    for name, expected in sorted(EXPECTED.items()):
        client = Client(CIK, "http://127.0.0.1:%d" % SERVERS[name], timeout=DEADLINE)
        started = time.ticks_ms()
        try:
            Uplink(client, journal, clock).push()
        except OnepError as failure:
            caught = failure
        else:
            raise AssertionError("%s: push succeeded" % name)
        elapsed = time.ticks_diff(time.ticks_ms(), started)
        assert type(caught) is expected, (name, caught)
        if name == "redirect":
            # Not followed: the target never answers, so following it would
            # have ended at the deadline instead.
            assert caught.status == 307 and not caught.retryable, caught
        assert elapsed < DEADLINE * 1000 + 700, (name, elapsed)
        if name not in SLOW:
            assert elapsed < DEADLINE * 1000 - 300, (name, elapsed)
        if name not in SOUND:
            assert descriptors() == before, name
        # A redirect or a well-framed answer whose JSON is refused leaves a
        # sound connection open, for the next request (as tests/test_http.py
        # expects of the core on CPython).
        client.transport.close()
        assert descriptors() == before, name
        assert journal.stats()["pending"] == len(values), name
    good = tls_client()
    report = Uplink(good, journal, clock).push()
    assert report["sent"] == len(values) and report["remaining"] == 0, report
    assert values_since(good, "count", BASE) == values
