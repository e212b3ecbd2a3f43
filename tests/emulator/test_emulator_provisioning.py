"""Provisioning on the wire: the vendor side (/provision/manage/...: models,
serial numbers, content, groups; /provision/register) and the device side
(/provision/activate, /provision/download), as the Exosite provisioning
documents give them and Exosite's command-line tool used them. In process
unless the door is the point; the whole flow also runs through each door."""

import json
import sqlite3

import pytest

from emulator_helpers import CIK, T0, Rpc
from uonep_host.emulator import DEFAULT_SEED, Emulator

TOKEN = "3" * 40
MANAGE = "/provision/manage/"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
DAY = 24 * 3600


class Vendor:
    """Management requests with a vendor key (X-Exosite-Token unless cik=True)."""

    def __init__(self, http, key=TOKEN, cik=False, url=""):
        self.http = http
        self.url = url
        self.headers = {"X-Exosite-CIK" if cik else "X-Exosite-Token": key}

    def request(self, method, path, data=None, headers=None):
        sent = dict(self.headers, **(headers or {}))
        if isinstance(data, (dict, list)):
            sent.setdefault("Content-Type", FORM)
        return self.http.request(method, self.url + MANAGE + path, data=data, headers=sent,
                                 timeout=10)

    def get(self, path, **options):
        return self.request("GET", path, **options)

    def post(self, path, data=None, **options):
        return self.request("POST", path, data=data, **options)

    def lines(self, path):
        answer = self.get(path)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
        return answer.text.splitlines()


def device(http, cik, query, headers=None, url=""):
    return http.request("GET", url + "/provision/download?" + query,
                        headers=dict({"X-Exosite-CIK": cik}, **(headers or {})), timeout=10)


def activate(http, model, sn, vendor="acme", url=""):
    answer = http.request("POST", url + "/provision/activate",
                          data={"vendor": vendor, "model": model, "sn": sn}, timeout=10)
    return answer.status_code, answer.text


@pytest.fixture
def vendor(emu):
    return Vendor(emu.session())


@pytest.fixture
def rpc(emu):
    return Rpc(emu.session())


@pytest.fixture
def template(rpc):
    """A clone template under the seeded client: a client with a float
    dataport `temp` (aliased, with one point) and an integer `count`."""
    rid = rpc.ok("create", "client", {"name": "template"})
    key = rpc.ok("info", rid, {"key": True})["key"]
    inside = Rpc(rpc.http, key)
    temp = inside.ok("create", "dataport", {"format": "float", "name": "temp"})
    inside.ok("map", "alias", temp, "temp")
    inside.ok("write", {"alias": "temp"}, 19.5)
    count = inside.ok("create", "dataport", {"format": "integer"})
    inside.ok("map", "alias", count, "count")
    return rid


def model_with_serial(vendor, template, model="pump", sn="sn1", options=()):
    assert vendor.post("model/", {"model": model, "rid": template,
                                  "options[]": list(options)}).status_code == 205
    assert vendor.post("model/%s/" % model, {"sn": sn}).status_code == 205


def enabled(vendor, rpc, template, model="pump", sn="sn1", options=()):
    """(client RID) of a serial number enabled under the seeded client."""
    model_with_serial(vendor, template, model, sn, options)
    answer = vendor.post("model/%s/%s" % (model, sn), {"enable": "true",
                                                      "owner": rpc.ok("lookup", "aliased", "")})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    return answer.text


# -- authentication -----------------------------------------------------------------------

def test_a_vendor_token_or_vendor_cik_is_needed(emu):
    session = emu.session()
    assert session.get(MANAGE + "model/").status_code == 401
    for headers in ({"X-Exosite-Token": "4" * 40}, {"X-Exosite-Token": "short"},
                    {"X-Exosite-CIK": CIK}):        # a CIK not registered to a vendor
        assert session.get(MANAGE + "model/", headers=headers).status_code == 401
    assert Vendor(session).lines("model/") == ["m1"]


