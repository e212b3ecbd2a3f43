"""Content downloads and the HTTP Data API on the core's Client, through
uonep_host.Client and the emulator's in-process door (and once through
uonep.Client's own HTTP client over a socket): what reaches `path` is the
content byte for byte or nothing, a download resumes from the last chunk on
disk and restarts when the content changed, and form-encoded values are the
ones RPC reads and writes. The same under MicroPython: tests/mp/mp_test_content.py."""

import hashlib
import os

import pytest
import requests

from uonep import Client as CoreClient
from uonep.content import CHUNK, meta_fields
from uonep.errors import (AuthError, ContentError, HTTPError, ProtocolError, TransportError,
                          ValidationError)
from uonep_host import Client, Provision
from uonep_host.emulator import DEFAULT_CIK, DEFAULT_VENDOR_TOKEN

DEVICE_CIK = "2" * 40
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def blob_of(size, seed=0):
    """size bytes that repeat no shorter pattern (a misplaced chunk shows)."""
    out = bytearray()
    block = 0
    while len(out) < size:
        out += hashlib.sha256(b"%d:%d" % (seed, block)).digest()
        block += 1
    return bytes(out[:size])


class Wire:
    """The emulator's in-process session, recording every request; it
    raises requests' ConnectionError (what a dropped connection is) at the
    Range request numbered `fail_at` (from 0), and may change what the
    server answers through `rewrite(headers)`."""

    def __init__(self, session):
        self.session = session
        self.sent = []
        self.fail_at = None
        self.rewrite = None

    def ranges(self):
        return [headers["Range"] for _, _, headers, _, _ in self.sent if "Range" in headers]

    def request(self, method, url, data=None, headers=None, timeout=None):
        headers = dict(headers or {})
        if "Range" in headers and self.fail_at is not None and \
                len(self.ranges()) == self.fail_at:
            self.fail_at = None
            raise requests.ConnectionError("connection reset by peer")
        self.sent.append((method, url, headers, data, timeout))
        if self.rewrite is not None:
            headers = self.rewrite(headers)
        return self.session.request(method, url, data=data, headers=headers, timeout=timeout)


@pytest.fixture
def onep(onep_in_process):
    """The emulator with the device acme/m1/0001 activated (CIK "2" * 40)."""
    vendor = Provision("emulator", manage_by_cik=False, raise_api_exceptions=True,
                       http=onep_in_process.session())
    assert vendor.serialnumber_activate("m1", "0001", "acme").body == DEVICE_CIK
    onep_in_process.vendor = vendor
    return onep_in_process


@pytest.fixture
def wire(onep):
    return Wire(onep.session())


@pytest.fixture
def device(wire):
    return Client(DEVICE_CIK, host="emulator", https=False, http=wire)


def publish(onep, content_id, data, meta=None, digest=True):
    """Create (or replace) a content of model m1 holding data; its meta
    carries the data's sha256 unless digest is False."""
    vendor = onep.vendor
    if content_id in vendor.content_list(DEFAULT_VENDOR_TOKEN, "m1").body.split():
        vendor.content_remove(DEFAULT_VENDOR_TOKEN, "m1", content_id)
    if meta is None:
        meta = "version=1"
    if digest:
        meta += " sha256=" + hashlib.sha256(data).hexdigest()
    vendor.content_create(DEFAULT_VENDOR_TOKEN, "m1", content_id, meta)
    vendor.content_upload(DEFAULT_VENDOR_TOKEN, "m1", content_id, data,
                          "application/octet-stream")


def leftovers(path):
    folder, name = os.path.split(str(path))
    return sorted(entry for entry in os.listdir(folder) if entry.startswith(name))


# -- content --------------------------------------------------------------------------------

def test_list_and_info_describe_what_the_vendor_published(onep, device):
    publish(onep, "config.json", b'{"interval": 60}', meta="version=3;channel=beta", digest=False)
    publish(onep, "fw.bin", blob_of(5000))
    assert sorted(device.content_list("acme", "m1")) == ["config.json", "fw.bin"]
    info = device.content_info("acme", "m1", "config.json")
    assert info == {"type": "application/octet-stream", "size": 16,
                    "updated": info["updated"], "meta": "version=3;channel=beta"}
    assert abs(info["updated"] - onep.set_clock()) < 5
    assert meta_fields(info["meta"]) == {"version": "3", "channel": "beta"}
    fw = device.content_info("acme", "m1", "fw.bin")
    assert fw["size"] == 5000
    assert meta_fields(fw["meta"])["sha256"] == hashlib.sha256(blob_of(5000)).hexdigest()


