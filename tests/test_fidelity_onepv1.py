"""What pyonep-style code (pyonep's own tests and examples, Exosite's
command-line tool) does against the One Platform, through uonep_host.OnepV1
against the emulator: one test per fact of issue 12's RPC list. The same
facts through uonep_host.Client are in test_fidelity_client.py. (A refused
call's error object is checked there: pyonep's (False, status) has no place
for it.)"""

import urllib.parse

import pytest

from uonep_host import OnepV1
from uonep_host.emulator import Emulator

CIK = "d" * 40
SEED = {"clients": [{"cik": CIK, "name": "portal", "dataports": [
    {"alias": "temp", "format": "float"},
    {"alias": "count", "format": "integer"},
    {"alias": "status", "format": "string"},
]}]}
TEMP, COUNT, STATUS = {"alias": "temp"}, {"alias": "count"}, {"alias": "status"}
FLOAT_PORT = {"format": "float", "retention": {"count": "infinity", "duration": "infinity"}}


@pytest.fixture
def emulator():
    running = Emulator(seed=SEED).start()
    yield running
    running.stop()


@pytest.fixture
def onep(emulator):
    address = urllib.parse.urlsplit(emulator.url)
    o = OnepV1(host=address.hostname, port=str(address.port), https=False)
    yield o
    o.close()


def ok(outcome):
    """The result of a call that must succeed."""
    success, result = outcome
    assert success is True, result
    return result


def child(onep, name="child"):
    """(cik, rid) of a new client under CIK, as pyonep's test_base.makeClient does."""
    rid = ok(onep.create(CIK, "client", {"name": name, "limits": {"dataport": "inherit"}}))
    return ok(onep.info(CIK, rid, {"key": True}))["key"], rid


def dataport(onep, cik, alias, fmt="float", **description):
    rid = ok(onep.create(cik, "dataport", dict(FLOAT_PORT, format=fmt, **description)))
    ok(onep.map(cik, rid, alias))
    return rid


def latest(onep, cik, resource):
    return ok(onep.read(cik, resource, {"limit": 1}))[0][1]


# -- numeric strings ------------------------------------------------------------------

def test_numeric_strings_are_stored_as_numbers_by_every_write(onep):
    ok(onep.write(CIK, COUNT, "42"))
    assert latest(onep, CIK, COUNT) == 42
    ok(onep.write(CIK, TEMP, "0.987654321"))
    assert latest(onep, CIK, TEMP) == 0.987654321
    ok(onep.writegroup(CIK, [[TEMP, "-0.1234567"], [COUNT, "-1"]]))
    assert (latest(onep, CIK, TEMP), latest(onep, CIK, COUNT)) == (-0.1234567, -1)
    ok(onep.record(CIK, COUNT, [[665366400, "42"]]))
    ok(onep.recordbatch(CIK, TEMP, [[1000, "12.33"], [1001, "3.5"]]))
    assert ok(onep.read(CIK, COUNT, {"starttime": 665366400, "endtime": 665366400})) == \
        [[665366400, 42]]
    assert ok(onep.read(CIK, TEMP, {"endtime": 1001, "limit": 2, "sort": "asc"})) == \
        [[1000, 12.33], [1001, 3.5]]


def test_a_string_that_is_not_a_number_is_refused_for_that_call_or_point(onep):
    onep.write(CIK, TEMP, "hot", defer=True)
    onep.write(CIK, COUNT, "7", defer=True)
    (_, refused, status), (_, stored, _) = onep.send_deferred(CIK)
    assert (refused, status, stored) == (False, "invalid", True)
    success, rejected = onep.recordbatch(CIK, COUNT, [[2000, "8"], [2001, "eight"]])
    assert (success, rejected) == (False, [[2001, "invalid"]])
    assert ok(onep.read(CIK, COUNT, {"endtime": 2001, "limit": 5})) == [[2000, 8]]
    assert onep.record(CIK, COUNT, [[2002, "9"], [2003, "nine"]]) == (False, "invalid")


