# Run by tests/test_content_kill.py (not a test module): download a content
# as the device acme/m1/0001, printing each Range request's first byte as
# its answer arrives, then "done <bytes>".
#   micropython content_download.py EMULATOR_URL CONTENT_ID PATH
import os
import sys

sys.path.insert(0, os.getenv("UONEP_MPY"))

from uonep import Client
from uonep.http import HTTP


class Reporting:
    def __init__(self):
        self.http = HTTP(False)

    def request(self, method, url, data=None, headers=None, timeout=10):
        response = self.http.request(method, url, data=data, headers=headers, timeout=timeout)
        if "Range" in headers:
            print("range", headers["Range"][6:].split("-")[0])
        return response


host, port = sys.argv[1].rsplit("//", 1)[1].split(":")
client = Client("2" * 40, host=host, port=int(port), https=False, http=Reporting())
print("done", client.content_download("acme", "m1", sys.argv[2], sys.argv[3]))
