"""The emulator's one request core: every route (JSON-RPC, the HTTP Data
API, provisioning for devices and vendors, /timestamp, /ip, the page, the
/_emulator control API) from a Request to an Answer, with the armed faults
applied.

Two front doors call Core.handle(): the HTTP handler (handler.py) and the
in-process session (inprocess.py). A fault that acts on the connection
(drop, stall, truncate) is written into the Answer as what the door must do
(`drop`, `stall`, `close`); each door does it its own way: an HTTP handler
closes its socket, the in-process session raises what requests would.
"""

import json
import sys
import threading
from urllib.parse import parse_qs, urlsplit

from . import dataapi, manage, page, provision
from . import seed as seeding
from .access import mask
from .answers import HTML_TYPE, JSON_TYPE, TEXT_TYPE, Answer, dumps
from .clock import Clock
from .dispatch import Dispatcher, decode, masked
from .errors import RequestError
from .injection import PATHS, RPC_PATH, Faults
from .store import Store

__all__ = ["Core", "Request", "Answer", "dumps", "JSON_TYPE", "TEXT_TYPE", "HTML_TYPE"]

ACTIVATE_PATH = "/provision/activate"
DOWNLOAD_PATH = "/provision/download"
CONTROL_PREFIX = "/_emulator/"
# the request log keeps the most recent entries only, so a long demo run stays small
REQUEST_LOG_SIZE = 10000
# the arrival log names a request's procedures in at most this many characters
CALL_NAMES_SIZE = 80
# how long stop() waits for the requests being handled (a long poll ends at once)
STOP_WAIT = 5
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


class Request:
    """One request as the core sees it.

    target: the path with its query ("/timestamp?x=1"; a whole URL works too,
    its scheme and host are ignored). headers: a mapping whose get() ignores
    case. body: bytes, or a function that reads them; the core reads a body
    only when a route needs it, so the HTTP door can close before reading
    (drop_before_body). local: the request comes from this machine (the
    control API answers nobody else). peer: the client's "address:port"
    (for the activation log); server: the (address, port) the request came
    to (for /ip).
    """

    def __init__(self, method, target, headers=None, body=b"", local=True, peer="",
                 server=("127.0.0.1", 80)):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.raw_query = parts.query
        self.query = parse_qs(parts.query)
        self.headers = {} if headers is None else headers
        self.local = local
        self.peer = peer
        self.server = server
        self._body = body

    def body(self):
        """The body bytes, read on first use."""
        if callable(self._body):
            self._body = self._body()
        return self._body

    @property
    def body_read(self):
        """Whether the body has been read (or was given as bytes)."""
        return not callable(self._body)