def test_meta_with_commas_stays_whole():
    assert meta_fields("version=2, sha256=ab; note, words  build=7") == \
        {"version": "2", "sha256": "ab", "build": "7"}
    assert meta_fields("") == {}


def test_a_download_arrives_byte_for_byte_in_chunks_and_leaves_nothing_else(
        onep, wire, device, tmp_path):
    data = blob_of(3 * CHUNK + 123)
    publish(onep, "fw.bin", data)
    target = tmp_path / "fw.bin"
    assert device.content_download("acme", "m1", "fw.bin", str(target)) == len(data)
    assert target.read_bytes() == data
    assert leftovers(target) == ["fw.bin"]
    assert wire.ranges() == ["bytes=0-4095", "bytes=4096-8191", "bytes=8192-12287",
                             "bytes=12288-12410"]
    for method, url, headers, data_sent, _ in wire.sent:
        assert method == "GET" and data_sent is None
        assert headers["X-Exosite-CIK"] == DEVICE_CIK
        assert url.startswith("http://emulator/provision/download?vendor=acme&model=m1")


def test_a_megabyte_takes_one_chunk_per_request(onep, wire, device, tmp_path):
    data = blob_of(1 << 20, seed=1)
    publish(onep, "big", data)
    target = tmp_path / "big"
    assert device.content_download("acme", "m1", "big", str(target)) == 1 << 20
    assert target.read_bytes() == data
    assert len(wire.ranges()) == (1 << 20) // CHUNK


def test_a_download_replaces_an_older_file(onep, device, tmp_path):
    target = tmp_path / "config"
    target.write_bytes(b"old version, longer than the new one")
    publish(onep, "config", b"new")
    assert device.content_download("acme", "m1", "config", str(target)) == 3
    assert target.read_bytes() == b"new"


def test_an_empty_content_downloads_as_an_empty_file(onep, wire, device, tmp_path):
    publish(onep, "empty", b"")
    target = tmp_path / "empty"
    assert device.content_download("acme", "m1", "empty", str(target)) == 0
    assert target.read_bytes() == b"" and wire.ranges() == []


@pytest.mark.parametrize("chunks_before_the_drop", range(8))
def test_a_dropped_connection_at_every_chunk_boundary_resumes_there(
        onep, wire, device, tmp_path, chunks_before_the_drop):
    data = blob_of(7 * 300 + 50)            # 8 chunks of 300 bytes
    publish(onep, "fw", data)
    target = str(tmp_path / "fw")
    wire.fail_at = chunks_before_the_drop
    with pytest.raises(TransportError):
        device.content_download("acme", "m1", "fw", target, chunk=300)
    assert not os.path.exists(target)
    assert os.path.getsize(target + ".part") == 300 * chunks_before_the_drop
    before = len(wire.ranges())
    assert device.content_download("acme", "m1", "fw", target, chunk=300) == len(data)
    resumed = wire.ranges()[before:]
    assert resumed[0] == "bytes=%d-%d" % (300 * chunks_before_the_drop,
                                          min(300 * chunks_before_the_drop + 299, len(data) - 1))
    assert len(resumed) == 8 - chunks_before_the_drop
    with open(target, "rb") as file:
        assert file.read() == data
    assert leftovers(target) == ["fw"]


def test_a_download_interrupted_after_the_last_chunk_finishes_without_fetching_again(
        onep, wire, device, tmp_path):
    data = blob_of(1000)
    publish(onep, "fw", data)
    target = str(tmp_path / "fw")
    original = wire.request

    def fail_on_the_second_info(method, url, **options):
        if url.endswith("info=true") and len(wire.ranges()) == 4:
            raise requests.ConnectionError("dropped")
        return original(method, url, **options)

    wire.request = fail_on_the_second_info
    with pytest.raises(TransportError):
        device.content_download("acme", "m1", "fw", target, chunk=250)
    assert os.path.getsize(target + ".part") == 1000 and not os.path.exists(target)
    wire.request = original
    assert device.content_download("acme", "m1", "fw", target, chunk=250) == 1000
    assert len(wire.ranges()) == 4
    with open(target, "rb") as file:
        assert file.read() == data


