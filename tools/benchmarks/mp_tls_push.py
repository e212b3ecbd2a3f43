"""Commit SAMPLES one-value samples, pushing every EVERY of them, over TLS.
usage: micropython mp_tls_push.py HOST PORT CA JOURNAL_DIR SAMPLES EVERY MODE
MODE: "uonep" (uonep.http, CA pinned, one kept connection; "fresh" closes it
after every push, as a server's idle timeout between pushes would) or
"requests" (MicroPython's requests: a connection per request, no check).
Prints "pushed" and one JSON line: {"sent", "requests", "pushes", "connections"}."""
import json
import sys

from common import START

from uonep import Client
from uonep.forward import Uplink
from uonep.manualclock import ManualClock
from uonep.journal import Journal


def main(host, port, ca, path, samples, every, mode):
    http = None
    if mode == "requests":
        import requests
        http = requests
    clock = ManualClock(START)
    client = Client("1" * 40, "https://%s:%d" % (host, port), timeout=30, verify=ca, http=http)
    uplink = Uplink(client, Journal(path, capacity_bytes=samples * 160 + 65536), clock)
    report = {"sent": 0, "requests": 0, "pushes": 0, "connections": None}
    for step in range(samples):
        uplink.add_value("temp", 20.0 + (step % 100) / 8)
        uplink.commit()
        clock.advance(60)
        if (step + 1) % every == 0:
            pushed = uplink.push()
            report["sent"] += pushed["sent"]
            report["requests"] += pushed["requests"]
            report["pushes"] += 1
            if mode == "fresh":
                client.transport.close()
    if http is None:
        report["connections"] = client.transport.http.connections
    client.transport.close()
    print("pushed")
    print(json.dumps(report))


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]),
     int(sys.argv[6]), sys.argv[7])
