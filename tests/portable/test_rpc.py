"""uonep.rpc: builders, input checks, encoding and every answer the parser
can meet. Runs under CPython (pytest) and inside MicroPython (tests/conftest.py)."""

import json

from check import raises
from corpus import CIK, OTHER, RID, bodies, calls

from uonep import rpc
from uonep.errors import (AuthError, CallError, HTTPError, OnepError, ProtocolError,
                          RecordBatchError, RequestError, ServerError, ValidationError)

PROCEDURES = ("read", "write", "writegroup", "record", "recordbatch", "flush", "wait",
              "create", "update", "info", "listing", "drop", "move", "usage", "map",
              "unmap", "lookup", "share", "revoke", "activate", "deactivate", "grant", "tag")


def _request(call):
    return json.loads(rpc.encode_request(rpc.auth(CIK), [call], [1]))


# -- builders -----------------------------------------------------------------

def test_every_procedure_has_a_builder_in_the_corpus():
    built = set(procedure for procedure, _ in calls())
    for procedure in PROCEDURES:
        assert procedure in built, procedure


def test_read_defaults_and_options():
    assert rpc.read("temp") == ("read", [{"alias": "temp"}, {}])
    procedure, arguments = rpc.read(RID, 10, 20, "asc", 5, "givenwindow")
    assert arguments == [RID, {"starttime": 10, "endtime": 20, "sort": "asc",
                               "limit": 5, "selection": "givenwindow"}]


def test_write_shapes():
    assert rpc.write("temp", 23.5) == ("write", [{"alias": "temp"}, 23.5])
    assert rpc.write("temp", 1, {}) == ("write", [{"alias": "temp"}, 1, {}])


def test_writegroup_from_dict_and_list():
    procedure, arguments = rpc.writegroup({"temp": 1.5})
    assert arguments == [[[{"alias": "temp"}, 1.5]]]
    procedure, arguments = rpc.writegroup([[RID, "x"], ["hum", 2]])
    assert arguments == [[[RID, "x"], [{"alias": "hum"}, 2]]]


def test_recordbatch_and_record_shapes():
    assert rpc.recordbatch("temp", [(100, 1.0), [-5, 2]]) == (
        "recordbatch", [{"alias": "temp"}, [[100, 1.0], [-5, 2]]])
    assert rpc.record("temp", [[100, 1]]) == ("record", [{"alias": "temp"}, [[100, 1]], {}])


def test_float_timestamps_become_whole_seconds():
    assert rpc.recordbatch("t", [[1700000000.9, 1]])[1][1] == [[1700000000, 1]]


def test_flush_wait_create_shapes():
    assert rpc.flush("t") == ("flush", [{"alias": "t"}])
    assert rpc.flush("t", olderthan=5) == ("flush", [{"alias": "t"}, {"olderthan": 5}])
    assert rpc.wait("t", 1000) == ("wait", [{"alias": "t"}, {"timeout": 1000}])
    description = rpc.dataport_description()
    assert description == {"format": "float", "name": "", "meta": "", "public": False,
                           "preprocess": [], "retention": {"count": "infinity",
                                                           "duration": "infinity"},
                           "subscribe": None}
    assert rpc.create("dataport", description)[1][0] == "dataport"


def test_alias_procedures_shapes():
    assert rpc.map(RID, "t") == ("map", ["alias", RID, "t"])
    assert rpc.unmap("t") == ("unmap", ["alias", "t"])
    assert rpc.lookup("t") == ("lookup", ["alias", "t"])
    assert rpc.lookup(RID, "owner") == ("lookup", ["owner", RID])


def test_resource_forms():
    assert rpc.resource(RID) == RID
    assert rpc.resource("temp") == {"alias": "temp"}
    assert rpc.resource({"alias": ""}) == {"alias": ""}


def test_auth_forms():
    assert rpc.auth(CIK) == {"cik": CIK}
    assert rpc.auth(CIK, client_id=RID) == {"cik": CIK, "client_id": RID}
    assert rpc.auth(CIK, resource_id=RID) == {"cik": CIK, "resource_id": RID}
    assert rpc.auth(token="t") == {"token": "t"}


# -- refused inputs -----------------------------------------------------------