def test_a_content_changed_between_two_attempts_starts_over(onep, wire, device, tmp_path):
    old, new = blob_of(2000, seed=1), blob_of(2000, seed=2)   # same size
    publish(onep, "fw", old, digest=False)
    target = str(tmp_path / "fw")
    wire.fail_at = 3
    with pytest.raises(TransportError):
        device.content_download("acme", "m1", "fw", target, chunk=500)
    onep.set_clock(advance=60)             # the new upload gets another `updated`
    publish(onep, "fw", new, digest=False)
    before = len(wire.ranges())
    assert device.content_download("acme", "m1", "fw", target, chunk=500) == 2000
    assert wire.ranges()[before] == "bytes=0-499"
    with open(target, "rb") as file:
        assert file.read() == new


def test_another_content_to_the_same_path_never_resumes_the_first(onep, wire, device, tmp_path):
    first, second = blob_of(2000, seed=1), blob_of(2000, seed=2)
    publish(onep, "a", first, meta="version=1", digest=False)
    publish(onep, "b", second, meta="version=1", digest=False)     # same size, meta, second
    target = str(tmp_path / "fw")
    wire.fail_at = 2
    with pytest.raises(TransportError):
        device.content_download("acme", "m1", "a", target, chunk=500)
    before = len(wire.ranges())
    assert device.content_download("acme", "m1", "b", target, chunk=500) == 2000
    assert wire.ranges()[before] == "bytes=0-499"
    with open(target, "rb") as file:
        assert file.read() == second


def test_a_content_changed_during_the_download_is_refused_then_fetched_anew(
        onep, wire, device, tmp_path):
    old, new = blob_of(2000, seed=1), blob_of(2000, seed=2)
    publish(onep, "fw", old)
    target = tmp_path / "fw"
    target.write_bytes(b"the previous version")
    original = wire.request

    def republish_midway(method, url, **options):
        if len(wire.ranges()) == 2 and not getattr(republish_midway, "done", False):
            republish_midway.done = True
            onep.set_clock(advance=60)
            publish(onep, "fw", new)
        return original(method, url, **options)

    wire.request = republish_midway
    with pytest.raises(ContentError) as refused:
        device.content_download("acme", "m1", "fw", str(target), chunk=500)
    assert refused.value.retryable is True and "changed" in str(refused.value)
    assert target.read_bytes() == b"the previous version"
    assert leftovers(target) == ["fw"]
    assert device.content_download("acme", "m1", "fw", str(target), chunk=500) == 2000
    assert target.read_bytes() == new


def test_a_content_that_shrank_mid_download_is_refused(onep, wire, device, tmp_path):
    publish(onep, "fw", blob_of(2000), digest=False)
    original = wire.request

    def shrink_midway(method, url, **options):
        if len(wire.ranges()) == 2 and not getattr(shrink_midway, "done", False):
            shrink_midway.done = True
            onep.vendor.content_upload(DEFAULT_VENDOR_TOKEN, "m1", "fw", b"tiny",
                                       "application/octet-stream")
        return original(method, url, **options)

    wire.request = shrink_midway
    target = tmp_path / "fw"
    with pytest.raises(ContentError) as refused:
        device.content_download("acme", "m1", "fw", str(target), chunk=500)
    assert refused.value.retryable is True
    assert not target.exists()
    wire.request = original
    assert device.content_download("acme", "m1", "fw", str(target), chunk=500) == 4
    assert target.read_bytes() == b"tiny"


def test_a_hash_that_does_not_match_is_refused_with_nothing_at_path(onep, device, tmp_path):
    data = blob_of(3000)
    publish(onep, "fw", data, meta="version=2 sha256=" + hashlib.sha256(b"other").hexdigest(),
            digest=False)
    target = tmp_path / "fw"
    with pytest.raises(ContentError) as refused:
        device.content_download("acme", "m1", "fw", str(target), chunk=1000)
    assert refused.value.retryable is False and "sha256" in str(refused.value)
    assert leftovers(target) == []
    # An older version at path stays as it was.
    target.write_bytes(b"v1")
    with pytest.raises(ContentError):
        device.content_download("acme", "m1", "fw", str(target))
    assert target.read_bytes() == b"v1" and leftovers(target) == ["fw"]


def test_a_hash_in_capitals_matches(onep, device, tmp_path):
    data = blob_of(100)
    publish(onep, "fw", data, meta="sha256=" + hashlib.sha256(data).hexdigest().upper(),
            digest=False)
    assert device.content_download("acme", "m1", "fw", str(tmp_path / "fw")) == 100


def test_a_server_that_ignores_range_is_used_for_a_whole_answer(onep, wire, device, tmp_path):
    data = blob_of(3000)
    publish(onep, "fw", data)
    wire.rewrite = lambda headers: {name: value for name, value in headers.items()
                                    if name != "Range"}
    target = tmp_path / "fw"
    assert device.content_download("acme", "m1", "fw", str(target), chunk=1000) == 3000
    assert target.read_bytes() == data and len(wire.ranges()) == 1


