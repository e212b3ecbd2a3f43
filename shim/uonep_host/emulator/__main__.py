"""python -m uonep_host.emulator --port PORT --db PATH --seed FILE [--host 127.0.0.1] [--quiet]

Runs the emulator until SIGTERM or SIGINT (then exits 0). The first line
printed (flushed) is "uonep emulator listening on http://HOST:PORT ...";
with --port 0 the port is picked free and that line says which.
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
    return parser.parse_args(argv)


def main(argv=None):
    options = arguments(argv)
    # handlers first: whoever reads the first line may signal at once
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator = Emulator(db=options.db, seed=options.seed, host=options.host, port=options.port,
                        verbose=not options.quiet).start()
    print("uonep emulator listening on %s (db %s)" % (emulator.url, options.db), flush=True)
    while not stop.wait(0.2):
        pass
    emulator.stop()
    print("uonep emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
