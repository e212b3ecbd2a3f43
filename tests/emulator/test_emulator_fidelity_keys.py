"""Issue 12 on the wire: tokens, share codes, client codes (CIKs) and
clones. (Where the documentation is vague, the behaviour chosen is the one
asserted here and described in the README.)"""

from emulator_helpers import CIK, T0, Rpc

TEMP = {"alias": "temp"}
INVALID = {"error": {"code": 401, "message": "Invalid", "context": "auth"}}


def child(rpc, emu, name="child"):
    """(Rpc of a new child client, its rid)."""
    rid = rpc.ok("create", "client", {"name": name})
    return Rpc(emu.session(), rpc.ok("info", rid, {"key": True})["key"]), rid


# -- tokens ---------------------------------------------------------------------------------

def test_a_token_on_a_client_reaches_its_whole_tree(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    port = kid.ok("create", "dataport", {"format": "integer"})
    token = rpc.ok("grant", kid_rid, {kid_rid: ["read", "write"]}, {})
    auth = {"token": token}
    # the token acts as the client grant named: {"alias": ""} is the kid
    assert rpc.ok("lookup", "alias", "", auth=auth) == kid_rid
    rpc.ok("write", port, "12", auth=auth)
    assert rpc.ok("read", port, {}, auth=auth) == [[T0, 12]]
    # but nothing outside the granted RID
    assert rpc.status("read", TEMP, {}, auth=auth) == "invalid"       # no alias in the kid
    assert rpc.status("read", emu.rid(CIK, "temp"), {}, auth=auth) == "restricted"


def test_named_procedures_and_what_tokens_never_do(rpc, emu):
    me = emu.rid(CIK)
    token = rpc.ok("grant", {"alias": ""}, {me: ["flush", "map", "unmap", "tag"]}, {})
    auth = {"token": token}
    rpc.ok("write", TEMP, 1)
    rpc.ok("flush", TEMP, auth=auth)
    assert emu.points(CIK, "temp") == []
    rpc.ok("map", "alias", emu.rid(CIK, "temp"), "outside", auth=auth)
    rpc.ok("unmap", "alias", "outside", auth=auth)
    rpc.ok("tag", TEMP, "add", "x", auth=auth)
    assert rpc.status("update", TEMP, {"name": "x"}, auth=auth) == "restricted"
    assert rpc.call("grant", {"alias": ""}, {me: ["read"]}, {}, auth=auth)["error"][
        "message"] == "a token cannot grant tokens"
    assert "key" not in rpc.ok("info", {"alias": ""}, {}, auth={"token": rpc.ok(
        "grant", {"alias": ""}, {me: ["info"]}, {})})


def test_a_token_for_a_dropped_resource_reaches_nothing(rpc, emu):
    port = rpc.ok("create", "dataport", {"format": "float"})
    token = rpc.ok("grant", {"alias": ""}, {port: ["read", "write"]}, {})
    rpc.ok("drop", port)
    entry = rpc.call("read", port, {}, auth={"token": token})
    assert entry["status"] == "restricted" and entry["error"]["code"] == 403


def test_a_dropped_grantor_takes_its_tokens(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    token = kid.ok("grant", {"alias": ""}, {kid_rid: ["read"]}, {})
    rpc.ok("drop", kid_rid)
    assert rpc.call("lookup", "alias", "", auth={"token": token}) == INVALID


# -- share codes ------------------------------------------------------------------------------

def test_share_meta_and_info_shares(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    code = rpc.ok("share", TEMP, {"meta": "for the kid"})
    assert rpc.ok("share", TEMP, {"meta": "updated", "code": code}) == code
    assert rpc.status("share", {"alias": "count"}, {"code": code}) == "invalid"
    kid.ok("activate", "share", code)
    assert rpc.ok("info", TEMP, {"shares": True}) == {"shares": [
        {"activator": kid_rid, "code": code, "meta": "updated"}]}
    # the reader sees the resource, not its share codes
    assert kid.ok("info", emu.rid(CIK, "temp"), {"shares": True}) == {"shares": []}


def test_one_activation_per_client_and_resource(rpc, emu):
    kid, _ = child(rpc, emu)
    first, second = rpc.ok("share", TEMP, {}), rpc.ok("share", TEMP, {})
    kid.ok("activate", "share", first)
    entry = kid.call("activate", "share", second)
    assert entry["status"] == "invalid" and "already activated a share" in entry["error"]["message"]
    # deactivate by the shared RID frees it
    kid.ok("deactivate", "share", emu.rid(CIK, "temp"))
    kid.ok("activate", "share", second)


def test_a_shared_client_is_read_with_everything_under_it(rpc, emu):
    owner, owner_rid = child(rpc, emu, "owner")
    reader, _ = child(rpc, emu, "reader")
    port = owner.ok("create", "dataport", {"format": "float"})
    owner.ok("write", port, 2.5)
    code = rpc.ok("share", owner_rid, {})
    reader.ok("activate", "share", code)
    assert reader.ok("read", port, {}) == [[T0, 2.5]]
    assert reader.ok("listing", owner_rid, ["dataport"], {}) == {"dataport": [port]}
    assert reader.ok("info", port, {"basic": True})["basic"]["type"] == "dataport"
    assert reader.status("write", port, 1) == "restricted"
    assert reader.status("drop", port) == "restricted"
    assert reader.status("lookup", "owner", port) == "restricted"
    rpc.ok("revoke", "share", code)
    assert reader.status("read", port, {}) == "restricted"


def test_revoke_only_by_the_sharing_side(rpc, emu):
    kid, _ = child(rpc, emu)
    code = rpc.ok("share", TEMP, {})
    entry = kid.call("revoke", "share", code)
    assert entry["status"] == "noauth" and entry["error"]["code"] == 403
    assert kid.status("deactivate", "share", code) == "invalid"    # kid never activated it


# -- client codes (CIKs) -------------------------------------------------------------------------

def test_client_codes_activate_deactivate_revoke(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    key = rpc.ok("info", kid_rid, {"key": True})["key"]
    assert rpc.call("activate", "client", key)["error"]["message"] == "that CIK is activated"
    assert kid.status("activate", "client", key) == "noauth"          # not its own owner
    rpc.ok("deactivate", "client", key)
    assert kid.call("lookup", "alias", "")["error"]["message"] == "Expired"
    rpc.ok("revoke", "client", key)
    new_key = rpc.ok("info", kid_rid, {"key": True})["key"]
    assert new_key != key and Rpc(emu.session(), key).call("lookup", "alias", "") == INVALID
    assert rpc.ok("info", kid_rid, {"basic": True})["basic"]["status"] == "notactivated"
    rpc.ok("activate", "client", new_key)
    assert Rpc(emu.session(), new_key).ok("lookup", "alias", "") == kid_rid


# -- clones ----------------------------------------------------------------------------------------

def test_clone_copies_the_tree_and_points_references_at_the_copies(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    source = kid.ok("create", "dataport", {"format": "float"})
    kid.ok("map", "alias", source, "source")
    copy_of = kid.ok("create", "dataport", {"format": "float", "subscribe": source,
                                            "preprocess": [["add", source]]})
    kid.ok("map", "alias", copy_of, "derived")
    grandchild = kid.ok("create", "client", {"name": "grandchild"})
    kid.ok("map", "alias", grandchild, "gc")
    kid.ok("tag", source, "add", "t")
    clone = rpc.ok("create", "clone", {"rid": kid_rid})
    clone_rpc = Rpc(emu.session(), rpc.ok("info", clone, {"key": True})["key"])
    new_source = clone_rpc.ok("lookup", "alias", "source")
    new_derived = clone_rpc.ok("lookup", "alias", "derived")
    assert new_source != source and clone_rpc.ok("lookup", "owner", new_source) == clone
    assert clone_rpc.ok("info", new_derived, {"description": True})["description"][
        "subscribe"] == new_source
    assert clone_rpc.ok("info", new_source, {"tags": True}) == {"tags": ["t"]}
    assert clone_rpc.ok("lookup", "alias", "gc") != grandchild
    clone_rpc.ok("write", new_source, 2)
    # the copy's subscription and preprocess follow the copied source: 2 + 2
    assert clone_rpc.ok("read", new_derived, {}) == [[T0, 4.0]]
    assert kid.ok("read", copy_of, {}) == []


def test_clone_from_a_share_code(rpc, emu):
    kid, kid_rid = child(rpc, emu)
    port = kid.ok("create", "dataport", {"format": "string"})
    kid.ok("map", "alias", port, "note")
    kid.ok("write", port, "hello")
    code = kid.ok("share", {"alias": ""}, {})
    stranger, _ = child(rpc, emu, "stranger")
    clone = stranger.ok("create", "clone", {"code": code})
    copy_key = stranger.ok("info", clone, {"key": True})["key"]
    assert Rpc(emu.session(), copy_key).ok("read", {"alias": "note"}, {}) == [[T0, "hello"]]
    stranger.ok("activate", "share", code)
    assert "activated" in stranger.call("create", "clone", {"code": code})["error"]["message"]
    assert rpc.status("create", "clone", {"rid": emu.rid(CIK, "temp")}) == "invalid"
    assert rpc.status("create", "clone", {}) == "invalid"
    assert rpc.status("create", "clone", {"rid": kid_rid, "deep": True}) == "fail"