# -- grant -------------------------------------------------------------------------------

def test_a_granted_token_reaches_the_clients_dataports_by_alias_and_descendants(onep):
    # pyonep's test_token: grant on the client's own RID, then a dataport made
    # afterwards is written and read through the token by its alias
    cik, rid = child(onep)
    token = ok(onep.grant(cik, rid, {rid: ["read", "write"]}, ttl=1000))
    message = dataport(onep, cik, "message", "string")
    auth = {"token": token}
    ok(onep.write(auth, {"alias": "message"}, "\u4f60\u597d"))
    assert ok(onep.read(auth, {"alias": "message"}, {"limit": 1}))[0][1] == "\u4f60\u597d"
    assert ok(onep.read(auth, message, {}))[0][1] == "\u4f60\u597d"
    # a descendant: a dataport of the client's own child
    grandchild_cik, _ = child_of(onep, cik)
    deep = dataport(onep, grandchild_cik, "deep", "integer")
    ok(onep.write(auth, deep, "5"))
    assert latest(onep, grandchild_cik, {"alias": "deep"}) == 5


def child_of(onep, cik):
    rid = ok(onep.create(cik, "client", {"name": "grandchild"}))
    return ok(onep.info(cik, rid, {"key": True}))["key"], rid


def test_a_grants_access_list_may_name_procedures(onep):
    cik, rid = child(onep)
    port = dataport(onep, cik, "level")
    token = ok(onep.grant(cik, rid, {rid: ["writegroup", "info", "listing", "create"]},
                          ttl=60))
    auth = {"token": token}
    ok(onep.writegroup(auth, [[{"alias": "level"}, 1.5]]))
    assert ok(onep.info(auth, port, {"basic": True}))["basic"]["type"] == "dataport"
    assert port in ok(onep.listing(auth, ["dataport"], {}, {"alias": ""}))["dataport"]
    assert ok(onep.create(auth, "dataport", FLOAT_PORT))
    assert onep.write(auth, port, 2.5) == (False, "restricted")
    assert onep.read(auth, port, {}) == (False, "restricted")
    assert onep.drop(auth, port) == (False, "restricted")


# -- lookup, unmap ---------------------------------------------------------------------

def test_lookup_aliased_empty_key_is_the_callers_own_rid(onep):
    cik, rid = child(onep)
    assert ok(onep.lookup(cik, "aliased", "")) == rid
    assert ok(onep.lookup(cik, "alias", "")) == rid


def test_unmap_of_an_unmapped_alias_is_ok(onep):
    rid = ok(onep.create(CIK, "dataport", FLOAT_PORT))
    ok(onep.map(CIK, rid, "foo"))
    assert onep.unmap(CIK, "foo") == (True, "ok")
    assert onep.unmap(CIK, "foo") == (True, "ok")
    assert onep.info(CIK, {"alias": "foo"})[0] is False


# -- clone ------------------------------------------------------------------------------

def test_clone_copies_a_client_with_its_dataports_aliases_and_history(onep):
    # Exoline's clone_test: clone the client, read "foo" through the copy's CIK
    cik, rid = child(onep)
    dataport(onep, cik, "foo", "string")
    ok(onep.write(cik, {"alias": "foo"}, "testvalue"))
    copy = ok(onep.create(CIK, "clone", {"rid": rid, "noaliases": False,
                                         "nohistorical": False}))
    info = ok(onep.info(CIK, copy, {"basic": True, "key": True, "description": True}))
    assert info["basic"]["type"] == "client" and info["description"]["name"] == "child"
    assert info["basic"]["status"] == "notactivated"
    assert onep.activate(CIK, "client", info["key"]) == (True, "ok")
    assert latest(onep, info["key"], {"alias": "foo"}) == "testvalue"
    assert copy != rid and info["key"] != cik


