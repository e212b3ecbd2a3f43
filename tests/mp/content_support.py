"""For the content tests under MicroPython (and the kill test's script):
contents of any size generated a piece at a time (never whole in RAM),
published to the emulator's model acme/m1 as its vendor over plain HTTP
(the blob streamed through a socket), and the device acme/m1/0001
activated. The bytes are those of tests/test_content_dataapi.py's
blob_of(size, seed): 32-byte sha256 pieces, so a misplaced chunk shows."""
import hashlib
import os
import socket

from emulator_control import address, url

DEVICE_CIK = "2" * 40
TOKEN = "3" * 40
FORM = "application/x-www-form-urlencoded; charset=utf-8"
MANAGE = "/provision/manage/content/m1/"


def piece(seed, block):
    return hashlib.sha256(b"%d:%d" % (seed, block)).digest()


def blob(seed, first, count):
    """Bytes first .. first + count - 1 of the content numbered seed."""
    out = bytearray()
    block = first // 32
    skip = first - block * 32
    while len(out) < count + skip:
        out += piece(seed, block)
        block += 1
    return bytes(out[skip:skip + count])


def digest(seed, size):
    hasher = hashlib.sha256()
    for first in range(0, size, 4096):
        hasher.update(blob(seed, first, min(4096, size - first)))
    return "".join("%02x" % byte for byte in hasher.digest())


_HTTP = []


def send(method, path, body=None, headers=None):
    """(status, body) of a small request through uonep.http, as the vendor."""
    if not _HTTP:
        from uonep.http import HTTP
        _HTTP.append(HTTP(False))
    sent = {"X-Exosite-Token": TOKEN, "Content-Type": FORM}
    sent.update(headers or {})
    answer = _HTTP[0].request(method, url() + path, data=body, headers=sent, timeout=10)
    return answer.status_code, bytes(answer.content)


def activate():
    """The device's CIK (activated now, or before by another test)."""
    status, _ = send("POST", "/provision/activate", b"vendor=acme&model=m1&sn=0001")
    assert status in (200, 409), status
    return DEVICE_CIK


def publish(content_id, size, seed, meta="version=1", with_digest=True):
    """(Re)create content_id holding `size` bytes of content `seed`; its
    meta carries their sha256 unless with_digest is False."""
    send("POST", MANAGE, ("delete=true&id=" + content_id).encode())
    if with_digest:
        meta += " sha256=" + digest(seed, size)
    from uonep.provision import form_quote
    status, _ = send("POST", MANAGE, ("id=%s&meta=%s" % (content_id, form_quote(meta))).encode())
    assert status == 205, status
    upload(content_id, size, seed)


def upload(content_id, size, seed):
    """Upload the blob through a socket of its own, a piece at a time."""
    host, port = address()
    connection = socket.socket()
    connection.connect(socket.getaddrinfo(host, port)[0][-1])
    try:
        connection.write(("POST %s%s HTTP/1.1\r\nHost: %s:%d\r\nX-Exosite-Token: %s\r\n"
                          "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
                          "Connection: close\r\n\r\n" % (MANAGE, content_id, host, port, TOKEN,
                                                         size)).encode())
        for first in range(0, size, 4096):
            connection.write(blob(seed, first, min(4096, size - first)))
        status = connection.readline().split()[1]
        assert status == b"205", status
    finally:
        connection.close()


def advance_clock(seconds):
    status, _ = send("POST", "/_emulator/clock", b'{"advance": %d}' % seconds,
                     {"Content-Type": "application/json"})
    assert status == 200, status


def same(path, size, seed):
    """Whether the file at path holds exactly the content, compared a piece at a time."""
    if os.stat(path)[6] != size:
        return False
    with open(path, "rb") as file:
        for first in range(0, size, 1024):
            if file.read(1024) != blob(seed, first, min(1024, size - first)):
                return False
    return True


def leftovers(path):
    folder, _, name = path.rpartition("/")
    return sorted(entry for entry in os.listdir(folder) if entry.startswith(name))