def test_a_vendor_cik_from_the_seed_and_its_domain():
    seed = {"clients": [{"cik": "a" * 40, "name": "domain", "clients": [
                {"cik": "b" * 40, "name": "portal", "rid": "b0" * 20}]},
                        {"cik": "c" * 40, "name": "elsewhere", "rid": "c0" * 20}],
            "vendors": [{"name": "v", "cik": "a" * 40, "models": [{"name": "m"}]}]}
    emulator = Emulator(seed=seed)
    try:
        vendor = Vendor(emulator.session(), "a" * 40, cik=True)
        assert vendor.lines("model/") == ["m"]
        inside = vendor.post("model/", {"model": "in", "rid": "b0" * 20})
        outside = vendor.post("model/", {"model": "out", "rid": "c0" * 20})
        assert (inside.status_code, outside.status_code) == (205, 403)
        vendor.post("model/in/", {"sn": "1"})
        refused = vendor.post("model/in/1", {"enable": "true", "owner": "c0" * 20})
        assert refused.status_code == 409
        assert vendor.post("model/in/1", {"enable": "true", "owner": "b0" * 20}).status_code \
            == 200
    finally:
        emulator.stop()


def test_register_show_unregister_a_vendor_name(emu, rpc):
    session = emu.session()
    child = rpc.ok("create", "client", {})
    key = rpc.ok("info", child, {"key": True})["key"]
    by_cik = {"X-Exosite-CIK": key, "Content-Type": FORM}
    assert session.get("/provision/register", headers=by_cik).status_code == 404
    assert session.post("/provision/register", data="vendor=acme",
                        headers=by_cik).status_code == 409             # the seeded name
    assert session.post("/provision/register", data="vendor=newco",
                        headers=by_cik).status_code == 205
    shown = session.get("/provision/register", headers={"X-Exosite-Token": key})
    assert (shown.status_code, shown.text) == (200, "newco")
    assert Vendor(session, key, cik=True).lines("model/") == []
    assert session.post("/provision/register", data="vendor=other",
                        headers=by_cik).status_code == 409             # one name a client
    assert session.post("/provision/register", data="delete=true&vendor=newco",
                        headers=by_cik).status_code == 205
    assert Vendor(session, key, cik=True).get("model/").status_code == 401


# -- models ------------------------------------------------------------------------------

def test_models_create_list_info_update_delete(vendor, rpc, template):
    assert vendor.post("model/", {"model": "pump", "rid": template,
                                  "options[]": ["noaliases", "nohistorical"]}).status_code == 205
    assert vendor.post("model/", {"model": "pump", "rid": template}).status_code == 409
    assert vendor.lines("model/") == ["m1", "pump"]
    info = vendor.get("model/pump")
    assert info.headers["Content-Type"] == FORM
    assert info.text == "rid=%s&options[]=noaliases&options[]=nohistorical" % template
    other = rpc.ok("create", "client", {})
    assert vendor.request("PUT", "model/pump", "rid=%s&options[]=nocomments" % other
                          ).status_code == 205
    assert vendor.get("model/pump").text == "rid=%s&options[]=nocomments" % other
    assert vendor.request("DELETE", "model/pump").status_code == 205
    assert vendor.lines("model/") == ["m1"]
    assert vendor.get("model/pump").status_code == 404
    assert vendor.post("model/", {"model": "m1", "delete": "true"}).status_code == 205
    assert vendor.lines("model/") == []
    assert vendor.lines("model/?show=shared") == []


def test_a_model_from_a_share_code(vendor, rpc, template):
    code = rpc.ok("share", template, {"meta": "[\"acme\", \"shared\"]"})
    assert vendor.post("model/", {"model": "shared", "code": code}).status_code == 205
    assert vendor.get("model/shared").text == "code=" + code
    vendor.post("model/shared/", {"sn": "s"})
    rid = vendor.post("model/shared/s", {"enable": "true", "owner": rpc.ok("lookup", "aliased",
                                                                          "")}).text
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "notactivated"