def test_a_range_answer_of_the_wrong_length_is_a_protocol_error(onep, wire, device, tmp_path):
    publish(onep, "fw", blob_of(3000))
    wire.rewrite = lambda headers: dict(headers, Range="bytes=0-10")
    with pytest.raises(ProtocolError):
        device.content_download("acme", "m1", "fw", str(tmp_path / "fw"), chunk=1000)
    assert not (tmp_path / "fw").exists()


def test_refusals_map_to_the_documented_errors(onep, wire, device, tmp_path):
    publish(onep, "fw", b"data")
    with pytest.raises(HTTPError) as missing:
        device.content_info("acme", "m1", "nosuch")
    assert missing.value.status == 404 and not missing.value.retryable
    with pytest.raises(HTTPError) as missing:
        device.content_download("acme", "m1", "nosuch", str(tmp_path / "x"))
    assert missing.value.status == 404
    # Not this device's model: 403 for the list, 400 for info (as documented).
    with pytest.raises(AuthError) as refused:
        device.content_list("acme", "m2")
    assert refused.value.code == 403
    with pytest.raises(HTTPError) as refused:
        device.content_info("acme", "m2", "fw")
    assert refused.value.status == 400
    stranger = Client("9" * 40, host="emulator", https=False, http=wire)
    with pytest.raises(AuthError) as refused:
        stranger.content_list("acme", "m1")
    assert refused.value.code == 401 and "9" * 40 not in str(refused.value)
    # A client that has not activated a serial number of acme/m1.
    with pytest.raises(AuthError):
        Client(DEFAULT_CIK, host="emulator", https=False, http=wire).content_list("acme", "m1")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("call", [
    lambda c, p: c.content_list("", "m1"),
    lambda c, p: c.content_list("acme", None),
    lambda c, p: c.content_info("acme", "m1", "a/b"),
    lambda c, p: c.content_info("acme", "m1", ""),
    lambda c, p: c.content_download("acme", "m1", "../fw", p),
    lambda c, p: c.content_download("acme", "", "fw", p),
    lambda c, p: c.content_download("acme", "m1", "fw", ""),
    lambda c, p: c.content_download("acme", "m1", "fw", p, chunk=0),
    lambda c, p: c.content_download("acme", "m1", 7, p),
    lambda c, p: c.data_write({}),
    lambda c, p: c.data_write({"": 1}),
    lambda c, p: c.data_write({"temp": float("nan")}),
    lambda c, p: c.data_write({"temp": None}),
    lambda c, p: c.data_write({"temp": b"bytes"}),
    lambda c, p: c.data_write([("temp", 1)]),
    lambda c, p: c.data_read("temp"),
    lambda c, p: c.data_read([]),
    lambda c, p: c.data_read([""]),
    lambda c, p: c.data_wait("temp", -1),
    lambda c, p: c.data_wait("temp", 300001),
    lambda c, p: c.data_wait("temp", 1.5),
    lambda c, p: c.data_wait("", 100),
])
def test_bad_input_is_refused_before_anything_is_sent(wire, device, tmp_path, call):
    with pytest.raises(ValidationError):
        call(device, str(tmp_path / "fw"))
    assert wire.sent == [] and os.listdir(tmp_path) == []


def test_a_client_without_its_own_cik_is_refused(wire):
    for client in (Client(token="t0ken", host="emulator", https=False, http=wire),
                   Client(DEFAULT_CIK, client_id="a" * 40, host="emulator", https=False,
                          http=wire)):
        with pytest.raises(ValidationError):
            client.data_read(["temp"])
        with pytest.raises(ValidationError):
            client.content_list("acme", "m1")
    assert wire.sent == []


def test_a_file_system_refusal_is_a_content_error(onep, device, tmp_path):
    publish(onep, "fw", b"data")
    with pytest.raises(ContentError) as refused:
        device.content_download("acme", "m1", "fw", str(tmp_path / "no" / "such" / "fw"))
    assert "cannot write" in str(refused.value)


def test_other_attributes_are_not_invented(device):
    with pytest.raises(AttributeError):
        device.no_such_method
    with pytest.raises(AttributeError):
        device.content_nothing
    assert not hasattr(device, "data_nothing")


