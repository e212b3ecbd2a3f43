"""Request-level behaviour: errors -1/400, per-call 501, ids and empty bodies,
call order, compact JSON (in process), and over HTTP the body-size limit,
keep-alive accounting and concurrent connections."""

import http.client
import json
import socket

from emulator_helpers import CIK, RPC, T0

WRITE = {"procedure": "write", "arguments": [{"alias": "count"}, 1]}


def error_of(rpc, body):
    answer = rpc.post(body)
    assert answer.status_code == 200
    return answer.json()["error"]


def test_body_not_json_is_minus_one(rpc):
    assert error_of(rpc, b"{not json")["code"] == -1
    assert error_of(rpc, b"\xff\xfe")["code"] == -1
    # MicroPython would write nan: not JSON
    assert error_of(rpc, b'{"auth": {}, "calls": [NaN]}')["code"] == -1


def test_malformed_requests_are_400(rpc):
    auth = {"cik": CIK}
    assert error_of(rpc, [])["code"] == 400
    assert error_of(rpc, {"calls": [WRITE]})["code"] == 400
    assert error_of(rpc, {"auth": auth})["code"] == 400
    assert error_of(rpc, {"auth": auth, "calls": {"id": 1}})["code"] == 400
    assert error_of(rpc, {"auth": auth, "calls": ["write"]})["code"] == 400
    assert error_of(rpc, {"auth": auth, "calls": [{"id": 1}]})["code"] == 400
    assert error_of(rpc, {"auth": auth, "calls": [dict(WRITE, id="x" * 41)]})["code"] == 400
    assert error_of(rpc, {"auth": auth, "calls": [dict(WRITE, arguments={})]})["code"] == 400


def test_unknown_procedure_fails_that_call_alone(rpc, emu):
    answer = rpc.send([dict(WRITE, id=1), {"id": 2, "procedure": "teleport", "arguments": []}])
    assert answer[0] == {"id": 1, "status": "ok"}
    assert answer[1]["status"] == "fail"
    assert answer[1]["error"]["code"] == 501 and answer[1]["error"]["context"] == "procedure"
    assert emu.points(CIK, "count") == [[T0, 1]]


def test_bad_arguments_fail_that_call_alone(rpc):
    entry = rpc.call("write", {"alias": "count"})
    assert entry["status"] == "fail"
    assert entry["error"]["code"] == 501 and entry["error"]["context"] == "arguments"


def test_only_calls_with_an_id_are_answered(rpc, emu):
    answer = rpc.send([WRITE, {"id": "r", "procedure": "read",
                               "arguments": [{"alias": "count"}, {}]}])
    assert answer == [{"id": "r", "status": "ok", "result": [[T0, 1]]}]


def test_no_id_at_all_gives_an_empty_body(rpc, emu):
    response = rpc.post({"auth": {"cik": CIK}, "calls": [WRITE]})
    assert response.status_code == 200 and response.content == b""
    assert emu.points(CIK, "count") == [[T0, 1]]


def test_calls_run_in_order(rpc):
    answer = rpc.send([
        {"id": 1, "procedure": "write", "arguments": [{"alias": "status"}, "a"]},
        {"id": 2, "procedure": "read", "arguments": [{"alias": "status"}, {}]},
        {"id": 3, "procedure": "flush", "arguments": [{"alias": "status"}]},
        {"id": 4, "procedure": "read", "arguments": [{"alias": "status"}, {}]}])
    results = {entry["id"]: entry.get("result") for entry in answer}
    assert results[2] == [[T0, "a"]] and results[4] == []


def test_answers_are_compact_utf8_json(rpc):
    rpc.ok("write", {"alias": "status"}, "caf\u00e9")
    response = rpc.post({"auth": {"cik": CIK}, "calls": [
        {"id": 1, "procedure": "read", "arguments": [{"alias": "status"}, {}]}]})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    compact = json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False)
    assert response.content == compact.encode("utf-8")
    assert response.json()[0]["result"] == [[T0, "caf\u00e9"]]


def test_body_over_one_mib_is_413_and_closed_unread(served):
    connection = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    try:
        connection.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n" % (RPC, (1 << 20) + 1)).encode())
        head = connection.recv(4096).decode()
        assert head.startswith("HTTP/1.1 413")
        assert "Connection: close" in head
    finally:
        connection.close()
    assert served.request_count == 0


def test_keep_alive_closes_after_100_requests(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    body = json.dumps({"auth": {"cik": CIK}, "calls": [
        {"id": 1, "procedure": "read", "arguments": [{"alias": "temp"}, {}]}]})
    local_ports = set()
    for number in range(1, 101):
        connection.request("POST", RPC, body, {"Content-Type": "application/json"})
        local_ports.add(connection.sock.getsockname()[1])
        response = connection.getresponse()
        response.read()
        closing = response.getheader("Connection") == "close"
        assert closing == (number == 100), number
    assert len(local_ports) == 1    # all 100 on one connection
    # the 101st request needs a new connection (http.client reconnects)
    connection.request("POST", RPC, body, {"Content-Type": "application/json"})
    assert connection.getresponse().status == 200
    assert connection.sock.getsockname()[1] not in local_ports
    connection.close()


def test_request_log_masks_credentials(rpc, emu):
    rpc.ok("write", {"alias": "temp"}, 1.0)
    logged = emu.requests[-1]["body"]
    assert logged["auth"] == {"cik": "1111\u2026"}
    assert CIK not in json.dumps(emu.requests, ensure_ascii=False)


def test_null_id_is_like_no_id(rpc, emu):
    answer = rpc.post({"auth": {"cik": CIK}, "calls": [dict(WRITE, id=None)]})
    assert answer.content == b"" and emu.points(CIK, "count") == [[T0, 1]]


def test_concurrent_writers(served):
    import threading
    from emulator_helpers import over_http

    def writer(offset):
        client = over_http(served.url)
        for step in range(10):
            client.ok("recordbatch", {"alias": "count"}, [[T0 - offset * 100 - step, step]])
    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(served.points(CIK, "count")) == 40
