"""Commit SAMPLES one-value samples, pushing every EVERY of them, over TLS.
usage: micropython mp_tls_push.py HOST PORT CA JOURNAL_DIR SAMPLES EVERY MODE
MODE: "uonep" (uonep.http, CA pinned, one kept connection; "fresh" closes it
after every push, as a server's idle timeout between pushes would) or
"requests" (MicroPython's requests: a connection per request, no check).
Prints "pushed" and one JSON line: {"sent", "requests", "pushes", "connections"}."""
import json
import sys

from common import Clock

from uonep import Client
from uonep.journal import Journal


def main(host, port, ca, path, samples, every, mode):
    http = None
    if mode == "requests":
        import requests
        http = requests
    clock = Clock()
    client = Client("1" * 40, host=host, port=port, timeout=30, verify=ca, http=http,
                    journal=Journal(path, capacity_bytes=samples * 160 + 65536), clock=clock)
    report = {"sent": 0, "requests": 0, "pushes": 0, "connections": None}
    for step in range(samples):
        client.add_value("temp", 20.0 + (step % 100) / 8)
        client.commit()
        clock.unix += 60
        if (step + 1) % every == 0:
            pushed = client.push()
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
