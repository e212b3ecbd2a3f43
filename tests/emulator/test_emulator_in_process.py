"""The in-process front door: requests' call shape without sockets, the
core's clients on top of it, faults as requests would raise them, and the
same answers as over HTTP."""

import socket
import threading
import time

import pytest
import requests

from emulator_helpers import CIK, RPC, T0, Rpc
from uonep import Client as CoreClient
from uonep.errors import (AuthError, CallError, HTTPError, ProtocolError, ProvisionError,
                          TransportError)
from uonep.provision import activate, server_time
from uonep_host import Client
from uonep_host.emulator import DEFAULT_SEED, Emulator

WRITE = {"id": 1, "procedure": "write", "arguments": [{"alias": "temp"}, 1.5]}


@pytest.fixture
def client(emu):
    return Client(CIK, "http://emulator", timeout=2, http=emu.session())


def test_clients_of_the_core_talk_in_process(emu, client):
    client.write("temp", 21.5)
    assert client.read("temp") == [[T0, 21.5]]
    with client.batch() as batch:
        batch.write("count", 2)
        batch.read("count")
    assert batch.results[1] == [[T0, 2]]
    assert emu.points(CIK, "temp") == [[T0, 21.5]] and emu.request_count == 3
    plain = CoreClient(CIK, "http://anything", http=emu.session())
    assert plain.read("count") == [[T0, 2]]
    client.close()      # the session is the caller's: still usable
    assert client.read("temp") == [[T0, 21.5]]


def test_no_socket_is_opened(emu, monkeypatch):
    def refuse(*arguments, **options):
        raise AssertionError("a socket was opened")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    client = Client(CIK, "http://emulator", http=emu.session())
    client.write("temp", 3.0)
    emu.faults.arm("drop_after_body")
    with pytest.raises(TransportError):
        client.write("temp", 4.0)
    assert emu.points(CIK, "temp") == [[T0, 4.0]]
    with pytest.raises(RuntimeError):
        emu.url       # not listening: nothing to point at


def test_faults_become_the_core_clients_errors(emu, client):
    cases = [({"kind": "drop_before_body"}, TransportError),
             ({"kind": "drop_after_body"}, TransportError),
             ({"kind": "stall", "seconds": 0.1, "then": "close"}, TransportError),
             ({"kind": "http_status", "status": 502}, HTTPError),
             ({"kind": "http_status", "status": 503}, HTTPError),
             ({"kind": "truncate"}, ProtocolError),
             ({"kind": "auth"}, AuthError),
             ({"kind": "call_status", "call_status": "restricted"}, CallError)]
    for spec, kind in cases:
        emu.faults.arm(**spec)
        with pytest.raises(kind):
            client.read("temp")
        client.read("temp")  # the next request is clean again
    assert len(emu.faults.fired) == len(cases)


def test_a_stall_past_the_timeout_times_out_after_the_timeout(emu):
    quick = Client(CIK, "http://emulator", timeout=0.2, http=emu.session())
    emu.faults.arm("stall", seconds=5)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        quick.write("temp", 1.0)
    assert time.monotonic() - started < 2 and "ReadTimeout" in str(caught.value)
    assert emu.points(CIK, "temp") == [[T0, 1.0]]     # the calls ran


def test_a_long_poll_past_the_timeout_is_a_read_timeout(emu):
    session = emu.session()
    body = {"auth": {"cik": CIK}, "calls": [
        {"id": 1, "procedure": "wait", "arguments": [{"alias": "temp"}, {"timeout": 300}]}]}
    with pytest.raises(requests.ReadTimeout):
        session.post(RPC, json=body, timeout=0.1)
    [entry] = session.post(RPC, json=body, timeout=(1, 5)).json()
    assert entry["status"] == "expire"


def test_provisioning_and_server_time(emu, client):
    transport = client.transport
    assert activate(transport, "acme", "m1", "0001") == "2" * 40
    with pytest.raises(ProvisionError) as again:
        activate(transport, "acme", "m1", "0001")
    assert again.value.code == 409
    assert server_time(transport) == T0