def test_model_refusals(vendor, rpc, template):
    dataport = rpc.ok("lookup", "alias", "temp")
    for form in ({"rid": template}, {"model": "x"}, {"model": "x", "rid": template,
                                                     "code": "0" * 40},
                 {"model": "x", "rid": dataport}, {"model": "x", "rid": "0" * 40},
                 {"model": "x", "code": "0" * 40},
                 {"model": "x", "rid": template, "options[]": ["nothing"]}):
        assert vendor.post("model/", form).status_code == 400, form
    assert vendor.post("model/", {"model": "gone", "delete": "true"}).status_code == 404
    assert vendor.get("model/nosuch/").status_code == 404
    assert vendor.get("nosuch/").status_code == 404


# -- serial numbers -------------------------------------------------------------------

def test_serial_numbers_add_list_page_remove(vendor, template):
    vendor.post("model/", {"model": "pump", "rid": template})
    assert vendor.post("model/pump/", {"add": "true", "sn": "001", "extra": "first"}
                       ).status_code == 205
    assert vendor.post("model/pump/", {"sn[]": ["002", "003"]}).status_code == 205
    assert vendor.post("model/pump/", "004,four\n005\n006,six, with comma\n",
                       headers={"Content-Type": "text/csv; charset=utf-8"}).status_code == 205
    refused = vendor.post("model/pump/", {"sn[]": ["007", "002"]})
    assert refused.status_code == 409
    assert vendor.lines("model/pump/") == ["001,,first", "002,,", "003,,", "004,,four",
                                           "005,,", "006,,six, with comma"]
    assert vendor.lines("model/pump/?status=true")[0] == "001,,,first"
    for number in range(7, 13):
        vendor.post("model/pump/", {"sn": "%03d" % number})
    first = vendor.lines("model/pump/?offset=0&limit=6")
    second = vendor.lines("model/pump/?offset=6&limit=6")
    assert [line.split(",")[0] for line in first + second] == ["%03d" % n for n in range(1, 13)]
    assert len(vendor.lines("model/pump/?limit=1")) == 5           # limit is at least 5
    assert vendor.post("model/pump/", {"remove": "true", "sn[]": ["001", "002"]}
                       ).status_code == 205
    assert vendor.post("model/pump/", {"delete": "true", "sn": "003"}).status_code == 205
    assert vendor.request("DELETE", "model/pump/", "004\n005\n",
                          headers={"Content-Type": "text/csv"}).status_code == 205
    assert vendor.request("DELETE", "model/pump/006").status_code == 205
    assert vendor.request("DELETE", "model/pump/006").status_code == 404
    assert [line.split(",")[0] for line in vendor.lines("model/pump/")] == \
        ["%03d" % n for n in range(7, 13)]


def test_enable_makes_a_clone_to_activate_within_a_day(emu, vendor, rpc, template):
    rid = enabled(vendor, rpc, template)
    assert rid in rpc.ok("listing", {"alias": ""}, ["client"], {})["client"]
    info = rpc.ok("info", rid, {"basic": True, "aliases": True, "key": True})
    assert info["basic"]["status"] == "notactivated"
    assert vendor.lines("model/pump/sn1") == ["notactivated,%s," % rid]
    assert vendor.lines("model/pump/?status=true") == ["sn1,notactivated,%s," % rid]
    clone = Rpc(rpc.http, info["key"])
    assert clone.ok("read", {"alias": "temp"}, {})[0][1] == 19.5      # aliases and history
    assert activate(rpc.http, "pump", "sn1") == (200, info["key"])
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "activated"
    assert vendor.lines("model/pump/sn1") == ["activated,%s," % rid]
    assert activate(rpc.http, "pump", "sn1")[0] == 409                # only once
    assert vendor.post("model/pump/sn1", {"enable": "true", "owner": rid}).status_code == 409
    # a new serial number, enabled but activated only after its window closed
    vendor.post("model/pump/", {"sn": "late"})
    vendor.post("model/pump/late", {"enable": "true", "owner": rpc.ok("lookup", "aliased", "")})
    emu.set_clock(advance=DAY + 1)
    assert activate(rpc.http, "pump", "late")[0] == 409


