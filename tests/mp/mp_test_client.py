"""uonep.Client inside MicroPython against the emulator: procedures, batches,
one connection per request past the server's 100, and fault handling."""
from check import raises
from emulator_control import arm, clear, client

from uonep.errors import (AuthError, CallError, HTTPError, ProtocolError, RecordBatchError,
                          TransportError)

NEEDS_EMULATOR = True
HEAPSIZE = "256k"


def test_write_read_round_trip():
    c = client()
    c.write("temp", 21.25)
    c.write("status", "caf\u00e9")
    assert c.read("temp")[0][1] == 21.25
    assert c.read("status")[0][1] == "caf\u00e9"


def test_recordbatch_and_partial_failure():
    c = client()
    c.recordbatch("count", [[1000, 1], [1001, 2]])
    failure = raises(RecordBatchError, c.recordbatch, "count", [[1002, 3], [1003, "x"]])
    assert failure.rejected == [[1003, "invalid"]]
    assert [v for _, v in c.read("count", starttime=1000, endtime=1010, limit=10, sort="asc")] \
        == [1, 2, 3]


def test_batch_in_one_request():
    c = client()
    with c.batch() as batch:
        batch.writegroup({"temp": 5.5, "count": 6})
        batch.read("temp")
        batch.read("count")
    assert batch.results[1][0][1] == 5.5 and batch.results[2][0][1] == 6


def test_more_than_a_hundred_requests():
    c = client()
    for step in range(120):
        c.write("count", step)
    assert c.read("count")[0][1] == 119


def test_faults_become_documented_errors():
    c = client()
    cases = (("drop_before_body", {}, TransportError),
             ("drop_after_body", {}, TransportError),
             ("http_status", {"status": 503}, HTTPError),
             ("truncate", {}, ProtocolError),
             ("auth", {}, AuthError),
             ("call_status", {"call_status": "fail"}, CallError))
    for kind, options, error in cases:
        arm(kind, **options)
        raises(error, c.read, "temp")
        c.read("temp")
    clear()


def test_stall_past_timeout():
    c = client(timeout=1)
    arm("stall", seconds=2.5)
    raises(TransportError, c.read, "temp")
    clear()


def test_plain_http_never_loads_the_tls_module():
    # uonep.http loads uonep.tls only for a TLS context or a failure, and
    # drops it from sys.modules after: a stand-in left in place shows that
    # connecting, sending and reading over plain HTTP never asked for it.
    import sys
    stand_in = object()
    sys.modules["uonep.tls"] = stand_in
    try:
        c = client()
        c.write("count", 7)
        assert c.read("count")[0][1] == 7
        c.transport.close()
        c.write("count", 8)     # a second connection
        assert sys.modules.get("uonep.tls") is stand_in
        # A refused connection (an OSError) is explained by uonep.tls,
        # loaded for it and dropped.
        from uonep import Client
        refused = Client("1" * 40, "http://127.0.0.1:9", timeout=2)
        raises(TransportError, refused.write, "count", 9)
        assert "uonep.tls" not in sys.modules
    finally:
        sys.modules.pop("uonep.tls", None)
