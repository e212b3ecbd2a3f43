# A 1,000-point push over TLS is one TLS handshake, and later pushes and
# calls keep that connection (uonep.http under MicroPython, the core as .mpy).
# The heap is the push's (forward's batches), not the HTTP client's: 192 KB
# as in mp_test_push_heap.py, with this module compiled from source.
import gc

from http_support import manual_clock, scratch, tls_client

from uonep.forward import Uplink
from uonep.journal import Journal

HELPER = "hostile"
HEAPSIZE = "192k"


def test_a_1000_point_push_is_one_tls_handshake():
    clock = manual_clock()
    client = tls_client()
    uplink = Uplink(client, Journal(scratch("thousand"), capacity_bytes=200000), clock)
    for step in range(1000):
        uplink.add_value("temp", step / 4)
        uplink.commit()
        clock.advance(1)
    gc.collect()
    report = uplink.push()
    assert report["sent"] == 1000 and report["requests"] >= 5, report
    assert client.transport.http.connections == 1, client.transport.http.connections
    uplink.push()
    client.write("temp", 0.5)
    assert client.transport.http.connections == 1, client.transport.http.connections
    client.transport.close()
