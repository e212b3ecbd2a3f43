"""python -m uonep_host.emulator --port PORT --db PATH --seed FILE [--host 127.0.0.1] [--quiet]
                                [--tls [--cert FILE --key FILE]]

Runs the emulator until SIGTERM or SIGINT (then exits 0). The first line
printed (flushed) is "uonep emulator listening on http://HOST:PORT ...";
with --port 0 the port is picked free and that line says which. With --tls
it serves HTTPS with a certificate made at start, and that line names the
file holding the CA certificate to trust (verify=...); --cert/--key serve
your own certificate instead.
"""

import argparse
import signal
import sys
import threading

from .server import Emulator


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m uonep_host.emulator",
                                     description="A local One Platform emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    parser.add_argument("--db", default=":memory:",
                        help="SQLite file that keeps the state (default: in memory)")
    parser.add_argument("--seed", default=None, help="seed JSON file (applied idempotently)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS (a certificate made at start, or --cert/--key)")
    parser.add_argument("--cert", help="server certificate chain (PEM) for --tls")
    parser.add_argument("--key", help="its private key (PEM)")
    return parser.parse_args(argv)


def main(argv=None):
    options = arguments(argv)
    # handlers first: whoever reads the first line may signal at once
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator = Emulator(db=options.db, seed=options.seed, host=options.host, port=options.port,
                        verbose=not options.quiet, tls=options.tls, certfile=options.cert,
                        keyfile=options.key).start()
    trust = "; CA certificate %s" % emulator.ca_path if emulator.ca_path else ""
    print("uonep emulator listening on %s (db %s%s)" % (emulator.url, options.db, trust),
          flush=True)
    while not stop.wait(0.2):
        pass
    emulator.stop()
    print("uonep emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