def test_bad_resources_are_refused():
    for bad in ("", None, 5, b"temp", ["temp"], {"alias": 5}, {"alias": "a", "x": 1},
                RID.upper(), {"rid": RID}):
        raises(ValidationError, rpc.write, bad, 1)


def test_bad_values_are_refused():
    for bad in (float("nan"), float("inf"), -float("inf"), b"bytes", [1], {"a": 1}, (1,),
                None, True, 1 << 63, -(1 << 63) - 1, bytearray(b"x")):
        raises(ValidationError, rpc.write, "temp", bad)
    raises(ValidationError, rpc.writegroup, {"temp": float("nan")})
    raises(ValidationError, rpc.recordbatch, "temp", [[1, float("inf")]])


def test_extreme_but_valid_values_are_accepted():
    assert rpc.write("t", (1 << 63) - 1)[1][1] == (1 << 63) - 1
    assert rpc.write("t", -(1 << 63))[1][1] == -(1 << 63)
    assert rpc.write("t", "")[1][1] == ""
    assert rpc.write("t", 1.7976931348623157e308)[1][1] == 1.7976931348623157e308


def test_bad_keys_are_refused_without_quoting_them():
    secret = "z" * 40
    failure = raises(ValidationError, rpc.auth, secret)
    assert secret not in str(failure)
    for bad in (None, "", CIK[:-1], CIK + "0", CIK.upper(), 42):
        raises(ValidationError, rpc.auth, bad)
    raises(ValidationError, rpc.auth, CIK, client_id="nope")
    raises(ValidationError, rpc.auth, CIK, client_id=RID, resource_id=RID)
    raises(ValidationError, rpc.auth, CIK, token="t")
    raises(ValidationError, rpc.map, "not-a-rid", "t")
    raises(ValidationError, rpc.move, RID, "bad")


def test_bad_entries_and_options_are_refused():
    for bad in ([], None, [[1]], [[1, 2, 3]], [["x", 1]], [[None, 1]], [1, 2], "12"):
        raises(ValidationError, rpc.recordbatch, "t", bad)
    raises(ValidationError, rpc.read, "t", sort="up")
    raises(ValidationError, rpc.read, "t", limit=0)
    raises(ValidationError, rpc.read, "t", limit=True)
    raises(ValidationError, rpc.read, "t", selection="some")
    raises(ValidationError, rpc.read, "t", starttime="yesterday")
    raises(ValidationError, rpc.wait, "t", 300001)
    raises(ValidationError, rpc.create, "widget", {})
    raises(ValidationError, rpc.info, "t", [1])
    raises(ValidationError, rpc.listing, "t", ["widgets"])
    raises(ValidationError, rpc.lookup, "t", "nearby")
    raises(ValidationError, rpc.grant, "t", {"bad": ["read"]})
    raises(ValidationError, rpc.dataport_description, "double")
    raises(ValidationError, rpc.writegroup, {})


def test_nan_anywhere_in_options_is_refused_at_encoding():
    call = rpc.update("t", {"meta": float("nan")})
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call], [1])
    call = rpc.update("t", {"meta": b"bytes"})
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call], [1])


def test_call_ids_must_be_unique_and_well_formed():
    call = rpc.read("t")
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call, call], [1, 1])
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call], ["x" * 41])
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call], [1.5])
    raises(ValidationError, rpc.encode_request, rpc.auth(CIK), [call], [])


# -- encoding -----------------------------------------------------------------

def test_body_is_compact_json_with_ids():
    body = rpc.encode_request(rpc.auth(CIK), [rpc.write("temp", 23.5), rpc.read("temp")], [1, 2])
    assert b" " not in body
    request = json.loads(body)
    assert request["auth"] == {"cik": CIK}
    assert [call["id"] for call in request["calls"]] == [1, 2]
    assert request["calls"][0] == {"id": 1, "procedure": "write",
                                   "arguments": [{"alias": "temp"}, 23.5]}


def test_call_without_id_has_no_id_key():
    request = json.loads(rpc.encode_request(rpc.auth(CIK), [rpc.read("t")], [None]))
    assert "id" not in request["calls"][0]


def test_every_body_of_the_corpus_is_valid_json():
    for body in bodies():
        request = json.loads(body)
        assert "auth" in request and request["calls"]


