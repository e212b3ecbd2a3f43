"""Issue 12's RPC facts through uonep_host.Client against the emulator (the
same facts through the pyonep-compatible OnepV1 are in
test_fidelity_onepv1.py): what real clients of the One Platform expect."""

import pytest

from uonep import rpc
from uonep.errors import CallError, RecordBatchError
from uonep_host import Client
from uonep_host.emulator import Emulator

CIK = "c" * 40
SEED = {"clients": [{"cik": CIK, "name": "portal", "dataports": [
    {"alias": "temp", "format": "float"},
    {"alias": "count", "format": "integer"},
    {"alias": "status", "format": "string"},
]}]}


@pytest.fixture
def emulator():
    # in process: the RPC facts are the point here, not the sockets
    running = Emulator(seed=SEED)
    yield running
    running.stop()


@pytest.fixture
def connect(emulator):
    """connect(cik=CIK, **auth) -> a Client to the emulator."""
    made = []

    def make(cik=CIK, **options):
        client = Client(cik, "http://emulator", timeout=5, http=emulator.session(),
                        **options)
        made.append(client)
        return client
    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(connect):
    return connect()


def new_child(client, connect, name="child"):
    """(Client for a new child of `client`, its RID)."""
    rid = client.create("client", {"name": name})
    return connect(client.info(rid, {"key": True})["key"]), rid


def new_dataport(client, alias, fmt="float", **description):
    rid = client.create_dataport(fmt, **description)
    client.map(rid, alias)
    return rid


def latest(client, resource):
    return client.read(resource)[0][1]


def refusal(call, *arguments):
    with pytest.raises(CallError) as caught:
        call(*arguments)
    return caught.value


# -- numeric strings ------------------------------------------------------------------

def test_numeric_strings_are_stored_as_numbers_by_every_write(client):
    client.write("count", "42")
    assert latest(client, "count") == 42
    client.write("temp", "0.987654321")
    assert latest(client, "temp") == 0.987654321
    client.writegroup({"temp": "-0.5", "count": "-1"})
    assert (latest(client, "temp"), latest(client, "count")) == (-0.5, -1)
    client.record("count", [[665366400, "42"]])
    client.recordbatch("temp", [[1000, "12.33"], [1001, "1e3"]])
    assert client.read("count", starttime=665366400, endtime=665366400) == [[665366400, 42]]
    assert client.read("temp", endtime=1001, limit=2, sort="asc") == [[1000, 12.33],
                                                                       [1001, 1000.0]]


def test_a_string_that_is_not_a_number_is_refused_for_that_call_or_point(client):
    failed, stored = client.send([rpc.write("temp", "hot"), rpc.write("count", "7")])
    assert isinstance(failed, CallError) and failed.status == "invalid" and stored is None
    assert latest(client, "count") == 7
    with pytest.raises(RecordBatchError) as caught:
        client.recordbatch("count", [[2000, "8"], [2001, "eight"]])
    assert caught.value.rejected == [[2001, "invalid"]]
    assert client.read("count", endtime=2001, limit=5) == [[2000, 8]]
    assert refusal(client.writegroup, {"temp": "1.5", "count": "x"}).status == "invalid"
    assert client.read("temp", limit=5) == []


# -- grant -------------------------------------------------------------------------------

def test_a_granted_token_reaches_the_clients_dataports_by_alias_and_descendants(client,
                                                                                   connect):
    owner, rid = new_child(client, connect)
    token = owner.grant({"alias": ""}, {rid: ["read", "write"]}, ttl=1000)
    message = new_dataport(owner, "message", "string")
    holder = connect(None, token=token)
    holder.write("message", "\u4f60\u597d")
    assert latest(holder, "message") == "\u4f60\u597d"
    assert latest(holder, message) == "\u4f60\u597d"
    grandchild, _ = new_child(owner, connect, "grandchild")
    deep = new_dataport(grandchild, "deep", "integer")
    holder.write(deep, "5")
    assert latest(grandchild, "deep") == 5


