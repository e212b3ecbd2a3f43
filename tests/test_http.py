"""The HTTP edge on CPython, for every runtime a host program uses:
uonep.Client (through uonep.http), uonep_host.Client (a requests.Session)
and OnepV1 (pyonep's interface over the same Session).

- TLS: the shipped CA set refuses the emulator's certificate, a pinned CA
  passes, a wrong CA and a wrong host name are refused;
- every hostile answer of tests/hostile.py (served from another process, so
  this one's descriptors are the clients' only) ends within the deadline in
  a documented error, leaves no descriptor open and follows no redirect; the
  same journal then pushed to a good server delivers every value once.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trustme

import hostile
from uonep import (CertificateError, Client, HTTPError, OnepError, ProtocolError,
                   TransportError)
from uonep.http import HTTP
from uonep.forward import Uplink
from uonep.journal import Journal
from uonep.manualclock import ManualClock
from uonep_host import Client as HostClient
from uonep_host import OnepV1
from uonep_host.emulator import DEFAULT_SEED, Emulator
from uonep_host.exceptions import OneException

CIK = "1" * 40
DEADLINE = 1
BASE = 1790000000
ROOT = Path(__file__).resolve().parent.parent

# What each answer raises: the board's client, and the host's Session where
# requests and http.client decide otherwise (their own limits are larger).
CORE = {
    "redirect": HTTPError, "stall": TransportError, "drip_headers": TransportError,
    "drip_body": TransportError, "chunked_endless": ProtocolError,
    "big_body": ProtocolError, "big_string": ProtocolError, "long_header": ProtocolError,
    "many_headers": ProtocolError, "deep_json": ProtocolError,
    "deep_json_small": ProtocolError, "garbled_status": ProtocolError,
    "no_colon": ProtocolError, "short_body": TransportError, "lost_ack": TransportError,
}
HOST = dict(CORE, long_header=TransportError, many_headers=TransportError,
            garbled_status=TransportError, no_colon=ProtocolError)
SLOW = ("stall", "drip_headers", "drip_body")
# Answers whose HTTP is sound (the JSON or the status is what is wrong): the
# connection stays open for the next request until the client is closed.
SOUND = {"core": ("redirect", "deep_json_small"),
         "host": ("redirect", "deep_json", "deep_json_small")}


def descriptors():
    """This process's TCP sockets to or from a loopback port of the tests'
    servers (the hostile ones and the emulators). Other descriptors come and
    go meanwhile (the MicroPython modules' pipes and helpers run in threads
    of this process), so only these tell a leak."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                ports = {int(end.rsplit(":", 1)[1], 16) for end in fields[1:3]}
                if ports & WATCHED and fields[9] != "0":
                    inodes.add(fields[9])
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink("/proc/self/fd/" + name)
        except OSError:
            continue   # closed while listing
        if link.startswith("socket:[") and link[8:-1] in inodes:
            found.append(name)
    return sorted(found)


# Ports whose sockets descriptors() counts: the fixtures add theirs.
WATCHED = set()


@pytest.fixture(scope="module")
def ports():
    """{scenario: port} of the hostile servers, running in a process of their own."""
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "hostile.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        found = json.loads(server.stdout.readline())
        WATCHED.update(found.values())
        yield found
    finally:
        server.stdin.close()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(seed=DEFAULT_SEED, tls=True) as emulator:
        WATCHED.add(emulator.port)
        yield emulator


def core_client(port, https=False, **options):
    return Client(CIK, "%s://127.0.0.1:%d" % ("https" if https else "http", port),
                  timeout=options.pop("timeout", DEADLINE), **options)


def host_client(port, https=False, **options):
    return HostClient(CIK, "%s://127.0.0.1:%d" % ("https" if https else "http", port),
                      timeout=options.pop("timeout", DEADLINE), **options)


RUNTIMES = {"core": (core_client, CORE), "host": (host_client, HOST)}


def close(client):
    if isinstance(client, HostClient):
        client.close()
    else:
        client.transport.close()


