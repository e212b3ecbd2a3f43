"""Download a content as the device acme/m1/0001 of the default seed (the
heap probe of `make bench`: the core as .mpy, the file on the host).
usage: micropython -X heapsize=N mp_content_download.py URL CONTENT_ID PATH
Prints "downloaded <bytes>" on success."""
import sys

from uonep import Client

client = Client("2" * 40, sys.argv[1], timeout=10)
print("downloaded %d" % client.content_download("acme", "m1", sys.argv[2], sys.argv[3]))