def test_a_grants_access_list_may_name_procedures(client, connect):
    owner, rid = new_child(client, connect)
    port = new_dataport(owner, "level")
    token = owner.grant({"alias": ""}, {rid: ["writegroup", "info", "listing", "create"]},
                        ttl=60)
    holder = connect(None, token=token)
    holder.writegroup({"level": 1.5})
    assert holder.info(port, {"basic": True})["basic"]["type"] == "dataport"
    assert port in holder.listing(["dataport"])["dataport"]
    assert rpc.is_hex40(holder.create_dataport("float"))
    assert refusal(holder.write, port, 2.5).status == "restricted"
    assert refusal(holder.read, port).status == "restricted"
    assert refusal(holder.drop, port).status == "restricted"


# -- lookup, unmap ---------------------------------------------------------------------

def test_lookup_aliased_empty_key_is_the_callers_own_rid(client, connect):
    child, rid = new_child(client, connect)
    assert child.lookup("", "aliased") == rid
    assert child.lookup("", "alias") == rid


def test_unmap_of_an_unmapped_alias_is_ok(client):
    new_dataport(client, "foo")
    assert client.unmap("foo") is None
    assert client.unmap("foo") is None
    assert refusal(client.info, "foo").status == "invalid"


# -- clone ------------------------------------------------------------------------------

def test_clone_copies_a_client_with_its_dataports_aliases_and_history(client, connect):
    child, rid = new_child(client, connect)
    new_dataport(child, "foo", "string")
    child.write("foo", "testvalue")
    copy = client.create("clone", {"rid": rid})
    info = client.info(copy, {"basic": True, "key": True})
    assert info["basic"]["status"] == "notactivated"
    client.activate("client", info["key"])
    assert client.info(copy, {"basic": True})["basic"]["status"] == "activated"
    assert latest(connect(info["key"]), "foo") == "testvalue"


def test_clone_without_history_or_aliases(client, connect):
    child, rid = new_child(client, connect)
    new_dataport(child, "foo", "string")
    child.write("foo", "testvalue")
    bare = connect(client.info(client.create("clone", {"rid": rid, "nohistorical": True}),
                               {"key": True})["key"])
    assert bare.read("foo") == []
    nameless = connect(client.info(client.create("clone", {"rid": rid, "noaliases": True}),
                                   {"key": True})["key"])
    assert refusal(nameless.read, "foo").status == "invalid"
    [port] = nameless.listing(["dataport"])["dataport"]
    assert latest(nameless, port) == "testvalue"


# -- shares ------------------------------------------------------------------------------

def test_share_activate_read_list_deactivate_revoke(client, connect):
    owner, _ = new_child(client, connect, "one")
    reader, _ = new_child(client, connect, "two")
    third, _ = new_child(client, connect, "three")
    port = new_dataport(owner, "shared", "string")
    code = owner.share(port)
    reader.activate("share", code)
    assert refusal(third.activate, "share", code).status == "invalid"
    owner.write(port, "shared value")
    assert latest(reader, port) == "shared value"
    assert refusal(reader.write, port, "mine").status == "restricted"
    assert reader.listing(["dataport"]) == {"dataport": []}
    assert reader.listing(["dataport"], options={"activated": True}) == {"dataport": [port]}
    reader.deactivate("share", code)
    assert refusal(reader.read, port).status == "restricted"
    assert owner.lookup(code, "shared") == port
    owner.revoke("share", code)
    assert refusal(third.activate, "share", code).status == "invalid"


# -- read givenwindow ------------------------------------------------------------------

def test_read_givenwindow_keeps_the_oldest_point_of_each_part(client):
    client.recordbatch("status", [[1, "a"], [2, "a"], [3, "c"], [4, "d"], [5, "e"], [8, "f"]])
    assert client.read("status", starttime=1, endtime=10, limit=2,
                       selection="givenwindow") == [[8, "f"], [1, "a"]]
    # five parts of 2 s: [1, 2] [3, 4] [5, 6] [7, 8] [9, 10] (empty)
    assert client.read("status", starttime=1, endtime=10, limit=5, sort="asc",
                       selection="givenwindow") == [[1, "a"], [3, "c"], [5, "e"], [8, "f"]]


# -- subscribe, preprocess ----------------------------------------------------------------

