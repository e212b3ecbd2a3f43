"""The Emulator: the request core (core.py) with its two front doors, a
threaded HTTP/1.1 server (handler.py) and an in-process session
(inprocess.py), and helpers for tests to look inside."""

import os
import socket
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer

from .core import Core
from .handler import Handler
from .tls import server_context

MAX_BODY = 1 << 20
MAX_REQUESTS_PER_CONNECTION = 100


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


class Emulator(Core):
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

    Two front doors to the same state: start() listens on HTTP (`url`; stop()
    or a with block ends it), session() answers in process without a socket
    (requests' call shape: pass it as http= to a Client). Both go through
    the same core, with the same faults.

    `faults` (a Faults: arm(kind, ...), clear(), armed(), fired),
    `points(cik, alias)`, `requests` (the decoded RPC bodies received,
    credentials masked: a list of {"path", "body", "fault"}, the most recent
    5000-10000), `request_count`, `rid(cik, alias="")`,
    `set_clock(now=, offset=, advance=)`, `reset_faults()`.
    """

    def __init__(self, db=":memory:", seed=None, host="127.0.0.1", port=0, clock=None,
                 verbose=False, stream=None, max_body=MAX_BODY,
                 max_requests_per_connection=MAX_REQUESTS_PER_CONNECTION, tls=False,
                 certfile=None, keyfile=None):
        super().__init__(db, seed, clock, verbose, stream)
        self.host = host
        self.tls = tls or certfile is not None
        self._certificate = (certfile, keyfile)
        self.ca_pem = self.ca_path = None
        self.port = port
        self.max_body = max_body
        self.max_requests_per_connection = max_requests_per_connection
        self.failure = None
        self._server = None
        self._thread = None

    # -- life cycle -------------------------------------------------------------

    def _listen(self):
        """The listening server: the one place where the emulator makes its
        listening socket (bound to host and port)."""
        server = _Server((self.host, self.port), self)
        if self.tls:
            self._serve_tls(server)
        return server

    def start(self):
        """Listen and serve in a background thread; returns self. OSError
        when the address cannot be used (port taken, no such host)."""
        self._server = self._listen()
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._serve, name="uonep-emulator", daemon=True)
        self._thread.start()
        return self

    def _serve(self):
        try:
            self._server.serve_forever(poll_interval=0.5)
        except Exception as failure:
            # the command line reports it in one line (see `serving`)
            self.failure = failure

    @property
    def serving(self):
        """True while the HTTP server runs (False before start(), after
        stop(), or when serving failed: then `failure` says why)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self):
        """Stop serving, end long polls and stalls, close connections and the
        db. Also for an emulator used only in process; idempotent."""
        if self._server is not None:
            self._end_waits()
            if self._thread.is_alive():
                self._shutdown_now()
            self._server.close_connections()
            self._server.server_close()
            self._thread.join()
            self._server = None
        if self.ca_path is not None:
            os.unlink(self.ca_path)
            self.ca_path = None
        super().stop()

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

    def _serve_tls(self, server):
        """Wrap the listening socket: each connection's handshake then runs
        in its own handler thread (on the first read), under its timeout."""
        context, self.ca_pem = server_context(self.host, *self._certificate)
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        if self.ca_pem is not None:
            descriptor, self.ca_path = tempfile.mkstemp(prefix="uonep-emulator-ca-",
                                                        suffix=".pem")
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(self.ca_pem)

    @property
    def url(self):
        """http://HOST:PORT (https:// with tls) of the running server."""
        if self._server is None:
            raise RuntimeError("the emulator is not listening: start() it, or talk to it "
                               "in process through session()")
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)