def test_enable_follows_the_model_options(vendor, rpc, template):
    rid = enabled(vendor, rpc, template, options=["noaliases", "nohistorical"])
    key = rpc.ok("info", rid, {"key": True})["key"]
    clone = Rpc(rpc.http, key)
    assert clone.call("read", {"alias": "temp"}, {})["status"] == "invalid"   # no aliases
    ports = clone.ok("listing", ["dataport"], {})["dataport"]
    assert len(ports) == 2 and all(clone.ok("read", port, {}) == [] for port in ports)


def test_activation_answers(emu, vendor, rpc, template):
    model_with_serial(vendor, template)
    assert activate(rpc.http, "pump", "sn1")[0] == 409                # added, not enabled
    assert activate(rpc.http, "pump", "nosuch")[0] == 404
    assert activate(rpc.http, "pump", "sn1", vendor="other")[0] == 404
    answer = emu.session().post("/provision/activate", data={"vendor": "acme", "model": "pump"})
    assert answer.status_code == 400


def test_reenable_regenerates_the_cik_disable_expires_it(vendor, rpc, template):
    rid = enabled(vendor, rpc, template)
    first = activate(rpc.http, "pump", "sn1")[1]
    assert vendor.post("model/pump/sn1", {"enable": "true"}).status_code == 205
    assert Rpc(rpc.http, first).call("info", {"alias": ""}, {})["error"]["code"] == 401
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "notactivated"
    status, second = activate(rpc.http, "pump", "sn1")
    assert status == 200 and second != first
    assert Rpc(rpc.http, second).ok("info", {"alias": ""}, {"basic": True})
    assert vendor.post("model/pump/sn1", {"disable": "true"}).status_code == 205
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "expired"
    assert Rpc(rpc.http, second).call("info", {"alias": ""}, {})["error"]["code"] == 401
    assert activate(rpc.http, "pump", "sn1")[0] == 409
    vendor.post("model/pump/sn1", {"enable": "true"})
    third = activate(rpc.http, "pump", "sn1")[1]
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "activated"
    log = vendor.lines("model/pump/sn1?show=log")
    assert [line.split(",", 2)[2].split(":")[0] for line in log] == [
        "enabled", "activated", "reenabled", "activated", "disabled",
        "activation refused", "reenabled", "activated"]
    assert all(line.startswith("%d,127.0.0.1:0," % T0) for line in log)
    assert third not in "\n".join(log) and first not in "\n".join(log)


def test_remap_moves_the_client_to_another_serial_number(vendor, rpc, template):
    rid = enabled(vendor, rpc, template)
    old_key = activate(rpc.http, "pump", "sn1")[1]
    vendor.post("model/pump/", {"sn": "sn2"})
    assert vendor.post("model/pump/sn2", {"enable": "true", "oldsn": "sn1"}).status_code == 205
    assert vendor.get("model/pump/sn1").status_code == 204
    assert vendor.lines("model/pump/sn2") == ["notactivated,%s," % rid]
    status, new_key = activate(rpc.http, "pump", "sn2")
    assert status == 200 and new_key != old_key
    assert vendor.post("model/pump/sn1", {"enable": "true", "oldsn": "sn2"}).status_code == 205
    assert vendor.post("model/pump/sn2", {"enable": "true", "oldsn": "sn2"}).status_code == 409


def test_serial_number_answers_without_a_client(vendor, template):
    model_with_serial(vendor, template)
    assert vendor.get("model/pump/sn1").status_code == 204
    assert vendor.get("model/pump/sn1?show=log").status_code == 204
    assert vendor.get("model/pump/sn1?show=groups").status_code == 204
    assert vendor.get("model/pump/nosuch").status_code == 404
    assert vendor.post("model/pump/sn1", {"disable": "true"}).status_code == 409
    assert vendor.post("model/pump/sn1", {"enable": "true"}).status_code == 409
    assert vendor.post("model/pump/sn1", {"other": "1"}).status_code == 400
    assert vendor.post("model/pump/sn1", {"enable": "true", "owner": "0" * 40}
                       ).status_code == 409


