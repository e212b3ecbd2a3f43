"""python -m uonep_host.emulator [--port PORT] [--db PATH] [--seed FILE|none]
                                [--host 127.0.0.1] [--quiet]
                                [--tls [--cert FILE --key FILE]]

Serves until SIGTERM or SIGINT, then prints "uonep emulator stopped" and
exits 0. The first line printed (flushed) is "uonep emulator listening on
http://HOST:PORT (db PATH, seed SEED)"; with --port 0 (the default) the
port is picked free and that line says which.

--db: the SQLite file that keeps the state, made with its folders when
missing (default: in memory). --seed: a seed JSON file applied at start
(idempotently); without it, the packaged default seed
(uonep_host.emulator.DEFAULT_SEED: client "1" * 40 with temp, count and
status, device acme/m1/0001); "none" starts empty.

--tls: serve HTTPS with a certificate made at start; the first line then
names the file holding the CA certificate to trust (verify=...).
--cert/--key serve your own certificate instead.

Whatever goes wrong (a bad argument, a seed file that is missing or not a
seed, a db path that cannot be used, a port that cannot be listened on, a
server that stops serving) is told in one line on stderr, never a
traceback: exit status 2 for arguments the parser refuses, 1 otherwise.
"""

import argparse
import json
import os
import signal
import sqlite3
import sys
import threading

from .seed import DEFAULT_SEED
from .server import Emulator

PROG = "python -m uonep_host.emulator"


class Failure(Exception):
    """What stops the command line, told in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the usage too: one line is the promise
        self.exit(2, "%s: %s (see --help)\n" % (self.prog, message))


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("%d is not a port number (0 to 65535)" % port)
    return port


def arguments(argv):
    parser = _Parser(prog=PROG, description="A local One Platform emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=0, help="port (0: pick a free one)")
    parser.add_argument("--db", default=":memory:",
                        help="SQLite file that keeps the state, made with its folders "
                             "(default: in memory)")
    parser.add_argument("--seed", default=None,
                        help="seed JSON file (applied idempotently); default: the packaged "
                             "default seed; none: start empty")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS (a certificate made at start, or --cert/--key)")
    parser.add_argument("--cert", help="server certificate chain (PEM) for --tls")
    parser.add_argument("--key", help="its private key (PEM)")
    return parser.parse_args(argv)


def load_seed(name):
    """(seed, its name for the first line) for --seed."""
    if name is None:
        return DEFAULT_SEED, "default"
    if name.lower() == "none":
        return None, "none"
    try:
        with open(name, encoding="utf-8") as stream:
            return json.load(stream), name
    except OSError as problem:
        raise Failure("--seed %s: %s" % (name, problem.strerror or problem))
    except ValueError as problem:
        raise Failure("--seed %s: not a JSON file (%s)" % (name, problem))


def open_emulator(options, seed, seed_name):
    """An Emulator on --db, seeded, not listening yet."""
    if options.db != ":memory:":
        if os.path.isdir(options.db):
            raise Failure("--db %s: is a folder (give the path of a file in it)" % options.db)
        folder = os.path.dirname(os.path.abspath(options.db))
        try:
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            raise Failure("--db %s: %s is not a folder" % (options.db, folder))
        except OSError as problem:
            raise Failure("--db %s: cannot make its folder %s (%s)"
                          % (options.db, folder, problem.strerror or problem))
    try:
        emulator = Emulator(db=options.db, host=options.host, port=options.port,
                            verbose=not options.quiet, tls=options.tls, certfile=options.cert,
                            keyfile=options.key)
    except (sqlite3.Error, OSError) as problem:
        raise Failure("--db %s: not a usable SQLite file (%s)" % (options.db, problem))
    try:
        emulator.apply_seed(seed)
    except (ValueError, TypeError, KeyError, AttributeError) as problem:
        emulator.stop()
        raise Failure("--seed %s: not a valid seed (%s)" % (seed_name, problem))
    return emulator


def listen(emulator):
    try:
        emulator.start()
    except OSError as problem:
        emulator.stop()
        raise Failure("cannot listen on %s port %d: %s"
                      % (emulator.host, emulator.port, problem.strerror or problem))


def serve(emulator, stop):
    """Serve until `stop` is set (0) or serving fails (1)."""
    while not stop.wait(0.2):
        if not emulator.serving:
            failure = emulator.failure
            emulator.stop()
            print("uonep emulator: the server stopped serving (%s)"
                  % (failure or "no reason given"), file=sys.stderr, flush=True)
            return 1
    emulator.stop()
    print("uonep emulator stopped", flush=True)
    return 0


def main(argv=None):
    options = arguments(argv)
    # handlers first: whoever reads the first line may signal at once
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        seed, seed_name = load_seed(options.seed)
        emulator = open_emulator(options, seed, seed_name)
        listen(emulator)
    except Failure as problem:
        print("uonep emulator: %s" % problem, file=sys.stderr, flush=True)
        return 1
    trust = "; CA certificate %s" % emulator.ca_path if emulator.ca_path else ""
    print("uonep emulator listening on %s (db %s, seed %s%s)"
          % (emulator.url, options.db, seed_name, trust), flush=True)
    return serve(emulator, stop)


if __name__ == "__main__":
    sys.exit(main())
