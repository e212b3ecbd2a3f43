# Content downloads under MicroPython with a 128 KB heap, against the
# emulator: contents published by the vendor over plain HTTP arrive byte
# for byte, a 1 MB one with the same live-heap high-water mark as a small
# one (sampled after a collection with each chunk in RAM), resumed after a
# dropped connection at every chunk boundary (of a 10-chunk content, each
# boundary on its own; of the megabyte, one after the other), restarted when the content
# changed between two attempts, refused with nothing at the path when the
# sha256 of its meta does not match. (A kill of the process mid-download:
# tests/test_content_kill.py.)
import gc
import os
import sys

# The core as a board loads it: .mpy (HELPER below), ahead of firmware/.
sys.path.insert(0, os.getenv("UONEP_MPY"))

from content_support import DEVICE_CIK, activate, advance_clock, leftovers, publish, same
from emulator_control import url

from uonep import Client
from uonep.errors import ContentError, TransportError

NEEDS_EMULATOR = True
HEAPSIZE = "128k"
HELPER = "mpycore"
MEGABYTE = 1 << 20


class Metered:
    """uonep.http.HTTP that samples the heap with each answer in RAM: the
    live heap after a collection (its high-water mark above `start()`),
    and the lowest free heap before collecting. Raises OSError (a dropped
    connection) instead of sending the Range request numbered fail_at."""

    def __init__(self):
        from uonep.http import HTTP
        self.http = HTTP(False)
        self.fail_at = None
        self.start()

    def start(self):
        self.ranges = 0
        self.first = None
        gc.collect()
        self.base = gc.mem_alloc()
        self.high = 0
        self.low_free = gc.mem_free()

    def request(self, method, url, data=None, headers=None, timeout=10):
        if "Range" in headers:
            if self.ranges == self.fail_at:
                self.fail_at = None
                raise OSError(104)
            if self.first is None:
                self.first = headers["Range"]
            self.ranges += 1
        response = self.http.request(method, url, data=data, headers=headers, timeout=timeout)
        self.low_free = min(self.low_free, gc.mem_free())
        gc.collect()
        self.high = max(self.high, gc.mem_alloc() - self.base)
        return response


def device():
    meter = Metered()
    return Client(activate(), url(), http=meter), meter


_PUBLISHED = []


def publish_once(name, size, seed):
    """Publish a content the first time a test asks (the megabyte takes a while)."""
    if (name, size, seed) not in _PUBLISHED:
        publish(name, size, seed)
        _PUBLISHED.append((name, size, seed))


def scratch(name):
    return os.getenv("UONEP_TMP") + "/" + name


def test_small_and_megabyte_downloads_with_the_same_heap():
    client, meter = device()
    import uonep.content                    # loaded before measuring
    marks = {}
    for name, size, seed in (("small", 5000, 1), ("mega", MEGABYTE, 2)):
        publish_once(name, size, seed)
        path = scratch(name)
        meter.start()
        assert client.content_download("acme", "m1", name, path) == size
        marks[name] = (meter.high, meter.low_free)
        assert meter.ranges == (size + 4095) // 4096
        assert same(path, size, seed)
        assert leftovers(path) == [name]
        os.remove(path)
    print("content heap high-water (live above start, lowest free):", marks)
    # One 4 KB chunk in RAM at a time whatever the size: the megabyte's
    # live high-water mark is the small one's, within a few hundred bytes.
    assert marks["mega"][0] <= marks["small"][0] + 512, marks
    assert marks["mega"][0] < 12 * 1024, marks


def test_a_dropped_connection_at_every_chunk_boundary_resumes_there():
    client, meter = device()
    size, chunk = 5000, 512                 # 10 chunks, the last one short
    chunks = (size + chunk - 1) // chunk
    publish("fw", size, 3)
    path = scratch("fw")
    for drop in range(chunks):
        meter.start()
        meter.fail_at = drop
        try:
            client.content_download("acme", "m1", "fw", path, chunk=chunk)
            raise AssertionError("the dropped connection went unnoticed")
        except TransportError:
            pass
        assert leftovers(path) == ["fw.part", "fw.state"], leftovers(path)
        assert os.stat(path + ".part")[6] == drop * chunk
        meter.start()
        assert client.content_download("acme", "m1", "fw", path, chunk=chunk) == size
        assert meter.ranges == chunks - drop
        assert meter.first == "bytes=%d-%d" % (drop * chunk, min(drop * chunk + chunk, size) - 1)
        assert same(path, size, 3) and leftovers(path) == ["fw"]
        os.remove(path)


def test_a_megabyte_dropped_after_every_chunk_resumes_each_time():
    # Every attempt gets one chunk further, then its connection drops: the
    # megabyte is interrupted at each of its 256 chunk boundaries in turn.
    client, meter = device()
    publish_once("mega", MEGABYTE, 2)
    path = scratch("mega")
    meter.start()
    for attempt in range(MEGABYTE // 4096):
        meter.fail_at = 1
        meter.first = None
        meter.ranges = 0
        try:
            client.content_download("acme", "m1", "mega", path)
            break
        except TransportError:
            pass
        assert meter.first == "bytes=%d-%d" % (attempt * 4096, attempt * 4096 + 4095)
        assert os.stat(path + ".part")[6] == (attempt + 1) * 4096
        assert leftovers(path) == ["mega.part", "mega.state"]
    assert attempt == MEGABYTE // 4096 - 1 and meter.fail_at == 1
    assert same(path, MEGABYTE, 2) and leftovers(path) == ["mega"]
    assert meter.high < 12 * 1024, meter.high


def test_a_content_changed_between_two_attempts_starts_over():
    client, meter = device()
    publish("conf", 3000, 4, with_digest=False)
    path = scratch("conf")
    meter.fail_at = 3
    try:
        client.content_download("acme", "m1", "conf", path, chunk=500)
    except TransportError:
        pass
    assert os.stat(path + ".part")[6] == 1500
    advance_clock(60)
    publish("conf", 3000, 5, with_digest=False)        # the same size, other bytes
    meter.start()
    assert client.content_download("acme", "m1", "conf", path, chunk=500) == 3000
    assert meter.first == "bytes=0-499" and meter.ranges == 6
    assert same(path, 3000, 5)


def test_a_hash_that_does_not_match_is_refused_with_nothing_at_path():
    client, _ = device()
    publish("bad", 6000, 6, meta="version=2 sha256=" + "ab" * 32, with_digest=False)
    path = scratch("bad")
    try:
        client.content_download("acme", "m1", "bad", path)
        raise AssertionError("a corrupted download was accepted")
    except ContentError as refused:
        assert "sha256" in str(refused) and not refused.retryable
    assert leftovers(path) == []
    # The same with an older version at path: it stays.
    with open(path, "wb") as file:
        file.write(b"v1")
    try:
        client.content_download("acme", "m1", "bad", path)
        raise AssertionError("a corrupted download was accepted")
    except ContentError:
        pass
    with open(path, "rb") as file:
        assert file.read() == b"v1"
    assert leftovers(path) == ["bad"]


def test_list_and_info():
    client, _ = device()
    publish("listed", 10, 7, meta="version=9")
    assert "listed" in client.content_list("acme", "m1")
    info = client.content_info("acme", "m1", "listed")
    assert info["size"] == 10 and info["type"] == "application/octet-stream"
    assert info["meta"].startswith("version=9 sha256=")
    assert DEVICE_CIK not in repr(client)
