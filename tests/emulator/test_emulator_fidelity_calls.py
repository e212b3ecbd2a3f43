"""Issue 12 on the wire: per-call failures and their error objects, numeric
strings, the documented argument forms, listing, preprocess and subscribe,
datarules and dispatches. (Where the documentation is vague, the behaviour
chosen is the one asserted here and described in the README.)"""

import sqlite3

from emulator_helpers import CIK, T0, Rpc
from uonep_host.emulator import Emulator
from uonep_host.emulator.store import Store

TEMP, COUNT, STATUS = {"alias": "temp"}, {"alias": "count"}, {"alias": "status"}


def error(entry):
    return entry["error"]["code"], entry["error"]["context"]


# -- failures ---------------------------------------------------------------------------

def test_every_refusal_carries_an_error_object(rpc, emu):
    invalid = rpc.call("write", {"alias": "nosuch"}, 1)
    assert invalid["status"] == "invalid" and error(invalid) == (400, "arguments")
    assert invalid["error"]["message"] == "no dataport 'nosuch'"
    outsider = rpc.call("read", "e" * 40, {})
    assert outsider["status"] == "restricted" and error(outsider) == (403, "auth")
    unsupported = rpc.call("read", TEMP, {"sort": "sideways"})
    assert unsupported["status"] == "fail" and error(unsupported) == (501, "arguments")
    assert "sort" in unsupported["error"]["message"]
    partial = rpc.call("recordbatch", COUNT, [[T0 - 1, 1], [T0, "many"]])
    assert partial["status"] == [[T0, "invalid"]]
    assert partial["error"]["message"] == "1 of 2 points not stored; the first: 'many' is " \
                                          "not an integer"
    expired = rpc.call("wait", TEMP, {"timeout": 10})
    assert expired["status"] == "expire" and expired["error"]["code"] == 408


def test_unsupported_calls_fail_alone_and_the_others_run(rpc, emu):
    answer = rpc.send([
        {"id": 1, "procedure": "teleport", "arguments": []},
        {"id": 2, "procedure": "write", "arguments": [COUNT, 3]},
        {"id": 3, "procedure": "info", "arguments": [TEMP, {"colour": True}]},
        {"id": 4, "procedure": "map", "arguments": ["tag", "a" * 40, "x"]}])
    assert [entry["status"] for entry in answer] == ["fail", "ok", "fail", "fail"]
    assert error(answer[0]) == (501, "procedure") and "'teleport'" in answer[0]["error"]["message"]
    assert error(answer[2]) == (501, "arguments") and "'colour'" in answer[2]["error"]["message"]
    assert emu.points(CIK, "count") == [[T0, 3]]


def test_messages_never_quote_codes_or_keys(rpc, emu):
    code = rpc.ok("share", TEMP, {})
    child = rpc.ok("create", "client", {})
    key = rpc.ok("info", child, {"key": True})["key"]
    rpc.ok("activate", "share", code)
    for entry in (rpc.call("activate", "share", code), rpc.call("activate", "client", key),
                  rpc.call("revoke", "share", "b" * 40), rpc.call("lookup", "shared", "x")):
        assert entry["status"] != "ok"
        assert code not in entry["error"]["message"] and key not in entry["error"]["message"]


# -- numeric strings -----------------------------------------------------------------------

def test_numeric_string_forms(rpc, emu):
    for text, stored in (("3.0", 3), ("1e3", 1000), ("-0", 0), ("+7", 7),
                         ("10000000000000001.", 10000000000000001)):
        rpc.ok("recordbatch", COUNT, [[T0, text]])
        assert emu.points(CIK, "count") == [[T0, stored]], text
    for text in (" 1", "1_0", "nan", "inf", "0x10", "\u0663", "", "3.5"):
        assert rpc.status("write", COUNT, text) == "invalid", text
    assert rpc.call("write", COUNT, "9223372036854775808")["error"]["message"] == \
        "'9223372036854775808' is outside the signed 64-bit range"
    rpc.ok("write", TEMP, ".5")
    assert emu.points(CIK, "temp") == [[T0, 0.5]]
    # no conversion the other way: a number is not a string
    assert rpc.call("write", STATUS, 5)["error"]["message"] == "5 is not a string"


# -- the documented forms with a leading <ClientID> -------------------------------------------

