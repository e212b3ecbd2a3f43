"""The Emulator: a threaded HTTP/1.1 server around the store, the procedures
and the fault plan, with helpers for tests to look inside."""

import os
import socket
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer

from . import seed as seeding
from .access import mask
from .clock import Clock
from .dispatch import Dispatcher
from .handler import Handler
from .injection import Faults
from .store import Store
from .tls import server_context

MAX_BODY = 1 << 20
MAX_REQUESTS_PER_CONNECTION = 100
# the request log keeps the most recent entries only, so a long demo run stays small
REQUEST_LOG_SIZE = 10000


class _Server(ThreadingHTTPServer):
    """Keeps track of open connections so stop() can close idle keep-alives
    and then wait for every handler thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address, emulator):
        self.emulator = emulator
        self.open_sockets = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for connection in sockets:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # a client that hangs up mid-answer, or a stop while serving, is normal here
        if not self.emulator.stopping.is_set() and not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Emulator:
    """A local One Platform.

    Emulator(db=":memory:", seed=None, host="127.0.0.1", port=0, clock=None)
      db: SQLite file path (data survives restarts) or ":memory:".
      seed: a seed dict or JSON file path (see uonep_host.emulator.seed); applied
        at construction, idempotently.
      port: 0 picks a free port.
      clock: a callable returning Unix time (default time.time); the control
        API and set_clock() can move it further.
      verbose: print one line per request (CIKs masked) to `stream`.
      tls: serve HTTPS with a certificate made at start by trustme for
        localhost and 127.0.0.1 (`ca_pem`: the PEM of the CA that signed
        it, `ca_path`: that PEM in a file while running), or with
        certfile/keyfile (then ca_pem and ca_path are None).

    Use start()/stop() or a with block. `url`, `faults` (a Faults: arm(kind,
    ...), clear(), armed(), fired), `points(cik, alias)`, `requests` (the
    decoded RPC bodies received, credentials masked: a list of
    {"path", "body", "fault"}, the most recent 5000-10000), `request_count`,
    `rid(cik, alias="")`, `set_clock(now=, offset=, advance=)`, `reset_faults()`.
    """

    def __init__(self, db=":memory:", seed=None, host="127.0.0.1", port=0, clock=None,
                 verbose=False, stream=None, max_body=MAX_BODY,
                 max_requests_per_connection=MAX_REQUESTS_PER_CONNECTION, tls=False,
                 certfile=None, keyfile=None):
        self.host = host
        self.tls = tls or certfile is not None
        self._certificate = (certfile, keyfile)
        self.ca_pem = self.ca_path = None
        self.port = port
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.max_body = max_body
        self.max_requests_per_connection = max_requests_per_connection
        self.clock = Clock(clock)
        self.store = Store(db)
        self.faults = Faults()
        self.stopping = threading.Event()
        self.dispatcher = Dispatcher(self.store, self.clock, self.faults, self.stopping)
        self.requests = []
        self._request_total = 0
        self._requests_lock = threading.Lock()
        self._server = None
        self._thread = None
        seeding.apply(self.store, seed, self.clock.now())

    # -- life cycle -------------------------------------------------------------

    def start(self):
        """Listen and serve in a background thread; returns self."""
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        if self.tls:
            self._serve_tls()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.5},
                                        name="uonep-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, end long polls and stalls, close connections and the db."""
        if self._server is None:
            return
        self.stopping.set()
        with self.store.condition:
            self.store.condition.notify_all()
        self._shutdown_now()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = None
        self.store.close()
        if self.ca_path is not None:
            os.unlink(self.ca_path)
            self.ca_path = None

    def _shutdown_now(self):
        """shutdown() waits for serve_forever's next poll; a connection to the
        listening socket wakes it at once, so stopping takes milliseconds."""
        stopper = threading.Thread(target=self._server.shutdown)
        stopper.start()
        while stopper.is_alive():
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
            except OSError:
                pass
            stopper.join(0.01)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _serve_tls(self):
        """Wrap the listening socket: each connection's handshake then runs
        in its own handler thread (on the first read), under its timeout."""
        context, self.ca_pem = server_context(self.host, *self._certificate)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        if self.ca_pem is not None:
            descriptor, self.ca_path = tempfile.mkstemp(prefix="uonep-emulator-ca-",
                                                        suffix=".pem")
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(self.ca_pem)

    @property
    def url(self):
        """http://HOST:PORT (https:// with tls) of the running server."""
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    # -- inspection for tests -----------------------------------------------------

    def points(self, cik, alias):
        """[[ts, value], ...] ascending of the dataport `alias` of the client `cik`."""
        with self.store.lock:
            client = self.store.client_by_cik(cik)
            if client is None:
                raise KeyError("no client with CIK %s" % mask(cik))
            rid = self.store.alias_target(client["rid"], alias)
            if rid is None:
                raise KeyError("client %s has no alias %r" % (mask(cik), alias))
            return self.store.points(rid)

    def rid(self, cik, alias=""):
        """The RID of a client ("") or of one of its aliased children."""
        with self.store.lock:
            client = self.store.client_by_cik(cik)
            if client is None:
                raise KeyError("no client with CIK %s" % mask(cik))
            return client["rid"] if alias == "" else self.store.alias_target(client["rid"], alias)

    @property
    def request_count(self):
        """How many JSON-RPC requests arrived (faulted ones included)."""
        with self._requests_lock:
            return self._request_total

    def reset_faults(self):
        self.faults.clear()

    def set_clock(self, now=None, offset=None, advance=None):
        """Move the server clock: to `now`, to base + `offset`, or forward by `advance`."""
        if now is not None:
            self.clock.set_now(now)
        if offset is not None:
            self.clock.set_offset(offset)
        if advance is not None:
            self.clock.advance(advance)
        return self.clock.now()

    # -- used by the handler ---------------------------------------------------------

    def note_request(self, path, body, fault):
        """Record an RPC request (`body` already masked) and log it."""
        with self._requests_lock:
            self._request_total += 1
            self.requests.append({"path": path, "body": body, "fault": fault})
            if len(self.requests) > REQUEST_LOG_SIZE:
                del self.requests[:REQUEST_LOG_SIZE // 2]
        if self.verbose:
            auth = body.get("auth") if isinstance(body, dict) else None
            calls = body.get("calls") if isinstance(body, dict) else None
            names = ",".join(str(call.get("procedure")) for call in calls
                             if isinstance(call, dict)) if isinstance(calls, list) else "?"
            self.log("rpc auth=%s calls=%s%s" % (json_text(auth), names,
                                                 (" fault=" + fault) if fault else ""))

    def log(self, line):
        if self.verbose:
            print(line, file=self.stream, flush=True)

    def control(self, method, path, spec):
        """(HTTP status, JSON answer) for the loopback control API."""
        route = (method, path)
        if route == ("GET", "/_emulator/faults"):
            return 200, {"armed": self.faults.armed(), "fired": list(self.faults.fired)}
        if route == ("POST", "/_emulator/faults"):
            self.faults.arm_from_json(spec)
            return 200, {"armed": self.faults.armed(), "fired": list(self.faults.fired)}
        if route == ("GET", "/_emulator/clock"):
            return 200, self.clock.state()
        if route == ("POST", "/_emulator/clock"):
            return 200, self._set_clock_from_json(spec)
        if route == ("GET", "/_emulator/stats"):
            return 200, {"rpc_requests": self.request_count}
        if route == ("POST", "/_emulator/points"):
            if not isinstance(spec, dict):
                raise ValueError("give {\"cik\": ..., \"alias\": ...}")
            try:
                return 200, {"points": self.points(spec.get("cik"), spec.get("alias"))}
            except KeyError as missing:
                return 404, {"error": str(missing)}
        return 404, {"error": "unknown control endpoint"}

    def _set_clock_from_json(self, spec):
        if not isinstance(spec, dict) or not set(spec) & {"now", "offset", "advance"}:
            raise ValueError("give now, offset or advance")
        for key in ("now", "offset", "advance"):
            if key in spec and type(spec[key]) not in (int, float):
                raise ValueError("%s is a number of seconds" % key)
        self.set_clock(spec.get("now"), spec.get("offset"), spec.get("advance"))
        return self.clock.state()


def json_text(auth):
    if not isinstance(auth, dict):
        return "-"
    return ",".join("%s=%s" % (key, value) for key, value in sorted(auth.items()))