class Core:
    """The emulator without sockets: its state (a SQLite store, a clock the
    tests can move, the armed faults, a log of the RPC requests) and every
    route. Emulator (server.py) serves it over HTTP; session() serves it in
    process. See Emulator for the arguments and the inspection helpers."""

    def __init__(self, db=":memory:", seed=None, clock=None, verbose=False, stream=None):
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.clock = Clock(clock)
        self.store = Store(db)
        self.faults = Faults()
        self.stopping = threading.Event()
        self.stopped = False
        # requests inside handle(): stop() lets them finish before closing the db
        self._in_flight = 0
        self._busy = threading.Condition()
        self.dispatcher = Dispatcher(self.store, self.clock, self.faults, self.stopping)
        self.requests = []
        self._request_total = 0
        self._requests_lock = threading.Lock()
        self._routes = {("POST", RPC_PATH): self._rpc,
                        ("POST", ACTIVATE_PATH): self._activate,
                        ("GET", DOWNLOAD_PATH): self._download,
                        ("GET", "/timestamp"): self._timestamp,
                        ("GET", "/ip"): self._ip,
                        ("GET", "/"): self._page}
        # paths whose module answers every method itself
        self._paths = dict({path: self._data for path in dataapi.PATHS},
                           **{manage.REGISTER_PATH: self._register})
        self._control_routes = {("GET", "/_emulator/faults"): self._faults_state,
                                ("POST", "/_emulator/faults"): self._arm,
                                ("GET", "/_emulator/clock"): self._clock_state,
                                ("POST", "/_emulator/clock"): self._move_clock,
                                ("GET", "/_emulator/stats"): self._stats,
                                ("POST", "/_emulator/points"): self._points}
        self.apply_seed(seed)

    def apply_seed(self, seed):
        """Create what a seed (a dict or a JSON file path) describes and is
        not there yet; ValueError (seed.SeedError) if it is malformed."""
        seeding.apply(self.store, seed, self.clock.now())

    # -- the one way in ---------------------------------------------------------

    def handle(self, request):
        """The Answer to a Request, on any route."""
        with self._busy:
            self._in_flight += 1
        try:
            return self._route(request)
        finally:
            with self._busy:
                self._in_flight -= 1
                self._busy.notify_all()

    def _route(self, request):
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        route = self._routes.get((request.method, request.path)) or \
            self._paths.get(request.path)
        if route is None and request.path.startswith(manage.MANAGE_PREFIX):
            route = self._manage
        if route is None:
            return Answer(404, b"not found")
        if request.path not in PATHS:
            return route(request, None)
        return self._faulted(request, route)

    def session(self):
        """An in-process session with requests' call shape (see inprocess.py):
        pass it as http= to uonep_host.Client or uonep.Client."""
        from .inprocess import Session
        return Session(self)

    def stop(self):
        """End long polls and stalls, let the requests being handled finish
        (at most STOP_WAIT seconds), then close the database (idempotent)."""
        self._end_waits()
        if self.stopped:
            return
        self.stopped = True
        with self._busy:
            self._busy.wait_for(lambda: self._in_flight == 0, STOP_WAIT)
        self.store.close()

    def _end_waits(self):
        self.stopping.set()
        with self.store.condition:
            self.store.condition.notify_all()

    def _faulted(self, request, route):
        """Run a route with the fault armed for its path, if any."""
        fault = self.faults.for_request(request.path)
        kind = fault.kind if fault else None
        if kind == "drop_before_body":
            self._note(request.path, None, kind)
            return Answer.dropped()
        request.body()
        if kind == "http_status":
            self._note(request.path, None, kind)
            return Answer(fault.status, _error_page(fault.status), HTML_TYPE)
        if kind == "auth":
            self._note(request.path, None, kind)
            return Answer.json(200 if request.path == RPC_PATH else 401,
                               RequestError(401, "Invalid", "auth").answer())
        answer = route(request, kind)
        if kind == "drop_after_body":
            answer.drop = True
        elif kind == "stall":
            answer.stall = fault.seconds
            answer.drop = fault.then == "close"
        elif kind == "truncate":
            answer.body = answer.body[:len(answer.body) // 2]
            answer.close = True
        return answer

    # -- routes ---------------------------------------------------------------

    def _rpc(self, request, fault):
        try:
            decoded = decode(request.body())
        except RequestError as failure:
            self._note(RPC_PATH, None, fault)
            return Answer.json(200, failure.answer())
        self._note(RPC_PATH, masked(decoded), fault)
        try:
            # the points this request stores are one request in the arrival log
            with self.store.arrivals.request(_call_names(decoded)):
                answer = self.dispatcher.process(decoded)
        except RequestError as failure:
            answer = failure.answer()
        if answer is None:
            return Answer(200, b"", JSON_TYPE)
        return Answer.json(200, answer)

    def _activate(self, request, fault):
        answer = provision.activate(self.store, self.clock.now(), request, request.peer)
        text = answer.body.decode("utf-8", "replace")
        self.log("activate -> %d%s" % (answer.status,
                                       (" " + mask(text)) if answer.status == 200 else ""))
        return answer

    def _download(self, request, fault):
        return provision.download(self.store, self.clock.now(), request)

    def _manage(self, request, fault):
        return manage.handle(self.store, self.clock.now(), request, request.peer)

    def _register(self, request, fault):
        return manage.register(self.store, request)

    def _data(self, request, fault):
        return dataapi.handle(self.store, self.clock.now(), self.stopping, request)

    def _timestamp(self, request, fault):
        return Answer(200, str(self.clock.now()).encode("ascii"))

    def _ip(self, request, fault):
        return dataapi.ip(request.server)

    def _page(self, request, fault):
        with self.store.lock:
            html = page.render(self.store, self.clock.now())
        return Answer(200, html.encode("utf-8"), HTML_TYPE)

    # -- the control API (loopback only, never faulted) -------------------------

    def _control(self, request):
        if not request.local:
            return Answer(403, b"control API is loopback only")
        body = request.body()
        route = self._control_routes.get((request.method, request.path))
        if route is None:
            return Answer.json(404, {"error": "unknown control endpoint"})
        try:
            spec = json.loads(body.decode("utf-8")) if body else None
            status, answer = route(spec)
        except ValueError as problem:
            status, answer = 400, {"error": str(problem)}
        return Answer.json(status, answer)

    def _faults_state(self, spec):
        return 200, {"armed": self.faults.armed(), "fired": list(self.faults.fired)}

    def _arm(self, spec):
        self.faults.arm_from_json(spec)
        return self._faults_state(spec)

    def _clock_state(self, spec):
        return 200, self.clock.state()

    def _move_clock(self, spec):
        if not isinstance(spec, dict) or not set(spec) & {"now", "offset", "advance"}:
            raise ValueError("give now, offset or advance")
        for key in ("now", "offset", "advance"):
            if key in spec and type(spec[key]) not in (int, float):
                raise ValueError("%s is a number of seconds" % key)
        self.set_clock(spec.get("now"), spec.get("offset"), spec.get("advance"))
        return 200, self.clock.state()

    def _stats(self, spec):
        return 200, {"rpc_requests": self.request_count}

    def _points(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("give {\"cik\": ..., \"alias\": ...}")
        try:
            return 200, {"points": self.points(spec.get("cik"), spec.get("alias"))}
        except KeyError as missing:
            return 404, {"error": str(missing)}

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

    # -- the request log ---------------------------------------------------------

    def _note(self, path, body, fault):
        """Record a request to a faultable path (`body` already masked) and log it."""
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
            self.log("rpc auth=%s calls=%s%s" % (_auth_text(auth), names,
                                                 (" fault=" + fault) if fault else ""))

    def log(self, line):
        """One line to the log stream (sys.stdout unless given) when verbose."""
        if self.verbose:
            print(line, file=self.stream, flush=True)


def _call_names(body):
    """The distinct procedures of a decoded RPC body, in order ("write,read"),
    at most CALL_NAMES_SIZE characters, for the arrival log."""
    calls = body.get("calls") if isinstance(body, dict) else None
    names = dict.fromkeys(str(call.get("procedure")) if isinstance(call, dict) else "?"
                          for call in (calls if isinstance(calls, list) else ()))
    return ",".join(names)[:CALL_NAMES_SIZE]


def _auth_text(auth):
    if not isinstance(auth, dict):
        return "-"
    return ",".join("%s=%s" % (key, value) for key, value in sorted(auth.items()))


def _error_page(status):
    reason = REASONS.get(status, "Error")
    return ("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>"
            % (status, reason, status, reason)).encode("ascii")