def test_forms_with_a_leading_client_id(rpc, emu):
    child = rpc.ok("create", "client", {"name": "child"})
    port = rpc.ok("create", child, "dataport", {"format": "float"})
    assert rpc.ok("lookup", "owner", port) == child
    key = rpc.ok("info", child, {"key": True})["key"]
    Rpc(emu.session(), key).ok("map", "alias", port, "level")
    assert rpc.ok("lookup", child, "alias", "level") == port
    assert rpc.ok("lookup", child, "aliased", "") == child
    assert rpc.ok("listing", child, ["dataport"], {}) == {"dataport": [port]}
    rpc.ok("unmap", child, "alias", "level")
    assert rpc.status("lookup", child, "alias", "level") == "invalid"
    code = rpc.ok("share", TEMP, {})
    rpc.ok("activate", child, "share", code)
    assert rpc.ok("listing", child, ["dataport"], {"activated": True}) == \
        {"dataport": [emu.rid(CIK, "temp")]}
    rpc.ok("deactivate", child, "share", code)
    assert rpc.status("create", "e" * 40, "dataport", {"format": "float"}) == "restricted"


# -- listing ------------------------------------------------------------------------------

def test_listing_options_select_owned_activated_aliased_public_tagged(rpc, emu):
    temp, count = emu.rid(CIK, "temp"), emu.rid(CIK, "count")
    rpc.ok("tag", TEMP, "add", "outdoor")
    rpc.ok("update", COUNT, {"public": True})
    assert rpc.ok("listing", {"alias": ""}, ["dataport"], {"tagged": ["outdoor"]}) == \
        {"dataport": [temp]}
    assert rpc.ok("listing", {"alias": ""}, ["dataport"], ["public"]) == {"dataport": [count]}
    unnamed = rpc.ok("create", "dataport", {"format": "float"})
    assert unnamed not in rpc.ok("listing", {"alias": ""}, ["dataport"], ["aliased"])["dataport"]
    assert unnamed in rpc.ok("listing", {"alias": ""}, ["dataport"], ["owned"])["dataport"]
    assert rpc.call("listing", {"alias": ""}, ["dataport"], ["everything"])["status"] == "fail"
    assert rpc.call("listing", {"alias": ""}, ["dataport"], {"mine": True})["status"] == "fail"
    # deprecated form without options: a list of lists in type order
    assert rpc.ok("listing", {"alias": ""}, ["datarule", "dataport"])[0] == []


def test_listing_tokens_only_live_ones_and_a_token_sees_itself(rpc, emu):
    me = emu.rid(CIK)
    short = rpc.ok("grant", {"alias": ""}, {me: ["read"]}, {"ttl": 10})
    long = rpc.ok("grant", {"alias": ""}, {me: ["read", "listing"]}, {"ttl": 100})
    assert rpc.ok("listing", {"alias": ""}, ["token"], {}) == {"token": [short, long]}
    assert rpc.ok("listing", {"alias": ""}, ["token"], {}, auth={"token": long}) == \
        {"token": [long]}
    emu.set_clock(advance=10)
    assert rpc.ok("listing", {"alias": ""}, ["token"], {}) == {"token": [long]}


# -- preprocess and subscribe --------------------------------------------------------------------

def test_preprocess_refusals_say_why(rpc, emu):
    port = rpc.ok("create", "dataport", {"format": "float", "preprocess": [["div", 0]]})
    assert rpc.call("write", port, 1)["error"]["message"] == "preprocess divides by zero"
    assert rpc.call("create", "dataport", {"format": "float", "preprocess": [["pow", 2]]}
                    )["status"] == "invalid"
    assert rpc.status("create", "dataport", {"format": "float",
                                             "preprocess": [["add", True]]}) == "invalid"
    text = rpc.ok("create", "dataport", {"format": "string", "preprocess": [["mul", 2]]})
    rpc.ok("write", text, "1.25")
    assert rpc.ok("read", text, {}) == [[T0, "2.5"]]
    assert rpc.call("write", text, "many")["error"]["message"] == \
        "preprocess 'mul' needs a number, not 'many'"


def test_subscribe_by_alias_is_stored_as_the_rid_and_chains(rpc, emu):
    temp = emu.rid(CIK, "temp")
    first = rpc.ok("create", "dataport", {"format": "float", "subscribe": "temp",
                                          "preprocess": [["mul", 10]]})
    rpc.ok("map", "alias", first, "first")
    second = rpc.ok("create", "dataport", {"format": "integer", "subscribe": {"alias": "first"}})
    assert rpc.ok("info", first, {"description": True})["description"]["subscribe"] == temp
    info = rpc.ok("info", TEMP, {"basic": True, "subscribers": True})
    assert info["basic"]["subscribers"] == 1 and info["subscribers"] == [["dataport", first]]
    rpc.ok("recordbatch", TEMP, [[T0 - 1, 1.5], [T0, "2"]])
    assert rpc.ok("read", second, {"limit": 5, "sort": "asc"}) == [[T0 - 1, 15], [T0, 20]]
    # a point that does not fit a subscriber is not copied there; the write is fine
    rpc.ok("write", TEMP, 0.25)
    assert rpc.ok("read", second, {}) == [[T0, 20]]
    assert rpc.ok("read", first, {}) == [[T0, 2.5]]
    rpc.ok("update", second, {"subscribe": None})
    assert rpc.ok("info", first, {"subscribers": True}) == {"subscribers": []}
    assert rpc.status("create", "dataport", {"format": "float", "subscribe": "nosuch"}) == \
        "invalid"
    assert rpc.status("create", "dataport", {"format": "float", "subscribe": "e" * 40}) == \
        "restricted"


