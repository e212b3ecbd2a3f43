"""Open an existing journal and push it all (the heap probe of `make bench`).
usage: micropython -X heapsize=N mp_push_only.py HOST PORT JOURNAL_DIR
Prints "pushed <n>" on success."""
import sys

from uonep import Client
from uonep.journal import Journal

journal = Journal(sys.argv[3])   # "auto", as the journal was made
client = Client("1" * 40, host=sys.argv[1], port=int(sys.argv[2]), https=False, timeout=10,
                journal=journal)
print("pushed %d" % client.push()["sent"])
