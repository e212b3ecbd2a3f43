"""Resource procedures: create, update, info, listing, drop, move, usage,
map/unmap/lookup, share/activate/deactivate/revoke, tag."""

from emulator_helpers import CIK, T0, Rpc

HEX = set("0123456789abcdef")


def is_key(text):
    return isinstance(text, str) and len(text) == 40 and set(text) <= HEX


def test_create_dataport_documented_example(rpc, emu):
    rid = rpc.ok("create", "dataport", {"format": "float", "name": "Humidity", "meta": "",
                                         "public": False, "preprocess": [],
                                         "retention": {"count": "infinity",
                                                       "duration": "infinity"},
                                         "subscribe": None})
    assert is_key(rid)
    assert rid in rpc.ok("listing", {"alias": ""}, ["dataport"], {})["dataport"]
    description = rpc.ok("info", rid, {"description": True})["description"]
    assert description["format"] == "float" and description["name"] == "Humidity"


def test_create_dataport_needs_a_known_format(rpc):
    assert rpc.status("create", "dataport", {"name": "x"}) == "invalid"
    assert rpc.status("create", "dataport", {"format": "binary"}) == "invalid"
    assert rpc.status("create", "dataport", {"format": "float",
                                             "retention": {"count": -1}}) == "invalid"


def test_create_unknown_type_is_501_and_incomplete_datarule_invalid(rpc):
    entry = rpc.call("create", "robot", {})
    assert entry["status"] == "fail" and entry["error"]["code"] == 501
    entry = rpc.call("create", "datarule", {})
    assert entry["status"] == "invalid" and "format" in entry["error"]["message"]


def test_create_client_key_told_only_to_its_owner(rpc, emu):
    rid = rpc.ok("create", "client", {"name": "child"})
    key = rpc.ok("info", rid, {"key": True})["key"]
    assert is_key(key) and key != rid
    child = Rpc(emu.session(), key)
    assert child.ok("lookup", "alias", "") == rid
    # the child asking about itself is not its owner
    assert "key" not in child.ok("info", {"alias": ""}, {})
    # nor is a client asked about itself
    assert "key" not in rpc.ok("info", {"alias": ""}, {"key": True})


def test_info_everything(rpc, emu):
    rpc.ok("recordbatch", {"alias": "temp"}, [[T0 - 1, 1], [T0, 2]])
    info = rpc.ok("info", {"alias": "temp"}, {})
    assert set(info) == {"basic", "description", "storage", "aliases", "counts", "usage",
                         "shares", "subscribers", "tags"}
    assert info["basic"]["type"] == "dataport"
    assert info["storage"]["count"] == 2 and info["storage"]["last"] == T0
    assert info["aliases"] == ["temp"]
    client = rpc.ok("info", {"alias": ""}, {"aliases": True, "counts": True})
    assert sorted(alias for names in client["aliases"].values() for alias in names) == \
        ["count", "status", "temp"]
    assert client["counts"]["dataport"] == 3


def test_info_unknown_option_is_501(rpc):
    assert rpc.call("info", {"alias": ""}, {"colour": True})["error"]["code"] == 501


def test_update_merges_and_keeps_format(rpc):
    rpc.ok("update", {"alias": "temp"}, {"name": "Outside", "meta": "{\"unit\": \"C\"}"})
    description = rpc.ok("info", {"alias": "temp"}, {"description": True})["description"]
    assert description["name"] == "Outside" and description["format"] == "float"
    assert rpc.status("update", {"alias": "temp"}, {"format": "string"}) == "invalid"
    assert rpc.status("update", {"alias": "temp"}, {"colour": "red"}) == "invalid"


def test_listing_forms(rpc, emu):
    child = rpc.ok("create", "client", {})
    listed = rpc.ok("listing", {"alias": ""}, ["client", "dataport"], {})
    assert listed["client"] == [child]
    assert len(listed["dataport"]) == 3
    # the older forms without a resource list the caller; without options
    # (deprecated) the answer is a list of RID lists in type order
    assert rpc.ok("listing", ["client"], {}) == {"client": [child]}
    assert rpc.ok("listing", ["client", "dataport"]) == [[child], listed["dataport"]]
    assert rpc.status("listing", {"alias": "temp"}, ["dataport"], {}) == "invalid"
    # documented: status "error" when a type is not a listing type
    assert rpc.status("listing", {"alias": ""}, ["robots"], {}) == "error"


def test_drop_takes_the_subtree(rpc, emu):
    child = rpc.ok("create", "client", {})
    key = rpc.ok("info", child, {"key": True})["key"]
    grandchild_port = Rpc(emu.session(), key).ok("create", "dataport", {"format": "integer"})
    rpc.ok("drop", child)
    assert rpc.status("info", child, {}) == "restricted"
    assert rpc.status("info", grandchild_port, {}) == "restricted"
    assert Rpc(emu.session(), key).call("info", {"alias": ""}, {})["error"]["code"] == 401


