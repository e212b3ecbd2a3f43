"""HTTP: routes, keep-alive accounting, the body-size limit and the
application of armed faults. One handler instance serves one connection."""

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from . import page, provision
from .access import mask
from .dispatch import decode, masked
from .errors import RequestError
from .injection import RPC_PATH

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


def dumps(item):
    """Compact JSON bytes, as the real service answers."""
    try:
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # a stored lone surrogate cannot be UTF-8: escape everything instead
        return json.dumps(item, separators=(",", ":")).encode("ascii")


class Handler(BaseHTTPRequestHandler):
    """Serves one connection; `self.server.emulator` is the Emulator."""

    protocol_version = "HTTP/1.1"
    server_version = "uonep-emulator/0.1"
    # an idle keep-alive connection is closed after this many seconds
    timeout = 60
    # headers and body are written separately; without TCP_NODELAY a client's
    # delayed ACK would hold every answer back ~40 ms
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.served = 0

    @property
    def emulator(self):
        return self.server.emulator

    def log_message(self, format, *args):
        self.emulator.log("%s %s" % (self.address_string(), format % args))

    # -- routing --------------------------------------------------------------

    def do_GET(self):
        self.served += 1
        path = urlsplit(self.path).path
        if path == "/":
            with self.emulator.store.lock:
                html = page.render(self.emulator.store, self.emulator.clock.now())
            self._send(200, html.encode("utf-8"), HTML_TYPE)
        elif path == "/timestamp":
            self._faultable(path, self._timestamp, has_body=False)
        elif path.startswith("/_emulator/"):
            self._control(path, None)
        else:
            self._send(404, b"not found", TEXT_TYPE)

    def do_POST(self):
        self.served += 1
        path = urlsplit(self.path).path
        if path == RPC_PATH:
            self._faultable(path, self._rpc)
        elif path == "/provision/activate":
            self._faultable(path, self._activate)
        elif path.startswith("/_emulator/"):
            body = self._read_body()
            if body is not None:
                self._control(path, body)
        else:
            self._send(404, b"not found", TEXT_TYPE, close=True)

    # -- the faultable endpoints ----------------------------------------------

    def _faultable(self, path, work, has_body=True):
        """Run `work(body) -> (status, type, payload)` with the armed fault, if any."""
        if has_body and not self._body_length_ok():
            return
        fault = self.emulator.faults.for_request(path)
        kind = fault.kind if fault else None
        if kind == "drop_before_body":
            self.emulator.note_request(path, None, kind)
            return self._drop()
        body = self._read_body() if has_body else b""
        if body is None:
            return
        if kind == "http_status":
            self.emulator.note_request(path, None, kind)
            return self._send(fault.status, _error_page(fault.status), HTML_TYPE)
        if kind == "auth":
            self.emulator.note_request(path, None, kind)
            answer = RequestError(401, "Invalid", "auth").answer()
            return self._send(200 if path == RPC_PATH else 401, dumps(answer), JSON_TYPE)
        status, content_type, payload = work(body, kind)
        if kind == "drop_after_body":
            return self._drop()
        if kind == "stall":
            self.emulator.stopping.wait(fault.seconds)
            if fault.then == "close":
                return self._drop()
        if kind == "truncate":
            return self._send(status, payload[:len(payload) // 2], content_type, close=True)
        self._send(status, payload, content_type)

    def _rpc(self, body, fault):
        try:
            request = decode(body)
        except RequestError as failure:
            self.emulator.note_request(RPC_PATH, None, fault)
            return 200, JSON_TYPE, dumps(failure.answer())
        self.emulator.note_request(RPC_PATH, masked(request), fault)
        try:
            answer = self.emulator.dispatcher.process(request)
        except RequestError as failure:
            answer = failure.answer()
        if answer is None:
            return 200, JSON_TYPE, b""
        return 200, JSON_TYPE, dumps(answer)

    def _activate(self, body, fault):
        status, text = provision.activate(self.emulator.store, self.emulator.clock.now(), body)
        self.emulator.log("activate -> %d%s" % (status, (" " + mask(text)) if status == 200 else ""))
        return status, TEXT_TYPE, text.encode("utf-8")

    def _timestamp(self, body, fault):
        return 200, TEXT_TYPE, str(self.emulator.clock.now()).encode("ascii")

    # -- control API (loopback only, never faulted) ------------------------------

    def _control(self, path, body):
        if self.client_address[0] not in LOOPBACK:
            return self._send(403, b"control API is loopback only", TEXT_TYPE)
        try:
            spec = json.loads(body.decode("utf-8")) if body else None
            status, answer = self.emulator.control(self.command, path, spec)
        except ValueError as problem:
            status, answer = 400, {"error": str(problem)}
        self._send(status, dumps(answer), JSON_TYPE)

    # -- bodies and answers -----------------------------------------------------

    def _body_length_ok(self):
        """Check Content-Length before reading; answer 411/400/413 and close if bad."""
        header = self.headers.get("Content-Length")
        if header is None:
            if self.headers.get("Transfer-Encoding"):
                self._send(411, b"Content-Length required", TEXT_TYPE, close=True)
                return False
            return True
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self._send(400, b"bad Content-Length", TEXT_TYPE, close=True)
            return False
        if length > self.emulator.max_body:
            # refuse without reading: closing is the only way to skip the body
            self._send(413, b"request body too large", TEXT_TYPE, close=True)
            return False
        return True

    def _read_body(self):
        """The request body (b"" without Content-Length), or None after refusing it."""
        if not self._body_length_ok():
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self):
        """Close the connection without answering."""
        self.close_connection = True

    def _send(self, status, payload, content_type, close=False):
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if close or self.served >= self.emulator.max_requests_per_connection:
            # send_header("Connection", "close") also sets close_connection
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


def _error_page(status):
    reason = REASONS.get(status, "Error")
    return ("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>"
            % (status, reason, status, reason)).encode("ascii")