# -- TLS ------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_default_verify_refuses_the_emulator_and_a_pinned_ca_pushes(runtime, tls_emulator,
                                                                    tmp_path):
    make = RUNTIMES[runtime][0]
    clock = ManualClock(BASE)
    journal = Journal(str(tmp_path / "journal"))
    refused = make(tls_emulator.port, https=True, timeout=5)
    uplink = Uplink(refused, journal, clock)
    for step in range(3):
        uplink.add_value("status", "%s %d" % (runtime, step))
        uplink.commit()
        clock.advance(60)
    before = descriptors()
    with pytest.raises(CertificateError) as caught:
        uplink.push()
    assert not caught.value.retryable and "certificate" in str(caught.value)
    assert journal.stats()["pending"] == 3
    # (The emulator, in this process, closes its end of the refused handshake
    # in a thread of its own: wait for it; a leak on our side would stay.)
    assert hostile.wait_for(lambda: descriptors() == before)
    pinned = make(tls_emulator.port, https=True, timeout=5, verify=tls_emulator.ca_path)
    assert Uplink(pinned, journal, clock).push()["sent"] == 3
    assert [value for _, value in tls_emulator.points(CIK, "status")][-3:] == [
        "%s %d" % (runtime, step) for step in range(3)]
    close(pinned)
    close(refused)


def test_the_core_pins_pem_bytes_and_checks_nothing_only_where_written(tls_emulator):
    for verify in (tls_emulator.ca_pem, False):
        client = core_client(tls_emulator.port, https=True, verify=verify, timeout=5)
        client.write("temp", 1.5)
        close(client)


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_a_wrong_ca_and_a_wrong_host_name_are_refused(runtime, tls_emulator, tmp_path):
    make = RUNTIMES[runtime][0]
    authority = trustme.CA()
    other_ca = tmp_path / "other.pem"
    other_ca.write_bytes(authority.cert_pem.bytes())
    client = make(tls_emulator.port, https=True, verify=str(other_ca), timeout=5)
    with pytest.raises(CertificateError):
        client.write("temp", 1.5)
    close(client)
    named = hostile.Hostile(hostile.certificate_for(authority, "other.example"),
                            scenarios=("close_after_answer",))
    with named:
        client = make(named.port("close_after_answer"), https=True, verify=str(other_ca),
                      timeout=5)
        with pytest.raises(CertificateError):
            client.write("temp", 1.5)
        close(client)


# -- hostile answers --------------------------------------------------------------

@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_hostile_answers_end_in_time_in_documented_errors_and_lose_nothing(
        runtime, ports, onep_emulator, tmp_path):
    make, expected = RUNTIMES[runtime]
    WATCHED.add(onep_emulator.port)
    clock = ManualClock(BASE)
    journal = Journal(str(tmp_path / "journal"))
    values = list(range(200, 220))
    staging = Uplink(core_client(onep_emulator.port), journal, clock)
    for value in values:
        staging.add_value("count", value)
        staging.commit()
        clock.advance(60)
    before = descriptors()
    for name in hostile.REFUSED:
        client = make(ports[name])
        started = time.monotonic()
        with pytest.raises(OnepError) as caught:
            Uplink(client, journal, clock).push()
        elapsed = time.monotonic() - started
        assert type(caught.value) is expected[name], (name, caught.value)
        if name == "redirect":
            assert caught.value.status == 307 and not caught.value.retryable
        assert elapsed < DEADLINE + 1.5, (name, elapsed)
        if name not in SLOW:
            assert elapsed < DEADLINE - 0.3, (name, elapsed)
        if name not in SOUND[runtime]:
            assert descriptors() == before, name
        close(client)
        assert descriptors() == before, name
        assert journal.stats()["pending"] == len(values), name
    good = make(onep_emulator.port, timeout=5)
    assert Uplink(good, journal, clock).push()["sent"] == len(values)
    assert [value for _, value in onep_emulator.points(CIK, "count")] == values
    close(good)


