"""The command-line emulator's plain-HTTP APIs as a curl user meets them
(plain requests calls, nothing of uonep's): /ip, the HTTP Data API,
provisioning from the vendor's upload to the device's ranged download;
and a --db file keeps all of it across a restart."""

import requests

from test_emulator_cli import start, stop

CIK = "1" * 40
TOKEN = "3" * 40
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def test_curl_like_data_api_and_provisioning_survive_a_restart(tmp_path):
    arguments = ["--port", "0", "--db", "onep.sqlite", "--quiet"]
    process, _, url = start(arguments, tmp_path)
    try:
        port = int(url.rsplit(":", 1)[1])
        ip = requests.get(url + "/ip", timeout=5)
        assert ip.text == "127,0,0,1,%d,%d" % (port >> 8, port & 255)

        wrote = requests.post(url + "/onep:v1/stack/alias", data="count=42&status=up",
                              headers={"X-Exosite-CIK": CIK, "Content-Type": FORM}, timeout=5)
        assert (wrote.status_code, wrote.content) == (204, b"")
        read = requests.get(url + "/onep:v1/stack/alias?status&count",
                            headers={"X-Exosite-CIK": CIK, "Accept": FORM}, timeout=5)
        assert (read.status_code, read.text) == (200, "count=42&status=up")
        assert requests.get(url + "/onep:v1/stack/alias?count", timeout=5).status_code == 401

        vendor = {"X-Exosite-Token": TOKEN}
        created = requests.post(url + "/provision/manage/content/m1/", headers=vendor,
                                data={"id": "firmware.bin", "meta": "v2"}, timeout=5)
        assert created.status_code == 205
        blob = bytes(range(200))
        uploaded = requests.post(url + "/provision/manage/content/m1/firmware.bin", data=blob,
                                 headers=dict(vendor, **{"Content-Type": "application/x-bin"}),
                                 timeout=5)
        assert uploaded.status_code == 205
        activated = requests.post(url + "/provision/activate",
                                  data="vendor=acme&model=m1&sn=0001",
                                  headers={"Content-Type": FORM}, timeout=5)
        assert (activated.status_code, activated.text) == (200, "2" * 40)
    finally:
        assert stop(process)[0] == 0

    process, _, url = start(arguments, tmp_path)
    try:
        device = {"X-Exosite-CIK": "2" * 40}
        query = url + "/provision/download?vendor=acme&model=m1"
        assert requests.get(query, headers=device, timeout=5).text == "firmware.bin"
        tail = requests.get(query + "&id=firmware.bin", timeout=5,
                            headers=dict(device, Range="bytes=-50"))
        assert (tail.status_code, tail.content) == (206, bytes(range(150, 200)))
        assert tail.headers["Content-Range"] == "bytes 150-199/200"
        assert tail.headers["Content-Type"] == "application/x-bin"
        again = requests.get(url + "/onep:v1/stack/alias?count",
                             headers={"X-Exosite-CIK": CIK}, timeout=5)
        assert again.text == "count=42"
        assert requests.post(url + "/provision/activate", data="vendor=acme&model=m1&sn=0001",
                             timeout=5).status_code == 409
    finally:
        assert stop(process)[0] == 0
