"""uonep_host.OnepV1 against a tiny local HTTP server: the requests it sends
(JSON-equal to pyonep 0.13.8's, written out by hand below), the shapes it
returns and the exceptions it raises, as pyonep does.

The server records each request (path, headers, body, client port) and
answers with canned replies; no part of requests is mocked.
"""

import collections
import json
import logging
import math
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from uonep_host import Client, OnepV1
from uonep_host.exceptions import (JsonRPCRequestException, JsonRPCResponseException,
                                   OneException, OnePlatformException)
from uonep_host.transport import session

CIK = "a" * 40
CIK2 = "b" * 40
RID = "1" * 40
RID2 = "2" * 40
CODE = "c" * 40
PATH = "/onep:v1/rpc/process"
CONTENT_TYPE = "application/json; charset=utf-8"
DROP = "drop the connection without answering"


# -- the local server ---------------------------------------------------------

class Recorded:
    """One request as the server saw it."""

    def __init__(self, method, path, headers, body, port):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.port = port

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = Recorded("POST", self.path, dict(self.headers), body, self.client_address[1])
        self.server.requests.append(request)
        reply = self.server.next_reply()
        if reply == DROP:
            self.close_connection = True
            return
        if callable(reply):
            reply = reply(request)
        status, answer, delay = reply
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    """Answers each request with the next queued reply (the default when
    none is queued): (status, body bytes, delay), a callable of the
    Recorded request returning one, or DROP."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = []
        self.replies = collections.deque()
        self.default = ok()

    def next_reply(self):
        return self.replies.popleft() if self.replies else self.default

    def reply(self, *replies):
        self.replies.extend(replies)

    @property
    def port(self):
        return self.server_address[1]

    def last(self):
        return self.requests[-1]


NO_RESULT = object()


def ok(*results, delay=0):
    """Answer every call "ok", the i-th with results[i] (none if absent or NO_RESULT)."""
    def answer(request):
        entries = []
        for index, call in enumerate(request.json()["calls"]):
            entry = {"id": call["id"], "status": "ok"}
            if index < len(results) and results[index] is not NO_RESULT:
                entry["result"] = results[index]
            entries.append(entry)
        return 200, json.dumps(entries).encode(), delay
    return answer


def statuses(*states):
    """Answer the i-th call with status states[i]."""
    def answer(request):
        calls = request.json()["calls"]
        return 200, json.dumps([{"id": call["id"], "status": state}
                                for call, state in zip(calls, states)]).encode(), 0
    return answer


def raw(body, status=200):
    return status, body if isinstance(body, bytes) else body.encode(), 0


@pytest.fixture
def server():
    server = Server()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def onep(server, **options):
    return OnepV1(host="127.0.0.1", port=str(server.port), https=False, **options)


def request_body(auth, *calls):
    """The body pyonep sends: calls are (id, procedure, arguments)."""
    return {"auth": auth, "calls": [{"id": call_id, "procedure": procedure, "arguments": arguments}
                                    for call_id, procedure, arguments in calls]}


# -- every method's body --------------------------------------------------------

DESCRIPTION = {"format": "float", "name": "Temperature", "meta": "", "public": False,
               "preprocess": [], "retention": {"count": "infinity", "duration": "infinity"},
               "subscribe": None}

# (method, positional arguments after auth, keyword arguments, procedure, arguments sent)
METHODS = [
    ("activate", ("client", CODE), {}, "activate", ["client", CODE]),
    ("create", ("dataport", DESCRIPTION), {}, "create", ["dataport", DESCRIPTION]),
    ("create", ("client", {"name": "child"}), {}, "create", ["client", {"name": "child"}]),
    ("createDataport", (DESCRIPTION,), {}, "create", ["dataport", DESCRIPTION]),
    ("deactivate", ("share", CODE), {}, "deactivate", ["share", CODE]),
    ("drop", (RID,), {}, "drop", [RID]),
    ("flush", (RID,), {}, "flush", [RID]),
    ("flush", ({"alias": "temp"}, {"newerthan": 10, "olderthan": 20}), {}, "flush",
     [{"alias": "temp"}, {"newerthan": 10, "olderthan": 20}]),
    ("grant", (RID, {RID2: ["read", "write"]}), {}, "grant", [RID, {RID2: ["read", "write"]}]),
    ("grant", (RID, {RID2: ["read"]}), {"ttl": 1000}, "grant",
     [RID, {RID2: ["read"]}, {"ttl": 1000}]),
    ("info", ({"alias": ""},), {}, "info", [{"alias": ""}, {}]),
    ("info", (RID, {"basic": True}), {}, "info", [RID, {"basic": True}]),
    ("listing", (["dataport"],), {}, "listing", [["dataport"]]),
    ("listing", (["client", "dataport"], {}), {}, "listing", [["client", "dataport"], {}]),
    ("listing", (["dataport"], {"owned": True}, {"alias": ""}), {}, "listing",
     [{"alias": ""}, ["dataport"], {"owned": True}]),
    ("listing", (["dataport"],), {"options": {}, "resource": RID}, "listing",
     [RID, ["dataport"], {}]),
    ("lookup", ("alias", "temp"), {}, "lookup", ["alias", "temp"]),
    ("lookup", ("owner", RID), {}, "lookup", ["owner", RID]),
    ("map", (RID, "temp"), {}, "map", ["alias", RID, "temp"]),
    ("move", (RID, RID2), {}, "move", [RID, RID2, {"aliases": True}]),
    ("move", (RID, RID2, {"aliases": False}), {}, "move", [RID, RID2, {"aliases": False}]),
    ("read", ({"alias": "temp"}, {"limit": 1, "sort": "desc", "selection": "all"}), {}, "read",
     [{"alias": "temp"}, {"limit": 1, "sort": "desc", "selection": "all"}]),
    ("record", (RID, [[1400000000, 1.5], [1400000001, 2]]), {}, "record",
     [RID, [[1400000000, 1.5], [1400000001, 2]], {}]),
    ("record", (RID, [[-10, "x"]], {}), {}, "record", [RID, [[-10, "x"]], {}]),
    ("recordbatch", ({"alias": "temp"}, [[1400000000, 1.5], [-5, 2]]), {}, "recordbatch",
     [{"alias": "temp"}, [[1400000000, 1.5], [-5, 2]]]),
    ("revoke", ("client", CODE), {}, "revoke", ["client", CODE]),
    ("share", (RID,), {}, "share", [RID, {}]),
    ("share", (RID, {"duration": 60}), {}, "share", [RID, {"duration": 60}]),
    ("tag", (RID, "add", "kitchen"), {}, "tag", [RID, "add", "kitchen"]),
    ("unmap", ("temp",), {}, "unmap", ["alias", "temp"]),
    ("update", (RID,), {}, "update", [RID, {}]),
    ("update", (RID, {"name": "renamed"}), {}, "update", [RID, {"name": "renamed"}]),
    ("usage", ({"alias": ""}, "dataport", 1400000000, 1400086400), {}, "usage",
     [{"alias": ""}, "dataport", 1400000000, 1400086400]),
    ("wait", ({"alias": "temp"}, {"timeout": 1000}), {}, "wait",
     [{"alias": "temp"}, {"timeout": 1000}]),
    ("wait", (RID, {"timeout": 500, "since": 1400000000}), {}, "wait",
     [RID, {"timeout": 500, "since": 1400000000}]),
    ("write", ({"alias": "temp"}, 23.5), {}, "write", [{"alias": "temp"}, 23.5, {}]),
    ("write", (RID, "héllo \"wörld\"\n"), {}, "write", [RID, "héllo \"wörld\"\n", {}]),
    ("write", (RID, 7, {}), {}, "write", [RID, 7, {}]),
    ("writegroup", ([[{"alias": "a"}, 1], [RID, "x"]],), {}, "writegroup",
     [[[{"alias": "a"}, 1], [RID, "x"]]]),
]


@pytest.mark.parametrize("method, args, kwargs, procedure, arguments", METHODS,
                         ids=["%s-%d" % (entry[0], index) for index, entry in enumerate(METHODS)])
def test_body_path_and_content_type_match_pyonep(server, method, args, kwargs, procedure,
                                                 arguments):
    assert getattr(onep(server), method)(CIK, *args, **kwargs) == (True, "ok")
    sent = server.last()
    assert sent.method == "POST"
    assert sent.path == PATH
    assert sent.headers["Content-Type"] == CONTENT_TYPE
    assert sent.json() == request_body({"cik": CIK}, (0, procedure, arguments))


def test_every_pyonep_method_is_there_with_its_signature():
    import inspect
    expected = {
        "activate": ["auth", "codetype", "code", "defer"],
        "create": ["auth", "type", "desc", "defer"],
        "createDataport": ["auth", "desc", "defer"],
        "deactivate": ["auth", "codetype", "code", "defer"],
        "drop": ["auth", "resource", "defer"],
        "flush": ["auth", "resource", "options", "defer"],
        "grant": ["auth", "resource", "permissions", "ttl", "defer"],
        "info": ["auth", "resource", "options", "defer"],
        "listing": ["auth", "types", "options", "resource", "defer"],
        "lookup": ["auth", "type", "mapping", "defer"],
        "map": ["auth", "resource", "alias", "defer"],
        "move": ["auth", "resource", "destinationresource", "options", "defer"],
        "read": ["auth", "resource", "options", "defer"],
        "record": ["auth", "resource", "entries", "options", "defer"],
        "recordbatch": ["auth", "resource", "entries", "defer"],
        "revoke": ["auth", "codetype", "code", "defer"],
        "share": ["auth", "resource", "options", "defer"],
        "tag": ["auth", "resource", "action", "tag", "defer"],
        "unmap": ["auth", "alias", "defer"],
        "update": ["auth", "resource", "desc", "defer"],
        "usage": ["auth", "resource", "metric", "starttime", "endtime", "defer"],
        "wait": ["auth", "resource", "options", "defer"],
        "write": ["auth", "resource", "value", "options", "defer"],
        "writegroup": ["auth", "entries", "defer"],
        "close": [], "loggedrequests": [], "has_deferred": ["auth"],
        "send_deferred": ["auth"], "connect_as": ["clientid"], "connect_owner": ["resourceid"],
    }
    for name, parameters in expected.items():
        signature = inspect.signature(getattr(OnepV1, name))
        assert list(signature.parameters)[1:] == parameters, name
        if "defer" in signature.parameters:
            assert signature.parameters["defer"].default is False, name
    constructor = inspect.signature(OnepV1.__init__).parameters
    assert {name: value.default for name, value in list(constructor.items())[1:]} == {
        "host": "m2.exosite.com", "port": "443", "url": "/onep:v1/rpc/process", "https": True,
        "httptimeout": 10, "agent": None, "reuseconnection": False, "logrequests": False,
        "curldebug": False, "startid": 0}


def test_defaults_are_not_shared_between_calls(server):
    o = onep(server, logrequests=True)
    o.write(CIK, RID, 1)
    o.loggedrequests()[0]["calls"][0]["arguments"][2]["changed"] = True
    o.write(CIK, RID, 2)
    assert server.last().json()["calls"][0]["arguments"] == [RID, 2, {}]


def test_arguments_pass_through_unvalidated_like_pyonep(server):
    # pyonep checks nothing: an odd alias, an uppercase RID, a bool value and
    # a tuple all go out as json.dumps would write them.
    o = onep(server)
    o.write(CIK, "not a rid", True, (1, 2))
    o.read(CIK, RID.upper(), collections.OrderedDict([("limit", 3), ("sort", "asc")]))
    o.grant(CIK, RID, {1: ("read",), None: [], 2.5: []})
    first, second, third = [request.json()["calls"][0]["arguments"] for request in server.requests]
    assert first == ["not a rid", True, [1, 2]]
    assert second == [RID.upper(), {"limit": 3, "sort": "asc"}]
    assert third == [RID, {"1": ["read"], "null": [], "2.5": []}]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_are_refused_before_sending(server, value):
    o = onep(server)
    with pytest.raises(JsonRPCRequestException):
        o.write(CIK, RID, value)
    with pytest.raises(JsonRPCRequestException):
        o.recordbatch(CIK, RID, [[1, 1.0], [2, value]])
    assert server.requests == []


def test_values_json_cannot_hold_are_refused(server):
    with pytest.raises(JsonRPCRequestException):
        onep(server).write(CIK, RID, {1, 2})
    assert server.requests == []


# -- return shapes ------------------------------------------------------------

def test_result_is_returned(server):
    server.reply(ok([[1400000000, 23.5]]))
    assert onep(server).read(CIK, RID, {}) == (True, [[1400000000, 23.5]])


def test_ok_without_result_is_the_string_ok(server):
    server.reply(ok())
    assert onep(server).write(CIK, RID, 1) == (True, "ok")


@pytest.mark.parametrize("status", ["invalid", "restricted", "fail", "expire", "error"])
def test_failed_call_returns_false_and_its_status(server, status):
    server.reply(statuses(status))
    assert onep(server).write(CIK, RID, 1) == (False, status)


def test_failed_call_with_error_object_still_returns_its_status(server):
    server.reply(raw('[{"id": 0, "status": "invalid", "error": {"code": 400, '
                     '"message": "bad value", "context": "arguments"}}]'))
    assert onep(server).write(CIK, RID, 1) == (False, "invalid")


def test_recordbatch_partial_failure_returns_the_refused_points(server):
    server.reply(raw('[{"id": 0, "status": [[1400000001, "invalid"]]}]'))
    result = onep(server).recordbatch(CIK, RID, [[1400000000, 1], [1400000001, "x"]])
    assert result == (False, [[1400000001, "invalid"]])


def test_wait_expiry(server):
    server.reply(statuses("expire"))
    assert onep(server).wait(CIK, RID, {"timeout": 1}) == (False, "expire")


@pytest.mark.parametrize("status", [200, 401])
def test_request_level_error_raises_oneplatformexception(server, status):
    error = {"code": 401, "message": "Invalid", "context": "auth"}
    server.reply(raw(json.dumps({"error": error}), status))
    with pytest.raises(OnePlatformException) as raised:
        onep(server).info(CIK, {"alias": ""})
    assert raised.value.error == error
    assert "Invalid" in str(raised.value)


@pytest.mark.parametrize("body", ["not json", "", "[{\"id\": 0, \"status\": \"ok\"", "<html>"])
def test_bad_json_raises_oneplatformexception(server, body):
    server.reply(raw(body))
    with pytest.raises(OnePlatformException):
        onep(server).read(CIK, RID, {})


def test_http_error_page_raises_oneplatformexception(server):
    server.reply(raw("<html>Bad gateway</html>", 502))
    with pytest.raises(OnePlatformException):
        onep(server).read(CIK, RID, {})


def test_answer_entry_with_error_and_no_status_raises(server):
    server.reply(raw('[{"id": 0, "error": {"code": 500, "message": "oops"}}]'))
    with pytest.raises(OnePlatformException):
        onep(server).read(CIK, RID, {})


def test_unknown_answer_shape_raises_a_oneexception(server):
    server.reply(raw('{"something": "else"}'))
    with pytest.raises(OneException):
        onep(server).read(CIK, RID, {})


def test_refused_connection_raises_jsonrpcrequestexception():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    o = OnepV1(host="127.0.0.1", port=port, https=False)
    with pytest.raises(JsonRPCRequestException) as raised:
        o.read(CIK, RID, {})
    assert isinstance(raised.value, OneException)
    assert str(raised.value).startswith("Failed to make http request")


@pytest.mark.parametrize("reuse", [False, True])
def test_dropped_connection_raises_jsonrpcrequestexception(server, reuse):
    server.reply(DROP)
    o = onep(server, reuseconnection=reuse)
    with pytest.raises(JsonRPCRequestException):
        o.write(CIK, RID, 1)
    # The next call works: a broken kept connection is not used again.
    assert o.write(CIK, RID, 2) == (True, "ok")


def test_response_exception_is_kept_for_compatibility():
    assert issubclass(JsonRPCResponseException, OneException)
    assert issubclass(OnePlatformException, OneException)
    assert issubclass(JsonRPCRequestException, OneException)


def test_read_timeout_raises_but_wait_may_take_longer(server):
    o = onep(server, httptimeout=1)
    server.reply(ok([[1, 2]], delay=1.5))
    with pytest.raises(JsonRPCRequestException):
        o.read(CIK, RID, {})
    server.reply(ok([1400000000, 5], delay=1.5))
    assert o.wait(CIK, RID, {"timeout": 5000}) == (True, [1400000000, 5])


# -- deferred calls -------------------------------------------------------------

def test_deferred_calls_go_in_one_request(server):
    o = onep(server)
    assert o.has_deferred(CIK) is False
    assert o.write(CIK, {"alias": "temp"}, 1.5, defer=True) is True
    assert o.read(CIK, {"alias": "temp"}, {"limit": 1}, defer=True) is True
    assert o.has_deferred(CIK) is True
    assert server.requests == []
    server.reply(ok(NO_RESULT, [[1400000000, 1.5]]))
    results = o.send_deferred(CIK)
    assert len(server.requests) == 1
    assert server.last().json() == request_body(
        {"cik": CIK},
        (0, "write", [{"alias": "temp"}, 1.5, {}]),
        (1, "read", [{"alias": "temp"}, {"limit": 1}]))
    assert results == [
        ({"id": 0, "procedure": "write", "arguments": [{"alias": "temp"}, 1.5, {}]}, True, "ok"),
        ({"id": 1, "procedure": "read", "arguments": [{"alias": "temp"}, {"limit": 1}]},
         True, [[1400000000, 1.5]]),
    ]
    assert o.has_deferred(CIK) is False


def test_deferred_failures_come_back_per_call(server):
    o = onep(server)
    o.write(CIK, RID, 1, defer=True)
    o.write(CIK, RID2, "x", defer=True)
    server.reply(statuses("ok", "invalid"))
    results = o.send_deferred(CIK)
    assert [(ok_, result) for call, ok_, result in results] == [(True, "ok"), (False, "invalid")]


def test_deferred_results_follow_the_calls_whatever_the_answer_order(server):
    o = onep(server)
    o.lookup(CIK, "alias", "a", defer=True)
    o.lookup(CIK, "alias", "b", defer=True)
    server.reply(raw('[{"id": 1, "status": "ok", "result": "rid-b"},'
                     ' {"id": 0, "status": "ok", "result": "rid-a"}]'))
    results = o.send_deferred(CIK)
    assert [(call["arguments"][1], result) for call, ok_, result in results] == [
        ("a", "rid-a"), ("b", "rid-b")]


def test_deferred_queues_are_kept_per_auth(server):
    o = onep(server)
    o.write(CIK, RID, 1, defer=True)
    o.write(CIK2, RID, 2, defer=True)
    o.write({"cik": CIK, "client_id": RID2}, RID, 3, defer=True)
    o.send_deferred(CIK)
    assert server.last().json() == request_body({"cik": CIK}, (0, "write", [RID, 1, {}]))
    assert o.has_deferred(CIK2) and o.has_deferred({"client_id": RID2, "cik": CIK})
    o.send_deferred({"client_id": RID2, "cik": CIK})
    assert server.last().json() == request_body({"cik": CIK, "client_id": RID2},
                                                (1, "write", [RID, 3, {}]))
    o.send_deferred(CIK2)
    assert server.last().json() == request_body({"cik": CIK2}, (2, "write", [RID, 2, {}]))


def test_send_deferred_with_nothing_queued_raises(server):
    with pytest.raises(JsonRPCRequestException):
        onep(server).send_deferred(CIK)
    assert server.requests == []


def test_deferred_queue_is_emptied_when_sending_fails(server):
    o = onep(server)
    o.write(CIK, RID, 1, defer=True)
    server.reply(DROP)
    with pytest.raises(JsonRPCRequestException):
        o.send_deferred(CIK)
    assert o.has_deferred(CIK) is False
    o.write(CIK, RID, math.nan, defer=True)
    with pytest.raises(JsonRPCRequestException):
        o.send_deferred(CIK)
    assert o.has_deferred(CIK) is False


def test_deferred_wait_is_not_cut_by_httptimeout(server):
    o = onep(server, httptimeout=1)
    o.wait(CIK, RID, {"timeout": 5000}, defer=True)
    o.read(CIK, RID, {}, defer=True)
    server.reply(ok([1400000000, 1], [[1400000000, 1]], delay=1.5))
    assert [ok_ for call, ok_, result in o.send_deferred(CIK)] == [True, True]


# -- auth ---------------------------------------------------------------------

def test_connect_as_sends_client_id(server):
    o = onep(server)
    o.connect_as(RID)
    o.info(CIK, {"alias": ""})
    assert server.last().json()["auth"] == {"cik": CIK, "client_id": RID}


def test_connect_owner_sends_resource_id_and_replaces_connect_as(server):
    o = onep(server)
    o.connect_as(RID)
    o.connect_owner(RID2)
    o.info(CIK, {"alias": ""})
    assert server.last().json()["auth"] == {"cik": CIK, "resource_id": RID2}
    o.connect_as(RID)
    o.info(CIK, {"alias": ""})
    assert server.last().json()["auth"] == {"cik": CIK, "client_id": RID}


def test_auth_dict_is_sent_as_given(server):
    o = onep(server)
    o.connect_as(RID)
    o.write({"token": "t0ken"}, {"alias": "temp"}, 1)
    assert server.last().json()["auth"] == {"token": "t0ken"}
    o.write({"cik": CIK, "resource_id": RID2}, {"alias": "temp"}, 1)
    assert server.last().json()["auth"] == {"cik": CIK, "resource_id": RID2}


def test_connect_as_applies_to_calls_deferred_before_it(server):
    # pyonep builds the auth when the request is sent, not when a call is queued.
    o = onep(server)
    o.write(CIK, RID, 1, defer=True)
    o.connect_as(RID2)
    o.send_deferred(CIK)
    assert server.last().json()["auth"] == {"cik": CIK, "client_id": RID2}


# -- ids, logging, connections --------------------------------------------------

def test_ids_count_up_from_startid_per_instance(server):
    o = onep(server, startid=100)
    other = onep(server)
    o.write(CIK, RID, 1)
    other.write(CIK, RID, 1)
    o.write(CIK, RID, 1, defer=True)
    o.read(CIK, RID, {}, defer=True)
    o.send_deferred(CIK)
    o.drop(CIK, RID)
    ids = [[call["id"] for call in request.json()["calls"]] for request in server.requests]
    assert ids == [[100], [0], [101, 102], [103]]
    assert o.startid == 104


def test_deferred_calls_are_numbered_when_sent(server):
    o = onep(server)
    o.write(CIK, RID, 1, defer=True)
    o.write(CIK, RID, 2)
    o.send_deferred(CIK)
    assert [request.json()["calls"][0]["id"] for request in server.requests] == [0, 1]


def test_loggedrequests(server):
    o = onep(server, logrequests=True)
    quiet = onep(server)
    o.connect_as(RID)
    o.write(CIK, RID2, 1)
    quiet.write(CIK, RID2, 1)
    o.read(CIK, RID2, {"limit": 2}, defer=True)
    o.send_deferred(CIK)
    assert o.loggedrequests() == [
        request_body({"cik": CIK, "client_id": RID}, (0, "write", [RID2, 1, {}])),
        request_body({"cik": CIK, "client_id": RID}, (1, "read", [RID2, {"limit": 2}])),
    ]
    assert quiet.loggedrequests() == []


def test_failed_requests_are_logged_too(server):
    o = onep(server, logrequests=True)
    server.reply(DROP)
    with pytest.raises(JsonRPCRequestException):
        o.write(CIK, RID, 1)
    assert len(o.loggedrequests()) == 1


def test_agent_sets_user_agent_for_this_instance_only(server):
    onep(server, agent="my-agent/1.0").write(CIK, RID, 1)
    onep(server).write(CIK, RID, 1)
    agents = [request.headers["User-Agent"] for request in server.requests]
    assert agents[0] == "my-agent/1.0"
    assert agents[1] != "my-agent/1.0"


def test_url_sets_the_path(server):
    onep(server, url="/onep:v1/rpc/elsewhere").write(CIK, RID, 1)
    assert server.last().path == "/onep:v1/rpc/elsewhere"


def test_reuseconnection_keeps_one_connection_until_close(server):
    o = onep(server, reuseconnection=True)
    for value in range(3):
        o.write(CIK, RID, value)
    o.close()
    o.write(CIK, RID, 3)
    ports = [request.port for request in server.requests]
    assert ports[0] == ports[1] == ports[2] != ports[3]
    o.close()


def test_without_reuseconnection_each_request_has_its_own_connection(server):
    o = onep(server)
    for value in range(3):
        o.write(CIK, RID, value)
    assert len({request.port for request in server.requests}) == 3


def test_curldebug_logs_a_curl_command(server, caplog):
    with caplog.at_level(logging.DEBUG, logger="uonep_host.onepv1"):
        onep(server, curldebug=True).write(CIK, RID, "it's")
    text = caplog.text
    assert "curl 'http://127.0.0.1:%d%s' -X POST" % (server.port, PATH) in text
    assert "-H 'Content-Type: application/json; charset=utf-8'" in text
    assert "it'\\''s" in text


def test_without_curldebug_the_cik_stays_out_of_the_log(server, caplog):
    with caplog.at_level(logging.DEBUG, logger="uonep_host.onepv1"):
        onep(server).write(CIK, RID, 1)
    assert "POST http://127.0.0.1" in caplog.text
    assert CIK not in caplog.text


# -- the CPython transport ------------------------------------------------------

def test_session_defaults():
    http = session()
    try:
        assert http.verify is True
        assert http.headers["User-Agent"].startswith("uonep-host/")
        assert http.get_adapter("https://m2.exosite.com").max_retries.total == 0
    finally:
        http.close()
    unverified = session(verify=False)
    assert unverified.verify is False
    unverified.close()


def test_host_client_talks_through_a_session(server):
    server.reply(ok())
    with Client(CIK, host="127.0.0.1", port=server.port, https=False) as client:
        assert client.write("temp", 1.5) is None
        assert isinstance(client.transport.http, requests.Session)
    sent = server.last().json()
    assert sent["auth"] == {"cik": CIK}
    assert [(call["procedure"], call["arguments"]) for call in sent["calls"]] == [
        ("write", [{"alias": "temp"}, 1.5])]


def test_importing_uonep_host_does_not_import_requests():
    code = ("import sys, uonep_host; assert 'requests' not in sys.modules; "
            "uonep_host.OnepV1; assert 'requests' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