def test_the_session_has_requests_call_shape(emu):
    session = emu.session()
    answer = session.request("POST", "http://any.host:1234" + RPC,
                             data='{"auth": {"cik": "%s"}, "calls": [%s]}' % (CIK, "{}"),
                             headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 200 and answer.ok and answer.reason == "OK"
    assert answer.json()["error"]["code"] == 400
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert session.post(RPC, json={"auth": {"cik": CIK}, "calls": [WRITE]}).json() == [
        {"id": 1, "status": "ok"}]
    form = session.post("/provision/activate", data={"vendor": "acme", "model": "m1",
                                                      "sn": "0002"})
    assert (form.status_code, form.text, form.ok) == (409, "device not enabled for activation",
                                                      False)
    with session.get("/timestamp?ignored=1") as stamp:
        assert stamp.text == str(T0) and stamp.headers["Content-Type"].startswith("text/plain")
    assert session.get("/nothing").reason == "Not Found"
    with pytest.raises(TypeError):
        session.get("/", verify=False)      # an option it would silently ignore
    session.close()


def test_threads_share_a_session(emu):
    session = emu.session()
    waiter = Rpc(session)
    timer = threading.Timer(0.2, lambda: Rpc(session).ok("write", {"alias": "temp"}, 42))
    timer.start()
    try:
        assert waiter.ok("wait", {"alias": "temp"}, {"timeout": 5000}) == [T0, 42.0]
    finally:
        timer.join()


def test_a_stopped_emulator_refuses_like_a_closed_port(emu, client):
    emu.stop()
    with pytest.raises(requests.ConnectionError):
        emu.session().get("/timestamp")
    with pytest.raises(TransportError):
        client.read("temp")


def test_both_doors_answer_alike():
    """The same requests, in process and over HTTP, to two emulators with the
    same seed and clock: the same statuses, content types and bodies."""
    steps = [("POST", RPC, {"auth": {"cik": CIK}, "calls": [WRITE]}, None),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [
                 {"id": "r", "procedure": "read", "arguments": [{"alias": "temp"}, {}]}]}, None),
             ("POST", RPC, b"{not json", None),
             ("POST", RPC, {"auth": {"cik": "0" * 40}, "calls": [WRITE]}, None),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [
                 {"id": 1, "procedure": "teleport", "arguments": []}]}, None),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [dict(WRITE, id=None)]}, None),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [WRITE]},
              {"kind": "http_status", "status": 503}),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [WRITE]}, {"kind": "auth"}),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [WRITE]}, {"kind": "truncate"}),
             ("POST", RPC, {"auth": {"cik": CIK}, "calls": [WRITE]},
              {"kind": "call_status", "procedure": "write"}),
             ("POST", "/provision/activate", b"vendor=acme&model=m1&sn=0001", None),
             ("POST", "/provision/activate", b"vendor=acme&model=m1&sn=0001", None),
             ("POST", "/provision/activate", b"vendor=acme&model=m1&sn=0009",
              {"kind": "auth", "path": "/provision/activate"}),
             ("GET", "/timestamp", None, None),
             ("GET", "/timestamp", None, {"kind": "http_status", "status": 500,
                                          "path": "/timestamp"}),
             ("GET", "/nothing", None, None),
             ("POST", "/nothing", b"x", None),
             ("GET", "/_emulator/stats", None, None),
             ("POST", "/_emulator/points", {"cik": CIK, "alias": "temp"}, None),
             ("POST", "/_emulator/clock", {"advance": 5}, None),
             ("POST", "/_emulator/faults", {"kind": "meteor"}, None),
             ("GET", "/_emulator/nothing", None, None)]

    def run(http, url, emulator):
        seen = []
        for method, path, body, fault in steps:
            if fault is not None:
                emulator.faults.arm(**fault)
            data = body if body is None or isinstance(body, bytes) else None
            answer = http.request(method, url + path, data=data,
                                  json=body if data is None else None, timeout=5)
            seen.append((method, path, answer.status_code, answer.headers["Content-Type"],
                         answer.content))
        return seen

    in_process = Emulator(seed=DEFAULT_SEED, clock=lambda: T0)
    over_http = Emulator(seed=DEFAULT_SEED, clock=lambda: T0).start()
    try:
        with requests.Session() as http:
            assert run(in_process.session(), "", in_process) == run(http, over_http.url,
                                                                    over_http)
    finally:
        in_process.stop()
        over_http.stop()


def test_the_plugin_fixture_is_in_process(onep_in_process):
    with pytest.raises(RuntimeError):
        onep_in_process.url
    client = Client(CIK, "http://emulator", http=onep_in_process.session())
    client.write("count", 7)
    assert onep_in_process.points(CIK, "count")[0][1] == 7
