"""The four auth forms, request-level 401 and grant tokens."""

from emulator_helpers import CIK, Rpc

INVALID = {"error": {"code": 401, "message": "Invalid", "context": "auth"}}


def child_client(rpc):
    """(rid, cik) of a new child of the seeded client."""
    rid = rpc.ok("create", "client", {"name": "child"})
    return rid, rpc.ok("info", rid, {"key": True})["key"]


def test_unknown_cik_is_401(rpc):
    assert rpc.call("read", {"alias": "temp"}, {}, auth={"cik": "0" * 40}) == INVALID


def test_malformed_cik_is_401(rpc):
    assert rpc.call("read", {"alias": "temp"}, {}, auth={"cik": "short"}) == INVALID
    assert rpc.call("read", {"alias": "temp"}, {}, auth={"cik": 7}) == INVALID
    assert rpc.call("read", {"alias": "temp"}, {}, auth={}) == INVALID


def test_401_runs_nothing(rpc, emu):
    rpc.send([{"id": 1, "procedure": "write", "arguments": [{"alias": "temp"}, 1]}],
             auth={"cik": "0" * 40})
    assert emu.points(CIK, "temp") == []


def test_client_id_acts_as_a_descendant(rpc, emu):
    child, key = child_client(rpc)
    port = Rpc(emu.session(), key).ok("create", "dataport", {"format": "float"})
    Rpc(emu.session(), key).ok("map", "alias", port, "level")
    as_child = {"cik": CIK, "client_id": child}
    assert rpc.ok("lookup", "alias", "", auth=as_child) == child
    rpc.ok("write", {"alias": "level"}, 3.5, auth=as_child)
    assert emu.points(key, "level")[0][1] == 3.5


def test_client_id_outside_the_subtree_is_401(rpc, emu):
    child, key = child_client(rpc)
    # a child cannot act as its parent, nor as a dataport
    assert Rpc(emu.session(), key).call("lookup", "alias", "",
                                  auth={"cik": key, "client_id": emu.rid(CIK)}) == INVALID
    assert rpc.call("lookup", "alias", "",
                    auth={"cik": CIK, "client_id": emu.rid(CIK, "temp")}) == INVALID


def test_resource_id_acts_as_the_owner(rpc, emu):
    child, key = child_client(rpc)
    port = Rpc(emu.session(), key).ok("create", "dataport", {"format": "integer"})
    owner_of_port = {"cik": CIK, "resource_id": port}
    assert rpc.ok("lookup", "alias", "", auth=owner_of_port) == child
    rpc.ok("write", port, 5, auth=owner_of_port)
    # the resource must be strictly below the CIK's client
    assert rpc.call("lookup", "alias", "",
                    auth={"cik": CIK, "resource_id": emu.rid(CIK)}) == INVALID


def test_grant_token_reads_and_writes_what_was_granted(rpc, emu):
    temp, count = emu.rid(CIK, "temp"), emu.rid(CIK, "count")
    token = rpc.ok("grant", {"alias": ""}, {temp: ["read", "write"], count: ["read"]},
                   {"ttl": 60})
    auth = {"token": token}
    rpc.ok("write", temp, 1.5, auth=auth)
    rpc.ok("write", {"alias": "temp"}, 2.5, auth=auth)   # aliases resolve in the grantor
    assert rpc.ok("read", temp, {}, auth=auth)[0][1] == 2.5
    assert rpc.ok("read", count, {}, auth=auth) == []
    assert rpc.status("write", count, 3, auth=auth) == "restricted"
    assert rpc.status("read", emu.rid(CIK, "status"), {}, auth=auth) == "restricted"
    assert rpc.status("create", "dataport", {"format": "float"}, auth=auth) == "restricted"
    assert rpc.status("flush", temp, auth=auth) == "restricted"


def test_grant_token_expires(rpc, emu):
    temp = emu.rid(CIK, "temp")
    token = rpc.ok("grant", {"alias": ""}, {temp: ["read"]}, {"ttl": 30})
    assert rpc.status("read", temp, {}, auth={"token": token}) == "ok"
    emu.set_clock(advance=30)
    answer = rpc.call("read", temp, {}, auth={"token": token})
    assert answer["error"]["code"] == 401 and answer["error"]["context"] == "auth"


def test_grant_errors(rpc, emu):
    assert rpc.status("grant", {"alias": ""}, {"f" * 40: ["read"]}, {}) == "restricted"
    assert rpc.call("grant", {"alias": ""}, {emu.rid(CIK, "temp"): ["fly"]},
                    {})["error"]["code"] == 501
    assert rpc.call("read", {"alias": "temp"}, {}, auth={"token": "a" * 40}) == INVALID