def test_drop_alias_and_self(rpc, emu):
    rpc.ok("drop", {"alias": "status"})
    assert rpc.status("read", {"alias": "status"}, {}) == "invalid"
    assert rpc.status("drop", {"alias": ""}) == "restricted"


def test_map_unmap_lookup_documented_examples(rpc):
    rid = rpc.ok("create", "dataport", {"format": "string"})
    rpc.ok("map", "alias", rid, "door")
    assert rpc.ok("lookup", "alias", "door") == rid
    rpc.ok("write", {"alias": "door"}, "open")
    assert rpc.ok("read", rid, {}) == [[T0, "open"]]
    rpc.ok("map", "alias", rid, "door")              # the same pair again is fine
    assert rpc.status("map", "alias", rid, "temp") == "invalid"   # taken by another
    rpc.ok("unmap", "alias", "door")
    assert rpc.status("lookup", "alias", "door") == "invalid"
    rpc.ok("unmap", "alias", "door")                 # not mapped: still "ok"
    assert rpc.call("map", "tag", rid, "x")["error"]["code"] == 501


def test_map_only_direct_children(rpc, emu):
    child = rpc.ok("create", "client", {})
    key = rpc.ok("info", child, {"key": True})["key"]
    port = Rpc(emu.session(), key).ok("create", "dataport", {"format": "float"})
    assert rpc.status("map", "alias", port, "deep") == "invalid"
    outsider = "f" * 40
    assert rpc.status("map", "alias", outsider, "far") == "restricted"


def test_lookup_self_and_owner(rpc, emu):
    me = emu.rid(CIK)
    assert rpc.ok("lookup", "alias", "") == me
    temp = emu.rid(CIK, "temp")
    assert rpc.ok("lookup", "owner", temp) == me
    # a client may not look up its own owner
    assert rpc.status("lookup", "owner", me) == "restricted"
    assert rpc.status("lookup", "owner", "e" * 40) == "restricted"


def test_resource_outside_the_subtree_is_restricted(rpc, emu):
    other = Rpc(emu.session(), emu_client(emu))
    other_port = other.ok("create", "dataport", {"format": "float"})
    assert rpc.status("read", other_port, {}) == "restricted"
    assert rpc.status("write", other_port, 1) == "restricted"
    assert rpc.status("read", "not a rid", {}) == "invalid"


def emu_client(emu):
    """A second top-level client: activate the seeded device."""
    answer = emu.session().post("/provision/activate",
                                data={"vendor": "acme", "model": "m1", "sn": "0001"})
    assert answer.status_code == 200
    return answer.text


def test_move_with_and_without_aliases(rpc, emu):
    child = rpc.ok("create", "client", {})
    temp = emu.rid(CIK, "temp")
    rpc.ok("move", {"alias": "temp"}, child, {"aliases": True})
    assert rpc.ok("lookup", "owner", temp) == child
    key = rpc.ok("info", child, {"key": True})["key"]
    assert Rpc(emu.session(), key).ok("lookup", "alias", "temp") == temp
    count = emu.rid(CIK, "count")
    rpc.ok("move", count, child, {"aliases": False})
    assert Rpc(emu.session(), key).status("lookup", "alias", "count") == "invalid"
    assert rpc.status("move", child, child, {}) == "invalid"   # into its own subtree


def test_usage_is_zero(rpc):
    assert rpc.ok("usage", {"alias": ""}, "dataport", T0 - 60, T0) == 0


def test_share_lookup_deactivate_revoke(rpc):
    code = rpc.ok("share", {"alias": "temp"}, {})
    assert is_key(code)
    temp = rpc.ok("lookup", "alias", "temp")
    assert rpc.ok("lookup", "shared", code) == temp        # before activation too
    rpc.ok("activate", "share", code)
    assert rpc.status("activate", "share", code) == "invalid"   # already activated
    rpc.ok("deactivate", "share", code)
    assert rpc.status("deactivate", "share", code) == "invalid"
    rpc.ok("revoke", "share", code)
    assert rpc.status("lookup", "shared", code) == "invalid"
    assert rpc.status("revoke", "share", code) == "invalid"
    assert rpc.status("activate", "client", "a" * 40) == "invalid"


def test_tag_add_remove(rpc):
    rpc.ok("tag", {"alias": "temp"}, "add", "outdoor")
    assert rpc.ok("info", {"alias": "temp"}, {"tags": True}) == {"tags": ["outdoor"]}
    rpc.ok("tag", {"alias": "temp"}, "remove", "outdoor")
    assert rpc.ok("info", {"alias": "temp"}, {"tags": True}) == {"tags": []}
    assert rpc.call("tag", {"alias": "temp"}, "paint", "x")["error"]["code"] == 501
