"""The emulator's plain-HTTP device APIs as a board meets them: through
MicroPython's own `requests`, the HTTP Data API (204 without a body, form
answers, 401) and provisioning (activation, then the content list and a
download in ranges, 206 with Content-Range), after a vendor uploaded the
content."""
import requests

from emulator_control import CIK, url

NEEDS_EMULATOR = True
HEAPSIZE = "256k"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
TOKEN = "3" * 40


def send(method, path, body=None, headers=None):
    answer = requests.request(method, url() + path, data=body, headers=headers or {})
    try:
        return answer.status_code, answer.content, answer.headers
    finally:
        answer.close()


def test_data_api_write_read_and_refusals():
    device = {"X-Exosite-CIK": CIK, "Content-Type": FORM}
    status, body, _ = send("POST", "/onep:v1/stack/alias", "count=42&status=on+line", device)
    assert (status, body) == (204, b"")
    status, body, headers = send("GET", "/onep:v1/stack/alias?status&count", None, device)
    assert (status, body) == (200, b"count=42&status=on+line")
    assert headers["Content-Type"] == FORM
    assert send("GET", "/onep:v1/stack/alias?temp", None, device)[:2] == (204, b"")
    assert send("POST", "/onep:v1/stack/alias", "count=x", device)[0] == 400
    assert send("GET", "/onep:v1/stack/alias?count", None, {"X-Exosite-CIK": "9" * 40})[0] == 401


def test_activate_then_download_content_in_ranges():
    vendor = {"X-Exosite-Token": TOKEN, "Content-Type": FORM}
    assert send("POST", "/provision/manage/content/m1/", "id=fw&meta=v1", vendor)[0] == 205
    blob = bytes(range(100))
    upload = {"X-Exosite-Token": TOKEN, "Content-Type": "application/octet-stream"}
    assert send("POST", "/provision/manage/content/m1/fw", blob, upload)[0] == 205
    status, cik, _ = send("POST", "/provision/activate", "vendor=acme&model=m1&sn=0001",
                          {"Content-Type": FORM})
    assert (status, cik) == (200, b"2" * 40)
    device = {"X-Exosite-CIK": cik.decode()}
    assert send("GET", "/provision/download?vendor=acme&model=m1", None, device)[:2] == \
        (200, b"fw")
    pieces = []
    for first in range(0, 100, 40):
        headers = dict(device)
        headers["Range"] = "bytes=%d-%d" % (first, first + 39)
        status, piece, answered = send("GET", "/provision/download?vendor=acme&model=m1&id=fw",
                                       None, headers)
        assert status == 206
        assert answered["Content-Range"] == "bytes %d-%d/100" % (first, min(first + 39, 99))
        pieces.append(piece)
    assert b"".join(pieces) == blob
    assert send("GET", "/provision/download?vendor=acme&model=m9", None, device)[0] == 403