def test_serial_number_ranges(vendor, rpc, template):
    vendor.post("model/", {"model": "pump", "rid": template})
    assert vendor.get("model/pump/?show=ranges").text == "[]"
    ranges = {"ranges": [{"format": "mac:48", "casing": "upper", "first": 0x010203040500,
                          "last": 0x0102030405FF},
                         {"format": "base10", "length": 4, "first": 10, "last": 20}]}
    headers = {"Content-Type": "application/javascript; charset=utf-8"}
    assert vendor.post("model/pump/", json.dumps(ranges), headers=headers).status_code == 205
    listed = json.loads(vendor.get("model/pump/?show=ranges").text)
    assert listed[0] == {"format": "mac:48", "length": None, "casing": "upper",
                         "first": 0x010203040500, "last": 0x0102030405FF}
    owner = {"enable": "true", "owner": rpc.ok("lookup", "aliased", "")}
    assert activate(rpc.http, "pump", "01:02:03:04:05:0A")[0] == 409  # in a range, not enabled
    assert vendor.get("model/pump/01:02:03:04:05:0A").status_code == 204
    for outside in ("01:02:03:04:05:0a", "01:02:03:04:06:00", "15", "0021", "00015"):
        assert vendor.post("model/pump/" + outside, owner).status_code == 404, outside
    for inside in ("01:02:03:04:05:0A", "0015"):
        assert vendor.post("model/pump/" + inside, owner).status_code == 200
        assert activate(rpc.http, "pump", inside)[0] == 200
    assert vendor.request("DELETE", "model/pump/", json.dumps({"ranges": ranges["ranges"][:1]}),
                          headers=headers).status_code == 205
    assert [item["format"] for item in json.loads(vendor.get("model/pump/?show=ranges").text)
            ] == ["base10"]
    bad = {"ranges": [{"format": "base10", "first": 5, "last": 1}]}
    assert vendor.post("model/pump/", json.dumps(bad), headers=headers).status_code == 400


def test_seeded_model_and_devices_live_together(emu, vendor, rpc):
    assert vendor.lines("model/m1/") == ["0001,,", "0002,,"]
    assert activate(rpc.http, "m1", "0001") == (200, "2" * 40)
    device_rid = Rpc(rpc.http, "2" * 40).ok("lookup", "aliased", "")
    assert vendor.lines("model/m1/0001") == ["activated,%s," % device_rid]
    assert activate(rpc.http, "m1", "0002")[0] == 409                 # seeded disabled
    assert vendor.post("model/m1/0002", {"enable": "true"}).status_code == 205
    assert activate(rpc.http, "m1", "0002") == (200, "3" * 40)
    # a serial number added now gets the model's seeded dataports when enabled
    vendor.post("model/m1/", {"sn": "0003"})
    rid = vendor.post("model/m1/0003", {"enable": "true",
                                        "owner": rpc.ok("lookup", "aliased", "")}).text
    key = activate(rpc.http, "m1", "0003")[1]
    assert Rpc(rpc.http, key).ok("write", {"alias": "temp"}, 1.5) is None
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "activated"


# -- content -------------------------------------------------------------------------

def upload(vendor, model, content_id, blob, kind="application/octet-stream", meta="",
           protected=False):
    form = {"id": content_id, "meta": meta}
    if protected:
        form["protected"] = "true"
    assert vendor.post("content/%s/" % model, form).status_code == 205
    assert vendor.post("content/%s/%s" % (model, content_id), blob,
                       headers={"Content-Type": kind}).status_code == 205