def test_subscribe_copies_every_new_point_of_the_source(client):
    source = client.lookup("status")
    new_dataport(client, "destination", "string", subscribe=source)
    client.write("status", "ATEST")
    assert latest(client, "destination") == "ATEST"
    client.recordbatch("status", [[100, "x"], [101, "y"]])
    assert client.read("destination", endtime=101, limit=5, sort="asc") == [[100, "x"],
                                                                             [101, "y"]]


def test_preprocess_with_constants_and_a_sibling_alias(client):
    new_dataport(client, "math", preprocess=[["add", 4.4], ["mul", 2]])
    new_dataport(client, "variable")
    new_dataport(client, "complex", preprocess=[["add", "variable"], ["mul", 2]])
    client.write("math", "10")
    assert latest(client, "math") == 28.8
    client.write("variable", 10)
    client.write("complex", 5)
    assert latest(client, "complex") == 30


@pytest.mark.parametrize("step, value, stored", [
    (["add", 2], 5, 7), (["sub", 2], 5, 3), (["mul", 3], 5, 15), (["div", 2], 5, 2),
    (["div", 5], 10, 2), (["mod", 3], -7, -1), (["gt", 4], 5, 1), (["lt", 4], 5, 0),
    (["eq", 5], 5, 1), (["geq", 5], 5, 1), (["leq", 4], 5, 0), (["neq", 5], 5, 0),
    (["value", 9], 5, 9), (["add", "operand"], 5, 12)])
def test_every_preprocess_operator(client, step, value, stored):
    new_dataport(client, "operand", "integer")
    client.write("operand", 7)
    new_dataport(client, "result", "integer", preprocess=[step])
    client.write("result", value)
    # an integer dataport keeps the whole part of 5 div 2
    assert latest(client, "result") == stored


# -- datarule, dispatch ------------------------------------------------------------------

def test_datarule_and_dispatch_descriptions_are_kept(client):
    temp = client.lookup("temp")
    rule = client.create("datarule", {"format": "float", "subscribe": temp,
                                      "rule": {"script": "-- lua\ndebug('hi')"}})
    notify = client.create("dispatch", {"method": "http_post", "subscribe": temp,
                                        "recipient": "http://example.com/hook"})
    client.map(rule, "rule")
    assert client.info("rule", {"description": True})["description"]["rule"] == \
        {"script": "-- lua\ndebug('hi')"}
    client.update(notify, {"message": "hot"})
    assert client.info(notify)["description"]["message"] == "hot"
    assert client.listing(["datarule", "dispatch"]) == {"datarule": [rule],
                                                        "dispatch": [notify]}
    client.write("temp", 99.5)
    assert client.read(rule) == [] and client.read(notify) == []
    assert "do not run" in refusal(client.write, rule, 1.0).error["message"]
    client.drop(notify)
    assert client.listing(["dispatch"]) == {"dispatch": []}


# -- listing -----------------------------------------------------------------------------

def test_listing_options_as_a_list_and_type_token(client, connect):
    child, rid = new_child(client, connect)
    token = child.grant({"alias": ""}, {rid: ["read"]}, ttl=60)
    assert child.listing(["client", "token"], options=[]) == {"client": [], "token": [token]}
    holder = connect(None, token=token)
    assert holder.listing(["token"], options=[]) == {"token": [token]}
    assert client.listing(["client"], options=["owned"]) == {"client": [rid]}
    assert client.listing(["client"], options={"owned": True}) == {"client": [rid]}


# -- failures -------------------------------------------------------------------------------

def test_an_unsupported_argument_fails_that_call_alone(client):
    results = client.send([rpc.write("temp", 1.5),
                           ("read", [{"alias": "temp"}, {"sort": "sideways"}]),
                           ("teleport", []),
                           rpc.read("temp")])
    assert results[0] is None and results[3][0][1] == 1.5
    for failure in results[1:3]:
        assert isinstance(failure, CallError) and failure.status == "fail"
        assert failure.error["code"] == 501 and failure.error["message"]
    assert "sort" in results[1].error["message"]
    assert "teleport" in results[2].error["message"]


def test_a_refused_call_says_why_in_its_error_object(client):
    assert refusal(client.write, "nosuch", 1).error["message"] == "no dataport 'nosuch'"
    failure = refusal(client.write, "temp", "hot")
    assert failure.error["message"] == "'hot' is not a float"
    assert "'hot' is not a float" in str(failure)