def test_clone_without_history_or_aliases(onep):
    cik, rid = child(onep)
    dataport(onep, cik, "foo", "string")
    ok(onep.write(cik, {"alias": "foo"}, "testvalue"))
    bare = ok(onep.create(CIK, "clone", {"rid": rid, "nohistorical": True}))
    bare_cik = ok(onep.info(CIK, bare, {"key": True}))["key"]
    assert ok(onep.read(bare_cik, {"alias": "foo"}, {})) == []
    nameless = ok(onep.create(CIK, "clone", {"rid": rid, "noaliases": True}))
    nameless_cik = ok(onep.info(CIK, nameless, {"key": True}))["key"]
    assert onep.read(nameless_cik, {"alias": "foo"}, {}) == (False, "invalid")
    [port] = ok(onep.listing(nameless_cik, ["dataport"], {}, {"alias": ""}))["dataport"]
    assert ok(onep.read(nameless_cik, port, {}))[0][1] == "testvalue"


# -- shares ------------------------------------------------------------------------------

def test_share_activate_read_list_deactivate_revoke(onep):
    # Exoline's share_test
    owner_cik, _ = child(onep, "one")
    reader_cik, reader = child(onep, "two")
    third_cik, _ = child(onep, "three")
    port = dataport(onep, owner_cik, "shared", "string")
    code = ok(onep.share(owner_cik, port))
    assert onep.activate(reader_cik, "share", code) == (True, "ok")
    assert onep.activate(third_cik, "share", code) == (False, "invalid")
    ok(onep.write(owner_cik, port, "shared value"))
    assert latest(onep, reader_cik, port) == "shared value"
    assert onep.write(reader_cik, port, "mine") == (False, "restricted")
    assert ok(onep.listing(reader_cik, ["dataport"], {}, {"alias": ""})) == {"dataport": []}
    assert ok(onep.listing(reader_cik, ["dataport"], {"activated": True},
                           {"alias": ""})) == {"dataport": [port]}
    assert onep.deactivate(reader_cik, "share", code) == (True, "ok")
    assert onep.read(reader_cik, port, {}) == (False, "restricted")
    assert ok(onep.lookup(owner_cik, "shared", code)) == port
    assert onep.revoke(owner_cik, "share", code) == (True, "ok")
    assert onep.activate(third_cik, "share", code) == (False, "invalid")


# -- read givenwindow ------------------------------------------------------------------

def test_read_givenwindow_keeps_the_oldest_point_of_each_part(onep):
    # Exoline's read_selection_test
    ok(onep.record(CIK, STATUS, [[1, "a"], [2, "a"], [3, "c"], [4, "d"], [5, "e"], [8, "f"]]))
    got = ok(onep.read(CIK, STATUS, {"starttime": 1, "endtime": 10, "limit": 2,
                                     "selection": "givenwindow"}))
    assert got == [[8, "f"], [1, "a"]]


# -- subscribe, preprocess ----------------------------------------------------------------

def test_subscribe_copies_every_new_point_of_the_source(onep):
    # Exoline's spec_subscribe_test
    source = dataport(onep, CIK, "source", "string")
    dataport(onep, CIK, "destination", "string", subscribe=source)
    ok(onep.write(CIK, {"alias": "source"}, "ATEST"))
    assert latest(onep, CIK, {"alias": "destination"}) == "ATEST"
    ok(onep.recordbatch(CIK, {"alias": "source"}, [[100, "x"], [101, "y"]]))
    copied = ok(onep.read(CIK, {"alias": "destination"}, {"endtime": 101, "limit": 5,
                                                           "sort": "asc"}))
    assert copied == [[100, "x"], [101, "y"]]