def test_content_create_upload_info_download_delete(emu, vendor, template):
    model_with_serial(vendor, template)
    assert vendor.lines("content/pump/") == []
    upload(vendor, "pump", "fw.bin", bytes(range(256)) * 4, meta="v1, stable")
    assert vendor.post("content/pump/", {"id": "fw.bin", "meta": "again"}).status_code == 409
    assert vendor.lines("content/pump/") == ["fw.bin"]
    assert vendor.lines("content/pump/fw.bin") == [
        "application/octet-stream,1024,%d,v1, stable,false" % T0]
    whole = vendor.get("content/pump/fw.bin?download=true")
    assert (whole.status_code, whole.content) == (200, bytes(range(256)) * 4)
    assert whole.headers["Content-Type"] == "application/octet-stream"
    part = vendor.get("content/pump/fw.bin?download=true", headers={"Range": "bytes=250-259"})
    assert part.status_code == 206 and part.content == bytes(range(250, 256)) + bytes(range(4))
    assert part.headers["Content-Range"] == "bytes 250-259/1024"
    emu.set_clock(advance=60)
    vendor.post("content/pump/fw.bin", b"new", headers={"Content-Type": "text/plain"})
    assert vendor.lines("content/pump/fw.bin")[0].startswith("text/plain,3,%d," % (T0 + 60))
    assert vendor.request("DELETE", "content/pump/fw.bin").status_code == 205
    assert vendor.get("content/pump/fw.bin").status_code == 404
    upload(vendor, "pump", "other", b"x")
    assert vendor.post("content/pump/", {"id": "other", "delete": "true"}).status_code == 205
    assert vendor.lines("content/pump/") == []
    assert vendor.get("content/nosuch/").status_code == 400      # as documented
    assert vendor.get("content/nosuch/x").status_code == 404
    assert vendor.post("content/pump/", {"meta": "no id"}).status_code == 400


@pytest.mark.parametrize("header, status, body, content_range", [
    ("bytes=0-3", 206, b"0123", "bytes 0-3/10"),
    ("bytes=7-", 206, b"789", "bytes 7-9/10"),
    ("bytes=-4", 206, b"6789", "bytes 6-9/10"),
    ("bytes=8-20", 206, b"89", "bytes 8-9/10"),
    ("bytes=-20", 206, b"0123456789", "bytes 0-9/10"),
    ("bytes=10-", 416, b"", "bytes */10"),
    ("bytes=5-2", 416, b"", "bytes */10"),
    ("bytes=0-1,4-5", 200, b"0123456789", None),
    ("items=0-1", 200, b"0123456789", None),
])
def test_content_ranges(vendor, template, header, status, body, content_range):
    model_with_serial(vendor, template)
    upload(vendor, "pump", "ten", b"0123456789", "text/plain")
    answer = vendor.get("content/pump/ten?download=true", headers={"Range": header})
    assert (answer.status_code, answer.content) == (status, body)
    assert answer.headers.get("Content-Range") == content_range


def test_protected_content_follows_groups(emu, vendor, rpc, template):
    enabled(vendor, rpc, template)
    vendor.post("model/pump/", {"sn": "sn2"})
    upload(vendor, "pump", "open", b"for all")
    upload(vendor, "pump", "secret", b"for some", protected=True)
    assert vendor.lines("content/pump/?sn=sn1") == ["open"]
    assert vendor.get("content/pump/secret?sn=sn1").status_code == 400
    assert vendor.get("content/pump/secret?sn=sn1&download=true").status_code == 403
    assert vendor.post("group/pump/", {"id": "beta", "meta": "testers"}).status_code == 205
    assert vendor.post("group/pump/beta/", {"type": "sn", "id": "sn1"}).status_code == 205
    assert vendor.post("group/pump/beta/", "content,secret,%d,\n" % (T0 + 60),
                       headers={"Content-Type": "text/csv"}).status_code == 205
    assert vendor.lines("content/pump/?sn=sn1") == ["open", "secret"]
    assert vendor.lines("content/pump/?sn=sn2") == ["open"]
    assert vendor.lines("content/pump/secret?sn=sn1") == ["application/octet-stream,8,%d,"
                                                          % T0]
    assert vendor.lines("content/pump/secret?show=groups") == ["beta"]
    assert vendor.get("content/pump/open?show=groups").status_code == 204
    key = activate(rpc.http, "pump", "sn1")[1]
    assert device(rpc.http, key, "vendor=acme&model=pump").text.splitlines() == ["open",
                                                                               "secret"]
    emu.set_clock(advance=61)                                  # the membership expired
    assert device(rpc.http, key, "vendor=acme&model=pump").text.splitlines() == ["open"]
    assert device(rpc.http, key, "vendor=acme&model=pump&id=secret").status_code == 404


