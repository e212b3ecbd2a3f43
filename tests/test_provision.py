"""uonep_host.Provision, the drop-in for pyonep 0.13.8's Provision, against
the emulator: pyonep's provisioning example flow (told in our own words:
a vendor makes a model from a clone template, adds serial numbers, uploads
content; the device activates and downloads it in ranges) over real HTTP
to `python -m uonep_host.emulator` and in process; then what each method
sends, checked against what pyonep 0.13.8 sends (written out by hand from
its source), and the response and exception shapes."""

import itertools
import logging
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest
import requests

from uonep.errors import CallError
from uonep_host import Client, OnepV1, Provision
from uonep_host.emulator import DEFAULT_CIK, DEFAULT_SEED, Emulator
from uonep_host.exceptions import ProvisionException
from uonep_host.provision import ProvisionResponse

VENDOR, TOKEN = "acme", "3" * 40
HEX40 = re.compile(r"\A[0-9a-f]{40}\Z")
names = itertools.count(1)


@pytest.fixture(scope="module")
def server():
    """`python -m uonep_host.emulator` with the default seed: (host, port)."""
    process = subprocess.Popen([sys.executable, "-m", "uonep_host.emulator", "--port", "0",
                                "--quiet"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    address = urllib.parse.urlsplit(line[line.index("http://"):].split()[0])
    yield address.hostname, address.port
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)


@pytest.fixture
def emulator():
    running = Emulator(seed=DEFAULT_SEED)
    yield running
    running.stop()


class OnepPortal:
    """The portal side of the example through OnepV1, as pyonep's does."""

    def __init__(self, host, port):
        self.onep = OnepV1(host=host, port=str(port), https=False)

    def make_client(self):
        """(cik, rid) of a new client under the portal, with a dataport."""
        ok, rid = self.onep.create(DEFAULT_CIK, "client", {"name": "clone template"})
        assert ok
        ok, info = self.onep.info(DEFAULT_CIK, rid, {"key": True})
        ok, port = self.onep.create(info["key"], "dataport", {"format": "float",
                                                             "retention": {}})
        assert self.onep.map(info["key"], port, "temp")[0]
        return info["key"], rid

    def share(self, rid, meta):
        ok, code = self.onep.share(DEFAULT_CIK, rid, meta)
        assert ok
        return code

    def rid(self):
        return self.onep.lookup(DEFAULT_CIK, "aliased", "")[1]

    def status(self, rid):
        return self.onep.info(DEFAULT_CIK, rid, {"basic": True})[1]["basic"]["status"]

    def write_as(self, cik, resource, value):
        return self.onep.write(cik, resource, value)[0]

    def dataports(self, cik):
        return self.onep.listing(cik, ["dataport"], {}, {"alias": ""})[1]["dataport"]


class ClientPortal:
    """The same through uonep_host.Client in process."""

    def __init__(self, http):
        self.http = http
        self.client = Client(DEFAULT_CIK, host="emulator", https=False, http=http)

    def make_client(self):
        rid = self.client.create("client", {"name": "clone template"})
        key = self.client.info(rid, {"key": True})["key"]
        inside = Client(key, host="emulator", https=False, http=self.http)
        inside.map(inside.create_dataport("float"), "temp")
        return key, rid

    def share(self, rid, meta):
        return self.client.share(rid, meta)

    def rid(self):
        return self.client.lookup("", "aliased")

    def status(self, rid):
        return self.client.info(rid, {"basic": True})["basic"]["status"]

    def write_as(self, cik, resource, value):
        try:
            Client(cik, host="emulator", https=False, http=self.http).write(resource, value)
        except CallError:
            return False
        return True

    def dataports(self, cik):
        return Client(cik, host="emulator", https=False, http=self.http).listing()["dataport"]


def example_flow(provision, portal):
    """pyonep's provisioning example, step by step, checking every answer."""
    number = next(names)
    model = "MyTestModel%d" % number
    sn1, sn2, sn3, sn4 = ("%03d%d" % (n, number) for n in (1, 2, 3, 4))
    extra = "Extra info%d" % number
    csv_string = "".join("%03d%d,Extra Info%d\r\n" % (n, number + 1000, number)
                         for n in range(1, 11))
    _, clonerid = portal.make_client()
    sharecode = portal.share(clonerid, {"meta": '["%s", "%s"]' % (VENDOR, model)})
    assert HEX40.match(sharecode)

    created = provision.model_create(TOKEN, model, sharecode, aliases=False)
    assert (created.status(), created.reason(), created.body, created.isok) == \
        (205, "Reset Content", "", True)
    assert model in provision.model_list(TOKEN).body.splitlines()
    assert provision.model_info(TOKEN, model).body == "code=%s&options[]=noaliases" % sharecode

    assert provision.serialnumber_add(TOKEN, model, sn1).status() == 205
    assert provision.serialnumber_add(TOKEN, model, sn4, extra=extra).status() == 205
    assert provision.serialnumber_add_batch(TOKEN, model, [sn2, sn3]).status() == 205
    assert provision.serialnumber_add_batch_csv(TOKEN, model, csv_string).status() == 205
    first_ten = provision.serialnumber_list(TOKEN, model, limit=10).body.splitlines()
    assert first_ten[:4] == [sn1 + ",,", sn4 + ",," + extra, sn2 + ",,", sn3 + ",,"]
    assert len(first_ten) == 10
    assert provision.serialnumber_remove_batch(TOKEN, model, [sn2, sn3]).status() == 205
    listed = provision.serialnumber_list(TOKEN, model, status=True).body.splitlines()
    assert len(listed) == 12 and listed[:2] == [sn1 + ",,,", sn4 + ",,," + extra]

    enabled = provision.serialnumber_enable(TOKEN, model, sn1, portal.rid())
    clientrid = enabled.body
    assert enabled.status() == 200 and HEX40.match(clientrid)
    assert provision.serialnumber_info(TOKEN, model, sn1).body == \
        "notactivated,%s," % clientrid
    assert provision.serialnumber_disable(TOKEN, model, sn1).status() == 205
    assert provision.serialnumber_info(TOKEN, model, sn1).body == "expired,%s," % clientrid
    assert provision.serialnumber_reenable(TOKEN, model, sn1).status() == 205
    assert provision.serialnumber_info(TOKEN, model, sn1).body == \
        "notactivated,%s," % clientrid
    activated = provision.serialnumber_activate(model, sn1, VENDOR)
    sn_cik = activated.body
    assert activated.status() == 200 and HEX40.match(sn_cik)
    assert provision.serialnumber_info(TOKEN, model, sn1).body == "activated,%s," % clientrid
    assert portal.status(clientrid) == "activated"
    # the device's client is a clone of the template made without its aliases
    (dataport,) = portal.dataports(sn_cik)
    assert portal.write_as(sn_cik, dataport, 21.5) is True
    assert portal.write_as(sn_cik, {"alias": "temp"}, 21.5) is False
    log = provision.serialnumber_info(TOKEN, model, sn1, actvtn_log=True).body.splitlines()
    assert [line.split(",")[2].split(":")[0] for line in log] == \
        ["enabled", "disabled", "reenabled", "activated"]

    def content(content_id, data, mimetype, meta):
        assert provision.content_create(TOKEN, model, content_id, meta).status() == 205
        assert content_id in provision.content_list(TOKEN, model).body.splitlines()
        assert provision.content_upload(TOKEN, model, content_id, data, mimetype).status() == 205
        size = len(data if isinstance(data, bytes) else data.encode("utf-8"))
        info = provision.content_info(TOKEN, model, content_id).body.split(",")
        assert info[:2] == [mimetype, str(size)] and info[3:] == [meta, "false"]
        whole = provision.content_download(sn_cik, VENDOR, model, content_id)
        assert whole.status() == 200 and whole.content == (data if isinstance(data, bytes)
                                                           else data.encode("utf-8"))
        pieces = []
        for first in range(0, size, 7):
            part = provision.content_download(sn_cik, VENDOR, model, content_id,
                                              byte_range="%d-%d" % (first, first + 6))
            assert part.status() == 206
            assert part.response.headers["Content-Range"] == \
                "bytes %d-%d/%d" % (first, min(first + 6, size - 1), size)
            pieces.append(part.content)
        assert b"".join(pieces) == whole.content
        assert provision.content_remove(TOKEN, model, content_id).status() == 205
        assert content_id not in provision.content_list(TOKEN, model).body.splitlines()

    content("a.txt", "This is content data", "text/plain", "This is text")
    content("b.bin", bytes(range(256)) * 3, "application/octet-stream", "binary")

    assert provision.model_remove(TOKEN, model).status() == 205
    assert model not in provision.model_list(TOKEN).body.splitlines()


def test_the_pyonep_example_over_http_to_the_command_line_emulator(server):
    host, port = server
    provision = Provision(host, https=False, port=port, manage_by_cik=False, verbose=False,
                          httptimeout=20, raise_api_exceptions=True, manage_by_sharecode=True)
    example_flow(provision, OnepPortal(host, port))


def test_the_pyonep_example_in_process(emulator):
    http = emulator.session()
    provision = Provision("emulator", manage_by_cik=False, raise_api_exceptions=True,
                          manage_by_sharecode=True, http=http)
    example_flow(provision, ClientPortal(http))


# -- the wire: what each method sends, as pyonep 0.13.8 sends it ------------------------

class Recorder:
    """A requests-shaped http that records each request and passes it on."""

    def __init__(self, http):
        self.http = http
        self.sent = []

    def request(self, method, url, data=None, headers=None, timeout=None):
        self.sent.append({"method": method, "url": url, "data": data,
                          "headers": dict(headers), "timeout": timeout})
        return self.http.request(method, url, data=data, headers=headers, timeout=timeout)


FORM = "application/x-www-form-urlencoded; charset=utf-8"
ACCEPT = "text/plain, text/csv, application/x-www-form-urlencoded"
K = "k" * 40
B = "http://m2.exosite.com:80/provision"

# method, arguments, then what pyonep 0.13.8 sends: HTTP method, URL, body,
# the key's header, Content-Type (None: none set), Accept
WIRE = [
    ("content_create", (K, "m", "c", "meta"), "POST", B + "/manage/content/m/",
     "id=c&meta=meta", "X-Exosite-CIK", FORM, ACCEPT),
    ("content_create", (K, "m", "c", "meta", True), "POST", B + "/manage/content/m/",
     "id=c&meta=meta&protected=true", "X-Exosite-CIK", FORM, ACCEPT),
    ("content_download", (K, "v", "m", "c"), "GET", B + "/download?vendor=v&model=m&id=c",
     None, "X-Exosite-CIK", None, "*"),
    ("content_info", (K, "m", "c"), "GET", B + "/manage/content/m/c", None, "X-Exosite-CIK",
     None, ACCEPT),
    ("content_info", (K, "m", "c", "v"), "GET",
     B + "/download?vendor=v&model=m&id=c&info=true", None, "X-Exosite-CIK", None, ACCEPT),
    ("content_list", (K, "m"), "GET", B + "/manage/content/m/", None, "X-Exosite-CIK", None,
     ACCEPT),
    ("content_remove", (K, "m", "c"), "DELETE", B + "/manage/content/m/c", "",
     "X-Exosite-CIK", None, ACCEPT),
    ("content_upload", (K, "m", "c", b"\x00blob", "image/png"), "POST",
     B + "/manage/content/m/c", b"\x00blob", "X-Exosite-CIK", "image/png", ACCEPT),
    ("model_create", (K, "m", "r" * 40), "POST", B + "/manage/model/",
     "model=m&rid=" + "r" * 40, "X-Exosite-CIK", FORM, ACCEPT),
    ("model_create", (K, "m", "r" * 40, False, False, False), "POST", B + "/manage/model/",
     "model=m&rid=%s&options%%5B%%5D=noaliases&options%%5B%%5D=nocomments"
     "&options%%5B%%5D=nohistorical" % ("r" * 40), "X-Exosite-CIK", FORM, ACCEPT),
    ("model_info", (K, "m"), "GET", B + "/manage/model/m", None, "X-Exosite-CIK", None,
     ACCEPT),
    ("model_list", (K,), "GET", B + "/manage/model/", None, "X-Exosite-CIK", None, ACCEPT),
    ("model_remove", (K, "m"), "DELETE", B + "/manage/model/m",
     "delete=true&model=m&confirm=true", "X-Exosite-CIK", None, ACCEPT),
    ("model_update", (K, "m", "r" * 40, True, False), "PUT", B + "/manage/model/m",
     "rid=%s&options%%5B%%5D=nocomments" % ("r" * 40), "X-Exosite-CIK", None, ACCEPT),
    ("serialnumber_activate", ("m", "s", "v"), "POST", B + "/activate",
     "vendor=v&model=m&sn=s", "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_add", (K, "m", "s"), "POST", B + "/manage/model/m/", "add=true&sn=s",
     "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_add", (K, "m", "s", "x y"), "POST", B + "/manage/model/m/",
     "add=true&sn=s&extra=x+y", "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_add_batch", (K, "m", ["a", "b"]), "POST", B + "/manage/model/m/",
     "add=true&sn%5B%5D=a&sn%5B%5D=b", "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_add_batch_csv", (K, "m", "a,1\nb,2\n"), "POST", B + "/manage/model/m/",
     "a,1\nb,2\n", "X-Exosite-CIK", "text/csv; charset=utf-8", ACCEPT),
    ("serialnumber_disable", (K, "m", "s"), "POST", B + "/manage/model/m/s", "disable=true",
     "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_enable", (K, "m", "s", "o" * 40), "POST", B + "/manage/model/m/s",
     "enable=true&owner=" + "o" * 40, "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_info", (K, "m", "s"), "GET", B + "/manage/model/m/s", None,
     "X-Exosite-CIK", None, ACCEPT),
    ("serialnumber_info", (K, "m", "s", True), "GET", B + "/manage/model/m/s?show=log", None,
     "X-Exosite-CIK", None, ACCEPT),
    ("serialnumber_list", (K, "m"), "GET", B + "/manage/model/m/?offset=0&limit=1000", None,
     "X-Exosite-CIK", None, ACCEPT),
    ("serialnumber_list", (K, "m", 5, 10, True), "GET",
     B + "/manage/model/m/?offset=5&limit=10&status=true", None, "X-Exosite-CIK", None,
     ACCEPT),
    ("serialnumber_reenable", (K, "m", "s"), "POST", B + "/manage/model/m/s", "enable=true",
     "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_remap", (K, "m", "s", "old"), "POST", B + "/manage/model/m/s",
     "enable=true&oldsn=old", "X-Exosite-CIK", FORM, ACCEPT),
    ("serialnumber_remove", (K, "m", "s"), "DELETE", B + "/manage/model/m/s", "",
     "X-Exosite-CIK", None, ACCEPT),
    ("serialnumber_remove_batch", (K, "m", ["a", "b"]), "POST", B + "/manage/model/m/",
     "remove=true&sn%5B%5D=a&sn%5B%5D=b", "X-Exosite-CIK", FORM, ACCEPT),
    ("vendor_register", (K, "v"), "POST", B + "/register", "vendor=v", "X-Exosite-CIK",
     FORM, ACCEPT),
    ("vendor_show", (K,), "GET", B + "/register", None, "X-Exosite-Token", None, ACCEPT),
    ("vendor_unregister", (K, "v"), "POST", B + "/register", "delete=true&vendor=v",
     "X-Exosite-Token", FORM, ACCEPT),
]


@pytest.mark.parametrize("name, arguments, method, url, body, key_header, content_type, accept",
                         WIRE, ids=[row[0] for row in WIRE])
def test_each_method_sends_what_pyonep_sends(emulator, name, arguments, method, url, body,
                                             key_header, content_type, accept):
    recorder = Recorder(emulator.session())
    answer = getattr(Provision(http=recorder), name)(*arguments)
    assert isinstance(answer, ProvisionResponse) and answer.status() >= 200
    (sent,) = recorder.sent
    assert (sent["method"], sent["url"], sent["data"]) == (method, url, body)
    expected_key = "" if name == "serialnumber_activate" else K
    assert sent["headers"][key_header] == expected_key
    assert sent["headers"].get("Content-Type") == content_type
    assert sent["headers"]["Accept"] == accept
    assert sent["timeout"] == 5


def test_manage_by_cik_false_sends_the_vendor_token(emulator):
    recorder = Recorder(emulator.session())
    Provision(manage_by_cik=False, http=recorder).model_list(TOKEN)
    assert recorder.sent[0]["headers"]["X-Exosite-Token"] == TOKEN
    assert "X-Exosite-CIK" not in recorder.sent[0]["headers"]


def test_the_constructor_builds_the_base_url_as_pyonep_does(emulator):
    for options, base in (({}, "http://m2.exosite.com:80"),
                          ({"host": "https://example.com", "port": 443, "https": True},
                           "https://example.com:443"),
                          ({"host": "h", "port": "8080", "httptimeout": "9"}, "http://h:8080")):
        recorder = Recorder(emulator.session())
        provision = Provision(http=recorder, **options)
        provision.model_list(TOKEN)
        assert recorder.sent[0]["url"] == base + "/provision/manage/model/"
        assert repr(provision) == "<uonep_host.Provision %s>" % base
    assert recorder.sent[0]["timeout"] == 9


def test_failures_are_answers_or_exceptions_as_asked(emulator):
    quiet = Provision(manage_by_cik=False, http=emulator.session())
    refused = quiet.serialnumber_add(TOKEN, "nosuch", "1")
    assert (refused.isok, refused.status(), refused.reason()) == (False, 404, "Not Found")
    loud = Provision(manage_by_cik=False, http=emulator.session(), raise_api_exceptions=True)
    with pytest.raises(ProvisionException) as raised:
        loud.model_list("4" * 40)
    assert raised.value.response.status() == 401
    assert str(raised.value) == repr(raised.value) == "401 Unauthorized"
    from uonep_host.provision import ProvisionException as same
    assert same is ProvisionException


def test_keys_and_ciks_are_masked_in_reprs_and_curl_logs(emulator, caplog):
    provision = Provision(manage_by_cik=False, http=emulator.session(), curldebug=True)
    with caplog.at_level(logging.DEBUG, logger="uonep_host.provision"):
        answer = provision.serialnumber_activate("m1", "0001", VENDOR)
        provision.model_list(TOKEN)
    assert answer.body == "2" * 40
    assert "2" * 40 not in str(answer) + repr(answer)
    assert str(answer) == "Status: 200, Reason: OK, Body: 2222\u2026"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "curl 'http://m2.exosite.com:80/provision/manage/model/'" in logged
    assert "X-Exosite-Token: 3333\u2026" in logged and TOKEN not in logged


def test_network_failures_raise_what_requests_raises():
    with socket_closed() as port:
        provision = Provision("127.0.0.1", port=port, httptimeout=2)
        with pytest.raises(requests.ConnectionError):
            provision.model_list(TOKEN)


def socket_closed():
    import contextlib
    import socket

    @contextlib.contextmanager
    def closed():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield port
    return closed()


def test_reuseconnection_keeps_one_connection_until_close(server):
    host, port = server

    def peers(provision):
        model = "reuse%d" % next(names)
        provision.model_create(TOKEN, model, Client(DEFAULT_CIK, host=host, port=port,
                                                    https=False).create("client", {}))
        provision.serialnumber_add(TOKEN, model, "s")
        owner = Client(DEFAULT_CIK, host=host, port=port, https=False).lookup("", "aliased")
        provision.serialnumber_enable(TOKEN, model, "s", owner)
        provision.serialnumber_disable(TOKEN, model, "s")
        provision.serialnumber_reenable(TOKEN, model, "s")
        log = provision.serialnumber_info(TOKEN, model, "s", actvtn_log=True).body
        return [line.split(",")[1] for line in log.splitlines()]

    kept = Provision(host, port=port, manage_by_cik=False, reuseconnection=True)
    assert len(set(peers(kept))) == 1
    kept.close()
    assert kept.model_list(TOKEN).isok                    # a new connection after close()
    kept.close()
    assert len(set(peers(Provision(host, port=port, manage_by_cik=False)))) == 3


def test_the_methods_the_example_does_not_use(emulator):
    http = emulator.session()
    portal = ClientPortal(http)
    provision = Provision(manage_by_cik=False, http=http, raise_api_exceptions=True)
    _, first = portal.make_client()
    _, second = portal.make_client()
    provision.model_create(TOKEN, "spare", first)
    assert provision.model_update(TOKEN, "spare", second, historical=False).status() == 205
    assert provision.model_info(TOKEN, "spare").body == "rid=%s&options[]=nohistorical" % second
    provision.serialnumber_add_batch(TOKEN, "spare", ["old", "new", "gone"])
    rid = provision.serialnumber_enable(TOKEN, "spare", "old", portal.rid()).body
    assert provision.serialnumber_remap(TOKEN, "spare", "new", "old").status() == 205
    assert provision.serialnumber_info(TOKEN, "spare", "new").body == "notactivated,%s," % rid
    assert provision.serialnumber_info(TOKEN, "spare", "old").status() == 204
    assert provision.serialnumber_remove(TOKEN, "spare", "gone").status() == 205
    assert [line.split(",")[0] for line in
            provision.serialnumber_list(TOKEN, "spare").body.splitlines()] == ["old", "new"]
    # a portal's own CIK registered as a vendor: pyonep sends it as X-Exosite-CIK to
    # register (manage_by_cik=True) and as X-Exosite-Token to show and unregister
    key, _ = portal.make_client()
    by_cik = Provision(http=http, raise_api_exceptions=True)
    assert by_cik.vendor_register(key, "newco").status() == 205
    assert by_cik.vendor_show(key).body == "newco"
    assert by_cik.model_list(key).body == ""               # now a vendor CIK, no models yet
    assert by_cik.vendor_unregister(key, "newco").status() == 205
    with pytest.raises(ProvisionException) as raised:
        by_cik.vendor_show(key)
    assert raised.value.response.status() == 404