def test_strings_round_trip_through_json():
    text = "h\u00e9llo \u2603 \"q\" \\ \b\f\n\t\x01\x7f"
    assert json.loads(rpc.dumps(text)) == text


# -- decoding -----------------------------------------------------------------

TWO = [rpc.write("a", 1), rpc.read("b")]


def _decode(body, status=200, calls=TWO, ids=(1, 2)):
    return rpc.decode_response(status, body, calls, list(ids))


def test_results_matched_by_id_in_any_order():
    body = b'[{"id":2,"status":"ok","result":[[1,2.5]]},{"id":1,"status":"ok"}]'
    assert _decode(body) == [None, [[1, 2.5]]]


def test_string_ids_match():
    body = b'[{"id":"b","status":"ok","result":5},{"id":"a","status":"ok"}]'
    assert _decode(body, ids=("a", "b")) == [None, 5]


def test_per_call_failure_carries_procedure_id_status_error():
    body = (b'[{"id":1,"status":"invalid","error":{"code":501,"message":"bad value",'
            b'"context":"arguments"}},{"id":2,"status":"ok","result":[]}]')
    failure, result = _decode(body)
    assert isinstance(failure, CallError)
    assert (failure.procedure, failure.id, failure.status) == ("write", 1, "invalid")
    assert failure.error["message"] == "bad value"
    assert "bad value" in str(failure)
    assert result == []


def test_other_statuses_are_call_errors():
    for status in ("fail", "restricted", "expire", "error", "weird"):
        body = ('[{"id":1,"status":"%s"},{"id":2,"status":"ok"}]' % status).encode()
        failure = _decode(body)[0]
        assert isinstance(failure, CallError) and failure.status == status


def test_recordbatch_partial_failure():
    call = rpc.recordbatch("t", [[1, 1.0], [2, "x"], [3, "y"]])
    body = b'[{"id":1,"status":[[2,"invalid"],[3,"invalid"]]}]'
    failure = rpc.decode_response(200, body, [call], [1])[0]
    assert isinstance(failure, RecordBatchError) and isinstance(failure, CallError)
    assert failure.rejected == [[2, "invalid"], [3, "invalid"]]
    bad = b'[{"id":1,"status":[2,"invalid"]}]'
    raises(ProtocolError, rpc.decode_response, 200, bad, [call], [1])


def test_request_level_errors_by_code():
    cases = ((-1, RequestError), (400, RequestError), (401, AuthError),
             (500, ServerError), (501, RequestError))
    for code, kind in cases:
        body = ('{"error":{"code":%d,"message":"m","context":"calls"}}' % code).encode()
        failure = raises(kind, _decode, body)
        assert failure.code == code and failure.context == "calls"
    assert ServerError(500).retryable and not AuthError(401).retryable


def test_request_error_with_http_error_status():
    body = b'{"error":{"code":401,"message":"Invalid","context":"auth"}}'
    assert raises(AuthError, _decode, body, 401).code == 401


def test_http_status_errors():
    html = b"<html><body>Bad Gateway</body></html>"
    for status in (500, 502, 503):
        failure = raises(HTTPError, _decode, html, status)
        assert failure.status == status and failure.retryable
    assert not raises(HTTPError, _decode, b"", 404).retryable
    raises(AuthError, _decode, b"", 401)
    raises(AuthError, _decode, b"Forbidden", 403)


def test_empty_body_for_id_less_calls():
    assert _decode(b"", ids=(None, None)) == [None, None]
    assert _decode(None, ids=(None, None)) == [None, None]
    raises(ProtocolError, _decode, b"")
    raises(ProtocolError, _decode, b"  \r\n")


def test_not_json_and_truncated_bodies():
    for body in (b"<html>oops</html>", b'[{"id":1,"status":"ok"},{"id":2,"sta',
                 b"\xff\xfe\x00", b"[1, 2", b"nul"):
        raises(ProtocolError, _decode, body)