# -- the device's download --------------------------------------------------------------

def test_device_download_list_info_blob_ranges(door, emu):
    vendor = Vendor(door.http, url=door.url)
    upload(vendor, "m1", "config.json", b'{"interval": 60}', "application/json", meta="cfg")
    assert door.post("/provision/activate", data={"vendor": "acme", "model": "m1",
                                                  "sn": "0001"}).text == "2" * 40
    cik = "2" * 40
    listed = device(door.http, cik, "vendor=acme&model=m1", url=door.url)
    assert (listed.status_code, listed.text) == (200, "config.json")
    assert listed.headers["Content-Type"] == "text/csv; charset=utf-8"
    info = device(door.http, cik, "vendor=acme&model=m1&id=config.json&info=true", url=door.url)
    assert info.text == "application/json,16,%d,cfg" % T0
    whole = device(door.http, cik, "vendor=acme&model=m1&id=config.json", url=door.url)
    assert (whole.status_code, whole.content) == (200, b'{"interval": 60}')
    assert whole.headers["Content-Type"] == "application/json"
    assert whole.headers["Accept-Ranges"] == "bytes"
    chunks = []
    for first in range(0, 16, 6):
        part = device(door.http, cik, "vendor=acme&model=m1&id=config.json",
                      {"Range": "bytes=%d-%d" % (first, first + 5)}, url=door.url)
        assert part.status_code == 206
        assert part.headers["Content-Range"] == "bytes %d-%d/16" % (first, min(first + 5, 15))
        chunks.append(part.content)
    assert b"".join(chunks) == b'{"interval": 60}'


def test_device_download_refusals(emu, vendor, rpc):
    upload(vendor, "m1", "a", b"x")
    http = rpc.http
    assert device(http, "9" * 40, "vendor=acme&model=m1").status_code == 401
    assert device(http, CIK, "vendor=acme&model=m1").status_code == 403     # not a device
    activate(http, "m1", "0001")
    assert device(http, "2" * 40, "vendor=acme&model=m2").status_code == 403
    assert device(http, "2" * 40, "vendor=other&model=m1").status_code == 403
    assert device(http, "2" * 40, "vendor=acme&model=m2&id=a&info=true").status_code == 400
    assert device(http, "2" * 40, "vendor=acme&model=m1&id=nosuch").status_code == 404
    vendor.post("model/m1/0001", {"disable": "true"})
    assert device(http, "2" * 40, "vendor=acme&model=m1").status_code == 401


# -- groups --------------------------------------------------------------------------