def test_the_core_client_downloads_through_its_own_http_client(onep_emulator, tmp_path):
    vendor = Provision("127.0.0.1", port=onep_emulator.port, https=False,
                       manage_by_cik=False, raise_api_exceptions=True)
    assert vendor.serialnumber_activate("m1", "0001", "acme").body == DEVICE_CIK
    data = blob_of(100000)
    vendor.content_create(DEFAULT_VENDOR_TOKEN, "m1", "fw",
                          "sha256=" + hashlib.sha256(data).hexdigest())
    vendor.content_upload(DEFAULT_VENDOR_TOKEN, "m1", "fw", data, "application/octet-stream")
    client = CoreClient(DEVICE_CIK, host="127.0.0.1", port=onep_emulator.port, https=False)
    target = tmp_path / "fw"
    assert client.content_download("acme", "m1", "fw", str(target)) == len(data)
    assert target.read_bytes() == data
    # One kept-alive connection for every chunk.
    assert client.transport.http.connections == 1
    client.data_write({"temp": 19.25})
    assert client.data_read(["temp"]) == {"temp": "19.25"}
    client.transport.close()


# -- the HTTP Data API ---------------------------------------------------------------------

@pytest.fixture
def portal(onep_in_process):
    wire = Wire(onep_in_process.session())
    client = Client(DEFAULT_CIK, host="emulator", https=False, http=wire)
    client.wire = wire
    return client


def test_a_form_encoded_write_is_what_rpc_reads(portal, onep_in_process):
    portal.data_write({"temp": 21.5, "count": 42, "status": "on line & 100% = ok ü+"})
    assert portal.read("temp")[0][1] == 21.5
    assert portal.read("count")[0][1] == 42
    assert portal.read("status")[0][1] == "on line & 100% = ok ü+"
    method, url, headers, body, _ = portal.wire.sent[0]
    assert (method, url) == ("POST", "http://emulator/onep:v1/stack/alias")
    assert headers["Content-Type"] == FORM and headers["X-Exosite-CIK"] == DEFAULT_CIK
    assert sorted(body.split(b"&")) == [b"count=42", b"status=on%20line%20%26%20100%25%20%3D%20ok"
                                        b"%20%C3%BC%2B", b"temp=21.5"]
    # One timestamp for the whole write: the server's.
    stamps = {portal.read(alias)[0][0] for alias in ("temp", "count", "status")}
    assert len(stamps) == 1


def test_an_rpc_write_is_what_data_read_returns_as_strings(portal):
    assert portal.data_read(["temp", "count"]) == {}
    portal.write("temp", 21.5)
    portal.write("count", 7)
    portal.write("status", "a=b&c")
    assert portal.data_read(["temp", "count", "status", "nosuch"]) == \
        {"temp": "21.5", "count": "7", "status": "a=b&c"}
    assert portal.data_read(("status",)) == {"status": "a=b&c"}


def test_a_refused_value_stores_nothing(portal):
    with pytest.raises(HTTPError) as refused:
        portal.data_write({"count": 5, "temp": "hot"})
    assert refused.value.status == 400 and not refused.value.retryable
    assert portal.read("count") == []


def test_a_bad_cik_is_an_auth_error(onep_in_process):
    stranger = Client("9" * 40, host="emulator", https=False, http=onep_in_process.session())
    for call in (lambda: stranger.data_write({"temp": 1}), lambda: stranger.data_read(["temp"]),
                 lambda: stranger.data_wait("temp", 10)):
        with pytest.raises(AuthError) as refused:
            call()
        assert refused.value.code == 401 and "9" * 40 not in str(refused.value)


def test_data_wait_wakes_on_a_write(portal, onep_in_process):
    import threading
    writer = Client(DEFAULT_CIK, host="emulator", https=False, http=onep_in_process.session())
    timer = threading.Timer(0.3, lambda: writer.write("count", 99))
    timer.start()
    try:
        assert portal.data_wait("count", 10000) == "99"
    finally:
        timer.join()
    method, url, headers, body, timeout = portal.wire.sent[-1]
    assert (method, url, body) == ("POST", "http://emulator/onep:v1/stack/waitalias?count",
                                   b"timeout=10000")
    # The request may last the long poll plus the client's own timeout.
    assert timeout == 10 + 10


def test_data_wait_expires_with_none(portal):
    assert portal.data_wait("temp", 200) is None


def test_data_wait_for_an_alias_the_client_lacks_is_an_http_error(portal):
    with pytest.raises(HTTPError) as refused:
        portal.data_wait("nosuch", 100)
    assert refused.value.status == 204 and "nosuch" in str(refused.value)