def test_a_subscription_cycle_stops(rpc, emu):
    first = rpc.ok("create", "dataport", {"format": "float"})
    second = rpc.ok("create", "dataport", {"format": "float", "subscribe": first})
    rpc.ok("update", first, {"subscribe": second})
    rpc.ok("write", first, 4)
    assert rpc.ok("read", second, {}) == [[T0, 4.0]] == rpc.ok("read", first, {})


# -- datarule and dispatch -----------------------------------------------------------------------

def test_datarule_and_dispatch_descriptions_are_checked(rpc):
    rule = {"simple": {"comparison": "gt", "constant": 80, "repeat": True}}
    assert "format" in rpc.call("create", "datarule", {"rule": rule})["error"]["message"]
    assert "rule" in rpc.call("create", "datarule", {"format": "float"})["error"]["message"]
    assert rpc.status("create", "datarule", {"format": "float", "rule": {"magic": {}}}) == \
        "invalid"
    assert rpc.status("create", "datarule", {"format": "string", "rule": {"script": 5}}) == \
        "invalid"
    assert "method" in rpc.call("create", "dispatch", {"recipient": "a@b.c"})["error"]["message"]
    assert rpc.status("create", "dispatch", {"method": "email"}) == "invalid"
    made = rpc.ok("create", "datarule", {"format": "float", "rule": rule})
    info = rpc.ok("info", made, {})
    assert info["basic"]["type"] == "datarule" and info["storage"]["count"] == 0
    assert info["description"]["preprocess"] == [] and info["description"]["subscribe"] is None
    assert rpc.status("update", made, {"format": "string"}) == "invalid"
    rpc.ok("update", made, {"rule": {"timeout": {"timeout": 100, "repeat": True}}})
    dispatch = rpc.ok("create", "dispatch", {"method": "sms", "recipient": "+100", "locked": True})
    assert rpc.ok("info", dispatch, {"basic": True})["basic"]["status"] == "locked"


def test_update_limits(rpc, emu):
    assert rpc.status("update", {"alias": ""}, {"name": "me"}) == "restricted"
    child = rpc.ok("create", "client", {"name": "kid", "writeinterval": "inherit"})
    rpc.ok("update", child, {"writeinterval": 60, "locked": False})
    assert rpc.ok("info", child, {"description": True})["description"]["writeinterval"] == 60
    assert rpc.call("update", child, {"colour": "red"})["error"]["message"] == \
        "'colour' is not a key of a client description"


# -- seeds and old databases -------------------------------------------------------------

def test_seeded_preprocess_and_subscribe():
    seed = {"clients": [{"cik": CIK, "dataports": [
        {"alias": "copy", "format": "float", "subscribe": "raw"},
        {"alias": "raw", "format": "float", "preprocess": [["sub", 273.15]]}]}]}
    emu = Emulator(seed=seed, clock=lambda: T0)
    Rpc(emu.session()).ok("write", {"alias": "raw"}, "293.15")
    assert emu.points(CIK, "copy") == [[T0, 293.15 - 273.15]]
    emu.stop()


def test_a_database_from_before_shares_had_activators_opens(tmp_path):
    path = str(tmp_path / "old.sqlite")
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE resources (rid TEXT PRIMARY KEY, type TEXT NOT NULL, owner TEXT,
            cik TEXT UNIQUE, description TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]',
            created INTEGER NOT NULL, modified INTEGER NOT NULL);
        CREATE TABLE shares (code TEXT PRIMARY KEY, rid TEXT NOT NULL, owner TEXT NOT NULL,
            activated INTEGER NOT NULL DEFAULT 1);
        INSERT INTO resources VALUES ('%s', 'client', NULL, '%s', '{}', '[]', 1, 1);
        INSERT INTO shares (code, rid, owner) VALUES ('%s', '%s', '%s');
    """ % ("a" * 40, CIK, "b" * 40, "a" * 40, "a" * 40))
    old.commit()
    old.close()
    store = Store(path)
    try:
        assert store.client_by_cik(CIK)["status"] == "activated"
        assert store.share("b" * 40)["activator"] is None
        store.add_share("a" * 40, "a" * 40, "meta")
    finally:
        store.close()