def test_groups_and_members(vendor, template):
    model_with_serial(vendor, template)
    assert vendor.get("group/pump/").status_code == 204
    for number in range(7):
        assert vendor.post("group/pump/", {"id": "g%d" % number, "meta": "m%d" % number}
                           ).status_code == 205
    assert vendor.post("group/pump/", {"id": "g0"}).status_code == 409
    assert vendor.lines("group/pump/") == ["g%d,m%d" % (n, n) for n in range(5)]   # limit 5
    assert vendor.lines("group/pump/?offset=5") == ["g5,m5", "g6,m6"]
    assert vendor.post("group/pump/g0/", {"type": "sn", "id[]": ["sn1", "sn9"],
                                          "expire": "0", "meta": "x"}).status_code == 205
    assert vendor.post("group/pump/g0/", "group,g1,0,nested\ncontent,c,5,\n",
                       headers={"Content-Type": "text/csv"}).status_code == 205
    assert vendor.lines("group/pump/g0") == ["m0,4"]
    assert vendor.lines("group/pump/g0/") == ["sn,sn1,0,x", "sn,sn9,0,x", "group,g1,0,nested",
                                              "content,c,5,"]
    assert vendor.lines("group/pump/g0/?type=sn&id=sn9") == ["sn,sn9,0,x"]
    assert vendor.get("group/pump/g0/?type=dataport").status_code == 204
    assert vendor.lines("group/pump/g1?show=groups") == ["g0"]
    assert vendor.lines("model/pump/sn1?show=groups") == ["g0"]
    assert vendor.post("group/pump/g0/", {"type": "sn", "id": "sn9", "delete": "true"}
                       ).status_code == 205
    assert vendor.request("DELETE", "group/pump/g0/", "content,c\n",
                          headers={"Content-Type": "text/csv"}).status_code == 205
    assert vendor.lines("group/pump/g0/") == ["sn,sn1,0,x", "group,g1,0,nested"]
    assert vendor.post("group/pump/g0/", {"type": "sn", "id": "a", "expire": "soon"}
                       ).status_code == 400
    assert vendor.request("DELETE", "group/pump/g1").status_code == 205
    assert vendor.lines("group/pump/g0/") == ["sn,sn1,0,x"]
    assert vendor.post("group/pump/", {"id": "g0", "delete": "true"}).status_code == 205
    assert vendor.get("group/pump/g0").status_code == 404
    assert vendor.get("group/pump/g0/").status_code == 404


def test_deleting_a_model_deletes_its_serial_numbers_content_and_groups(vendor, rpc, template):
    rid = enabled(vendor, rpc, template)
    upload(vendor, "pump", "c", b"1")
    vendor.post("group/pump/", {"id": "g"})
    assert vendor.request("DELETE", "model/pump", "delete=true&model=pump&confirm=true"
                          ).status_code == 205
    vendor.post("model/", {"model": "pump", "rid": template})
    assert vendor.lines("model/pump/") == [] and vendor.lines("content/pump/") == []
    assert vendor.get("group/pump/").status_code == 204
    assert rpc.ok("info", rid, {"basic": True})["basic"]["status"] == "notactivated"


# -- the database ------------------------------------------------------------------

def test_a_database_from_before_the_provisioning_api_is_upgraded(tmp_path):
    path = str(tmp_path / "old.sqlite")
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE devices (vendor TEXT NOT NULL, model TEXT NOT NULL, sn TEXT NOT NULL,
            cik TEXT NOT NULL, enabled INTEGER NOT NULL, activated INTEGER NOT NULL DEFAULT 0,
            owner_cik TEXT, client TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (vendor, model, sn));
        INSERT INTO devices VALUES ('acme', 'm1', 'new', '%s', 1, 0, NULL,
            '{"name": "new", "dataports": [{"alias": "temp", "format": "float"}]}');
    """ % ("5" * 40))
    old.commit()
    old.close()
    emulator = Emulator(db=path, seed=DEFAULT_SEED)
    try:
        session = emulator.session()
        assert activate(session, "m1", "new") == (200, "5" * 40)
        assert Rpc(session, "5" * 40).ok("write", {"alias": "temp"}, 2.5) is None
        assert Vendor(session).lines("model/m1/")[0].startswith("new,")
    finally:
        emulator.stop()
    tables = {row[0] for row in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "devices" not in tables and {"serials", "models", "vendors"} <= tables


def test_content_may_be_larger_than_other_bodies(served):
    """A firmware image is uploaded whole: the content path takes bodies up
    to 16 MiB over HTTP, where every other path stops at 1 MiB (413)."""
    import requests
    image = bytes(range(256)) * (8 << 10)                            # 2 MiB
    vendor = Vendor(requests.Session(), url=served.url)
    upload(vendor, "m1", "image.bin", image)
    answer = vendor.get("content/m1/image.bin?download=true", headers={"Range": "bytes=-3"})
    assert (answer.status_code, answer.content) == (206, bytes([253, 254, 255]))
    too_big = requests.post(served.url + "/onep:v1/stack/alias", data=image,
                            headers={"X-Exosite-CIK": CIK})
    assert too_big.status_code == 413