def test_no_runtime_follows_a_redirect(ports):
    """The redirect's target counts the connections it gets: none."""
    server = hostile.Hostile(scenarios=("redirect", "silent")).start()
    try:
        clients = [core_client(server.port("redirect")),
                   host_client(server.port("redirect"))]
        for client in clients:
            with pytest.raises(HTTPError):
                client.write("temp", 1.5)
            close(client)
        onep = OnepV1(host="127.0.0.1", port=server.port("redirect"), https=False,
                      httptimeout=DEADLINE)
        with pytest.raises(OneException):
            onep.write(CIK, {"alias": "temp"}, 1.5)
        assert server.requests["redirect"] == 3 and server.connections["silent"] == 0
    finally:
        server.stop()


def test_onepv1_raises_only_pyonep_exceptions_in_time(ports):
    for name in hostile.REFUSED:
        onep = OnepV1(host="127.0.0.1", port=ports[name], https=False, httptimeout=DEADLINE)
        started = time.monotonic()
        with pytest.raises(OneException):
            onep.write(CIK, {"alias": "count"}, 1)
        assert time.monotonic() - started < DEADLINE + 0.7, name


# -- keep-alive ---------------------------------------------------------------------

def test_the_core_keeps_one_connection_and_reconnects_after_the_100th_request(onep_emulator):
    client = core_client(onep_emulator.port, timeout=5)
    for step in range(150):
        client.write("count", step)
    assert client.transport.http.connections == 2
    close(client)


def test_an_idle_close_reconnects_and_sends_each_request_once():
    with hostile.Hostile(scenarios=("close_after_answer",)) as server:
        http = HTTP()
        for _ in range(3):
            time.sleep(0.3)
            response = http.request("GET", server.url("close_after_answer") + "/", timeout=2)
            assert (response.status_code, bytes(response.content)) == (200, b"ok")
        assert http.connections == 3 and server.requests["close_after_answer"] == 3
        http.close()


def test_a_lost_acknowledgement_is_not_sent_again(onep_emulator):
    client = core_client(onep_emulator.port, timeout=5)
    client.write("temp", 1.0)
    onep_emulator.faults.arm("drop_after_body")
    before = onep_emulator.request_count
    with pytest.raises(TransportError):
        client.write("temp", 2.0)
    assert onep_emulator.request_count == before + 1
    close(client)


def test_the_default_transport_is_uonep_http(onep_emulator):
    client = core_client(onep_emulator.port, timeout=5)
    assert client.transport.http is None          # made at the first request
    client.write("temp", 1.5)
    assert isinstance(client.transport.http, HTTP)
    close(client)


def test_a_body_given_as_parts_arrives_whole_and_a_push_sends_its_points_uncopied(
        onep_emulator, tmp_path, monkeypatch):
    from uonep import rpc
    http = HTTP()
    url = "http://127.0.0.1:%d/onep:v1/rpc/process" % onep_emulator.port
    points = b",".join(b"[%d,%d]" % (1790000000 + step, step) for step in range(200))
    for batches in ([("count", b"[1789999999,7]")], [("count", points)]):   # small, large
        parts = rpc.recordbatch_parts({"cik": CIK}, batches)
        assert sum(len(part) for part in parts) > 1200 or len(batches[0][1]) < 100
        response = http.request("POST", url, data=parts, timeout=5,
                                headers={"Content-Type": rpc.CONTENT_TYPE})
        assert json.loads(response.content) == [{"id": 1, "status": "ok"}]
    http.close()
    stored = onep_emulator.points(CIK, "count")
    assert [value for _, value in stored][-201:] == [7] + list(range(200))
    # The push's points buffer itself is what uonep.http sends: no body
    # holding them a second time.
    sent = []
    send = HTTP._send
    monkeypatch.setattr(HTTP, "_send", lambda self, data, reused: sent.append(
        [(type(part), bytes(part)) for part in data]) or send(self, data, reused))
    clock = ManualClock(1790001000)
    uplink = Uplink(core_client(onep_emulator.port, timeout=5), Journal(str(tmp_path / "j")),
                    clock)
    for step in range(150):
        uplink.add_value("count", step)
        uplink.commit()
        clock.advance(1)
    assert uplink.push()["sent"] == 150
    [message] = sent
    # The head, the envelope's start, the call's start, the points (the
    # push's own buffer), the call's end, the envelope's end.
    assert len(message) == 6 and message[3] == (bytearray, b",".join(
        b"[%d,%d]" % (1790001000 + step, step) for step in range(150)))
    close(uplink.send.__self__)


