"""Open an existing journal and push it all (the heap probe of `make bench`).
usage: micropython -X heapsize=N mp_push_only.py HOST PORT JOURNAL_DIR
Prints "pushed <n>" on success."""
import sys

from uonep import Client
from uonep.forward import Uplink
from uonep.journal import Journal

journal = Journal(sys.argv[3])   # "auto", as the journal was made
client = Client("1" * 40, "http://%s:%s" % (sys.argv[1], sys.argv[2]), timeout=10)
print("pushed %d" % Uplink(client, journal).push()["sent"])