def test_preprocess_with_constants_and_a_sibling_alias(onep):
    # Exoline's spec_preprocess_test
    dataport(onep, CIK, "math", preprocess=[["add", 4.4], ["mul", 2]])
    dataport(onep, CIK, "variable")
    dataport(onep, CIK, "complex", preprocess=[["add", "variable"], ["mul", 2]])
    ok(onep.write(CIK, {"alias": "math"}, "10"))
    assert latest(onep, CIK, {"alias": "math"}) == 28.8
    ok(onep.write(CIK, {"alias": "variable"}, "10"))
    ok(onep.write(CIK, {"alias": "complex"}, "5"))
    assert latest(onep, CIK, {"alias": "complex"}) == 30
    # the second spec: update the preprocess steps
    ok(onep.update(CIK, {"alias": "math"}, {"preprocess": [["add", 5.5]]}))
    ok(onep.write(CIK, {"alias": "math"}, "10"))
    assert latest(onep, CIK, {"alias": "math"}) == 15.5


# -- datarule, dispatch ------------------------------------------------------------------

def test_datarule_and_dispatch_descriptions_are_kept(onep):
    # Exoline's spec_datarule_test and spec_dispatch_test, and its script upload
    temp = ok(onep.lookup(CIK, "alias", "temp"))
    rule = ok(onep.create(CIK, "datarule", {
        "format": "float", "subscribe": temp, "retention": {"count": 10, "duration": "infinity"},
        "rule": {"simple": {"comparison": "gt", "constant": 80, "repeat": True}}}))
    script = ok(onep.create(CIK, "datarule", {"format": "string", "name": "hello.lua",
                                              "rule": {"script": "debug('hello')"}}))
    notify = ok(onep.create(CIK, "dispatch", {
        "subscribe": temp, "method": "email", "recipient": "someone@example.com",
        "subject": "hello", "message": "hi"}))
    ok(onep.map(CIK, rule, "highTemp"))
    assert ok(onep.info(CIK, {"alias": "highTemp"}, {"description": True}))[
        "description"]["retention"]["count"] == 10
    assert ok(onep.info(CIK, script, {}))["description"]["rule"] == {"script": "debug('hello')"}
    ok(onep.update(CIK, notify, {"recipient": "other@example.com", "message": "more"}))
    described = ok(onep.info(CIK, notify, {"description": True, "basic": True}))
    assert described["basic"]["type"] == "dispatch"
    assert described["description"]["recipient"] == "other@example.com"
    listed = ok(onep.listing(CIK, ["datarule", "dispatch"], {}, {"alias": ""}))
    assert listed == {"datarule": [rule, script], "dispatch": [notify]}
    # they do not run: nothing reaches them
    ok(onep.write(CIK, TEMP, 81))
    assert ok(onep.read(CIK, rule, {})) == []
    ok(onep.drop(CIK, script))
    assert ok(onep.listing(CIK, ["datarule"], {}, {"alias": ""})) == {"datarule": [rule]}


# -- listing -----------------------------------------------------------------------------

def test_listing_options_as_a_list_and_type_token(onep):
    # pyonep's auth_token example: listing(auth, ["client", "token"], [], rid)
    cik, rid = child(onep)
    token = ok(onep.grant(cik, rid, {rid: ["read", "listing"]}, ttl=60))
    auth = {"token": token}
    assert ok(onep.listing(auth, ["client", "token"], [], rid)) == \
        {"client": [], "token": [token]}
    assert ok(onep.listing(cik, ["client", "token"], [], {"alias": ""})) == \
        {"client": [], "token": [token]}
    assert ok(onep.listing(CIK, ["client"], ["owned"], {"alias": ""})) == {"client": [rid]}


# -- failures -------------------------------------------------------------------------------

def test_an_unsupported_argument_fails_that_call_alone(onep):
    onep.write(CIK, TEMP, 1.5, defer=True)
    onep.read(CIK, TEMP, {"sort": "sideways"}, defer=True)
    onep.create(CIK, "robot", {}, defer=True)
    onep.read(CIK, TEMP, {}, defer=True)
    results = onep.send_deferred(CIK)
    assert [(success, result) for _, success, result in results][1:3] == \
        [(False, "fail"), (False, "fail")]
    assert results[0][1] is True and results[3][1:] == (True, [[results[3][2][0][0], 1.5]])