# -- error messages -------------------------------------------------------------------

REQUESTS_FAILURE = (
    "HTTPSConnectionPool(host='m2.exosite.com', port=443): Max retries exceeded with url: "
    "/onep:v1/rpc/process (Caused by NewConnectionError('<urllib3.connection."
    "HTTPSConnection object at 0x7f2b1c3e4d90>: Failed to establish a new connection: "
    "[Errno 111] Connection refused'))")


def test_transport_errors_keep_their_ends_by_whole_words():
    from uonep.transport import reason
    text = reason(ConnectionError(REQUESTS_FAILURE))
    assert len(text) <= 200 and " ... " in text
    assert text.startswith("ConnectionError HTTPSConnectionPool(host='m2.exosite.com',")
    assert text.endswith("[Errno 111] Connection refused'))")
    words = set(("ConnectionError " + REQUESTS_FAILURE).split())
    assert all(word in words for word in text.split() if word != "...")


def test_transport_errors_hide_anything_shaped_like_a_cik():
    from uonep.transport import reason
    text = reason(ValueError("bad auth {'cik': '%s'} in the body" % ("ab12" * 10)))
    assert "ab12" * 10 not in text and "<hidden>" in text


# -- the CA set and the tools ---------------------------------------------------------

def _tool(name):
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / "tools" / name))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


def test_the_shipped_ca_set_is_certifis_chosen_roots():
    import ssl
    cabundle = _tool("cabundle")
    shipped = (ROOT / "firmware" / "uonep" / "ca.der").read_bytes()
    assert shipped == b"".join(cabundle.select()), (
        "certifi's roots changed: run tools/cabundle and commit firmware/uonep/ca.der")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=shipped)
    assert len(context.get_ca_certs()) == len(cabundle.LABELS)


def test_build_ships_the_ca_set_and_deploy_pins_a_ca(tmp_path, tls_emulator):
    built = subprocess.run([sys.executable, "tools/build", "--board", "esp32", "--out",
                            str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "esp32" / "lib" / "uonep" / "ca.der").read_bytes() == (
        ROOT / "firmware" / "uonep" / "ca.der").read_bytes()
    done = subprocess.run([sys.executable, "tools/deploy", "--no-secrets", "--no-follow",
                           "--ca", tls_emulator.ca_path, "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    copy = [line for line in done.stdout.splitlines() if "cp -r lib :" in line][0]
    assert "cp %s :ca.pem + reset" % tls_emulator.ca_path in copy
    assert '"verify": "/ca.pem"' in done.stderr


def test_the_emulator_command_serves_https_with_a_ca_to_pin(tmp_path):
    import re
    import signal
    server = subprocess.Popen([sys.executable, "-m", "uonep_host.emulator", "--tls", "--port",
                               "0", "--quiet", "--seed", str(ROOT / "tests" / "seeds" /
                                                               "default.json")],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = server.stdout.readline()
        found = re.search(r"listening on https://127\.0\.0\.1:(\d+) .*CA certificate (\S+)\)",
                          line)
        assert found, line
        port, ca = int(found.group(1)), found.group(2)
        with pytest.raises(CertificateError):
            core_client(port, https=True, timeout=5).write("temp", 1.5)
        client = core_client(port, https=True, timeout=5, verify=ca)
        client.write("temp", 21.5)
        assert client.read("temp") == [[pytest.approx(time.time(), abs=60), 21.5]]
        close(client)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not Path(ca).exists()
