# The board's own HTTP client (uonep.http) under MicroPython, the core loaded
# as .mpy in a 128 KB heap, against the emulator over TLS (tests/hostile.py
# starts it with a certificate of its own making):
#   - TLS: the default CA set refuses the emulator's certificate, a pinned
#     CA is accepted (path, PEM bytes), verify=False checks nothing, a wrong
#     CA and a wrong host name are refused, no descriptor left open;
#   - keep-alive: the server's close after its 100th request, or an idle
#     close, opens a new connection; a request whose acknowledgement was
#     lost is not sent again.
# The hostile answers are in mp_test_http_hostile.py, the 1,000-point push in
# mp_test_http_push.py.
import json
import time

from http_support import CA, SERVERS, descriptors, manual_clock, scratch, tls_client, values_since

from uonep import CertificateError, TransportError
from uonep.http import HTTP
from uonep.forward import Uplink
from uonep.journal import Journal

HELPER = "hostile"
HEAPSIZE = "128k"


def test_the_core_is_loaded_from_mpy():
    import uonep
    import uonep.http
    assert uonep.http.__file__.endswith(".mpy"), uonep.http.__file__
    assert uonep.__file__.endswith(".mpy"), uonep.__file__


def test_a_default_client_refuses_the_self_signed_emulator_and_pushes_once_pinned():
    clock = manual_clock()
    start = clock.now()
    journal = Journal(scratch("pin"))
    default = Uplink(tls_client(verify=True), journal, clock)
    for step in range(5):
        default.add_value("status", "pinned %d" % step)
        default.commit()
        clock.advance(60)
    before = descriptors()
    try:
        default.push()
    except CertificateError as failure:
        assert "certificate refused" in str(failure) and not failure.retryable, failure
    else:
        raise AssertionError("a certificate no shipped CA signed was accepted")
    assert journal.stats()["pending"] == 5, journal.stats()
    assert descriptors() == before
    pinned = tls_client()
    assert Uplink(pinned, journal, clock).push()["sent"] == 5
    assert values_since(pinned, "status", start) == ["pinned %d" % step for step in range(5)]
    pinned.transport.close()
    assert descriptors() == before


def test_pinned_ca_as_pem_bytes_and_no_check_where_written():
    with open(CA, "rb") as stream:
        pem = stream.read()
    for verify in (pem, False):
        client = tls_client(verify=verify)
        assert client.write("temp", 2.5) is None
        client.transport.close()


def test_a_wrong_ca_is_refused():
    try:
        tls_client(verify=SERVERS["other_ca"]).write("temp", 1.5)
    except CertificateError:
        pass
    else:
        raise AssertionError("the emulator's certificate passed with another CA pinned")


def test_a_wrong_host_name_is_refused():
    # Signed by the pinned CA, but for other.example, not 127.0.0.1.
    before = descriptors()
    http = HTTP(verify=SERVERS["other_ca"])
    try:
        http.request("GET", "https://127.0.0.1:%d/" % SERVERS["other_name"], timeout=2)
    except CertificateError as failure:
        assert "127.0.0.1" in str(failure), failure
    else:
        raise AssertionError("a certificate for another host name was accepted")
    http.close()
    assert descriptors() == before


def test_the_server_closing_after_its_100th_request_opens_a_new_connection():
    http = HTTP(verify=CA)
    url = "https://127.0.0.1:%d/timestamp" % SERVERS["emulator_tls"]
    for _ in range(150):
        assert http.request("GET", url, timeout=5).status_code == 200
    assert http.connections == 2
    http.close()


def test_an_idle_close_opens_a_new_connection():
    before = descriptors()
    http = HTTP()
    url = "http://127.0.0.1:%d/" % SERVERS["close_after_answer"]
    for _ in range(3):
        # The server closes 0.1 s after answering, unannounced.
        time.sleep(0.3)
        response = http.request("GET", url, timeout=2)
        assert (response.status_code, bytes(response.content)) == (200, b"ok")
    assert http.connections == 3
    http.close()
    assert descriptors() == before


def _emulator(http, method, path, document=None):
    url = "https://127.0.0.1:%d%s" % (SERVERS["emulator_tls"], path)
    body = None if document is None else json.dumps(document)
    response = http.request(method, url, data=body, timeout=5)
    assert response.status_code == 200, response.status_code
    return json.loads(response.content)


def test_a_lost_acknowledgement_is_not_sent_again():
    control = HTTP(verify=CA)
    client = tls_client()
    client.write("temp", 1.0)
    _emulator(control, "POST", "/_emulator/faults", {"kind": "drop_after_body"})
    before = _emulator(control, "GET", "/_emulator/stats")["rpc_requests"]
    try:
        client.write("temp", 2.0)
    except TransportError:
        pass
    else:
        raise AssertionError("an answer arrived though the server dropped it")
    # The calls ran once; the kept connection was not used to send them again.
    assert _emulator(control, "GET", "/_emulator/stats")["rpc_requests"] == before + 1
    control.close()
    client.transport.close()



def test_transport_errors_keep_their_ends_by_whole_words_and_hide_ciks():
    from uonep.transport import reason
    cause = ("Max retries exceeded with url: /onep:v1/rpc/process " * 6 +
             "(Caused by [Errno 111] ECONNREFUSED)")
    text = reason(OSError(cause))
    assert len(text) <= 200 and text.endswith("(Caused by [Errno 111] ECONNREFUSED)"), text
    assert text.startswith("OSError Max retries exceeded"), text
    for word in text.split():
        assert word == "..." or word in ("OSError " + cause).split(), word
    assert "<hidden>" in reason(ValueError("cik=" + "0123456789" * 4))