def test_answers_that_break_the_protocol():
    for body in (b'[{"id":1,"status":"ok"}]',                      # lacks id 2
                 b'[{"id":1,"status":"ok"},{"id":1,"status":"ok"}]',  # repeated id
                 b'[{"id":1,"status":"ok"},{"id":3,"status":"ok"}]',  # unknown id
                 b'[{"id":true,"status":"ok"},{"id":2,"status":"ok"}]',
                 b'[{"id":1.0,"status":"ok"},{"id":2,"status":"ok"}]',
                 b'[{"id":1},{"id":2,"status":"ok"}]',                # no status
                 b'[{"id":1,"status":5},{"id":2,"status":"ok"}]',
                 b'[1,2]', b'"ok"', b'42', b'{"result":1}', b'{"error":"x"}', b'null'):
        raises(ProtocolError, _decode, body)


def test_everything_raised_is_a_onep_error():
    for body in (b"", b"{", b"[]", b'{"error":{"code":"x"}}', b"[[[[]]]]"):
        try:
            _decode(body)
        except OnepError:
            pass


def test_error_messages_do_not_carry_credentials():
    body = ('{"error":{"code":401,"message":"Invalid","context":"auth"}}').encode()
    failure = raises(AuthError, rpc.decode_response, 200, body, [rpc.read("t")], [1])
    assert CIK not in str(failure) and OTHER not in repr(failure)


def test_pre_encoded_recordbatches_equal_the_generic_encoder():
    points = [[1700000000, 1.5], [-60, 2], [1700000060, "caf\u00e9 \b"]]
    batches = [("temp", b",".join(rpc.point_bytes(ts, v) for ts, v in points)),
               (RID, rpc.point_bytes(5, 0.1)), ({"alias": "x"}, rpc.point_bytes(6, -7))]
    calls = [rpc.recordbatch("temp", points), rpc.recordbatch(RID, [[5, 0.1]]),
             rpc.recordbatch({"alias": "x"}, [[6, -7]])]
    credentials = rpc.auth(CIK)
    assert rpc.encode_recordbatches(credentials, batches) == \
        rpc.encode_request(credentials, calls, [1, 2, 3])


def test_a_bad_cik_error_says_what_is_wrong_without_quoting_it():
    from uonep import Client
    secret = "5EC7E75EC7E75EC7E75EC7E75EC7E75EC7E75EC7"
    for cik, said in ((secret, "uppercase"), (secret.lower()[:39] + "g", "other than 0-9"),
                      (secret.lower()[:12], "got 12 characters"), (12, "got int")):
        failure = raises(ValidationError, Client, cik)
        assert said in str(failure), str(failure)
        assert str(cik) not in str(failure) and str(cik).lower() not in str(failure)


def test_a_server_is_one_url_and_a_url_given_as_host_is_refused():
    from uonep import Client
    from uonep.transport import parse_server
    assert parse_server("https://m2.exosite.com") == (True, "m2.exosite.com", None)
    assert parse_server("http://127.0.0.1:8080/") == (False, "127.0.0.1", 8080)
    assert repr(Client(CIK, "http://127.0.0.1:80")) == "<uonep.Client http://127.0.0.1>"
    assert repr(Client(CIK, host="h", port="8443")) == "<uonep.Client https://h:8443>"
    for url in ("127.0.0.1:8080", "ftp://h", "http://", "http://h:x", "http://h:70000",
                "http://h/path", "http://user:pw@h", None):
        failure = raises(ValidationError, Client, CIK, url)
        assert "server must be a URL" in str(failure)
        assert "pw" not in str(failure)
    failure = raises(ValidationError, Client, CIK, host="http://127.0.0.1:8080")
    assert "server=" in str(failure)


def test_management_builders_load_on_first_use_and_rpc_still_reaches_them():
    import sys
    from uonep import Client
    client = Client(CIK, "http://127.0.0.1:9")
    batch = client.batch()
    assert batch.info() == 0 and batch.listing(["dataport"]) == 1
    assert batch.calls == [("info", [{"alias": ""}, {}]),
                           ("listing", [{"alias": ""}, ["dataport"], {}])]
    assert "uonep.admin" in sys.modules
    assert rpc.create("dataport", {"format": "float"}) == ("create",
                                                           ["dataport", {"format": "float"}])
    raises(AttributeError, getattr, client, "no_such_procedure")
    raises(AttributeError, getattr, rpc, "no_such_builder")
